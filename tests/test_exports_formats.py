"""The export writers on a selection built by hand (no database): hostile text comes out
inert in every format, ids are stable and carry no personal data, every FtM entity
validates."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import networkx as nx
import pytest
from followthemoney import model

from api.exports import UnknownFormat, split_format, write
from graph.exports import Item, Link, Selection, Shared
from graph.exports_ftm import entity_id
from graph.exports_graph import xml_text

HOSTILE = '=HYPERLINK("http://evil.example","x")<script>alert(1)</script>\x00\x01\x0b\ud800 end'
INERT = '=HYPERLINK("http://evil.example","x")<script>alert(1)</script> end'


def selection() -> Selection:
    seller = Item("Seller", "S1", {"nickname": HOSTILE, "kind": "company", "platform": "shopx"})
    other = Item("Seller", "S2", {"nickname": "-2+3", "kind": "person"})
    shop = Item("Shop", "=1+1", {"name": HOSTILE, "url": "javascript:alert(1)"})
    phone = Item("Phone", "+8613800138000", {})
    return Selection(
        name="lead-<L1>", items=[seller, other, shop, phone],
        links=[Link("OPERATES", seller.ref, shop.ref, {}), Link("HAS_PHONE", seller.ref, phone.ref, {}),
               Link("PROBABLY_SAME", seller.ref, other.ref, {"note": "@SUM(A1)", "probability": 0.9})],
        shared=[Shared("S1", "S2", "phone", "Phone", None)])


def test_xml_text_drops_what_xml_does_not_allow() -> None:
    assert xml_text(HOSTILE) == INERT
    assert xml_text(["a\x02", "b"]) == "a, b"


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_xml_formats_parse_and_keep_hostile_text_as_text(fmt: str) -> None:
    body = write(selection(), fmt)
    root = ET.fromstring(body)
    assert b"<script>" not in body
    texts = [el.text for el in root.iter() if el.text]
    texts += [v for el in root.iter() for v in el.attrib.values()]
    assert INERT in texts
    assert "Shop:=1+1" in texts


def test_a_property_never_hides_what_every_node_carries() -> None:
    site = Item("Site", "X1", {"label": "白云鞋厂", "kind": "factory"})
    graph = nx.read_graphml(io.BytesIO(write(Selection("s", items=[site]), "graphml")))
    assert graph.nodes["Site:X1"] == {"type": "Site", "key": "X1", "caption": "白云鞋厂",
                                      "label": "白云鞋厂", "kind": "factory"}


def test_gephi_csv_neutralises_formulas() -> None:
    text = write(selection(), "gephi.csv").decode("utf-8")
    assert text.startswith("\ufeffSource,Target,Type,Id,Label,Weight")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    cells = [c for r in rows for c in r]
    assert "'@SUM(A1)" in cells
    assert all(not c.lstrip().startswith(("=", "+", "-", "@")) for c in cells)


def test_ftm_entities_validate_and_carry_no_personal_data_in_ids() -> None:
    lines = write(selection(), "ftm.jsonl").decode("utf-8").splitlines()
    found = [json.loads(line) for line in lines]
    for data in found:
        model.get(data["schema"]).validate(data)
        model.get_proxy(data, cleaned=False)
    by_id = {e["id"]: e for e in found}
    company = by_id[entity_id("Seller", "S1")]
    assert company["schema"] == "Company"
    assert company["properties"]["phone"] == ["+8613800138000"]
    assert "\x01" not in company["properties"]["name"][0]
    account = by_id[entity_id("Shop", "=1+1")]
    assert account["schema"] == "UserAccount" and "sourceUrl" not in account["properties"]
    shared = [e for e in found if e["schema"] == "UnknownLink"
              and e["properties"]["role"] == ["shared phone"]]
    assert len(shared) == 1 and "13800138000" not in json.dumps(shared)
    assert all("13800138000" not in e["id"] for e in found)


def test_entity_ids_are_stable_and_namespaced() -> None:
    assert entity_id("Seller", "S1") == "ag-seller-S1"
    assert entity_id("Shop", "=1+1") == entity_id("Shop", "=1+1")
    assert entity_id("Shop", "=1+1").startswith("ag-shop-x")
    assert entity_id("Phone", "+8613800138000").startswith("ag-phone-x")
    assert entity_id("Seller", "S1") != entity_id("Person", "S1")


def test_formats_by_suffix() -> None:
    assert split_format("L1.ftm.jsonl") == ("L1", "ftm.jsonl")
    assert split_format("net.a.b.gephi.csv") == ("net.a.b", "gephi.csv")
    with pytest.raises(UnknownFormat):
        split_format("L1.xlsx")
    with pytest.raises(UnknownFormat):
        split_format(".graphml")
