"""Every query to Neo4j goes through here: one read path and one write path.

- Reads (`read`, `read_async`): one auto-commit transaction in read mode (READ routing,
  one round trip), the server's notifications off unless asked for. Transient failures
  (and a server that does not answer) are tried again for up to RETRY_SECONDS: a request
  should fail fast with a clear error, not hang while the database is away.
- Writes (`write`, `write_async`): `Statement`s run in order in one managed write
  transaction. A statement marked `must_match` that returns no row rolls the whole
  transaction back with `ChangedMeanwhile`. Transient failures are retried by the driver
  for up to WRITE_RETRY_SECONDS (the transaction runs again from its first statement).
  `write_autocommit` runs one statement that commits in batches itself
  (`CALL { ... } IN TRANSACTIONS`), which a managed transaction cannot hold; it is not
  retried.
- Steps (`steps`, `steps_async`): a computation of several queries written once, as a
  generator that yields `(cypher, params)` and receives each query's rows as dicts, driven
  through the read path with the sync or the async driver.

The database is always named. Every transaction has a timeout (None only for the
whole-graph work of the command line, where the server's own limit applies). The time of
each call is recorded under its name (`DB_SECONDS`), failures are counted by kind
(`DB_ERRORS`), and driver failures become the families of `core.errors`: a transaction
over its timeout is `QueryTooSlow`, a server that does not answer `DatabaseUnavailable`,
a missing full-text index `SchemaMissing`, text that is not valid Unicode (a lone
surrogate) and a uniqueness constraint violated are a `UserError`. Other Neo4j errors
reach the caller as they are.

Sync and async callers share one body wherever there is logic: the statements of a write
transaction and the steps of a computation are generators (`_transaction`, the caller's
own), the failures are translated and counted by one context manager (`accounted`), and
one `_Retry` decides when to give up. Code that runs its own transactions (the loader's
ordered batches) opens its sessions with `session_config` and wraps them in `accounted`.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Generator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, LiteralString

import neo4j
from neo4j.exceptions import (
    ClientError,
    ConstraintError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)
from neo4j.exceptions import (
    DatabaseUnavailable as Neo4jDatabaseUnavailable,
)
from prometheus_client import Counter, Histogram

from core import errors
from core.errors import AllianceError, Conflict, QueryTooSlow, SchemaMissing, UserError

DEFAULT_TIMEOUT = 15.0
"""Seconds a transaction may run unless its caller says otherwise (a GraphQL request's
context carries the one the app was started with)."""
RETRY_SECONDS = 2.0
"""How long a read is tried again after a transient failure before the caller is told."""
WRITE_RETRY_SECONDS = 30.0
"""How long the driver tries a write transaction again after a transient failure (its
own default, stated here)."""

DB_SECONDS = Histogram("alliance_api_neo4j_query_seconds", "Time spent in Neo4j queries", ["query"])
DB_ERRORS = Counter("alliance_api_neo4j_errors_total", "Neo4j failures", ["kind"])

TIMEOUT_CODES = ("Neo.ClientError.Transaction.TransactionTimedOut",
                 "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration")
UNAVAILABLE = (ServiceUnavailable, SessionExpired, Neo4jDatabaseUnavailable, OSError)
"""Driver failures that mean the server does not answer."""
RETRIED = (TransientError, ServiceUnavailable, SessionExpired)
"""Read failures tried again (for up to RETRY_SECONDS)."""

Query = tuple[LiteralString, dict[str, Any]]
"""One query of a computation: its text and parameters."""
Steps = Generator[Query, list[dict[str, Any]], Any]
"""A computation: yields queries, receives their rows, returns its answer."""


class ChangedMeanwhile(Conflict):
    """The object moved on since it was read."""


class DatabaseUnavailable(errors.DatabaseUnavailable, ServiceUnavailable):
    """The server does not answer. Also a `ServiceUnavailable`, so code that catches the
    driver's error (the loader's command, for one) keeps working."""


@dataclass(frozen=True)
class Statement:
    """One statement of a write transaction. `must_match`: it must return a row, or the
    whole transaction is rolled back with `ChangedMeanwhile` naming `what`."""

    cypher: LiteralString
    params: dict[str, Any] = field(default_factory=dict)
    must_match: bool = False
    what: str = "the object"


class Rows(list[neo4j.Record]):
    """The records of a read, with its column names (`keys`, also when there is no row)
    and the server's summary."""

    def __init__(self, keys: list[str]) -> None:
        super().__init__()
        self.keys = keys
        self.summary: neo4j.ResultSummary | None = None

    def dicts(self) -> list[dict[str, Any]]:
        """The rows as dicts of their values as the driver gives them (nodes stay nodes:
        cheaper than `Record.data()`, which converts every nested value)."""
        return [dict(zip(self.keys, r, strict=True)) for r in self]


