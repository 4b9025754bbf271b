"""Search ranks: a name that is the text, then names that hold it (closer first), then
nodes that only mention it (an address, a brand's owner), on generated names.

Each generated word gets a shop named exactly the word, two sellers whose nicknames hold
it (one short, one long, the long one repeating the word so that Lucene alone would put it
first), a brand whose owner is the word, and an address that mentions it. The mean
reciprocal rank of the exact name must be 1, and each tier must come before the next.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver

from api import search
from api.auth import issue_token
from api.main import create_app
from api.scope import Kind
from graph.caller import Caller
from graph.drivers import Connection

pytestmark = pytest.mark.neo4j

SEARCH = "query($t: String!) { search(text: $t, first: 20) { id label score } }"
SYLLABLES = ("ka", "lo", "mi", "zu", "te", "ra", "po", "xi", "ve", "no")
HANZI = "峰步鞋业织造皮具华盛龙腾鑫源恒达锦"


def generated_words(count: int, seed: int = 19) -> list[str]:
    """Distinct made-up words, Latin and Chinese, none inside another."""
    rng = random.Random(seed)
    words: list[str] = []
    while len(words) < count:
        if len(words) % 2:
            word = "".join(rng.sample(HANZI, 4))
        else:
            word = "".join(rng.choice(SYLLABLES) for _ in range(4))
        if all(word not in w and w not in word for w in words):
            words.append(word)
    return words


WORDS = generated_words(12)


def rows(words: list[str]) -> list[dict[str, Any]]:
    return [{"i": i, "w": w} for i, w in enumerate(words)]


GRAPH = """
UNWIND $rows AS r
CREATE (:Shop {shop_id: 'EX' + r.i, name: r.w})
CREATE (:Seller {seller_id: 'SHORT' + r.i, nickname: r.w + ' 店'})
CREATE (:Seller {seller_id: 'LONG' + r.i, nickname: r.w + ' ' + r.w + ' ' + r.w + ' 旗舰店 official store'})
CREATE (:Brand {brand_id: 'OWN' + r.i, name: 'Brand ' + r.i, owner: r.w})
CREATE (:Address {address_key: 'AD' + r.i, raw: '福建省莆田市' + r.w + '路' + r.i + '号'})
"""

SITES = """
UNWIND $labels AS r
CREATE (:Site {site_id: r.id, kind: 'factory', label: r.label})
"""
SITE_LABELS = [("X1", "城厢鞋加工点"), ("X2", "荔城区手表加工点"), ("X3", "涵江区太阳镜加工点"),
               ("X4", "秀屿香水加工点"), ("X5", "仙游县羽绒服皮带加工点")]
"""Sites like the demo's, whose labels all end in 加工点, of different lengths."""


@pytest.fixture(scope="module")
def client(driver: Driver, database: str, neo4j_connection: Connection) -> Iterator[TestClient]:
    with driver.session(database=database) as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
        session.run(GRAPH, rows=rows(WORDS)).consume()
        session.run(SITES, labels=[{"id": i, "label": label} for i, label in SITE_LABELS]).consume()
    with TestClient(create_app(connection=neo4j_connection)) as test_client:
        yield test_client


def hits(client: TestClient, text: str, role: str = "investigator") -> list[dict[str, Any]]:
    bearer = issue_token(Caller(sub="rank", role=role))  # type: ignore[arg-type]
    response = client.post("/graphql", json={"query": SEARCH, "variables": {"t": text}},
                           headers={"Authorization": f"Bearer {bearer}"})
    body = response.json()
    assert "errors" not in body, body
    found: list[dict[str, Any]] = body["data"]["search"]
    return found


def reciprocal_rank(found: list[dict[str, Any]], wanted: str) -> float:
    ids = [h["id"] for h in found]
    return 1 / (ids.index(wanted) + 1) if wanted in ids else 0.0


