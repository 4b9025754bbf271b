"""Saved Cypher queries: the library of `queries/`, checked against the server, run
read-only for a caller, and exported as CSV.

What a file holds (the YAML header, the parameters, the errors) is `graph.query_files`;
its public names are importable from here too.

`columns` says what every returned column holds, and so who sees it (`may_see`, the one
rule):

- `identifier`: what only investigators and admins see in the API: the key or text
  of an identity, phone, email, payment account or device (IP) node (`api/scope.py`'s
  SENSITIVE_LABELS) or of an address;
- `entity`: the id or text of one seller, shop, listing, person, site, purchase,
  complaint, lead, case or network (a nickname, a shop name, a case title); shown to
  investigators, admins and police liaisons, so a query open to liaisons must keep its
  rows to their jurisdiction with `$_agency_adcodes` (`load` refuses one that does not);
- `open`: aggregates and directory data (brands, agencies, divisions), kinds, dates,
  statuses, amounts; shown to every role that may run the query.

Any other caller gets `(hidden)` (`HIDDEN`) in place of the value, in every row and
every format (the columns stay, so a file has the same shape for everyone). A column the
header does not classify counts as `identifier`. A query that takes an identifier as a
parameter (an account, a phone) is a lookup by it: give it `roles: [investigator, admin]`.

Checks (`load` without a database, then `check` with one): the header is valid, the
declared parameters are exactly the `$parameters` the Cypher uses, `EXPLAIN` succeeds
with a read-only query type, and `columns` classifies exactly the columns `EXPLAIN`
says the query returns (every one, whichever the roles). A query that fails a check
keeps its reason in `Library.problems` and cannot be run; the others can.

Running (`run` / `run_async`) uses the read access mode, the query's timeout as the
transaction timeout and a row cap (`truncated` when more rows exist); every run is
written to the audit trail. When the database does not answer, reads fail within the
read path's retries (`graph.access.RETRY_SECONDS`) with `DatabaseUnavailable` (such a
run read nothing and is logged, not audited: the trail lives in the same database).

Checking and running are each written once, as a generator of steps (`_Read`, a read
through `graph.access`; `_Append`, an audit event) that receives each step's answer, or
has its failure thrown in; `_drive` and `_drive_async` run the steps with the sync or the
async driver.

CSV export (`csv_lines`, for the CLI and `GET /queries/{name}.csv`) writes text that a
spreadsheet would run as a formula with a leading quote (`graph.csvsafe`).
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Generator, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import neo4j
from neo4j.exceptions import Neo4jError, TransientError
from neo4j.graph import Node, Relationship
from neo4j.graph import Path as GraphPath

from core import errors
from graph import access, audit, csvsafe
from graph.caller import Caller
from graph.query_files import (
    COLUMN_KINDS,
    DEFAULT_MAX_ROWS,
    DEFAULT_ROLES,
    DEFAULT_TIMEOUT,
    HEADER_KEYS,
    MAX_ROWS_LIMIT,
    PARAM_KEYS,
    PARAM_TYPES,
    QUERIES_DIR,
    SERVER_PARAMS,
    SUFFIX,
    TIMEOUT_LIMIT,
    DatabaseUnavailable,
    Forbidden,
    HeaderError,
    Param,
    ParamError,
    QueryFailed,
    QueryTimedOut,
    QueryUnavailable,
    SavedQuery,
    SavedQueryError,
    UnknownQuery,
    check_params,
    check_scoping,
    coerce,
    coerce_params,
    collect_params,
    describe,
    parse_query,
    split_header,
    used_params,
)

__all__ = [
    # what a file says (graph.query_files)
    "COLUMN_KINDS", "DEFAULT_MAX_ROWS", "DEFAULT_ROLES", "DEFAULT_TIMEOUT", "HEADER_KEYS",
    "MAX_ROWS_LIMIT", "PARAM_KEYS", "PARAM_TYPES", "QUERIES_DIR", "SERVER_PARAMS", "SUFFIX",
    "TIMEOUT_LIMIT", "DatabaseUnavailable", "Forbidden", "HeaderError", "Param", "ParamError",
    "QueryFailed", "QueryTimedOut", "QueryUnavailable", "SavedQuery", "SavedQueryError",
    "UnknownQuery", "check_params", "check_scoping", "coerce", "coerce_params",
    "collect_params", "describe", "parse_query", "split_header", "used_params",
    # the library, its checks and runs, and export
    "AUDIT_ACTION", "EXPLAIN_TIMEOUT", "HIDDEN", "READ_ONLY", "UNAVAILABLE", "Library",
    "QueryResult", "load", "check", "check_async", "load_checked", "load_checked_async",
    "run", "run_async", "explain_problem", "columns_problem", "failure", "server_params",
    "ensure_allowed", "to_plain", "may_see", "hidden_columns", "csv_cell", "csv_lines",
]

EXPLAIN_TIMEOUT = 30.0
READ_ONLY = "r"
HIDDEN = "(hidden)"
"""What a caller who may not see a column gets in its place."""
UNAVAILABLE = "the graph database does not answer right now; try again in a moment."
AUDIT_ACTION = "saved_query.run"

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Library:
    """The saved queries of a folder, and the reason each failing file cannot run."""

    directory: Path
    queries: dict[str, SavedQuery] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    checked: bool = False

    def names(self) -> list[str]:
        return sorted({*self.queries, *self.problems})

    def get(self, name: str) -> SavedQuery:
        if name in self.queries:
            return self.queries[name]
        if name in self.problems:
            raise QueryUnavailable(f"saved query {name!r} cannot run: {self.problems[name]}")
        known = ", ".join(sorted(self.queries)) or "none"
        raise UnknownQuery(f"no saved query named {name!r}; available: {known}")

    def fail(self, name: str, reason: str) -> None:
        self.queries.pop(name, None)
        self.problems[name] = reason


@dataclass(frozen=True)
class QueryResult:
    name: str
    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool
    elapsed_ms: float


def load(directory: Path = QUERIES_DIR) -> Library:
    """Every `*.cypher` file of `directory`, parsed; no database needed."""
    library = Library(directory)
    if not directory.is_dir():
        raise SavedQueryError(f"the saved query folder {directory} does not exist")
    for path in sorted(directory.glob(f"*{SUFFIX}")):
        name = path.name.removesuffix(SUFFIX)
        try:
            library.queries[name] = parse_query(path)
        except SavedQueryError as exc:
            library.problems[name] = str(exc)
    return library


# ---------------------------------------------------------------- steps and their drivers


@dataclass(frozen=True)
class _Read:
    """One read through `graph.access`; its answer is the `access.Rows`."""

    cypher: str
    params: dict[str, Any]
    name: str
    timeout: float
    at_most: int | None = None
    notifications: bool = False

    def options(self) -> dict[str, Any]:
        return {"timeout": self.timeout, "name": self.name, "at_most": self.at_most,
                "notifications": self.notifications}

    def run(self, driver: neo4j.Driver, database: str) -> access.Rows:
        return access.read(driver, database, self.cypher, self.params, **self.options())

    async def run_async(self, driver: neo4j.AsyncDriver, database: str) -> access.Rows:
        return await access.read_async(driver, database, self.cypher, self.params,
                                       **self.options())


@dataclass(frozen=True)
class _Append:
    """One audit event written; its answer is the event's id."""

    event: audit.AuditEvent

    def run(self, driver: neo4j.Driver, database: str) -> str:
        return audit.append(driver, database, self.event)

    async def run_async(self, driver: neo4j.AsyncDriver, database: str) -> str:
        return await audit.append_async(driver, database, self.event)


