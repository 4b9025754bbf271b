"""Reads for the API: read transactions (READ routing), the database always named, a
timeout on every transaction, the time spent recorded, and driver failures turned into
clear errors."""

from __future__ import annotations

import time
from typing import Any, LiteralString

import neo4j
from neo4j.exceptions import (
    ClientError,
    ServiceUnavailable,
    SessionExpired,
)
from neo4j.exceptions import (
    DatabaseUnavailable as Neo4jDatabaseUnavailable,
)

from api import metrics
from api.errors import DatabaseUnavailable, QueryTooSlow, SchemaMissing

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

    @neo4j.unit_of_work(timeout=timeout)
    async def work(tx: neo4j.AsyncManagedTransaction) -> list[neo4j.Record]:
        result = await tx.run(cypher, parameters)
        return [record async for record in result]

    try:
        async with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS,
                                  max_transaction_retry_time=RETRY_SECONDS) as session:
            records = await session.execute_read(work)
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
    except (ServiceUnavailable, SessionExpired, Neo4jDatabaseUnavailable, OSError):
        metrics.DB_ERRORS.labels(kind="unavailable").inc()
        raise DatabaseUnavailable(
            "the graph database does not answer right now; try again in a moment."
        ) from None
    finally:
        metrics.DB_SECONDS.labels(query=name).observe(time.perf_counter() - started)
    return records
