"""What a saved-query file says: its YAML header, its parameters and their values, and
the errors of saved queries.

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

`roles` (default investigator, analyst, admin) may run the query. `columns` says what
every returned column holds (`COLUMN_KINDS`; who sees which kind is
`graph.query_library.may_see`). A query that shows entity columns to police liaisons
must keep its rows to their jurisdiction with `$_agency_adcodes` (`check_scoping`).

`parse_query` checks a file without a database: the header is valid and the declared
parameters are exactly the `$parameters` the Cypher uses. `coerce_params` turns a
client's values (text from a URL or the command line, or JSON) into the declared types.

Every error here is a `SavedQueryError` and also one of the families of `core.errors`,
with its code: `HeaderError` BAD_QUERY_FILE, `ParamError` BAD_REQUEST, `UnknownQuery`
NOT_FOUND, `Forbidden` FORBIDDEN, `QueryUnavailable` QUERY_UNAVAILABLE (a `Conflict`),
`DatabaseUnavailable` DATABASE_UNAVAILABLE, and `QueryFailed` the code Neo4j gave (a
`UserError`; `QueryTimedOut` is also a `QueryTooSlow`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from neo4j.exceptions import ServiceUnavailable

from core import errors
from graph.caller import ROLES

QUERIES_DIR = Path(__file__).resolve().parents[1] / "queries"
SUFFIX = ".cypher"
PARAM_TYPES = ("string", "int", "float", "bool", "date", "list of string")
DEFAULT_ROLES = ("investigator", "analyst", "admin")
DEFAULT_MAX_ROWS = 1000
MAX_ROWS_LIMIT = 100_000
DEFAULT_TIMEOUT = 10.0
TIMEOUT_LIMIT = 300.0
HEADER_KEYS = ("title", "description", "params", "roles", "columns", "max_rows", "timeout")
COLUMN_KINDS = ("open", "entity", "identifier")
PARAM_KEYS = ("name", "type", "default", "description")
SERVER_PARAMS = ("_user", "_role", "_agency_id", "_agency_adcodes", "_brand_id")

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


# ---------------------------------------------------------------- errors


class SavedQueryError(errors.AllianceError):
    """A problem with a saved query; the message says what and where."""


class HeaderError(SavedQueryError, errors.UserError):
    """The file's header or Cypher is unusable."""

    code = "BAD_QUERY_FILE"


class UnknownQuery(SavedQueryError, errors.NotFound):
    """No saved query of that name."""


class QueryUnavailable(SavedQueryError, errors.Conflict):
    """The query exists but failed its checks."""

    code = "QUERY_UNAVAILABLE"


class ParamError(SavedQueryError, errors.UserError):
    """A parameter value is missing, unknown or of the wrong type."""


class Forbidden(SavedQueryError, errors.Forbidden):
    """The caller's role may not run the query."""


class DatabaseUnavailable(SavedQueryError, errors.DatabaseUnavailable, ServiceUnavailable):
    """Neo4j did not answer within the read path's retries. Also a `ServiceUnavailable`,
    so code that catches the driver's error keeps working."""


class QueryFailed(SavedQueryError, errors.UserError):
    """Neo4j refused or stopped the query (write in read mode, bad value); `code` is the
    code Neo4j gave."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code

    @property
    def timed_out(self) -> bool:
        return isinstance(self, errors.QueryTooSlow) or "TimedOut" in self.code


class QueryTimedOut(QueryFailed, errors.QueryTooSlow):
    """The query ran past its timeout and was stopped."""


# ---------------------------------------------------------------- queries


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


def describe(query: SavedQuery) -> dict[str, Any]:
    """What a client needs to know to run the query."""
    return {"name": query.name, "title": query.title, "description": query.description,
            "params": [p.describe() for p in query.params], "roles": list(query.roles),
            "columns": dict(query.columns), "max_rows": query.max_rows,
            "timeout": query.timeout}
