"""Saved Cypher queries: files in `queries/`, checked at start-up, run read-only.

A saved query is a file `queries/<kebab-name>.cypher` whose leading `//` comment block
is a YAML header:

    // title: Sellers sharing a strong identifier
    // description: ...
    // params:
    //   - {name: seller_id, type: string, description: The seller to start from}
    //   - {name: days, type: int, default: 30}
    // roles: [investigator, analyst, admin]
    // columns:
    //   open: [platform, linked_by, shared]
    //   entity: [seller_id, nickname]
    //   identifier: [identifiers]
    // max_rows: 1000
    // timeout: 10
    MATCH ...

Parameter types: string, int, float, bool, date, list of string. A parameter without a
`default` is required. Parameters whose names start with `_` are filled by the server
from the caller (`SERVER_PARAMS`) and are never taken from a client.

`roles` (default investigator, analyst, admin) may run the query; any other role is
refused. `columns` says what every returned column holds, and so who sees it
(`may_see`, the one rule):

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
written to the audit trail. When the database does not answer, reads are retried for
`RETRY_SECONDS` and then fail with `DatabaseUnavailable` (such a run read nothing and
is logged, not audited: the trail lives in the same database).

CSV export (`csv_lines`, for the CLI and `GET /queries/{name}.csv`) writes text that a
spreadsheet would run as a formula with a leading quote (`graph.csvsafe`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import neo4j
import yaml
from neo4j.exceptions import (
    DatabaseUnavailable as Neo4jDatabaseUnavailable,
)
from neo4j.exceptions import (
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)
from neo4j.graph import Node, Relationship
from neo4j.graph import Path as GraphPath

from graph import audit, csvsafe
from graph.caller import ROLES, Caller

QUERIES_DIR = Path(__file__).resolve().parents[1] / "queries"
SUFFIX = ".cypher"
PARAM_TYPES = ("string", "int", "float", "bool", "date", "list of string")
DEFAULT_ROLES = ("investigator", "analyst", "admin")
DEFAULT_MAX_ROWS = 1000
MAX_ROWS_LIMIT = 100_000
DEFAULT_TIMEOUT = 10.0
TIMEOUT_LIMIT = 300.0
EXPLAIN_TIMEOUT = 30.0
READ_ONLY = "r"
HEADER_KEYS = ("title", "description", "params", "roles", "columns", "max_rows", "timeout")
COLUMN_KINDS = ("open", "entity", "identifier")
HIDDEN = "(hidden)"
"""What a caller who may not see a column gets in its place."""
RETRY_SECONDS = 2.0
"""How long a read is tried again while the database does not answer (as `api/db.py`)."""
UNAVAILABLE = "the graph database does not answer right now; try again in a moment."
PARAM_KEYS = ("name", "type", "default", "description")
SERVER_PARAMS = ("_user", "_role", "_agency_id", "_agency_adcodes", "_brand_id")
AUDIT_ACTION = "saved_query.run"

_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PARAM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_TRUE = {"true", "1", "yes", "y", "是"}
_FALSE = {"false", "0", "no", "n", "否"}
_TOKENS = re.compile(
    r"""
      '(?:[^'\\]|\\.)*'               # string literals
    | "(?:[^"\\]|\\.)*"
    | //[^\n]*                        # comments
    | /\*.*?\*/
    | \$`(?P<quoted>(?:[^`]|``)*)`    # $`parameter`
    | `(?:[^`]|``)*`                  # quoted names
    | \$(?P<plain>[A-Za-z_][A-Za-z0-9_]*)
    | \$(?P<numbered>\d+)
    """,
    re.VERBOSE | re.DOTALL,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class SavedQueryError(Exception):
    """A user-caused problem with a saved query; the message says what and where."""


class HeaderError(SavedQueryError):
    """The file's header or Cypher is unusable."""


class UnknownQuery(SavedQueryError):
    pass


class QueryUnavailable(SavedQueryError):
    """The query exists but failed its checks."""


class ParamError(SavedQueryError):
    pass


class Forbidden(SavedQueryError):
    pass


class DatabaseUnavailable(SavedQueryError, ServiceUnavailable):
    """Neo4j did not answer within RETRY_SECONDS. Also a `ServiceUnavailable`, so code
    that catches the driver's error keeps working."""

    code = "DATABASE_UNAVAILABLE"


class QueryFailed(SavedQueryError):
    """Neo4j refused or stopped the query (timeout, write in read mode, bad value)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code

    @property
    def timed_out(self) -> bool:
        return "TimedOut" in (self.code or "")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    description: str = ""
    default: Any = None
    required: bool = True

    def describe(self) -> dict[str, Any]:
        default = self.default.isoformat() if isinstance(self.default, date) else self.default
        return {"name": self.name, "type": self.type, "description": self.description,
                "required": self.required, "default": default}


@dataclass(frozen=True)
class SavedQuery:
    name: str
    title: str
    cypher: str
    description: str = ""
    params: tuple[Param, ...] = ()
    roles: tuple[str, ...] = DEFAULT_ROLES
    columns: Mapping[str, str] = field(default_factory=dict, hash=False)
    """Column name -> kind (`COLUMN_KINDS`)."""
    max_rows: int = DEFAULT_MAX_ROWS
    timeout: float = DEFAULT_TIMEOUT
    path: Path | None = None

    def allows(self, role: str) -> bool:
        return role in self.roles

    def kind(self, column: str) -> str:
        """What `column` holds; an unclassified column counts as an identifier."""
        return self.columns.get(column, "identifier")

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


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


# ---------------------------------------------------------------- files and headers


def split_header(text: str) -> tuple[str, str, int]:
    """(YAML header, Cypher, line number where the header starts) of a query file."""
    lines = text.splitlines()
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    end = start
    header: list[str] = []
    while end < len(lines) and lines[end].lstrip().startswith("//"):
        body = lines[end].lstrip()[2:]
        header.append(body[1:] if body.startswith(" ") else body)
        end += 1
    return "\n".join(header), "\n".join(lines[end:]).strip(), start + 1


def used_params(cypher: str) -> set[str]:
    """The `$parameters` a Cypher text uses (strings, comments and quoted names skipped)."""
    found: set[str] = set()
    for match in _TOKENS.finditer(cypher):
        if match.group("numbered") is not None:
            raise HeaderError(f"positional parameter ${match.group('numbered')} is not supported; "
                              "use a named $parameter")
        name = match.group("plain") or match.group("quoted")
        if name:
            found.add(name.replace("``", "`"))
    return found


def _where(path: Path, line: int | None = None) -> str:
    return f"{path.name}:{line}" if line else path.name


def _yaml_header(path: Path, header: str, first_line: int) -> dict[str, Any]:
    if not header.strip():
        raise HeaderError(f"{path.name}: no header; start the file with `// title: ...` lines")
    try:
        data = yaml.safe_load(header)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first_line + mark.line if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise HeaderError(f"{_where(path, line)}: header is not valid YAML: {reason}") from None
    if not isinstance(data, dict):
        raise HeaderError(f"{path.name}: the header must be a YAML mapping (title: ..., params: ...)")
    unknown = sorted(set(data) - set(HEADER_KEYS))
    if unknown:
        raise HeaderError(f"{path.name}: unknown header keys {unknown}; allowed: {list(HEADER_KEYS)}")
    return data


def _text(path: Path, data: dict[str, Any], key: str, *, required: bool) -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise HeaderError(f"{path.name}: header needs `{key}`")
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise HeaderError(f"{path.name}: `{key}` must be text")
    return value.strip()


def _number(path: Path, data: dict[str, Any], key: str, default: float, limit: float,
            *, integer: bool) -> float:
    value: Any = data.get(key, default)
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if integer and not isinstance(number, int):
        number = None
    if number is None or not 0 < number <= limit:
        kind = "a whole number" if integer else "a number of seconds"
        raise HeaderError(f"{path.name}: `{key}` must be {kind} above 0 and at most {limit:g}, "
                          f"not {value!r}")
    return float(number)


def _roles(path: Path, data: dict[str, Any]) -> tuple[str, ...]:
    roles = data.get("roles", list(DEFAULT_ROLES))
    if isinstance(roles, str):
        roles = [roles]
    if not isinstance(roles, list) or not roles:
        raise HeaderError(f"{path.name}: `roles` must be a list of roles among {list(ROLES)}")
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise HeaderError(f"{path.name}: unknown roles {unknown}; known: {list(ROLES)}")
    return tuple(roles)


def _columns(path: Path, data: dict[str, Any]) -> dict[str, str]:
    """`columns:` as column -> kind; each column under exactly one kind."""
    groups = data.get("columns") or {}
    where = f"{path.name}: `columns`"
    if not isinstance(groups, dict):
        raise HeaderError(f"{where} must map kinds {list(COLUMN_KINDS)} to lists of columns")
    unknown = sorted(str(k) for k in groups if k not in COLUMN_KINDS)
    if unknown:
        raise HeaderError(f"{where}: unknown kinds {unknown}; allowed: {list(COLUMN_KINDS)}")
    kinds: dict[str, str] = {}
    for kind, names in groups.items():
        names = [names] if isinstance(names, str) else names
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise HeaderError(f"{where}: `{kind}` must be a list of column names")
        for name in names:
            if name in kinds:
                raise HeaderError(f"{where}: column {name!r} is both {kinds[name]} and {kind}")
            kinds[name] = kind
    return kinds


def check_scoping(path: Path, roles: tuple[str, ...], columns: Mapping[str, str],
                  cypher: str) -> None:
    """A query that shows entity columns to police liaisons must keep its rows to their
    jurisdiction, so it has to use `$_agency_adcodes`."""
    entities = sorted(c for c, kind in columns.items() if kind == "entity")
    if "police_liaison" in roles and entities and "_agency_adcodes" not in used_params(cypher):
        raise HeaderError(f"{path.name}: shows entity columns {entities} to police_liaison but "
                          "never uses $_agency_adcodes to keep the rows to its jurisdiction")


def _param(path: Path, index: int, spec: Any) -> Param:
    where = f"{path.name}: params[{index}]"
    if not isinstance(spec, dict):
        raise HeaderError(f"{where} must be a mapping with name and type")
    unknown = sorted(set(spec) - set(PARAM_KEYS))
    if unknown:
        raise HeaderError(f"{where}: unknown keys {unknown}; allowed: {list(PARAM_KEYS)}")
    name, kind = spec.get("name"), spec.get("type")
    if not isinstance(name, str) or not _PARAM_NAME.match(name):
        raise HeaderError(f"{where}: name {name!r} must be letters, digits and _ and start with a "
                          "letter (names starting with _ are filled by the server)")
    if kind not in PARAM_TYPES:
        raise HeaderError(f"{where} ({name}): type {kind!r} is not one of {list(PARAM_TYPES)}")
    description = spec.get("description") or ""
    if not isinstance(description, str):
        raise HeaderError(f"{where} ({name}): description must be text")
    required = "default" not in spec
    default = None
    if not required and spec["default"] is not None:
        try:
            default = coerce(Param(name, kind), spec["default"])
        except ParamError as exc:
            raise HeaderError(f"{where}: bad default: {exc}") from None
    return Param(name, kind, description.strip(), default, required)


def _params(path: Path, data: dict[str, Any]) -> tuple[Param, ...]:
    specs = data.get("params") or []
    if not isinstance(specs, list):
        raise HeaderError(f"{path.name}: `params` must be a list")
    params = tuple(_param(path, i, spec) for i, spec in enumerate(specs))
    names = [p.name for p in params]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise HeaderError(f"{path.name}: parameters declared twice: {doubled}")
    return params


def check_params(path: Path, params: tuple[Param, ...], cypher: str) -> None:
    """Declared parameters must equal the ones the Cypher uses (server ones aside)."""
    try:
        used = used_params(cypher)
    except HeaderError as exc:
        raise HeaderError(f"{path.name}: {exc}") from None
    unknown_server = sorted(n for n in used if n.startswith("_") and n not in SERVER_PARAMS)
    if unknown_server:
        raise HeaderError(f"{path.name}: {unknown_server} start with _ but are not filled by the "
                          f"server; server parameters: {list(SERVER_PARAMS)}")
    client = {n for n in used if not n.startswith("_")}
    declared = {p.name for p in params}
    undeclared, unused = sorted(client - declared), sorted(declared - client)
    if undeclared:
        raise HeaderError(f"{path.name}: the Cypher uses {['$' + n for n in undeclared]} but the "
                          "header does not declare them")
    if unused:
        raise HeaderError(f"{path.name}: the header declares {unused} but the Cypher never uses them")


def parse_query(path: Path) -> SavedQuery:
    """Read and validate one file; HeaderError says what is wrong and where."""
    name = path.name.removesuffix(SUFFIX)
    if not _NAME.match(name):
        raise HeaderError(f"{path.name}: the name must be kebab-case (lower-case words and "
                          "digits joined by -)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise HeaderError(f"{path.name}: not UTF-8 text") from None
    header, cypher, first_line = split_header(text)
    data = _yaml_header(path, header, first_line)
    if not cypher:
        raise HeaderError(f"{path.name}: no Cypher after the header")
    if cypher.split(None, 1)[0].upper() in ("EXPLAIN", "PROFILE"):
        raise HeaderError(f"{path.name}: the Cypher must not start with EXPLAIN or PROFILE")
    params = _params(path, data)
    check_params(path, params, cypher)
    roles = _roles(path, data)
    columns = _columns(path, data)
    check_scoping(path, roles, columns, cypher)
    return SavedQuery(
        name=name,
        title=_text(path, data, "title", required=True),
        description=_text(path, data, "description", required=False),
        cypher=cypher,
        params=params,
        roles=roles,
        columns=columns,
        max_rows=int(_number(path, data, "max_rows", DEFAULT_MAX_ROWS, MAX_ROWS_LIMIT,
                             integer=True)),
        timeout=float(_number(path, data, "timeout", DEFAULT_TIMEOUT, TIMEOUT_LIMIT,
                              integer=False)),
        path=path,
    )


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


# ---------------------------------------------------------------- database access


_RETRIED = (TransientError, ServiceUnavailable, SessionExpired)
_UNAVAILABLE = (ServiceUnavailable, SessionExpired, Neo4jDatabaseUnavailable, OSError)


def _retrying(attempt: Callable[[], T]) -> T:
    """`attempt()`, tried again on a transient failure for up to RETRY_SECONDS. The
    driver's own retries (30 s, then 30 s more for the audit write) are not used: a
    caller should learn fast that the database is away."""
    deadline = time.monotonic() + RETRY_SECONDS
    delay = 0.05
    while True:
        try:
            return attempt()
        except _RETRIED:
            if time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay *= 2


async def _retrying_async(attempt: Callable[[], Awaitable[T]]) -> T:
    deadline = time.monotonic() + RETRY_SECONDS
    delay = 0.05
    while True:
        try:
            return await attempt()
        except _RETRIED:
            if time.monotonic() + delay > deadline:
                raise
        await asyncio.sleep(delay)
        delay *= 2


@contextmanager
def _answering() -> Iterator[None]:
    """A database that still does not answer after the retries (or a socket error) is
    `DatabaseUnavailable`; other errors pass as they are."""
    try:
        yield
    except _UNAVAILABLE as exc:
        raise DatabaseUnavailable(UNAVAILABLE) from exc


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


def _explain_query(query: SavedQuery) -> neo4j.Query:
    return neo4j.Query("EXPLAIN " + query.cypher, timeout=EXPLAIN_TIMEOUT)


def _explain_config(database: str) -> dict[str, Any]:
    """Warnings on, whatever the driver says: a missing parameter is one."""
    return {"database": database, "default_access_mode": neo4j.READ_ACCESS,
            "notifications_min_severity": neo4j.NotificationMinimumSeverity.WARNING}


def _explain(driver: neo4j.Driver, database: str, query: SavedQuery,
             ) -> tuple[neo4j.ResultSummary, list[str]]:
    def attempt() -> tuple[neo4j.ResultSummary, list[str]]:
        with driver.session(**_explain_config(database)) as session:
            result = session.run(_explain_query(query), _explain_params(query))
            keys = list(result.keys())
            return result.consume(), keys

    with _answering():
        return _retrying(attempt)


async def _explain_async(driver: neo4j.AsyncDriver, database: str, query: SavedQuery,
                         ) -> tuple[neo4j.ResultSummary, list[str]]:
    async def attempt() -> tuple[neo4j.ResultSummary, list[str]]:
        async with driver.session(**_explain_config(database)) as session:
            result = await session.run(_explain_query(query), _explain_params(query))
            keys = list(result.keys())
            return await result.consume(), keys

    with _answering():
        return await _retrying_async(attempt)


def _judge(library: Library, query: SavedQuery, summary: neo4j.ResultSummary,
           returned: list[str]) -> None:
    problem = explain_problem(query, summary) or columns_problem(query, returned)
    if problem:
        library.fail(query.name, problem)


def _explain_failed(library: Library, query: SavedQuery, exc: Neo4jError) -> None:
    """A query Neo4j refused to plan fails its check; a transient failure is not the
    query's fault and is raised, so nothing is remembered against it."""
    if isinstance(exc, TransientError):
        raise exc
    library.fail(query.name, f"{query.name}{SUFFIX}: EXPLAIN failed: {exc.message}")


def check(library: Library, driver: neo4j.Driver, database: str) -> Library:
    """EXPLAIN every parsed query; failures move to `library.problems`. A database that
    does not answer raises `DatabaseUnavailable` within about RETRY_SECONDS."""
    with _quiet_notifications():
        for query in list(library.queries.values()):
            try:
                summary, returned = _explain(driver, database, query)
            except Neo4jError as exc:
                _explain_failed(library, query, exc)
                continue
            _judge(library, query, summary, returned)
    library.checked = True
    return library


async def check_async(library: Library, driver: neo4j.AsyncDriver, database: str) -> Library:
    with _quiet_notifications():
        for query in list(library.queries.values()):
            try:
                summary, returned = await _explain_async(driver, database, query)
            except Neo4jError as exc:
                _explain_failed(library, query, exc)
                continue
            _judge(library, query, summary, returned)
    library.checked = True
    return library


def load_checked(driver: neo4j.Driver, database: str, directory: Path = QUERIES_DIR) -> Library:
    return check(load(directory), driver, database)


async def load_checked_async(
    driver: neo4j.AsyncDriver, database: str, directory: Path = QUERIES_DIR
) -> Library:
    return await check_async(load(directory), driver, database)


# ---------------------------------------------------------------- parameters


def _bad(param: Param, value: Any, expected: str) -> ParamError:
    return ParamError(f"parameter {param.name!r}: expected {expected}, got {value!r}")


def _coerce_text(param: Param, value: str) -> Any:
    text = value.strip()
    if param.type == "int":
        try:
            return int(text)
        except ValueError:
            raise _bad(param, value, "a whole number") from None
    if param.type == "float":
        try:
            return float(text)
        except ValueError:
            raise _bad(param, value, "a number") from None
    if param.type == "bool":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise _bad(param, value, "true or false")
    if param.type == "date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise _bad(param, value, "a date like 2024-06-30") from None
    if param.type == "list of string":
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


def coerce(param: Param, value: Any) -> Any:
    """`value` (text from a URL or the command line, or JSON) as the param's type."""
    if param.type == "list of string":
        if isinstance(value, list | tuple):
            if not all(isinstance(item, str) for item in value):
                raise _bad(param, value, "a list of strings")
            return [s for item in value for s in _coerce_text(param, item)]
        if isinstance(value, str):
            return _coerce_text(param, value)
        raise _bad(param, value, "a list of strings")
    if isinstance(value, list | tuple) and len(value) == 1:
        value = value[0]
    if isinstance(value, str):
        return _coerce_text(param, value)
    if param.type == "string":
        raise _bad(param, value, "text")
    if param.type == "bool" and isinstance(value, bool):
        return value
    if param.type == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if param.type == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if param.type == "date" and isinstance(value, date) and not isinstance(value, datetime):
        return value
    expected = {"int": "a whole number", "float": "a number", "bool": "true or false",
                "date": "a date like 2024-06-30"}[param.type]
    raise _bad(param, value, expected)


def collect_params(items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Raw `(name, value)` pairs from a command line or a URL; a name given twice
    collects its values into a list."""
    params: dict[str, Any] = {}
    for name, value in items:
        if name in params:
            previous = params[name]
            params[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            params[name] = value
    return params


def coerce_params(query: SavedQuery, raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """The query's parameters from client values: defaults filled, every problem named."""
    raw = dict(raw or {})
    problems: list[str] = []
    server = sorted(k for k in raw if k.startswith("_"))
    if server:
        problems.append(f"{server} are set by the server and cannot be given")
    declared = {p.name for p in query.params}
    unknown = sorted(k for k in raw if not k.startswith("_") and k not in declared)
    if unknown:
        problems.append(f"unknown parameters {unknown}; {query.name} takes {sorted(declared)}")
    values: dict[str, Any] = {}
    for param in query.params:
        value = raw.get(param.name)
        if value is None or value == []:
            if param.required:
                problems.append(f"missing parameter {param.name!r} ({param.type})")
            values[param.name] = param.default
            continue
        try:
            values[param.name] = coerce(param, value)
        except ParamError as exc:
            problems.append(str(exc))
    if problems:
        raise ParamError(f"{query.name}: " + "; ".join(problems))
    return values


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


Read = tuple[list[str], list[dict[str, Any]], bool]


def _statement(query: SavedQuery) -> neo4j.Query:
    return neo4j.Query(query.cypher, timeout=query.timeout)


def _session_config(query: SavedQuery, database: str) -> dict[str, Any]:
    return {"database": database, "default_access_mode": neo4j.READ_ACCESS,
            "fetch_size": query.max_rows + 1,
            "notifications_min_severity": neo4j.NotificationMinimumSeverity.OFF}


def _read(driver: neo4j.Driver, database: str, query: SavedQuery, params: dict[str, Any]) -> Read:
    """One auto-commit read in read mode (retried briefly, see `_retrying`): the
    columns, at most `max_rows` plain rows, and whether more rows existed."""
    def attempt() -> Read:
        with driver.session(**_session_config(query, database)) as session:
            result = session.run(_statement(query), params)
            columns = list(result.keys())
            rows: list[dict[str, Any]] = []
            truncated = False
            for record in result:
                if len(rows) == query.max_rows:
                    truncated = True
                    break
                rows.append({key: to_plain(record[key]) for key in columns})
            result.consume()
            return columns, rows, truncated

    with _answering():
        return _retrying(attempt)


async def _read_async(driver: neo4j.AsyncDriver, database: str, query: SavedQuery,
                      params: dict[str, Any]) -> Read:
    async def attempt() -> Read:
        async with driver.session(**_session_config(query, database)) as session:
            result = await session.run(_statement(query), params)
            columns = list(result.keys())
            rows: list[dict[str, Any]] = []
            truncated = False
            async for record in result:
                if len(rows) == query.max_rows:
                    truncated = True
                    break
                rows.append({key: to_plain(record[key]) for key in columns})
            await result.consume()
            return columns, rows, truncated

    with _answering():
        return await _retrying_async(attempt)


def failure(query: SavedQuery, exc: Neo4jError) -> QueryFailed:
    code = exc.code or ""
    if "TimedOut" in code:
        return QueryFailed(f"{query.name}: stopped after its timeout of {query.timeout:g} s", code)
    if code.endswith("AccessMode"):
        return QueryFailed(f"{query.name}: Neo4j refused a write in read mode ({code})", code)
    return QueryFailed(f"{query.name}: Neo4j refused the query: {exc.message} ({code})", code)


def _audit_event(
    query: SavedQuery, caller: Caller, params: dict[str, Any], request_id: str | None,
    outcome: dict[str, Any],
) -> audit.AuditEvent:
    details = {"query": query.name, "params": to_plain(params), **outcome}
    return audit.event(caller, AUDIT_ACTION, ids=[query.name], request_id=request_id,
                       details=details)


def _result(query: SavedQuery, caller: Caller, read: Read, started: float) -> QueryResult:
    columns, rows, truncated = read
    hidden = hidden_columns(query, caller, columns)
    return QueryResult(query.name, columns, _masked(rows, hidden), truncated, _ms(started))


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


def run(
    driver: neo4j.Driver, database: str, query: SavedQuery, raw_params: Mapping[str, Any] | None,
    caller: Caller, *, request_id: str | None = None,
) -> QueryResult:
    """Run a checked saved query for `caller` in read mode, columns the caller may not
    see hidden; audited. `DatabaseUnavailable` when Neo4j does not answer."""
    ensure_allowed(query, caller)
    params = coerce_params(query, raw_params)
    started = time.perf_counter()
    result: QueryResult | None = None
    error: Exception | None = None
    try:
        read = _read(driver, database, query, {**params, **server_params(caller)})
        result = _result(query, caller, read, started)
        return result
    except DatabaseUnavailable:
        _not_audited(query, caller, request_id)
        raise
    except Neo4jError as exc:
        error = failure(query, exc)
        raise error from exc
    except Exception as exc:
        error = exc
        raise
    finally:
        if result is not None or error is not None:
            event = _audit_event(query, caller, params, request_id,
                                 _outcome(query, caller, result, _ms(started), error))
            audit.append(driver, database, event)


async def run_async(
    driver: neo4j.AsyncDriver, database: str, query: SavedQuery,
    raw_params: Mapping[str, Any] | None, caller: Caller, *, request_id: str | None = None,
) -> QueryResult:
    ensure_allowed(query, caller)
    params = coerce_params(query, raw_params)
    started = time.perf_counter()
    result: QueryResult | None = None
    error: Exception | None = None
    try:
        read = await _read_async(driver, database, query, {**params, **server_params(caller)})
        result = _result(query, caller, read, started)
        return result
    except DatabaseUnavailable:
        _not_audited(query, caller, request_id)
        raise
    except Neo4jError as exc:
        error = failure(query, exc)
        raise error from exc
    except Exception as exc:
        error = exc
        raise
    finally:
        if result is not None or error is not None:
            event = _audit_event(query, caller, params, request_id,
                                 _outcome(query, caller, result, _ms(started), error))
            await audit.append_async(driver, database, event)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def describe(query: SavedQuery) -> dict[str, Any]:
    """What a client needs to know to run the query."""
    return {"name": query.name, "title": query.title, "description": query.description,
            "params": [p.describe() for p in query.params], "roles": list(query.roles),
            "columns": dict(query.columns), "max_rows": query.max_rows,
            "timeout": query.timeout}


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