# --- failures -------------------------------------------------------------------------


def translated(exc: BaseException, timeout: float | None) -> tuple[str, AllianceError] | None:
    """The kind of a driver failure and the error the caller gets for it; None for a
    failure that reaches the caller as it is."""
    if isinstance(exc, AllianceError):
        return None
    if isinstance(exc, ClientError) and exc.code in TIMEOUT_CODES:
        limit = "" if timeout is None else f" (over {timeout:g} s)"
        return "timeout", QueryTooSlow(
            f"query took too long{limit} and was stopped; ask for less "
            "(fewer hops, a smaller first or limit).")
    if isinstance(exc, ConstraintError):
        return "constraint", UserError(
            "already exists: " + re.sub(r"Node\(\d+\)", "a node", exc.message or ""))
    if isinstance(exc, ClientError) and "no such fulltext schema index" in (exc.message or ""):
        return "schema", SchemaMissing(
            "the database lacks the full-text indexes search needs; run `alliance schema apply`.")
    if isinstance(exc, UnicodeEncodeError):
        return "text", UserError(
            f"a text value holds {exc.object[exc.start:exc.end]!r}, which is not valid Unicode "
            "(a lone surrogate); send text as UTF-8")
    if isinstance(exc, UNAVAILABLE):
        return "unavailable", DatabaseUnavailable(
            "the graph database does not answer right now; try again in a moment.")
    return None


def _kind(exc: BaseException) -> str:
    if isinstance(exc, ChangedMeanwhile):
        return "changed"
    if isinstance(exc, TransientError):
        return "transient"
    return "other" if isinstance(exc, neo4j.exceptions.Neo4jError) else ""


@contextmanager
def accounted(name: str, timeout: float | None) -> Iterator[None]:
    """Time the block under `name`, count its failure by kind and translate it (also for
    code that runs its own transactions, such as the loader)."""
    started = time.perf_counter()
    try:
        yield
    except Exception as exc:
        found = translated(exc, timeout)
        if found is None:
            kind = _kind(exc)
            if kind:
                DB_ERRORS.labels(kind=kind).inc()
            raise
        DB_ERRORS.labels(kind=found[0]).inc()
        raise found[1] from None
    finally:
        DB_SECONDS.labels(query=name).observe(time.perf_counter() - started)


class _Retry:
    """When to try a read again: a growing delay, for up to RETRY_SECONDS in all."""

    def __init__(self) -> None:
        self.deadline = time.monotonic() + RETRY_SECONDS
        self.delay = 0.05

    def wait(self, exc: Exception) -> float:
        """Seconds to wait before the next try; raises `exc` once the time is up."""
        if time.monotonic() + self.delay > self.deadline:
            raise exc
        delay, self.delay = self.delay, self.delay * 2
        return delay


# --- reads ----------------------------------------------------------------------------


def session_config(database: str, *, read: bool, notifications: bool = False,
                   fetch_size: int | None = None) -> dict[str, Any]:
    """A session's settings: the database named, the access mode, notifications."""
    config: dict[str, Any] = {
        "database": database,
        "default_access_mode": neo4j.READ_ACCESS if read else neo4j.WRITE_ACCESS,
        "notifications_min_severity": "WARNING" if notifications else "OFF",
    }
    if fetch_size is not None:
        config["fetch_size"] = fetch_size
    if not read:
        config["max_transaction_retry_time"] = WRITE_RETRY_SECONDS
    return config


