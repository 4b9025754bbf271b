"""Rings that hide: bundles whose counterfeit rings share no exact identifier.

`alliance generate --evasion LEVEL` plants, besides today's data, rings whose members
are written the way people who hide write themselves:

- 0: today's data, byte for byte (nothing here runs).
- 1: half the members of each ring keep their group's exact identifiers (as at level 0,
  without the payout account that bridged groups); the other half hide as at level 2.
- 2: no member shares an exact identifier with another. Each one carries its boss's name
  in a variant (as written, a typo, a homophone, traditional characters, pinyin) and two
  or three of: the ring site's address written another way (building and unit notation,
  district left out), a phone of the ring's number block or landline exchange, an e-mail
  built on the boss's name, a new payout account held in the boss's name.
- 3: as 2, but only one or two of those, a fifth of the members under an unrelated
  nominee's name, and more of the harder name variants.

Honest sellers get a legal name (a few very common ones, such as 王伟 and 张伟, across
the whole country; a tenth a homophone of another name, such as 陈智强 beside 陈志强; a
few registered in pinyin or written in traditional characters, paid under the name as
their identity card has it), some an e-mail built on their name, some a payout account holder
(a `persons` row owning the account) and some a fulfilment hub as registered address:
the traps a name or address matcher must not fall into. Phones of honest sellers are
sequential, so they share number blocks by chance too.

The holder of a payout account is a `persons` row (`name`, `owns_accounts`), as the data
contract has it. `truth.json` gains `evasion`, and each ring `hidden` (its sellers that
share no exact identifier) and `holders` (its persons rows that are one real person,
its boss); its `sellers` remain the real links. Everything draws from the bundle's
one random generator, so a seed still gives the same bytes.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pypinyin import lazy_pinyin

from alliance.generate import rows
from alliance.generate.bundle import GROUP_SIZE, Bundle, id_number, phone_spelling
from alliance.generate.geography import District, spelling

LEVELS = (0, 1, 2, 3)

SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱",
            "胡", "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯",
            "邓", "曹")
GIVEN = ("志", "强", "伟", "华", "军", "明", "国", "建", "平", "杰", "涛", "辉", "刚", "鹏",
         "飞", "丽", "静", "玲", "红", "英", "霞", "秀", "兰", "海", "东", "林", "波", "斌",
         "勇", "超", "磊", "峰", "文", "龙", "宏", "春", "金", "德", "荣", "庆", "祥", "敏")
COMMON_NAMES = ("王伟", "张伟", "王芳", "李伟", "李娜", "张敏", "李静", "王静", "刘伟", "王秀英")
"""The most frequent full names: honest sellers who share them are different people."""
COMMON_SHARE = 0.03

TRADITIONAL = dict(zip(
    "陈张刘黄赵吴杨孙郑罗谢许冯邓韩马强伟华军国杰涛辉刚鹏飞丽静红兰东龙荣庆凤",
    "陳張劉黃趙吳楊孫鄭羅謝許馮鄧韓馬強偉華軍國傑濤輝剛鵬飛麗靜紅蘭東龍榮慶鳳", strict=True))
HOMOPHONES = (
    "志智治", "强墙蔷", "伟玮炜", "华骅桦", "军君钧", "明鸣铭", "建健剑", "平萍屏", "杰洁捷",
    "涛韬滔", "辉晖徽", "刚钢纲", "鹏朋", "飞菲非", "丽莉俐", "静靖晶", "玲龄灵", "红鸿虹",
    "英莹瑛", "霞侠", "兰岚", "东冬", "林琳麟", "斌彬滨", "勇永咏", "磊蕾", "峰锋枫", "文雯闻",
    "龙隆", "宏弘", "荣蓉融", "庆青清", "祥翔", "敏闵",
)
LOOKALIKES = dict(zip("王李陈刘杨吴林明伟国平华海东", "玉季阵浏扬昊材朋传围乎毕梅乐", strict=True))
"""Characters a hurried typist swaps for one that looks alike (a typo)."""
MAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com")
RING_MOBILE = ("177", "176", "166", "199")
VIRTUAL = ("170", "171")
LANDLINE = ("0755-8", "020-3", "0571-8", "0769-2", "0579-8")
"""Area codes (and the first digit of the 8-digit local number) of ring landlines."""
HOLDER_SHARE = 0.25
HONEST_MAIL_SHARE = 0.3
HUB_HOME_SHARE = 0.03


def check_level(level: int) -> int:
    if level not in LEVELS:
        raise ValueError(f"evasion level must be one of {LEVELS}, not {level}")
    return level


# --- names -------------------------------------------------------------------------------


def random_name(b: Bundle) -> str:
    return b.rng.choice(SURNAMES) + "".join(b.rng.choice(GIVEN) for _ in range(b.rng.choice((1, 2, 2))))


def pinyin_spelling(b: Bundle, name: str) -> str:
    """The name in pinyin as people type it into a Latin field."""
    syllables = lazy_pinyin(name)
    surname, given = syllables[0], "".join(syllables[1:])
    variant = b.rng.randrange(4)
    if variant == 0:
        return f"{surname.title()} {given.title()}"
    if variant == 1:
        return f"{surname.upper()} {given.title()}"
    if variant == 2:
        return f"{given.title()} {surname.title()}"
    return " ".join(syllables)


def _swap(chars: list[str], index: int, table: dict[str, str]) -> bool:
    if chars[index] in table:
        chars[index] = table[chars[index]]
        return True
    return False


def homophone(b: Bundle, name: str) -> str:
    chars = list(name)
    for index in b.rng.sample(range(1, len(chars)), len(chars) - 1):
        group = next((g for g in HOMOPHONES if chars[index] in g), None)
        if group:
            chars[index] = b.rng.choice([c for c in group if c != chars[index]])
            return "".join(chars)
    return traditional(b, name)


def traditional(b: Bundle, name: str) -> str:
    converted = "".join(TRADITIONAL.get(c, c) for c in name)
    return converted if converted != name else homophone_or_same(b, name)


def homophone_or_same(b: Bundle, name: str) -> str:
    chars = list(name)
    for index in range(1, len(chars)):
        group = next((g for g in HOMOPHONES if chars[index] in g), None)
        if group:
            chars[index] = group[0] if group[0] != chars[index] else group[1]
            return "".join(chars)
    return name


def typo(b: Bundle, name: str) -> str:
    chars = list(name)
    if any(_swap(chars, i, LOOKALIKES) for i in b.rng.sample(range(len(chars)), len(chars))):
        return "".join(chars)
    if len(chars) == 3:
        return chars[0] + chars[2] + chars[1]
    return homophone(b, name)


def name_variant(b: Bundle, name: str, hard: bool) -> str:
    """One way a ring member writes the boss's name."""
    weights = (10, 15, 25, 15, 35) if hard else (30, 15, 20, 15, 20)
    kind = b.rng.choices(("same", "typo", "homophone", "traditional", "pinyin"), weights)[0]
    if kind == "typo":
        return typo(b, name)
    if kind == "homophone":
        return homophone(b, name)
    if kind == "traditional":
        return traditional(b, name)
    if kind == "pinyin":
        return pinyin_spelling(b, name)
    return name