Steps = Generator[_Read | _Append, Any, T]
"""A check or a run: yields steps, receives each one's answer (or has its failure thrown
in), returns its result."""


def _drive(driver: neo4j.Driver, database: str, steps: Steps[T]) -> T:
    """Run `steps` with the sync driver; returns what the generator returns."""
    answer: Any = None
    failed: Exception | None = None
    try:
        while True:
            step = steps.send(answer) if failed is None else steps.throw(failed)
            answer, failed = None, None
            try:
                answer = step.run(driver, database)
            except Exception as exc:
                failed = exc
    except StopIteration as done:
        return done.value


async def _drive_async(driver: neo4j.AsyncDriver, database: str, steps: Steps[T]) -> T:
    """The same with the async driver."""
    answer: Any = None
    failed: Exception | None = None
    try:
        while True:
            step = steps.send(answer) if failed is None else steps.throw(failed)
            answer, failed = None, None
            try:
                answer = await step.run_async(driver, database)
            except Exception as exc:
                failed = exc
    except StopIteration as done:
        return done.value


# ---------------------------------------------------------------- checks against Neo4j


def _explain_params(query: SavedQuery) -> dict[str, Any]:
    """Every declared and server parameter with a null value, so a missing-parameter
    notification from EXPLAIN can only name a parameter that nobody declared."""
    return {**{p.name: None for p in query.params}, **{n: None for n in SERVER_PARAMS}}


