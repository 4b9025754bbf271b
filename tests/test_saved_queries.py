"""Saved-query mechanics: headers, parameter checks, EXPLAIN checks, read-only running,
row caps, timeouts, result conversion, hidden columns, CSV export, a database that does
not answer, and the audit trail, on a real Neo4j."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from neo4j import AsyncGraphDatabase, Driver, GraphDatabase
from neo4j.exceptions import ServiceUnavailable

from alliance.local_neo4j import free_port
from core import errors
from graph import audit, query_library
from graph.caller import Caller
from graph.drivers import Connection
from tests.saved_query_fixture import write_fixture

ANALYST = Caller(sub="ana", role="analyst")
INVESTIGATOR = Caller(sub="ivy", role="investigator")

GOOD = """// title: Shops of a seller
// description: Every shop a seller operates.
// params:
//   - name: seller_id
//     type: string
//     description: The seller.
//   - {name: since, type: date, default: 2020-01-01}
//   - {name: platforms, type: list of string, default: [taobao]}
// columns: {open: [note], entity: [shop_id]}
MATCH (s:Seller {seller_id: $seller_id})-[:OPERATES]->(shop:Shop)
WHERE shop.opened_on >= $since AND shop.platform IN $platforms
// a comment that mentions $not_a_param
RETURN shop.shop_id AS shop_id, 'costs $5' AS note
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.cypher"
    path.write_text(text, encoding="utf-8")
    return path


def query(cypher: str, *, name: str = "adhoc", params: tuple[query_library.Param, ...] = (),
          max_rows: int = 1000, timeout: float = 10.0,
          columns: dict[str, str] | None = None) -> query_library.SavedQuery:
    """A saved query built directly, bypassing the file checks."""
    return query_library.SavedQuery(name=name, title=name, cypher=cypher, params=params,
                         max_rows=max_rows, timeout=timeout, columns=columns or {})


def count(driver: Driver, database: str, cypher: str) -> int:
    records, _, _ = driver.execute_query(cypher, database_=database)
    return int(records[0][0])


# ------------------------------------------------------------------ headers (no database)


def test_header_is_parsed_with_defaults(tmp_path: Path) -> None:
    parsed = query_library.parse_query(write(tmp_path, "shops-of-seller", GOOD))
    assert parsed.name == "shops-of-seller"
    assert parsed.title == "Shops of a seller"
    assert parsed.roles == ("investigator", "analyst", "admin")
    assert (parsed.max_rows, parsed.timeout) == (1000, 10.0)
    assert parsed.columns == {"note": "open", "shop_id": "entity"}
    seller, since, platforms = parsed.params
    assert (seller.type, seller.required, seller.description) == ("string", True, "The seller.")
    assert (since.type, since.required, since.default) == ("date", False, date(2020, 1, 1))
    assert (platforms.type, platforms.default) == ("list of string", ["taobao"])
    assert parsed.cypher.startswith("MATCH (s:Seller")


def test_used_params_skip_strings_comments_and_quoted_names() -> None:
    cypher = ("MATCH (n) WHERE n.a = $a AND n.`$b` = '$c' AND n.d = \"it\\\"s $d\" "
              "// $e\n/* $f */ AND n.g = $`g` AND n.h IN $_agency_adcodes RETURN n")
    assert query_library.used_params(cypher) == {"a", "g", "_agency_adcodes"}