def test_exact_name_then_partial_names_then_mentions(client: TestClient) -> None:
    ranks = []
    for i, word in enumerate(WORDS):
        found = hits(client, word)
        ids = [h["id"] for h in found]
        assert ids[:3] == [f"Shop:EX{i}", f"Seller:SHORT{i}", f"Seller:LONG{i}"], (word, found)
        assert set(ids[3:]) == {f"Brand:OWN{i}", f"Address:AD{i}"}, (word, found)
        scores = [h["score"] for h in found]
        assert scores == sorted(scores, reverse=True)
        assert 3 <= scores[0] < 4 and 2 <= scores[1] < 3 and 2 <= scores[2] < 3
        assert all(1 <= s < 2 for s in scores[3:])
        ranks.append(reciprocal_rank(found, f"Shop:EX{i}"))
    assert sum(ranks) / len(ranks) == 1.0


def test_exact_match_ignores_case_and_spacing(client: TestClient) -> None:
    latin = WORDS[0]
    assert hits(client, f"  {latin.upper()} ")[0]["id"] == "Shop:EX0"


def test_names_that_hold_the_text_rank_by_how_much_of_the_name_it_covers(
        client: TestClient) -> None:
    found = hits(client, "加工点")
    assert [h["id"] for h in found] == ["Site:X1", "Site:X4", "Site:X2", "Site:X3", "Site:X5"]
    scores = [h["score"] for h in found]
    assert scores == sorted(set(scores), reverse=True)  # five different scores


@pytest.mark.parametrize("role", ["brand_member", "police_liaison", "analyst", "admin"])
def test_every_kind_of_caller_gets_a_ranked_answer(client: TestClient, role: str) -> None:
    claims = {"brand_member": {"brand_id": "OWN0"}, "police_liaison": {"agency_id": "none"}}
    bearer = issue_token(Caller(sub="rank", role=role, **claims.get(role, {})))  # type: ignore[arg-type]
    response = client.post("/graphql", json={"query": SEARCH, "variables": {"t": WORDS[1]}},
                           headers={"Authorization": f"Bearer {bearer}"})
    body = response.json()
    assert "errors" not in body, body
    scores = [h["score"] for h in body["data"]["search"]]
    assert scores == sorted(scores, reverse=True)


def test_ranked_query_text_is_one_per_kind_and_index_set() -> None:
    kinds: tuple[Kind, ...] = ("all", "liaison", "brand", "none")
    texts = {search.ranked(search.indexes_for(labels), who)
             for who in kinds for labels in ([], ["Address"], ["Shop"])}
    assert len(texts) == 12
    assert "$text" in search.ranked(("fulltext_names",), "all")


def test_a_common_word_ranks_only_the_best_candidates_yet_the_exact_name_first(
        client: TestClient, driver: Driver, database: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    word = generated_words(13)[12]
    branches = [{"i": j, "w": f"{word} 分店{j} 福建省莆田市荔城区工业路{j}号 旗舰店"} for j in range(40)]
    with driver.session(database=database) as session:
        session.run("UNWIND $rows AS r CREATE (:Seller {seller_id: 'COMMON' + r.i, nickname: r.w})",
                    rows=branches).consume()
        session.run("CREATE (:Shop {shop_id: 'COMMONEX', name: $w})", w=word).consume()
    try:
        assert len(hits(client, word)) == 20  # first: 20 of the 41 hits
        monkeypatch.setattr(search, "CANDIDATES", 5)
        monkeypatch.setattr(search, "CANDIDATES_PER_HIT", 0)
        found = hits(client, word)
        assert len(found) == 5  # the names index's 5 best, nothing from the addresses
        assert found[0]["id"] == "Shop:COMMONEX" and found[0]["score"] >= 3
    finally:
        with driver.session(database=database) as session:
            session.run("MATCH (n) WHERE n.seller_id STARTS WITH 'COMMON' OR n.shop_id = 'COMMONEX' "
                        "DETACH DELETE n").consume()


def test_only_callers_who_see_everything_over_every_label_rank_a_bounded_set() -> None:
    assert search.is_bounded("all", [])
    assert not search.is_bounded("all", ["Shop"])
    assert not any(search.is_bounded(who, []) for who in ("liaison", "brand", "none"))
    assert "{limit: $candidates}" in search.ranked(("fulltext_names",), "all", True)
    assert "$candidates" not in search.ranked(("fulltext_names",), "all")
