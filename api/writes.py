"""Writes for the API: several statements in one managed write transaction.

A statement marked `must_match` that returns no row rolls the whole transaction back
with `ChangedMeanwhile` (the object moved on since it was read). Transient failures
are retried by the driver; a constraint violation becomes a `UserError` naming it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, LiteralString

import neo4j
from neo4j.exceptions import ConstraintError, ServiceUnavailable, SessionExpired

from api import metrics
from api.errors import DatabaseUnavailable, UserError
from core.errors import Conflict

WRITE_TIMEOUT = 15.0


class ChangedMeanwhile(Conflict):
    """The object moved on since it was read."""


@dataclass(frozen=True)
class Statement:
    cypher: LiteralString
    params: dict[str, Any] = field(default_factory=dict)
    must_match: bool = False
    what: str = "the object"


async def write(driver: neo4j.AsyncDriver, database: str, statements: list[Statement], *,
                name: str, timeout: float = WRITE_TIMEOUT) -> list[list[dict[str, Any]]]:
    """Run `statements` in order in one write transaction; returns each one's rows."""
    started = time.perf_counter()

    @neo4j.unit_of_work(timeout=timeout)
    async def work(tx: neo4j.AsyncManagedTransaction) -> list[list[dict[str, Any]]]:
        results = []
        for st in statements:
            result = await tx.run(st.cypher, st.params)
            rows = [record.data() async for record in result]
            if st.must_match and not rows:
                raise ChangedMeanwhile(f"{st.what} changed meanwhile; read it again and retry")
            results.append(rows)
        return results

    try:
        async with driver.session(database=database) as session:
            return await session.execute_write(work)
    except ConstraintError as exc:
        raise UserError("already exists: " + re.sub(r"Node\(\d+\)", "a node", exc.message or "")) from None
    except (ServiceUnavailable, SessionExpired, OSError):
        raise DatabaseUnavailable(
            "the graph database does not answer right now; try again in a moment."
        ) from None
    finally:
        metrics.DB_SECONDS.labels(query=name).observe(time.perf_counter() - started)
