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
