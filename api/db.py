"""Reads for the API: auto-commit read transactions (READ routing, one round trip each),
the database always named, a timeout on every transaction, transient failures retried
briefly, the time spent recorded, and driver failures turned into clear errors."""

from __future__ import annotations

import asyncio
import time
from typing import Any, LiteralString

import neo4j
from neo4j.exceptions import (
    ClientError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)
from neo4j.exceptions import (
    DatabaseUnavailable as Neo4jDatabaseUnavailable,
)

from api import metrics
from api.errors import DatabaseUnavailable, QueryTooSlow, SchemaMissing, UserError

DEFAULT_TIMEOUT = 15.0
"""Seconds a GraphQL request's transaction may run (the app can set another)."""
RETRY_SECONDS = 2.0
"""How long a read is retried on a transient failure before the caller is told: a
request should fail fast with a clear error, not hang while the database is away."""

_TIMEOUT_CODES = ("Neo.ClientError.Transaction.TransactionTimedOut",
                  "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration")


async def read(
    driver: neo4j.AsyncDriver,
    database: str,
    cypher: LiteralString,
    parameters: dict[str, Any],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    name: str = "read",
) -> list[neo4j.Record]:
    """Run one read query and return its records."""
    started = time.perf_counter()
    try:
        return await _retrying(driver, database, neo4j.Query(cypher, timeout=timeout), parameters)
    except ClientError as exc:
        if exc.code in _TIMEOUT_CODES:
            metrics.DB_ERRORS.labels(kind="timeout").inc()
            raise QueryTooSlow(
                f"query took too long (over {timeout:g} s) and was stopped; ask for less "
                "(fewer hops, a smaller first or limit)."
            ) from None
        if "no such fulltext schema index" in (exc.message or ""):
            raise SchemaMissing(
                "the database lacks the full-text indexes search needs; run `alliance schema apply`."
            ) from None
        raise
    except UnicodeEncodeError as exc:
        raise UserError(
            f"a text value holds {exc.object[exc.start:exc.end]!r}, which is not valid Unicode "
            "(a lone surrogate); send text as UTF-8"
        ) from None
    except (ServiceUnavailable, SessionExpired, Neo4jDatabaseUnavailable, OSError):
        metrics.DB_ERRORS.labels(kind="unavailable").inc()
        raise DatabaseUnavailable(
            "the graph database does not answer right now; try again in a moment."
        ) from None
    finally:
        metrics.DB_SECONDS.labels(query=name).observe(time.perf_counter() - started)


async def _retrying(driver: neo4j.AsyncDriver, database: str, query: neo4j.Query,
                    parameters: dict[str, Any]) -> list[neo4j.Record]:
    """One auto-commit read (a single round trip), tried again on a transient failure
    for up to RETRY_SECONDS. The server's notifications (hints about the query text, such
    as a relationship type no data has yet) are not asked for: nobody reads them here."""
    deadline = time.monotonic() + RETRY_SECONDS
    delay = 0.05
    while True:
        try:
            return await _once(driver, database, query, parameters)
        except (TransientError, ServiceUnavailable, SessionExpired):
            if time.monotonic() + delay > deadline:
                raise
        await asyncio.sleep(delay)
        delay *= 2


async def _once(driver: neo4j.AsyncDriver, database: str, query: neo4j.Query,
                parameters: dict[str, Any]) -> list[neo4j.Record]:
    async with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS,
                              notifications_min_severity="OFF") as session:
        result = await session.run(query, parameters)
        return [record async for record in result]
