"""What probabilistic matching compares, made from what a seller typed (pure functions).

Everything here is untrusted text turned into short comparison keys:

- names: the pinyin of a Chinese name, or a Latin name read as pinyin, as its sorted
  syllable groups (`陈志强`, `陳志強`, `陈智强`, `Chen Zhiqiang` and `Zhiqiang Chen` all
  give `chen zhiqiang`), and the name's own characters without spaces; a name
  that hides who it is (`王某`, `张*`) gives nothing;
- addresses: the division codes of the placed address and its street (road and house
  number, `工业路123号`) and building number (`B区3栋` and `B3栋` and `3号楼` give `3`);
- phones: the E.164 number, its block (all but the last two digits) and exchange (all but
  the last four);
- e-mails: the address and the letters of its local part (`chen.zhiqiang88` gives
  `chenzhiqiang`), kept only when there are at least four and they spell a name in
  pinyin (initials such as `czqchen` do not).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pypinyin import lazy_pinyin

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LATIN_TOKEN = re.compile(r"[a-z]+")
HIDDEN = ("某", "*", "＊", "x先生", "x女士")
STREET = re.compile(r"^(.*?\d+号)(.*)$")
BUILDING = re.compile(r"(\d+)(?:栋|幢|号楼|座)")
MIN_MAIL_LETTERS = 4
SURNAME_SYLLABLES = frozenset(lazy_pinyin(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔向汤"))


def clean(text: str | None) -> str:
    """NFKC, lower case, no white space."""
    if not text:
        return ""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def hides_identity(text: str) -> bool:
    return any(mark in text for mark in HIDDEN)


@lru_cache(maxsize=200_000)
def name_key(text: str | None) -> str | None:
    """The name as pinyin syllable groups, surname and given name, sorted; None when
    the name is missing, hidden or not a name."""
    raw = unicodedata.normalize("NFKC", text or "").strip().lower()
    if not raw or hides_identity(raw):
        return None
    if CJK.search(raw):
        chars = [c for c in raw if CJK.match(c)]
        if len(chars) < 2:
            return None
        syllables = lazy_pinyin("".join(chars))
        groups = [syllables[0], "".join(syllables[1:])]
    else:
        groups = _latin_groups(LATIN_TOKEN.findall(raw))
        if not groups:
            return None
    return " ".join(sorted(groups))


def _latin_groups(tokens: list[str]) -> list[str]:
    """A Latin name as [surname, given]: the surname is the first token if it is a
    surname's syllable, else the last (`Zhiqiang Chen`); the rest is one given name."""
    if len(tokens) < 2:
        return []
    if tokens[0] in SURNAME_SYLLABLES or tokens[-1] not in SURNAME_SYLLABLES:
        return [tokens[0], "".join(tokens[1:])]
    return [tokens[-1], "".join(tokens[:-1])]


def name_letters(text: str | None) -> list[str]:
    """The letters an e-mail built on the name carries: the whole pinyin, surname first
    (`陈志强` and `Zhiqiang Chen` give `chenzhiqiang`). Initials (`czqchen`) are not
    kept: three letters and a surname fit too many names."""
    raw = unicodedata.normalize("NFKC", text or "").strip().lower()
    if not raw or hides_identity(raw):
        return []
    if not CJK.search(raw):
        groups = _latin_groups(LATIN_TOKEN.findall(raw))
        return ["".join(groups)] if groups else []
    syllables = lazy_pinyin("".join(c for c in raw if CJK.match(c)))
    return ["".join(syllables)] if len(syllables) >= 2 else []


def writing(text: str | None) -> str | None:
    """How a name is written: its own characters, or `latin` for any Latin spelling
    (pinyin has no characters to differ in)."""
    value = clean(text)
    if not value or hides_identity(value):
        return None
    return value if CJK.search(value) else "latin"


