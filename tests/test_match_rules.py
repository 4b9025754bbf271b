"""Rules on scored pairs (no Neo4j): names that only look alike link only with a reason the
name does not carry, and a link on the name alone does not join groups of two provinces."""

from __future__ import annotations

import random
from typing import Any

import pyarrow as pa
import pytest

from alliance.generate import evasion
from alliance.generate.geography import STREETS, districts
from graph import match_model

SZ = ("广东省", "深圳市", "南山区", "440305")
FS = ("广东省", "佛山市", "南海区", "440605")
ZH = ("广东省", "珠海市", "斗门区", "440403")


def _row(sid: str, name: str, street: str, place: tuple[str, str, str | None, str], phone: str,
         holders: list[str]) -> dict[str, Any]:
    province, city, district, adcode = place
    return {"id": sid, "name": name, "address": province + city + (district or "") + street,
            "adcode": adcode, "province": province, "city": city, "district": district,
            "phones": [phone], "emails": [], "holders": holders,
            "ids": [f"account:alipay:{sid}", f"phone:{phone}"]}


RING = [
    _row("r1", "陈志强", "工业路88号B区3栋", SZ, "+8617712345601", []),
    _row("r2", "陳志強", "工业路88号B3栋", SZ, "+8617712345642", ["陈志强"]),
    _row("r3", "陈智强", "工业路88号3号楼", SZ, "+8617712345677", ["陈智强"]),
]
TYPO = _row("r4", "陈忐强", "兴业路5号", FS, "+8615000000001", ["陈志强"])
"""A ring member whose name is a typo of the boss's (another pinyin), paid to the boss, at
an address and phone of its own."""
TYPO_AT_SITE = _row("r5", "陈忐强", "工业路88号B区3栋", SZ, "+8618800000002", ["陈志强"])
"""The same, registered at the ring's site."""
NAMESAKE = _row("h1", "陈志强", "人民路12号", ZH, "+8613900000001", ["陈志强"])
"""An honest namesake of the boss in the same province, paid to its own name."""


def _honest(count: int) -> list[dict[str, Any]]:
    rng = random.Random(5)
    rows = []
    for i in range(count):
        d = rng.choice(districts())
        name = rng.choice(evasion.SURNAMES) + rng.choice(evasion.GIVEN) + rng.choice(evasion.GIVEN)
        rows.append(_row(f"h{i + 100:04d}", name, f"{rng.choice(STREETS)}{rng.randint(1, 999)}号",
                         (d.province, d.city, d.name, d.adcode), f"+86139{rng.randint(0, 10**8 - 1):08d}",
                         [name] if i % 4 == 0 else []))
    return rows


@pytest.fixture(scope="module")
def table() -> Any:
    return match_model.records(iter([*RING, TYPO, TYPO_AT_SITE, NAMESAKE, *_honest(600)]))


def _pairs(table: Any) -> dict[tuple[str, str], dict[str, Any]]:
    scored = match_model.train_and_score(table, threshold=0.7, confirmed=[])
    return {(p["a"], p["b"]): p for p in scored.pairs}


