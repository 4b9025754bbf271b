"""The comparison table of probable matching, built batch by batch: block keys capped by
how many sellers hold them, rows kept in their order, the export read ahead in a thread."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from graph import match_model, matching


def _seller(i: int, *, name: str = "陈志强", street: str | None = None,
            phone: str | None = None, ident: str | None = None) -> dict[str, Any]:
    return {"id": f"s{i:05d}", "name": name,
            "address": f"广东省深圳市南山区{street}" if street else None,
            "adcode": "440305" if street else None, "province": "广东省" if street else None,
            "city": "深圳市" if street else None, "district": "南山区" if street else None,
            "phones": [phone] if phone else [], "emails": [], "holders": [],
            "ids": [ident] if ident else []}


def test_a_key_held_by_more_sellers_than_the_cap_blocks_nothing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(match_model, "BLOCK_CAP", 3)
    monkeypatch.setattr(match_model, "ID_CAP", 2)
    monkeypatch.setattr(match_model, "RECORD_BATCH", 2)  # several batches
    rows = ([_seller(i, street="工业路1号", phone=f"+861380000000{i}", ident="phone:x")
             for i in range(3)]
            + [_seller(i, name="王伟", street="科技路9号", phone=f"+861380000000{i}")
               for i in range(3, 7)])
    table = match_model.records(iter(rows)).to_pylist()
    assert [r["id"] for r in table] == [r["id"] for r in rows]
    chen, wang = table[:3], table[3:]
    assert {r["b_name"] for r in chen} == {"chen zhiqiang"}  # three holders: kept
    assert {r["b_name"] for r in wang} == {None}  # four: over the cap
    assert {r["b_street"] for r in chen} == {"440300|工业路1号"}
    assert {r["b_street"] for r in wang} == {None}
    # one phone block, held by all seven: over the cap for every seller
    assert {r["phone_blocks"][0] for r in table} == {"+86138000000"}
    assert all(r["b_phone"] is None for r in table)
    assert all(r["b_ids"] is None for r in chen)  # an identifier of three is a hub at 2


def test_batches_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [_seller(i, name="陈志强" if i % 3 else "Chen Zhiqiang", street=f"工业路{i % 4}号",
                    phone=f"+8613800000{i:03d}", ident=f"identity:{i % 5}") for i in range(40)]
    whole = match_model.records(iter(rows))
    monkeypatch.setattr(match_model, "RECORD_BATCH", 7)
    assert match_model.records(iter(rows)).equals(whole)


def test_list_blocks_keep_the_keys_under_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(match_model, "BLOCK_CAP", 2)
    rows = [_seller(0), _seller(1), _seller(2)]
    rows[0]["phones"] = ["+8613800001100", "+8613911112200"]
    rows[1]["phones"] = ["+8613800001101"]
    rows[2]["phones"] = ["+8613911112201", "+8613800001102"]
    table = match_model.records(iter(rows)).to_pylist()
    # the block +86138000011 has three sellers (over), +86139111122 two (kept)
    assert [r["b_phone"] for r in table] == [["+86139111122"], None, ["+86139111122"]]


def test_the_read_ahead_gives_every_batch_in_order_and_raises_what_the_reader_raised() -> None:
    assert list(matching.read_ahead(iter(range(50)), depth=2)) == list(range(50))

    def broken() -> Iterator[int]:
        yield 1
        raise RuntimeError("the server went away")

    got = []
    with pytest.raises(RuntimeError, match="went away"):
        for item in matching.read_ahead(broken()):
            got.append(item)
    assert got == [1]


def test_holders_written_unlike_the_sellers_own_name_and_the_letters_of_a_name() -> None:
    from graph import match_features as mf

    assert not mf.holder_unlike("陈志强", ["陈志强"])  # an honest seller's own account
    assert not mf.holder_unlike("Chen Zhiqiang", ["CHEN Zhiqiang"])  # one Latin spelling
    assert mf.holder_unlike("陈志强", ["陳志強"]) and mf.holder_unlike("陈志强", ["陈智强"])
    assert mf.holder_unlike("阵志强", ["陈志强"]) and mf.holder_unlike("阵志强", ["Chen Zhiqiang"])
    # registered in pinyin, paid under the name in characters: honest
    assert not mf.holder_unlike("Chen Zhiqiang", ["陈志强"])
    assert mf.holder_unlike("陈志强", ["Chen Zhiqiang"])
    assert not mf.holder_unlike("陈志强", []) and not mf.holder_unlike(None, ["陈志强"])
    assert mf.name_letters("陈志强") == ["chenzhiqiang"]
    assert mf.name_letters("Zhiqiang Chen") == ["chenzhiqiang"]
    assert mf.name_letters("王某") == []


def _keys(sid: str, name: str, holders: list[str], emails: list[str]) -> dict[str, Any]:
    return {"id": sid, "name": name, "address": None, "adcode": None, "province": None,
            "city": None, "district": None, "phones": [], "emails": emails,
            "holders": holders, "ids": []}


def test_a_seller_that_points_to_a_linked_groups_name_joins_it_and_a_namesake_does_not() -> None:
    group = [_keys("g1", "马宏刚", ["馬宏剛"], []), _keys("g2", "馬宏剛", ["马弘刚"], []),
             _keys("g3", "Ma Honggang", [], [])]
    others = [
        _keys("t1", "马刚宏", ["马宏刚"], []),  # own name another, account held by the group's
        _keys("t2", "马刚宏", [], ["mahonggang86@qq.com"]),  # e-mail on the group's name
        _keys("t3", "马宏刚", ["马弘刚"], []),  # the name, the account under another writing
        _keys("h1", "马宏刚", ["马宏刚"], ["mahonggang7@qq.com"]),  # an honest namesake
        _keys("h2", "马刚宏", ["马刚宏"], ["maganghong1@qq.com"]),  # honest, another name
        _keys("n1", "马宏刚", ["李国华"], []),  # paid to someone else, not to the group's name
    ]
    table = match_model.records(iter(group + others))
    links = [{"a": "g1", "b": "g2", "p": 0.99, "reasons": []},
             {"a": "g2", "b": "g3", "p": 0.99, "reasons": []}]
    joined = {(j["a"], j["b"]): j["reasons"] for j in match_model.joined_groups(table, links, 0.9)}
    assert set(joined) == {("g1", "t1"), ("g1", "t2"), ("g1", "t3")}
    assert joined[("g1", "t1")] == ["joins a linked group of 3", "account holder is the group's name"]
    assert "e-mail spells the group's name" in joined[("g1", "t2")]
    assert match_model.joined_groups(table, links[:1], 0.9) == []  # two sellers: no group


def _level(model: dict[str, Any], comparison: str, label: str) -> dict[str, Any]:
    found = next(c for c in model["comparisons"] if c["output_column_name"] == comparison)
    return next(lv for lv in found["comparison_levels"] if lv.get("label_for_charts") == label)


def test_a_level_no_random_pair_reaches_weighs_as_rare_not_as_splinks_default() -> None:
    # sellers on four streets, never two in one building: "same street" is met among
    # random pairs, "same building" never
    rows = [_seller(i, name=f"{'陈林王李'[i % 4]}{'志国华明'[i // 4 % 4]}{'强伟'[i // 16]}",
                    street=f"工业路{i % 4}号{i}栋", phone=f"+86138{i:08d}") for i in range(32)]
    model = match_model.train_and_score(match_model.records(iter(rows)), threshold=0.99,
                                        confirmed=[]).model
    building = _level(model, "address", "same building")
    street = _level(model, "address", "same street")
    assert building["u_probability"] == match_model.U_UNSEEN
    assert street["u_probability"] > match_model.U_UNSEEN
    assert (building["m_probability"] / building["u_probability"]
            > street["m_probability"] / street["u_probability"])


def test_mail_letters_keep_a_name_spelt_in_pinyin_and_drop_initials() -> None:
    from graph import match_features as mf

    assert mf.mail_letters(["chen.zhiqiang88@qq.com", "wangwei@163.com"]) == [
        "chenzhiqiang", "wangwei"]
    # initials and a surname: 张伟 and 张文 both write zwzhang
    assert mf.mail_letters(["czqchen85@qq.com", "zwzhang@163.com", "mhgma@126.com"]) == []
    assert mf.mail_letters(["xian@qq.com", "h1234@163.com"]) == []  # one syllable, too short
    assert mf.syllable_count("liangliguo") == 3 and mf.syllable_count("czq") == 0