def holder_unlike(name: str | None, holders: list[str]) -> bool:
    """Whether a payout account of the seller is held under a name unlike the seller's
    own: another person's name, or the same pinyin in other characters (a homophone, a
    look-alike, traditional characters). An honest seller's account is held in its own
    name as its identity card writes it (the payment provider and the platform both
    check it). A seller registered in pinyin and paid under the name in characters is
    not unlike (people register in pinyin); one registered in characters and paid under
    a holder written in pinyin is (an account opened on a Chinese identity card holds
    the name in characters)."""
    key = name_key(name)
    own = writing(name)
    if key is None or own is None:
        return False
    for holder in holders:
        theirs = writing(holder)
        if theirs is None:
            continue
        if name_key(holder) != key or (theirs != own and own != "latin"):
            return True
    return False


def name_text(text: str | None) -> str | None:
    """The name's own characters, for exact and near-exact comparison."""
    value = clean(text)
    return value or None if not hides_identity(value) else None


def street_parts(normalized: str | None, names: tuple[str | None, ...]) -> tuple[str | None, str | None]:
    """(street, building) of an address: the text after its division names, cut into the
    road with its house number and the building number written after it."""
    text = clean(normalized)
    for name in names:
        if name and text.startswith(clean(name)):
            text = text[len(clean(name)):]
    match = STREET.match(text)
    if not match:
        return (text or None), None
    building = BUILDING.search(match.group(2))
    return match.group(1), building.group(1) if building else None


def divisions(adcode: str | None) -> tuple[str | None, str | None, str | None]:
    """(district, city, province) codes of an adcode; a city or province code leaves the
    finer ones empty."""
    if not adcode or len(adcode) != 6 or not adcode.isdigit():
        return None, None, None
    province = adcode[:2] + "0000"
    city = adcode[:4] + "00" if adcode[2:4] != "00" else None
    district = adcode if adcode[4:] != "00" else None
    return district, city, province


def phone_blocks(e164s: list[str]) -> tuple[list[str], list[str]]:
    """The blocks (all but two last digits) and exchanges (all but four) of the phones."""
    numbers = [p for p in e164s if p and len(p) >= 10]
    return sorted({p[:-2] for p in numbers}), sorted({p[:-4] for p in numbers})


def mail_letters(emails: list[str]) -> list[str]:
    """The letters of each e-mail's local part that spell a name in pinyin (two syllables
    or more, `chen.zhiqiang88` gives `chenzhiqiang`). Initials (`czqchen`, `zwzhang`) are
    not kept: two people of different names write the same ones (张伟 and 张文)."""
    found = set()
    for email in emails:
        local = clean(email).split("@", 1)[0]
        letters = "".join(c for c in local if "a" <= c <= "z")
        if len(letters) >= MIN_MAIL_LETTERS and syllable_count(letters) >= 2:
            found.add(letters)
    return sorted(found)


@lru_cache(maxsize=1)
def pinyin_syllables() -> frozenset[str]:
    """Every pinyin syllable (without tone) of the common CJK characters that has a vowel
    (the interjections `m`, `n`, `ng`, `hm` would let initials pass as syllables)."""
    from pypinyin.constants import PINYIN_DICT

    found = {lazy_pinyin(chr(code))[0] for code in PINYIN_DICT if 0x4E00 <= code <= 0x9FFF}
    return frozenset(s for s in found if s.isascii() and s.isalpha() and set(s) & set("aeiouv"))


@lru_cache(maxsize=200_000)
def syllable_count(letters: str) -> int:
    """The fewest pinyin syllables `letters` splits into, 0 when they do not split."""
    syllables = pinyin_syllables()
    fewest = [0] + [-1] * len(letters)
    for end in range(1, len(letters) + 1):
        for start in range(max(0, end - 6), end):
            if fewest[start] >= 0 and letters[start:end] in syllables and (
                    fewest[end] < 0 or fewest[start] + 1 < fewest[end]):
                fewest[end] = fewest[start] + 1
    return max(fewest[-1], 0)