@pytest.mark.parametrize(("text", "reason"), [
    ("MATCH (n) RETURN n", "no header"),
    ("// title: [unclosed\nMATCH (n) RETURN n", "x.cypher:1: header is not valid YAML"),
    ("// title: T\n// owner: me\nMATCH (n) RETURN n", "unknown header keys ['owner']"),
    ("// description: no title\nMATCH (n) RETURN n", "header needs `title`"),
    ("// title: T\n", "no Cypher after the header"),
    ("// title: T\n// params: [{name: x, type: text}]\nMATCH (n) WHERE n.x = $x RETURN n",
     "type 'text' is not one of"),
    ("// title: T\n// params: [{name: x, type: int, default: many}]\n"
     "MATCH (n) WHERE n.x = $x RETURN n", "bad default: parameter 'x': expected a whole number"),
    ("// title: T\n// params: [{name: _user, type: string}]\nMATCH (n) RETURN n",
     "names starting with _ are filled by the server"),
    ("// title: T\n// roles: [investigator, boss]\nMATCH (n) RETURN n", "unknown roles ['boss']"),
    ("// title: T\n// max_rows: 0\nMATCH (n) RETURN n", "`max_rows` must be a whole number"),
    ("// title: T\n// timeout: 1000\nMATCH (n) RETURN n", "`timeout` must be a number of seconds"),
    ("// title: T\nMATCH (n) WHERE n.x = $x RETURN n", "uses ['$x'] but the header does not"),
    ("// title: T\n// params: [{name: x, type: int}]\nMATCH (n) RETURN n",
     "declares ['x'] but the Cypher never uses them"),
    ("// title: T\nMATCH (n) WHERE n.x = $_secret RETURN n", "['_secret'] start with _"),
    ("// title: T\nMATCH (n) WHERE n.x = $0 RETURN n", "positional parameter $0"),
    ("// title: T\nEXPLAIN MATCH (n) RETURN n", "must not start with EXPLAIN"),
    ("// title: T\n// params: [{name: x, type: int}, {name: x, type: int}]\n"
     "MATCH (n) WHERE n.x = $x RETURN n", "declared twice: ['x']"),
    ("// title: T\n// columns: [x]\nMATCH (n) RETURN n.x AS x", "`columns` must map kinds"),
    ("// title: T\n// columns: {secret: [x]}\nMATCH (n) RETURN n.x AS x",
     "unknown kinds ['secret']; allowed: ['open', 'entity', 'identifier']"),
    ("// title: T\n// columns: {open: {x: 1}}\nMATCH (n) RETURN n.x AS x",
     "`open` must be a list of column names"),
    ("// title: T\n// columns: {open: [x], identifier: [x]}\nMATCH (n) RETURN n.x AS x",
     "column 'x' is both open and identifier"),
    ("// title: T\n// roles: [police_liaison, admin]\n// columns: {entity: [id]}\n"
     "MATCH (c:Case) RETURN c.case_id AS id",
     "shows entity columns ['id'] to police_liaison but never uses $_agency_adcodes"),
])
def test_bad_headers_say_what_and_where(tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(query_library.HeaderError) as raised:
        query_library.parse_query(write(tmp_path, "x", text))
    assert reason in str(raised.value)
    assert "x.cypher" in str(raised.value)


def test_file_name_must_be_kebab_case(tmp_path: Path) -> None:
    with pytest.raises(query_library.HeaderError, match="kebab-case"):
        query_library.parse_query(write(tmp_path, "Shops_Of", GOOD))


def test_a_bad_file_is_reported_and_the_rest_still_load(tmp_path: Path) -> None:
    write(tmp_path, "good-one", GOOD)
    write(tmp_path, "bad-one", "// title: T\nMATCH (n) WHERE n.x = $x RETURN n")
    library = query_library.load(tmp_path)
    assert list(library.queries) == ["good-one"]
    assert library.names() == ["bad-one", "good-one"]
    with pytest.raises(query_library.QueryUnavailable, match=r"cannot run: bad-one\.cypher: the Cypher uses"):
        library.get("bad-one")
    with pytest.raises(query_library.UnknownQuery, match="available: good-one"):
        library.get("nope")


# ------------------------------------------------------------------ parameters (no database)


def test_params_are_coerced_from_text_and_defaults_filled(tmp_path: Path) -> None:
    parsed = query_library.parse_query(write(tmp_path, "q", GOOD))
    values = query_library.coerce_params(parsed, {"seller_id": "S1", "platforms": "taobao, jd"})
    assert values == {"seller_id": "S1", "since": date(2020, 1, 1), "platforms": ["taobao", "jd"]}
    values = query_library.coerce_params(parsed, {"seller_id": ["S1"], "since": "2024-02-29",
                                       "platforms": ["a", "b"]})
    assert values["since"] == date(2024, 2, 29)
    assert values["platforms"] == ["a", "b"]


@pytest.mark.parametrize(("kind", "raw", "value"), [
    ("int", "42", 42), ("int", 7, 7), ("float", "2.5", 2.5), ("float", 3, 3.0),
    ("bool", "yes", True), ("bool", "否", False), ("bool", False, False),
    ("date", "2024-06-30", date(2024, 6, 30)), ("string", "深圳", "深圳"),
    ("list of string", ["x", "y"], ["x", "y"]),
])
def test_each_type_coerces(kind: str, raw: object, value: object) -> None:
    assert query_library.coerce(query_library.Param("p", kind), raw) == value


@pytest.mark.parametrize(("kind", "raw", "message"), [
    ("int", "4.5", "expected a whole number, got '4.5'"),
    ("int", True, "expected a whole number"),
    ("float", "abc", "expected a number"),
    ("bool", "maybe", "expected true or false"),
    ("date", "30/06/2024", "expected a date like 2024-06-30"),
    ("string", 12, "expected text"),
    ("list of string", [1, 2], "expected a list of strings"),
])
def test_wrong_types_are_named(kind: str, raw: object, message: str) -> None:
    with pytest.raises(query_library.ParamError, match=f"parameter 'p': {message}"):
        query_library.coerce(query_library.Param("p", kind), raw)


def test_missing_unknown_and_server_params_are_all_reported(tmp_path: Path) -> None:
    parsed = query_library.parse_query(write(tmp_path, "q", GOOD))
    with pytest.raises(query_library.ParamError) as raised:
        query_library.coerce_params(parsed, {"sellr": "S1", "_user": "admin", "since": "soon"})
    message = str(raised.value)
    assert "['_user'] are set by the server" in message
    assert "unknown parameters ['sellr']" in message
    assert "missing parameter 'seller_id' (string)" in message
    assert "parameter 'since': expected a date" in message


@pytest.mark.parametrize(("error", "family", "code"), [
    (query_library.HeaderError("x"), errors.UserError, "BAD_QUERY_FILE"),
    (query_library.ParamError("x"), errors.UserError, "BAD_REQUEST"),
    (query_library.UnknownQuery("x"), errors.NotFound, "NOT_FOUND"),
    (query_library.Forbidden("x"), errors.Forbidden, "FORBIDDEN"),
    (query_library.QueryUnavailable("x"), errors.Conflict, "QUERY_UNAVAILABLE"),
    (query_library.DatabaseUnavailable("x"), errors.DatabaseUnavailable, "DATABASE_UNAVAILABLE"),
    (query_library.QueryFailed("x", "Neo.ClientError.Statement.AccessMode"), errors.UserError,
     "Neo.ClientError.Statement.AccessMode"),
    (query_library.QueryTimedOut("x", "Neo.ClientError.Transaction.TransactionTimedOut"),
     errors.QueryTooSlow, "Neo.ClientError.Transaction.TransactionTimedOut"),
], ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None)
def test_each_error_is_a_core_family_with_its_code(
    error: query_library.SavedQueryError, family: type[errors.AllianceError], code: str,
) -> None:
    assert isinstance(error, query_library.SavedQueryError)
    assert isinstance(error, family)
    assert error.code == code


def test_a_query_failed_without_a_neo4j_code_keeps_its_family_code() -> None:
    assert query_library.QueryFailed("x").code == "BAD_REQUEST"
    assert not query_library.QueryFailed("x").timed_out
    assert query_library.QueryTimedOut("x").timed_out


# ------------------------------------------------------------------ checks against Neo4j


@pytest.fixture(scope="module")
def graph(driver: Driver, database: str) -> Driver:
    write_fixture(driver, database)
    return driver


def test_check_refuses_a_query_that_writes(tmp_path: Path, graph: Driver, database: str) -> None:
    write(tmp_path, "reads", GOOD)
    write(tmp_path, "writes", "// title: Sneaky\nMATCH (s:Seller) SET s.flag = true RETURN s")
    write(tmp_path, "creates", "// title: C\nCREATE (b:Brand {brand_id: 'X'}) RETURN b")
    write(tmp_path, "broken", "// title: B\nMATCH (n) RETURN nosuchfunction(n)")
    library = query_library.load_checked(graph, database, tmp_path)
    assert list(library.queries) == ["reads"]
    assert "query type is 'rw'" in library.problems["writes"]
    assert "query type is 'w'" in library.problems["creates"] or \
        "query type is 'rw'" in library.problems["creates"]
    assert "must be read-only" in library.problems["creates"]
    assert library.problems["broken"].startswith("broken.cypher: EXPLAIN failed")
    with pytest.raises(query_library.QueryUnavailable, match="read-only"):
        library.get("writes")


def test_check_asks_the_server_which_params_are_used(graph: Driver, database: str) -> None:
    library = query_library.Library(Path("."), {"hidden": query("MATCH (n) WHERE n.x = $hidden RETURN n",
                                                     name="hidden")})
    query_library.check(library, graph, database)
    assert "undeclared parameters" in library.problems["hidden"]
    assert "hidden" in library.problems["hidden"]


def test_check_wants_every_returned_column_classified(
    tmp_path: Path, graph: Driver, database: str,
) -> None:
    write(tmp_path, "complete", "// title: C\n// columns: {open: [platform], entity: [id]}\n"
          "MATCH (s:Seller) RETURN s.seller_id AS id, s.platform AS platform")
    write(tmp_path, "unclassified", "// title: U\n// columns: {open: [platform]}\n"
          "MATCH (s:Seller) RETURN s.seller_id AS id, s.platform AS platform")
    write(tmp_path, "stale", "// title: S\n// columns: {open: [n, email]}\n"
          "MATCH (s:Seller) RETURN count(s) AS n")
    write(tmp_path, "bare", "// title: B\n// roles: [investigator, admin]\n"
          "MATCH (e:Email) RETURN e.email AS email")
    library = query_library.load_checked(graph, database, tmp_path)
    assert list(library.queries) == ["complete"]
    assert library.problems["unclassified"] == (
        "unclassified.cypher: the query returns ['id'] but `columns` does not classify them; "
        "list each under one of ['open', 'entity', 'identifier']")
    assert "classifies ['email'] but the query returns no such column" in library.problems["stale"]
    assert "returns ['email'] but `columns` does not classify" in library.problems["bare"]


def test_a_write_that_slipped_past_the_checks_is_refused_by_neo4j(
    graph: Driver, database: str,
) -> None:
    before = count(graph, database, "MATCH (b:Brand) RETURN count(b)")
    sneaky = query("CREATE (b:Brand {brand_id: 'SNEAKY'}) RETURN b.brand_id AS id", name="sneaky")
    with pytest.raises(query_library.QueryFailed) as raised:
        query_library.run(graph, database, sneaky, {}, ANALYST)
    assert raised.value.code == "Neo.ClientError.Statement.AccessMode"
    assert count(graph, database, "MATCH (b:Brand) RETURN count(b)") == before
    assert count(graph, database, "MATCH (b:Brand {brand_id: 'SNEAKY'}) RETURN count(b)") == 0


def test_async_run_is_read_only_too(neo4j_connection: Connection, graph: Driver,
                                    database: str) -> None:
    sneaky = query("MATCH (s:Seller) SET s.hacked = true RETURN count(s) AS n", name="sneaky")
    reads = query("MATCH (s:Seller) RETURN s.platform AS id ORDER BY id", name="reads",
                  columns={"id": "open"})

    async def go() -> tuple[query_library.QueryResult, query_library.QueryFailed]:
        async with AsyncGraphDatabase.driver(neo4j_connection.uri,
                                             auth=neo4j_connection.auth) as adriver:
            ok = await query_library.run_async(adriver, database, reads, {}, ANALYST)
            try:
                await query_library.run_async(adriver, database, sneaky, {}, ANALYST)
            except query_library.QueryFailed as exc:
                return ok, exc
            raise AssertionError("the write was not refused")

    ok, refused = asyncio.run(go())
    assert [r["id"] for r in ok.rows] == ["jd", "pinduoduo", "taobao", "taobao", "taobao"]
    assert refused.code == "Neo.ClientError.Statement.AccessMode"
    assert count(graph, database, "MATCH (s:Seller) WHERE s.hacked IS NOT NULL RETURN count(s)") == 0


def test_row_cap_marks_the_result_truncated(graph: Driver, database: str) -> None:
    numbers = "UNWIND range(1, $n) AS i RETURN i"
    param = (query_library.Param("n", "int"),)
    numbered = query(numbers, params=param, max_rows=10, columns={"i": "open"})
    capped = query_library.run(graph, database, numbered, {"n": 50}, ANALYST)
    assert [r["i"] for r in capped.rows] == list(range(1, 11))
    assert capped.truncated is True
    exact = query_library.run(graph, database, numbered, {"n": 10}, ANALYST)
    assert len(exact.rows) == 10
    assert exact.truncated is False


def test_the_query_timeout_stops_a_long_query(graph: Driver, database: str) -> None:
    slow = query("UNWIND range(1, 2000000000) AS i WITH i WHERE i % 7 = 0 RETURN count(i) AS n",
                 name="slow", timeout=0.5)
    with pytest.raises(query_library.QueryFailed, match="stopped after its timeout of 0.5 s") as raised:
        query_library.run(graph, database, slow, {}, ANALYST)
    assert raised.value.timed_out


def test_a_timeout_is_query_too_slow_with_neo4j_code_audited_sync_and_async(
    neo4j_connection: Connection, graph: Driver, database: str,
) -> None:
    caller = Caller(sub="slow-analyst", role="analyst")
    slow = query("UNWIND range(1, 2000000000) AS i WITH i WHERE i % 7 = 0 RETURN count(i) AS n",
                 name="slow", timeout=0.5)

    async def go() -> Exception:
        async with AsyncGraphDatabase.driver(neo4j_connection.uri,
                                             auth=neo4j_connection.auth) as adriver:
            try:
                await query_library.run_async(adriver, database, slow, {}, caller)
            except Exception as exc:
                return exc
        raise AssertionError("the query was not stopped")

    with pytest.raises(query_library.QueryTimedOut) as raised:
        query_library.run(graph, database, slow, {}, caller)
    for stopped in (raised.value, asyncio.run(go())):
        assert isinstance(stopped, query_library.QueryTimedOut)
        assert isinstance(stopped, errors.QueryTooSlow)
        assert stopped.code.startswith("Neo.ClientError.Transaction.TransactionTimedOut")
    events = _events(graph, database, "slow-analyst")
    assert [json.loads(str(e["details"]))["error"] for e in events] == \
        ["slow: stopped after its timeout of 0.5 s"] * 2


def test_graph_values_come_back_as_plain_maps(graph: Driver, database: str) -> None:
    shape = query(
        "MATCH p = (s:Seller {seller_id: 'S1'})-[r:OPERATES]->(shop:Shop) "
        "RETURN s, r, p, shop.opened_on AS opened, datetime('2024-01-02T03:04:05Z') AS at, "
        "{n: [1, 2], d: date('2024-05-06')} AS nested"
    )
    row = query_library.run(graph, database, shape, {}, INVESTIGATOR).rows[0]
    seller = {"labels": ["Seller"], "properties": {"seller_id": "S1", "platform": "taobao",
                                                   "nickname": "一号店主", "status": "active"}}
    shop = {"labels": ["Shop"], "properties": {"shop_id": "SH1", "platform": "taobao",
                                               "name": "一号店", "status": "active",
                                               "opened_on": "2023-01-01"}}
    assert row["s"] == seller
    assert row["r"] == {"type": "OPERATES", "start": seller, "end": shop, "properties": {}}
    assert row["p"]["nodes"] == [seller, shop]
    assert row["p"]["relationships"] == [row["r"]]
    assert row["opened"] == "2023-01-01"
    assert row["at"] == "2024-01-02T03:04:05Z" or row["at"].startswith("2024-01-02T03:04:05")
    assert row["nested"] == {"n": [1, 2], "d": "2024-05-06"}
    json.dumps(row)


# ------------------------------------------------------------------ who sees which column

ROLES_ALL = ("investigator", "police_liaison", "brand_member", "analyst", "admin")
# `nickname` is left unclassified on purpose: it must count as an identifier.
MIXED = query(
    "MATCH (s:Seller {seller_id: 'S3'})-[:HAS_EMAIL]->(e:Email) "
    "RETURN e.email AS email, s.seller_id AS seller_id, s.platform AS platform, "
    "s.nickname AS nickname, count(*) AS n",
    name="mixed", columns={"email": "identifier", "seller_id": "entity", "platform": "open",
                           "n": "open"},
)
SEEN = {"email": "shared@example.cn", "seller_id": "S3", "platform": "pinduoduo",
        "nickname": "@SUM(A1)", "n": 1}


@pytest.mark.parametrize(("caller", "shown"), [
    (Caller(sub="i", role="investigator"), {"email", "seller_id", "platform", "nickname", "n"}),
    (Caller(sub="a", role="admin"), {"email", "seller_id", "platform", "nickname", "n"}),
    (Caller(sub="p", role="police_liaison", agency_id="AG1"), {"seller_id", "platform", "n"}),
    (Caller(sub="b", role="brand_member", brand_id="B1"), {"platform", "n"}),
    (Caller(sub="y", role="analyst"), {"platform", "n"}),
], ids=["investigator", "admin", "police_liaison", "brand_member", "analyst"])
def test_each_role_sees_only_its_columns_the_rest_hidden(
    graph: Driver, database: str, caller: Caller, shown: set[str],
) -> None:
    mixed = dataclasses.replace(MIXED, roles=ROLES_ALL)
    result = query_library.run(graph, database, mixed, {}, caller)
    assert result.columns == list(SEEN)
    expected = {c: (v if c in shown else query_library.HIDDEN) for c, v in SEEN.items()}
    assert result.rows == [expected]
    assert query_library.hidden_columns(mixed, caller, result.columns) == [c for c in SEEN if c not in shown]


def test_hidden_columns_are_recorded_in_the_audit_trail(graph: Driver, database: str) -> None:
    caller = Caller(sub="masked-analyst", role="analyst")
    query_library.run(graph, database, MIXED, {}, caller)
    (event,) = _events(graph, database, "masked-analyst")
    details = json.loads(str(event["details"]))
    assert details["hidden_columns"] == ["email", "seller_id", "nickname"]


# ------------------------------------------------------------------ CSV export


def test_csv_quotes_formulas_and_keeps_numbers(graph: Driver, database: str) -> None:
    sheet = query(
        "MATCH (s:Seller) WHERE s.seller_id IN ['S2', 'S3'] "
        "RETURN s.nickname AS nickname, -3 AS n, -2.5 AS x, '-3' AS t, [s.nickname, 'x'] AS l "
        "ORDER BY s.seller_id", name="sheet")
    result = query_library.run(graph, database, sheet, {}, INVESTIGATOR)
    text = "".join(query_library.csv_lines(result.columns, result.rows))
    assert text.split("\r\n") == [
        "nickname,n,x,t,l", "'=1+1,-3,-2.5,'-3,'=1+1;x", "'@SUM(A1),-3,-2.5,'-3,'@SUM(A1);x", ""]
    assert list(csv.reader(io.StringIO(text)))[1] == ["'=1+1", "-3", "-2.5", "'-3", "'=1+1;x"]


# ------------------------------------------------------------------ a database that does not answer


@pytest.fixture
def nowhere() -> Iterator[Driver]:
    """A driver for a port where nothing listens."""
    with GraphDatabase.driver(f"bolt://127.0.0.1:{free_port()}") as dead:
        yield dead


def test_run_and_check_fail_fast_when_the_database_does_not_answer(nowhere: Driver) -> None:
    reads = query("RETURN 1 AS one", name="reads", columns={"one": "open"})
    started = time.monotonic()
    with pytest.raises(query_library.DatabaseUnavailable, match="does not answer") as raised:
        query_library.run(nowhere, "neo4j", reads, {}, ANALYST)
    assert raised.value.code == "DATABASE_UNAVAILABLE"
    assert isinstance(raised.value, ServiceUnavailable)
    library = query_library.Library(Path("."), {"reads": reads})
    with pytest.raises(query_library.DatabaseUnavailable):
        query_library.check(library, nowhere, "neo4j")
    assert library.problems == {} and not library.checked
    assert time.monotonic() - started < 10  # the driver's own retries took about 60 s


def test_async_run_and_check_fail_fast_too() -> None:
    reads = query("RETURN 1 AS one", name="reads", columns={"one": "open"})

    async def go() -> tuple[Exception, Exception]:
        async with AsyncGraphDatabase.driver(f"bolt://127.0.0.1:{free_port()}") as dead:
            errors = []
            for attempt in (query_library.run_async(dead, "neo4j", reads, {}, ANALYST),
                            query_library.check_async(
                                query_library.Library(Path("."), {"reads": reads}), dead, "neo4j")):
                try:
                    await attempt
                except Exception as exc:
                    errors.append(exc)
            return errors[0], errors[1]

    started = time.monotonic()
    ran, checked = asyncio.run(go())
    assert isinstance(ran, query_library.DatabaseUnavailable)
    assert isinstance(checked, query_library.DatabaseUnavailable)
    assert time.monotonic() - started < 10


# ------------------------------------------------------------------ audit


def _events(driver: Driver, database: str, who: str) -> list[dict[str, object]]:
    records, _, _ = driver.execute_query(
        "MATCH (e:AuditEvent {who: $who}) RETURN e ORDER BY e.at", {"who": who},
        database_=database,
    )
    return [dict(r["e"]) for r in records]


def test_every_run_is_audited_with_who_query_params_rows_and_elapsed(
    graph: Driver, database: str,
) -> None:
    caller = Caller(sub="audited-analyst", role="analyst")
    numbers = query("UNWIND range(1, $n) AS i RETURN i", name="numbers",
                    params=(query_library.Param("n", "int"),), max_rows=3, columns={"i": "open"})
    query_library.run(graph, database, numbers, {"n": "5"}, caller, request_id="req-1")
    with pytest.raises(query_library.QueryFailed):
        query_library.run(graph, database, query("CREATE (x:Brand {brand_id: 'A'})", name="bad"), {}, caller)
    ok, failed = _events(graph, database, "audited-analyst")
    assert ok["action"] == "saved_query.run" and ok["role"] == "analyst"
    assert ok["ids"] == ["numbers"] and ok["request_id"] == "req-1"
    details = json.loads(str(ok["details"]))
    assert details["query"] == "numbers" and details["params"] == {"n": 5}
    assert details["rows"] == 3 and details["truncated"] is True
    assert isinstance(details["elapsed_ms"], float)
    assert "AccessMode" in json.loads(str(failed["details"]))["error"]


def test_audit_appends_with_create_only(graph: Driver, database: str) -> None:
    caller = Caller(sub="auditor", role="admin", agency_id=None, brand_id=None)
    first = audit.append(graph, database, audit.event(caller, "test.one", ids=["a"]))
    second = audit.append(graph, database, audit.event(caller, "test.one", ids=["a"]))
    assert first != second
    assert [e["event_id"] for e in _events(graph, database, "auditor")] == [first, second]
    assert "MERGE" not in audit.CREATE_EVENT and "DELETE" not in audit.CREATE_EVENT
    assert not [n for n in dir(audit) if "delete" in n.lower() or "update" in n.lower()]
    with pytest.raises(ValueError, match="needs an action"):
        audit.event(caller, "")