def open_session(driver: neo4j.Driver, config: dict[str, Any]) -> neo4j.Session:
    """A session that shares the driver's bookmarks with every other session of the
    process: on a cluster, a read sent to a secondary waits until that secondary has
    the writes this process made before it (one's own writes are read back)."""
    return driver.session(bookmark_manager=driver.execute_query_bookmark_manager, **config)


def open_session_async(driver: neo4j.AsyncDriver, config: dict[str, Any]) -> neo4j.AsyncSession:
    """`open_session` with the async driver."""
    return driver.session(bookmark_manager=driver.execute_query_bookmark_manager, **config)


def _read_config(database: str, at_most: int | None, notifications: bool) -> dict[str, Any]:
    return session_config(database, read=True, notifications=notifications,
                          fetch_size=None if at_most is None else max(at_most, 1))


def read(driver: neo4j.Driver, database: str, cypher: LiteralString,
         params: Mapping[str, Any] | None = None, *, timeout: float | None = DEFAULT_TIMEOUT,
         name: str = "read", at_most: int | None = None, notifications: bool = False) -> Rows:
    """Run one read query and return its records (at most `at_most` of them: the rest
    is discarded). `notifications`: the server's warnings, in `Rows.summary`."""
    query = neo4j.Query(cypher, timeout=timeout)
    config = _read_config(database, at_most, notifications)
    with accounted(name, timeout):
        retry = _Retry()
        while True:
            try:
                return _read_once(driver, config, query, dict(params or {}), at_most)
            except RETRIED as exc:
                time.sleep(retry.wait(exc))


def _read_once(driver: neo4j.Driver, config: dict[str, Any], query: neo4j.Query,
               params: dict[str, Any], at_most: int | None) -> Rows:
    with open_session(driver, config) as session:
        result = session.run(query, params)
        rows = Rows(list(result.keys()))
        for record in result:
            if at_most is not None and len(rows) >= at_most:
                break
            rows.append(record)
        rows.summary = result.consume()
        return rows


async def read_async(driver: neo4j.AsyncDriver, database: str, cypher: LiteralString,
                     params: Mapping[str, Any] | None = None, *,
                     timeout: float | None = DEFAULT_TIMEOUT, name: str = "read",
                     at_most: int | None = None, notifications: bool = False) -> Rows:
    """`read` with the async driver."""
    query = neo4j.Query(cypher, timeout=timeout)
    config = _read_config(database, at_most, notifications)
    with accounted(name, timeout):
        retry = _Retry()
        while True:
            try:
                return await _read_once_async(driver, config, query, dict(params or {}), at_most)
            except RETRIED as exc:
                await asyncio.sleep(retry.wait(exc))


async def _read_once_async(driver: neo4j.AsyncDriver, config: dict[str, Any],
                           query: neo4j.Query, params: dict[str, Any],
                           at_most: int | None) -> Rows:
    async with open_session_async(driver, config) as session:
        result = await session.run(query, params)
        rows = Rows(list(result.keys()))
        async for record in result:
            if at_most is not None and len(rows) >= at_most:
                break
            rows.append(record)
        rows.summary = await result.consume()
        return rows


def stream(driver: neo4j.Driver, database: str, cypher: LiteralString,
           params: Mapping[str, Any] | None = None, *, timeout: float | None = DEFAULT_TIMEOUT,
           name: str = "read") -> Iterator[neo4j.Record]:
    """The records of one read as they arrive, for reads of the whole graph that should
    not sit in memory at once. Not retried: the caller may have used part of them."""
    with accounted(name, timeout), \
            open_session(driver, session_config(database, read=True)) as session:
        yield from session.run(neo4j.Query(cypher, timeout=timeout), dict(params or {}))


# --- steps ----------------------------------------------------------------------------


def _drive(gen: Generator[Any, Any, Any], run: Callable[..., Any]) -> Any:
    """Send each query `gen` yields to `run` and its answer back; returns what `gen` returns."""
    try:
        step = next(gen)
        while True:
            step = gen.send(run(*step))
    except StopIteration as done:
        return done.value


