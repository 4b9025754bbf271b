"""The one read path and the one write path (graph/access.py), on a real Neo4j."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any

import pytest
from neo4j import AsyncGraphDatabase, Driver, GraphDatabase
from prometheus_client import REGISTRY

from alliance.local_neo4j import free_port
from core.errors import Conflict, DatabaseUnavailable, QueryTooSlow, UserError
from graph import access
from graph.access import ChangedMeanwhile, Statement
from graph.drivers import Connection

SLOW = "UNWIND range(1, 2000000000) AS x RETURN sum(x) AS s"


def count(metric: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(metric, labels) or 0.0


def sellers(driver: Driver, database: str) -> list[str]:
    rows = access.read(driver, database, "MATCH (s:Seller) RETURN s.seller_id AS id ORDER BY id")
    return [r["id"] for r in rows]


def test_a_read_over_its_timeout_is_query_too_slow(driver: Driver, database: str,
                                                   neo4j_connection: Connection) -> None:
    before = count("alliance_api_neo4j_errors_total", kind="timeout")
    with pytest.raises(QueryTooSlow, match="query took too long"):
        access.read(driver, database, SLOW, timeout=0.5, name="test:slow")

    async def slow() -> None:
        async with AsyncGraphDatabase.driver(neo4j_connection.uri,
                                             auth=neo4j_connection.auth) as adriver:
            await access.read_async(adriver, database, SLOW, timeout=0.5, name="test:slow")

    with pytest.raises(QueryTooSlow, match="over 0.5 s"):
        asyncio.run(slow())
    assert count("alliance_api_neo4j_errors_total", kind="timeout") == before + 2


def test_a_read_against_a_dead_server_is_database_unavailable() -> None:
    before = count("alliance_api_neo4j_errors_total", kind="unavailable")
    uri = f"bolt://127.0.0.1:{free_port()}"
    with GraphDatabase.driver(uri) as dead, pytest.raises(DatabaseUnavailable):
        access.read(dead, "neo4j", "RETURN 1 AS one", name="test:dead")

    async def dead_async() -> None:
        async with AsyncGraphDatabase.driver(uri) as adead:
            await access.read_async(adead, "neo4j", "RETURN 1 AS one", name="test:dead")

    with pytest.raises(DatabaseUnavailable, match="does not answer"):
        asyncio.run(dead_async())
    assert count("alliance_api_neo4j_errors_total", kind="unavailable") == before + 2


def test_a_must_match_statement_that_matches_nothing_rolls_everything_back(
        clean_db: Driver, database: str, neo4j_connection: Connection) -> None:
    statements = [
        Statement("CREATE (s:Seller {seller_id: 'W1'}) RETURN s.seller_id AS id"),
        Statement("MATCH (s:Seller {seller_id: 'nobody'}) SET s.flag = true RETURN s",
                  must_match=True, what="seller nobody"),
    ]
    with pytest.raises(ChangedMeanwhile, match="seller nobody changed meanwhile") as raised:
        access.write(clean_db, database, statements, name="test:write")
    assert isinstance(raised.value, Conflict) and raised.value.code == "CONFLICT"
    assert sellers(clean_db, database) == []

    async def write_async() -> None:
        async with AsyncGraphDatabase.driver(neo4j_connection.uri,
                                             auth=neo4j_connection.auth) as adriver:
            await access.write_async(adriver, database, statements, name="test:write")

    with pytest.raises(ChangedMeanwhile):
        asyncio.run(write_async())
    assert sellers(clean_db, database) == []
    done = access.write(clean_db, database, statements[:1], name="test:write")
    assert done == [[{"id": "W1"}]] and sellers(clean_db, database) == ["W1"]


def test_a_constraint_violation_or_a_lone_surrogate_is_a_user_error(clean_db: Driver,
                                                                    database: str) -> None:
    create = Statement("CREATE (:Seller {seller_id: $id})", {"id": "U1"})
    access.write(clean_db, database, [create])
    with pytest.raises(UserError, match="already exists"):
        access.write(clean_db, database, [create])
    with pytest.raises(UserError, match="not valid Unicode"):
        access.read(clean_db, database, "RETURN $text AS t", {"text": "a\udc80b"})
    assert sellers(clean_db, database) == ["U1"]


def chain(start: str) -> Generator[access.Query, list[dict[str, Any]], list[str]]:
    """Follow NEXT from `start`, one query per hop."""
    found = [start]
    while True:
        rows = yield ("MATCH (:Seller {seller_id: $id})-[:NEXT]->(n:Seller) "
                      "RETURN n.seller_id AS id", {"id": found[-1]})
        if not rows or rows[0]["id"] in found:
            return found
        found.append(rows[0]["id"])


def test_sync_and_async_steps_give_the_same_answer(clean_db: Driver, database: str,
                                                   neo4j_connection: Connection) -> None:
    clean_db.execute_query("UNWIND range(0, 5) AS i CREATE (:Seller {seller_id: 'c' + i}) "
                           "WITH collect(1) AS done "
                           "MATCH (a:Seller), (b:Seller) WHERE toInteger(substring(b.seller_id, 1)) "
                           "= toInteger(substring(a.seller_id, 1)) + 1 CREATE (a)-[:NEXT]->(b)",
                           database_=database)
    before = count("alliance_api_neo4j_query_seconds_count", query="test:chain")
    found = access.steps(clean_db, database, chain("c0"), name="test:chain")

    async def found_async() -> list[str]:
        async with AsyncGraphDatabase.driver(neo4j_connection.uri,
                                             auth=neo4j_connection.auth) as adriver:
            answer: list[str] = await access.steps_async(adriver, database, chain("c0"),
                                                         name="test:chain")
            return answer

    assert found == [f"c{i}" for i in range(6)]
    assert asyncio.run(found_async()) == found
    # six queries each way: one per seller, the last finding nothing
    assert count("alliance_api_neo4j_query_seconds_count", query="test:chain") == before + 12


def test_metrics_count_the_named_query(clean_db: Driver, database: str) -> None:
    before = count("alliance_api_neo4j_query_seconds_count", query="test:named")
    access.read(clean_db, database, "RETURN 1 AS one", name="test:named")
    access.write(clean_db, database, [Statement("CREATE (:Brand {brand_id: 'B1'})")],
                 name="test:named")
    assert count("alliance_api_neo4j_query_seconds_count", query="test:named") == before + 2


def test_reads_keep_their_columns_and_stop_at_most(clean_db: Driver, database: str) -> None:
    empty = access.read(clean_db, database, "MATCH (s:Seller) RETURN s.seller_id AS id, 1 AS n")
    assert empty == [] and empty.keys == ["id", "n"]
    some = access.read(clean_db, database, "UNWIND range(1, 10) AS x RETURN x", at_most=3)
    assert [r["x"] for r in some] == [1, 2, 3] and some.summary is not None
    access.write_autocommit(clean_db, database, "UNWIND range(1, 5) AS i CALL (i) { "
                            "CREATE (:Seller {seller_id: 'b' + i}) } IN TRANSACTIONS OF 2 ROWS")
    assert len(sellers(clean_db, database)) == 5
    assert [r["id"] for r in access.stream(clean_db, database, "MATCH (s:Seller) "
                                           "RETURN s.seller_id AS id ORDER BY id")] == \
        sellers(clean_db, database)


@pytest.mark.neo4j
def test_reads_and_writes_share_the_drivers_bookmarks(clean_db: Driver, database: str) -> None:
    """A write's bookmark is kept by the driver's bookmark manager and given to the
    sessions after it, so a read on a cluster's secondary waits for that write."""
    manager = clean_db.execute_query_bookmark_manager
    before = set(manager.get_bookmarks())
    access.write(clean_db, database, [Statement("CREATE (:Seller {seller_id: 'BM1'})")],
                 name="test:write")
    written = set(manager.get_bookmarks())
    assert written and written != before
    rows = access.read(clean_db, database, "MATCH (s:Seller {seller_id: 'BM1'}) RETURN count(s) AS n")
    assert rows[0]["n"] == 1
    assert set(manager.get_bookmarks()) == written  # a read commits nothing new


@pytest.mark.neo4j
def test_async_reads_and_writes_share_the_drivers_bookmarks(
        clean_db: Driver, database: str, neo4j_connection: Connection) -> None:
    async def scenario() -> tuple[set[str], set[str]]:
        async with AsyncGraphDatabase.driver(neo4j_connection.uri,
                                             auth=neo4j_connection.auth) as driver:
            manager = driver.execute_query_bookmark_manager
            before = set(await manager.get_bookmarks())
            await access.write_async(driver, database, [Statement("CREATE (:Seller {seller_id: 'BM2'})")])
            return before, set(await manager.get_bookmarks())

    before, after = asyncio.run(scenario())
    assert after and after != before