def mail_stem(b: Bundle, name: str) -> str:
    syllables = lazy_pinyin(name)
    if b.rng.random() < 0.7:
        return syllables[0] + "".join(syllables[1:])
    return "".join(s[0] for s in syllables) + syllables[0]


def mail(b: Bundle, stem: str, digits: str) -> str:
    separator = b.rng.choice(("", "", ".", "_")) if len(stem) > 6 else ""
    local = stem[:len(stem) // 2] + separator + stem[len(stem) // 2:] if separator else stem
    return f"{local}{digits if b.rng.random() < 0.7 else ''}@{b.rng.choice(MAIL_DOMAINS)}"


def unused_mail(b: Bundle, ring: dict[str, Any]) -> str:
    """An e-mail built on the boss's name that no other member has."""
    return unique_mail(b, mail(b, mail_stem(b, ring["boss"]), ring["birth"]))


def unique_mail(b: Bundle, address: str) -> str:
    """`address`, or with digits added to its name until no one in the bundle has it: a
    mailbox belongs to one account holder, so two bosses of one name and birth year, or
    two honest namesakes, get two addresses."""
    while address.lower() in b.mails:
        local, domain = address.split("@")
        address = f"{local}{b.rng.randrange(10)}@{domain}"
    b.mails.add(address.lower())
    return address


# --- addresses and phones ----------------------------------------------------------------


def building(b: Bundle) -> tuple[str, int, int]:
    return b.rng.choice("ABCD"), b.rng.randint(1, 20), b.rng.randint(1, 6)


def address_variant(b: Bundle, place: tuple[District, str], block: tuple[str, int, int],
                    hard: bool) -> str:
    """The ring site's street with its building written one of the ways people write it,
    sometimes without its district."""
    zone, number, unit = block
    suffix = b.rng.choice((f"{zone}区{number}栋", f"{zone}{number}栋", f"{zone}区{number}号楼",
                           f"{number}栋{unit}单元", f"{zone}座{number}幢", ""))
    district, street = place
    if b.rng.random() < (0.4 if hard else 0.2):
        return f"{district.province}{district.city}{street}{suffix}"
    return spelling(b.rng, district, street + suffix)


def ring_phone(b: Bundle, ring: dict[str, Any], hard: bool) -> str:
    """A phone of the ring's mobile block, of its landline exchange, or a virtual number;
    never one another member has."""
    kind = b.rng.choices(("block", "landline", "virtual"), (4, 2, 4) if hard else (6, 2, 2))[0]
    prefix = {"block": ring["mobile"], "landline": ring["landline"]}.get(kind)
    free = [n for n in range(100) if (prefix, n) not in ring["used"]] if prefix else []
    if not free:
        return virtual_phone(b)
    number = b.rng.choice(free)
    ring["used"].add((prefix, number))
    if kind == "landline":
        return f"{prefix}{number:02d}"
    return phone_spelling(b.rng, f"{prefix}{number:02d}")


def virtual_phone(b: Bundle) -> str:
    return phone_spelling(b.rng, f"{b.rng.choice(VIRTUAL)}{b.rng.randrange(10**8):08d}")


# --- rings -------------------------------------------------------------------------------


def ring_profile(b: Bundle, base: District) -> dict[str, Any]:
    """What the boss behind a ring leaves in every member's row, however written."""
    area = b.rng.choice(LANDLINE)
    return {
        "boss": random_name(b), "birth": f"{b.rng.randint(60, 99)}",
        "mobile": f"{b.rng.choice(RING_MOBILE)}{b.rng.randrange(10**6):06d}",
        "landline": f"{area}{b.rng.randrange(10**5):05d}", "base": base, "used": set(),
    }


def hidden_member(b: Bundle, ring: dict[str, Any], seller_id: str, site: dict[str, Any],
                  level: int) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A member that shares no exact identifier: its ids and fuzzy signals, and the
    persons row of its payout account's holder (or None)."""
    hard = level >= 3
    signals = ["address", "phone", "email", "holder"]
    chosen = set(b.rng.sample(signals, b.rng.randint(1, 2) if hard else b.rng.randint(2, 3)))
    nominee = hard and b.rng.random() < 0.2
    n = int(seller_id[1:])
    account = f"alipay:m{hashlib.sha1(f'member-{n}'.encode()).hexdigest()[:12]}"
    ids: dict[str, Any] = {
        "legal_name": random_name(b) if nominee else name_variant(b, ring["boss"], hard),
        "phones": [ring_phone(b, ring, hard) if "phone" in chosen else virtual_phone(b)],
        "payout_accounts": [account],
        "devices": [f"fp:m{n:09d}", b.rng.choice(b.carrier_ips)],
        "registered_address": address_variant(b, site["place"], site["block"], hard)
        if "address" in chosen else None,
    }
    if "email" in chosen:
        ids["emails"] = [unused_mail(b, ring)]
    if b.rng.random() < 0.5:
        ids["id_number"] = id_number(b.rng, b.rng.choice(b.geo))
    holder = None
    if "holder" in chosen:
        holder = {"person_id": b.next_id("P", 6), "name": name_variant(b, ring["boss"], hard),
                  "owns_accounts": [account]}
    return ids, holder


def write_ring(b: Bundle, size: int) -> int:
    """A ring of `size` sellers at the bundle's evasion level; returns `size`."""
    level = b.evasion
    base = b.rng.choice(b.hot)
    local = [d for d in b.geo if d.city_code == base.city_code]
    ring_id = b.next_id("R", 5)
    brands = b.rng.sample(b.brands, b.rng.randint(1, 3))
    groups = -(-size // GROUP_SIZE)
    sites = rows._ring_sites(b, local, max(b.rng.randint(1, 3), -(-groups // 2)))
    for site in sites:
        site["block"] = building(b)
    ring = ring_profile(b, base)
    truth: dict[str, Any] = {"ring_id": ring_id, "sellers": [], "shops": [], "hidden": [],
                             "holders": [], "sites": [s["site_id"] for s in sites],
                             "listings_to_sites": {}}
    leaders, payouts, shops = [], [], []
    for g in range(groups):
        group = rows._group_ids(b, base)
        site = sites[g % len(sites)]
        members = min(GROUP_SIZE, size - g * GROUP_SIZE)
        for i in range(members):
            seller_id = b.next_id("S", 7)
            keeps = level == 1 and b.rng.random() < 0.5
            row = _member_row(b, ring, group, seller_id, site, keeps, i == 0, truth)
            b.emit("sellers", row)
            truth["sellers"].append(seller_id)
            if i == 0:
                leaders.append(seller_id)
                payouts.append(row["payout_accounts"][0])
            shops += rows._ring_shops(b, seller_id, site, brands, truth)
    rows._ring_offline(b, ring_id, sites, shops, brands, leaders, payouts, base,
                       truth["listings_to_sites"])
    b.rings.append(truth)
    return size


def _member_row(b: Bundle, ring: dict[str, Any], group: dict[str, str], seller_id: str,
                site: dict[str, Any], keeps: bool, leader: bool, truth: dict[str, Any]
                ) -> dict[str, Any]:
    if keeps:
        ids = rows._member_ids(b, group, leader, None)
        row = rows._seller_row(b, seller_id, ids, site["place"])
        row["legal_name"] = name_variant(b, ring["boss"], False)
        return row
    ids, holder = hidden_member(b, ring, seller_id, site, b.evasion)
    row = rows._seller_row(b, seller_id, ids, site["place"])
    row["legal_name"] = ids["legal_name"]
    row["registered_address"] = ids["registered_address"] or _elsewhere(b)
    if "id_number" not in ids:
        row.pop("id_number", None)
    truth["hidden"].append(seller_id)
    if holder:
        b.emit("persons", holder)
        truth["holders"].append(holder["person_id"])
    return row


def _elsewhere(b: Bundle) -> str:
    """A registered address with nothing to do with the ring (a nominee's home)."""
    return b.spell(b._address(b.rng.choice(b.geo)))


# --- honest sellers ----------------------------------------------------------------------

HONEST_HOMOPHONE_SHARE = 0.1
"""Honest sellers whose own name is a homophone of another's (陈智强 beside 陈志强)."""
HONEST_PINYIN_SHARE = 0.05
"""Honest sellers registered under their name in pinyin (paid under it in characters)."""
HONEST_TRADITIONAL_SHARE = 0.02
"""Honest sellers whose identity card writes their name in traditional characters."""


def honest_writing(b: Bundle, row: dict[str, Any], name: str) -> str:
    """The name traps of honest sellers: a name that is a homophone of a common one, a
    registration in pinyin, traditional characters. Sets the row's legal name and
    returns the name as its identity card (and so its payout account) has it."""
    draw = b.rng.random()
    if draw < HONEST_HOMOPHONE_SHARE:
        name = homophone_or_same(b, name)
        trap = "homophone_name"
    elif draw < HONEST_HOMOPHONE_SHARE + HONEST_TRADITIONAL_SHARE:
        name = "".join(TRADITIONAL.get(c, c) for c in name)
        trap = "traditional_name"
    elif draw < HONEST_HOMOPHONE_SHARE + HONEST_TRADITIONAL_SHARE + HONEST_PINYIN_SHARE:
        row["legal_name"] = pinyin_spelling(b, name)
        b.traps.append({"seller_id": row["seller_id"], "trap": "pinyin_name", "name": name})
        return name
    else:
        return name
    row["legal_name"] = name
    b.traps.append({"seller_id": row["seller_id"], "trap": trap, "name": name})
    return name


def dress_honest(b: Bundle, row: dict[str, Any], district: District) -> None:
    """Give an honest seller's row a legal name and the traps that come with names:
    common names, e-mails built on them, account holders, a hub as registered address."""
    n = int(row["seller_id"][1:])
    common = b.rng.random() < COMMON_SHARE
    name = b.rng.choice(COMMON_NAMES) if common else random_name(b)
    row["legal_name"] = name
    if common:
        b.traps.append({"seller_id": row["seller_id"], "trap": "common_name", "name": name})
    name = honest_writing(b, row, name)
    if b.rng.random() < HONEST_MAIL_SHARE:
        syllables = lazy_pinyin(name)
        row["emails"] = [unique_mail(
            b, f"{''.join(syllables)}{b.rng.randint(1, 9999)}@{b.rng.choice(MAIL_DOMAINS)}")]
    if b.rng.random() < HUB_HOME_SHARE:
        row["registered_address"] = b.spell(b.rng.choice(b.hubs))
        b.traps.append({"seller_id": row["seller_id"], "trap": "hub_registered_address"})
    if b.rng.random() < HOLDER_SHARE:
        b.emit("persons", {"person_id": f"PH{n:08d}", "name": name,
                           "owns_accounts": row["payout_accounts"][:1]})