async def _drive_async(gen: Generator[Any, Any, Any],
                       run: Callable[..., Awaitable[Any]]) -> Any:
    try:
        step = next(gen)
        while True:
            step = gen.send(await run(*step))
    except StopIteration as done:
        return done.value


def steps(driver: neo4j.Driver, database: str, gen: Steps, *,
          timeout: float | None = DEFAULT_TIMEOUT, name: str = "steps") -> Any:
    """Drive a computation with the sync driver, each query a `read` named `name`."""
    def run(cypher: LiteralString, params: dict[str, Any]) -> list[dict[str, Any]]:
        return read(driver, database, cypher, params, timeout=timeout, name=name).dicts()

    return _drive(gen, run)


async def steps_async(driver: neo4j.AsyncDriver, database: str, gen: Steps, *,
                      timeout: float | None = DEFAULT_TIMEOUT, name: str = "steps") -> Any:
    """The same with the async driver."""
    async def run(cypher: LiteralString, params: dict[str, Any]) -> list[dict[str, Any]]:
        rows = await read_async(driver, database, cypher, params, timeout=timeout, name=name)
        return rows.dicts()

    return await _drive_async(gen, run)


# --- writes ---------------------------------------------------------------------------


def _transaction(statements: list[Statement]) -> Generator[Query, list[dict[str, Any]],
                                                            list[list[dict[str, Any]]]]:
    """The statements in order, each one's rows kept; `ChangedMeanwhile` (which rolls the
    transaction back) when one that must match returns nothing."""
    results = []
    for st in statements:
        rows = yield st.cypher, st.params
        if st.must_match and not rows:
            raise ChangedMeanwhile(f"{st.what} changed meanwhile; read it again and retry")
        results.append(rows)
    return results


def write(driver: neo4j.Driver, database: str, statements: list[Statement], *,
          timeout: float | None = DEFAULT_TIMEOUT, name: str = "write",
          ) -> list[list[dict[str, Any]]]:
    """Run `statements` in order in one write transaction; returns each one's rows."""
    @neo4j.unit_of_work(timeout=timeout)
    def work(tx: neo4j.ManagedTransaction) -> list[list[dict[str, Any]]]:
        def run(cypher: LiteralString, params: dict[str, Any]) -> list[dict[str, Any]]:
            return [record.data() for record in tx.run(cypher, params)]

        result: list[list[dict[str, Any]]] = _drive(_transaction(statements), run)
        return result

    with accounted(name, timeout), \
            open_session(driver, session_config(database, read=False)) as session:
        return session.execute_write(work)


async def write_async(driver: neo4j.AsyncDriver, database: str, statements: list[Statement], *,
                      timeout: float | None = DEFAULT_TIMEOUT, name: str = "write",
                      ) -> list[list[dict[str, Any]]]:
    """`write` with the async driver."""
    @neo4j.unit_of_work(timeout=timeout)
    async def work(tx: neo4j.AsyncManagedTransaction) -> list[list[dict[str, Any]]]:
        async def run(cypher: LiteralString, params: dict[str, Any]) -> list[dict[str, Any]]:
            return [record.data() async for record in await tx.run(cypher, params)]

        result: list[list[dict[str, Any]]] = await _drive_async(_transaction(statements), run)
        return result

    with accounted(name, timeout):
        async with open_session_async(driver, session_config(database, read=False)) as session:
            return await session.execute_write(work)


def write_autocommit(driver: neo4j.Driver, database: str, cypher: LiteralString,
                     params: Mapping[str, Any] | None = None, *,
                     timeout: float | None = DEFAULT_TIMEOUT, name: str = "write") -> None:
    """Run one statement in its own auto-commit transaction, for a statement that
    commits in batches itself (`CALL { ... } IN TRANSACTIONS`). Not retried: it may have
    committed part of its work."""
    with accounted(name, timeout), \
            open_session(driver, session_config(database, read=False)) as session:
        session.run(neo4j.Query(cypher, timeout=timeout), dict(params or {})).consume()