def explain_problem(query: SavedQuery, summary: neo4j.ResultSummary) -> str | None:
    """Why an EXPLAIN summary disqualifies the query, or None."""
    if summary.query_type != READ_ONLY:
        return (f"{query.name}{SUFFIX}: EXPLAIN says the query type is {summary.query_type!r}; "
                "saved queries must be read-only ('r')")
    for status in summary.gql_status_objects:
        text = status.status_description or ""
        if status.gql_status == "01N60" or "parameter missing" in text:
            return f"{query.name}{SUFFIX}: the Cypher uses undeclared parameters ({text})"
    return None


def columns_problem(query: SavedQuery, returned: list[str]) -> str | None:
    """Why the header's `columns` do not match what the query returns, or None."""
    unclassified = [c for c in returned if c not in query.columns]
    if unclassified:
        return (f"{query.name}{SUFFIX}: the query returns {unclassified} but `columns` does "
                f"not classify them; list each under one of {list(COLUMN_KINDS)}")
    stale = sorted(set(query.columns) - set(returned))
    if stale:
        return (f"{query.name}{SUFFIX}: `columns` classifies {stale} but the query returns "
                f"no such column (it returns {returned})")
    return None


class _DropNotifications(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


@contextmanager
def _quiet_notifications() -> Iterator[None]:
    """EXPLAIN on a young database warns about every unknown label; keep the log clean."""
    logger = logging.getLogger("neo4j.notifications")
    muted = _DropNotifications()
    logger.addFilter(muted)
    try:
        yield
    finally:
        logger.removeFilter(muted)


def _explain(query: SavedQuery) -> _Read:
    """EXPLAIN with warnings on, whatever the driver says: a missing parameter is one."""
    return _Read("EXPLAIN " + query.cypher, _explain_params(query), "saved_query:explain",
                 EXPLAIN_TIMEOUT, notifications=True)


def _problem(query: SavedQuery, rows: access.Rows) -> str | None:
    """Why the EXPLAIN of `query` disqualifies it, or None."""
    assert rows.summary is not None, "graph.access keeps a read's summary"
    return explain_problem(query, rows.summary) or columns_problem(query, rows.keys)


def _checking(library: Library) -> Steps[Library]:
    """EXPLAIN every parsed query; failures move to `library.problems`. A query Neo4j
    refused to plan fails its check; a transient failure, or a database that does not
    answer, is not the query's fault and is raised, so nothing is remembered against it."""
    for query in list(library.queries.values()):
        try:
            rows = yield _explain(query)
        except errors.DatabaseUnavailable as exc:
            raise DatabaseUnavailable(UNAVAILABLE) from exc
        except TransientError:
            raise
        except (Neo4jError, errors.AllianceError) as exc:
            reason = exc.message if isinstance(exc, Neo4jError) else str(exc)
            library.fail(query.name, f"{query.name}{SUFFIX}: EXPLAIN failed: {reason}")
            continue
        problem = _problem(query, rows)
        if problem:
            library.fail(query.name, problem)
    library.checked = True
    return library


def check(library: Library, driver: neo4j.Driver, database: str) -> Library:
    """EXPLAIN every parsed query (`_checking`). A database that does not answer raises
    `DatabaseUnavailable` within the read path's retries."""
    with _quiet_notifications():
        return _drive(driver, database, _checking(library))


async def check_async(library: Library, driver: neo4j.AsyncDriver, database: str) -> Library:
    with _quiet_notifications():
        return await _drive_async(driver, database, _checking(library))


def load_checked(driver: neo4j.Driver, database: str, directory: Path = QUERIES_DIR) -> Library:
    return check(load(directory), driver, database)


async def load_checked_async(
    driver: neo4j.AsyncDriver, database: str, directory: Path = QUERIES_DIR
) -> Library:
    return await check_async(load(directory), driver, database)


# ---------------------------------------------------------------- callers


def server_params(caller: Caller) -> dict[str, Any]:
    return {
        "_user": caller.sub,
        "_role": caller.role,
        "_agency_id": caller.agency_id,
        "_agency_adcodes": list(caller.agency_adcodes),
        "_brand_id": caller.brand_id,
    }


def ensure_allowed(query: SavedQuery, caller: Caller) -> None:
    if not query.allows(caller.role):
        raise Forbidden(f"role {caller.role!r} may not run saved query {query.name!r}; "
                        f"allowed roles: {list(query.roles)}")


# ---------------------------------------------------------------- results


def to_plain(value: Any) -> Any:
    """A result value as JSON-ready data: graph objects become maps, dates ISO text."""
    if isinstance(value, Node):
        return {"labels": sorted(value.labels), "properties": to_plain(dict(value))}
    if isinstance(value, Relationship):
        return {"type": value.type, "start": _node_ref(value.start_node),
                "end": _node_ref(value.end_node), "properties": to_plain(dict(value))}
    if isinstance(value, GraphPath):
        return {"nodes": [to_plain(n) for n in value.nodes],
                "relationships": [to_plain(r) for r in value.relationships]}
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if hasattr(value, "iso_format"):
        return value.iso_format()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _node_ref(node: Node | None) -> dict[str, Any] | None:
    if node is None:
        return None
    return {"labels": sorted(node.labels), "properties": to_plain(dict(node))}


def may_see(kind: str, caller: Caller) -> bool:
    """The one rule for saved-query columns: identifiers for the roles that see every
    node (investigators, admins: `Caller.sees_everything`, as `api/scope.py` shows its
    SENSITIVE_LABELS); single entities for those and police liaisons; open columns for
    every role the query allows. An unknown kind shows to nobody else."""
    if caller.sees_everything:
        return True
    if kind == "entity":
        return caller.role == "police_liaison"
    return kind == "open"


def hidden_columns(query: SavedQuery, caller: Caller, columns: Iterable[str]) -> list[str]:
    """The columns `caller` gets as HIDDEN."""
    return [c for c in columns if not may_see(query.kind(c), caller)]


def _masked(rows: list[dict[str, Any]], hidden: list[str]) -> list[dict[str, Any]]:
    if not hidden:
        return rows
    return [{**row, **dict.fromkeys(hidden, HIDDEN)} for row in rows]


# ---------------------------------------------------------------- running


def _run_read(query: SavedQuery, params: dict[str, Any]) -> _Read:
    """The query in read mode with its timeout, one row past its cap (to tell `truncated`)."""
    return _Read(query.cypher, params, f"saved_query:{query.name}", query.timeout,
                 at_most=query.max_rows + 1)


def failure(query: SavedQuery, exc: Neo4jError) -> QueryFailed:
    code = exc.code or ""
    if "TimedOut" in code:
        return QueryTimedOut(f"{query.name}: stopped after its timeout of {query.timeout:g} s",
                             code)
    if code.endswith("AccessMode"):
        return QueryFailed(f"{query.name}: Neo4j refused a write in read mode ({code})", code)
    return QueryFailed(f"{query.name}: Neo4j refused the query: {exc.message} ({code})", code)


def _driver_error(exc: BaseException) -> Neo4jError | None:
    """The Neo4j error behind `exc` (itself, or the one `graph.access` translated)."""
    found: BaseException | None = exc
    while found is not None and not isinstance(found, Neo4jError):
        found = found.__cause__ or found.__context__
    return found


def _failed(query: SavedQuery, exc: Exception) -> Exception:
    """What a run that failed with `exc` raises: Neo4j's refusal, or a query stopped at its
    timeout (`graph.access` says `QueryTooSlow`), as a `QueryFailed`; anything else as is."""
    if isinstance(exc, errors.QueryTooSlow):
        cause = _driver_error(exc)
        if cause is not None:
            return failure(query, cause)
        return QueryTimedOut(f"{query.name}: stopped after its timeout of {query.timeout:g} s",
                             access.TIMEOUT_CODES[0])
    if isinstance(exc, Neo4jError):
        return failure(query, exc)
    return exc


def _audit_event(
    query: SavedQuery, caller: Caller, params: dict[str, Any], request_id: str | None,
    outcome: dict[str, Any],
) -> audit.AuditEvent:
    details = {"query": query.name, "params": to_plain(params), **outcome}
    return audit.event(caller, AUDIT_ACTION, ids=[query.name], request_id=request_id,
                       details=details)


def _result(query: SavedQuery, caller: Caller, rows: access.Rows, started: float) -> QueryResult:
    """At most `max_rows` plain rows, columns the caller may not see hidden."""
    plain = [{key: to_plain(value) for key, value in row.items()}
             for row in rows.dicts()[:query.max_rows]]
    columns = list(rows.keys)
    hidden = hidden_columns(query, caller, columns)
    return QueryResult(query.name, columns, _masked(plain, hidden), len(rows) > query.max_rows,
                       _ms(started))


def _outcome(query: SavedQuery, caller: Caller, result: QueryResult | None, elapsed_ms: float,
             error: Exception | None) -> dict[str, Any]:
    if result is None:
        return {"rows": 0, "elapsed_ms": elapsed_ms, "error": str(error)}
    outcome = {"rows": len(result.rows), "truncated": result.truncated, "elapsed_ms": elapsed_ms}
    hidden = hidden_columns(query, caller, result.columns)
    return {**outcome, "hidden_columns": hidden} if hidden else outcome


def _not_audited(query: SavedQuery, caller: Caller, request_id: str | None) -> None:
    log.warning("saved query %s for %s (%s) not run and not audited: the database does not "
                "answer", query.name, caller.sub, caller.role, extra={"request_id": request_id})


def _running(query: SavedQuery, raw_params: Mapping[str, Any] | None, caller: Caller,
             request_id: str | None) -> Steps[QueryResult]:
    """Run a checked saved query for `caller`, then audit the run, failed or not; a run
    the database did not answer is logged instead."""
    ensure_allowed(query, caller)
    params = coerce_params(query, raw_params)
    started = time.perf_counter()
    try:
        rows = yield _run_read(query, {**params, **server_params(caller)})
        result = _result(query, caller, rows, started)
    except errors.DatabaseUnavailable as exc:
        _not_audited(query, caller, request_id)
        raise DatabaseUnavailable(UNAVAILABLE) from exc
    except Exception as exc:
        error = _failed(query, exc)
        yield _Append(_audit_event(query, caller, params, request_id,
                                   _outcome(query, caller, None, _ms(started), error)))
        if error is exc:
            raise
        raise error from exc
    yield _Append(_audit_event(query, caller, params, request_id,
                               _outcome(query, caller, result, _ms(started), None)))
    return result


def run(
    driver: neo4j.Driver, database: str, query: SavedQuery, raw_params: Mapping[str, Any] | None,
    caller: Caller, *, request_id: str | None = None,
) -> QueryResult:
    """Run a checked saved query for `caller` in read mode, columns the caller may not
    see hidden; audited. `DatabaseUnavailable` when Neo4j does not answer."""
    return _drive(driver, database, _running(query, raw_params, caller, request_id))


async def run_async(
    driver: neo4j.AsyncDriver, database: str, query: SavedQuery,
    raw_params: Mapping[str, Any] | None, caller: Caller, *, request_id: str | None = None,
) -> QueryResult:
    """`run` with the async driver."""
    return await _drive_async(driver, database, _running(query, raw_params, caller, request_id))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


# ---------------------------------------------------------------- export


def csv_cell(value: Any) -> str:
    """A plain result value as one CSV cell: null empty, a list of plain values `;`-joined
    (as in the input bundles), maps and nested lists as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and not any(isinstance(v, dict | list) for v in value):
        return ";".join(csv_cell(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _csv_value(value: Any) -> csvsafe.Cell:
    """A number stays a number (a spreadsheet adds it up); anything else is text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return csv_cell(value)


def csv_lines(columns: list[str], rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The header line, then one line per row (RFC 4180 quoting, CRLF line ends); text
    that a spreadsheet would run as a formula gets a leading quote (`graph.csvsafe`)."""
    values = ([_csv_value(row.get(c)) for c in columns] for row in rows)
    return csvsafe.lines(itertools.chain([columns], values))