def test_a_look_alike_name_with_only_the_name_behind_it_does_not_link(
        table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    pairs = _pairs(table)
    assert ("h1", "r4") not in pairs
    assert ("r1", "r5") in pairs and "name similar" in pairs[("r1", "r5")]["reasons"]
    monkeypatch.setattr(match_model, "supported", lambda pair: True)
    unguarded = _pairs(table)
    assert "name similar" in unguarded[("h1", "r4")]["reasons"]
    assert "account holder name equal" in unguarded[("h1", "r4")]["reasons"]


@pytest.mark.parametrize(("reasons", "kept"), [
    (["account holder name equal", "name similar", "same province"], False),
    (["e-mail name equal", "name similar"], False),
    (["account holder name equal", "name similar", "same street"], True),
    (["name similar", "phone prefix equal"], True),
    (["both paid to accounts held under one name written unlike theirs", "name pinyin equal"],
     True),
])
def test_supported_asks_a_look_alike_name_for_a_reason_beside_the_name(
        reasons: list[str], kept: bool) -> None:
    assert match_model.supported({"a": "x", "b": "y", "p": 0.95, "reasons": reasons}) is kept


NAME_ONLY = ["both paid to accounts held under one name written unlike theirs",
             "name pinyin equal"]


def _link(a: str, b: str, reasons: list[str]) -> dict[str, Any]:
    return {"a": a, "b": b, "p": 0.95, "reasons": reasons}


def test_a_name_only_link_does_not_join_groups_of_different_provinces() -> None:
    province = {"a1": "440000", "a2": "440000", "b1": "420000", "b2": "420000",
                "c1": "440000", "c2": "440000", "x": "440000", "y": "330000", "z": "330000",
                "u": None, "v": "330000"}
    table = pa.table({"id": list(province), "province": list(province.values())})
    pairs = [
        _link("a1", "a2", ["same street", *NAME_ONLY]),       # group A, Guangdong
        _link("b1", "b2", ["phone prefix equal", *NAME_ONLY]),  # group B, Hubei
        _link("c1", "c2", ["same building", "name equal"]),     # group C, Guangdong
        _link("a1", "b1", NAME_ONLY),  # two groups, two provinces: apart
        _link("a2", "b2", ["same city", *NAME_ONLY]),  # a city makes no group: apart
        _link("a2", "c1", NAME_ONLY),  # two groups, one province: joined
        _link("a1", "x", NAME_ONLY), _link("b1", "x", NAME_ONLY),  # x joins A, its province
        _link("a1", "y", NAME_ONLY), _link("b2", "y", NAME_ONLY),  # y: neither is its own
        _link("b1", "z", NAME_ONLY),  # z points to one group only: kept
        _link("u", "v", NAME_ONLY),   # in no group: kept
    ]
    kept = {(p["a"], p["b"]) for p in match_model.apart_by_province(table, pairs)}
    assert kept == {("a1", "a2"), ("b1", "b2"), ("c1", "c2"), ("a2", "c1"), ("a1", "x"),
                    ("b1", "z"), ("u", "v")}


@pytest.mark.parametrize(("emails", "numbers"), [
    (["chen.zhiqiang88@qq.com"], {"88"}),
    (["czqchen885@163.com"], {"88"}),  # a digit added when the address was taken
    (["chenzhiqiang1988@126.com"], {"88"}),  # a year
    (["chenzhiqiang@126.com"], set()),
    (["88123456@qq.com"], set()),  # an account number, no name beside it
    (["h1234567@163.com"], set()),
    (["chen88@qq.com", "zhiqiang66@163.com"], {"88", "66"}),
    (None, set()),
])
def test_mail_numbers_reads_the_number_written_beside_a_name(
        emails: list[str] | None, numbers: set[str]) -> None:
    assert match_model.mail_numbers(emails) == numbers


def _groups_table(province: dict[str, str], emails: dict[str, list[str]]) -> Any:
    return pa.table({"id": list(province), "province": list(province.values()),
                     "emails": [emails.get(s, []) for s in province]})


def test_e_mail_numbers_keep_apart_and_join_what_the_name_alone_cannot() -> None:
    province = {"a1": "440000", "a2": "440000", "b1": "420000", "b2": "420000",
                "c1": "440000", "c2": "440000", "d1": "330000", "d2": "330000",
                "x": "510000", "y": "510000"}
    emails = {"a1": ["songhongjing78@qq.com"], "b2": ["shjsong785@163.com"],
              "c1": ["songhongjing85@qq.com"], "d1": ["songhongjing91@qq.com"],
              "x": ["songhongjing91@126.com"], "y": ["songhongjing66@126.com"]}
    pairs = [
        _link("a1", "a2", ["same street", *NAME_ONLY]),         # A, Guangdong, 78
        _link("b1", "b2", ["phone prefix equal", *NAME_ONLY]),  # B, Hubei, 78
        _link("c1", "c2", ["same building", *NAME_ONLY]),       # C, Guangdong, 85
        _link("d1", "d2", ["same street", *NAME_ONLY]),         # D, Zhejiang, 91
        _link("a2", "b1", NAME_ONLY),  # two provinces, one number: joined
        _link("a2", "c2", NAME_ONLY),  # one province, two numbers: apart
        _link("a1", "x", NAME_ONLY), _link("d2", "x", NAME_ONLY),  # x: the group of its number
        _link("c1", "y", NAME_ONLY),  # y points to one group only, of another number: apart
    ]
    kept = {(p["a"], p["b"]) for p in
            match_model.apart_by_province(_groups_table(province, emails), pairs)}
    assert kept == {("a1", "a2"), ("b1", "b2"), ("c1", "c2"), ("d1", "d2"), ("a2", "b1"),
                    ("d2", "x")}
    without = {(p["a"], p["b"]) for p in
               match_model.apart_by_province(_groups_table(province, {}), pairs)}
    assert ("a2", "c2") in without and ("a2", "b1") not in without and ("c1", "y") in without


def test_sellers_in_no_group_do_not_carry_a_name_only_link_across_provinces() -> None:
    province = {"a1": "440000", "a2": "440000", "b1": "420000", "b2": "420000",
                "x": "510000", "y": "330000", "u": "510000", "v": "330000"}
    pairs = [
        _link("a1", "a2", ["same street", *NAME_ONLY]),         # A, Guangdong
        _link("b1", "b2", ["phone prefix equal", *NAME_ONLY]),  # B, Hubei
        _link("a1", "x", NAME_ONLY),   # x joins A
        _link("b1", "y", NAME_ONLY),   # y joins B
        _link("x", "y", NAME_ONLY),    # would make A and B one: apart
        _link("u", "v", NAME_ONLY),    # in no group: kept
        _link("v", "x", NAME_ONLY),    # u and v join A through x: kept
    ]
    kept = {(p["a"], p["b"]) for p in
            match_model.apart_by_province(_groups_table(province, {}), pairs)}
    assert kept == {("a1", "a2"), ("b1", "b2"), ("a1", "x"), ("b1", "y"), ("u", "v"),
                    ("v", "x")}


def test_the_second_pass_does_not_join_a_seller_whose_e_mail_number_is_not_the_groups() -> None:
    def seller(n: int, sid: str, name: str, holders: list[str], emails: list[str]
               ) -> dict[str, Any]:
        return {**_row(sid, name, f"工业路{n}号", SZ, f"+861771234{n:04d}", holders),
                "emails": emails}

    group = [seller(i, f"g{i}", "宋宏静", [], [f"songhongjing78{i}@qq.com"]) for i in range(3)]
    pointing = [seller(11, "s1", "李四", ["宋宏静"], ["songhongjing91@qq.com"]),
                seller(12, "s2", "王五", ["宋宏静"], ["shjsong785@163.com"]),
                seller(13, "s3", "赵六", ["宋宏静"], [])]
    table = match_model.records(iter([*group, *pointing]))
    links = [_link("g0", "g1", ["same building", "name equal"]),
             _link("g1", "g2", ["same building", "name equal"])]
    joined = {p["a"] if p["b"].startswith("g") else p["b"]
              for p in match_model.joined_groups(table, links, 0.9)}
    assert joined == {"s2", "s3"}
    without_mail = match_model.records(iter([*group, {**pointing[0], "emails": []}]))
    assert [p["b"] for p in match_model.joined_groups(without_mail, links, 0.9)] == ["s1"]
