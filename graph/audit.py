"""The audit trail: append-only `AuditEvent` nodes.

Every event is written with `CREATE` and nothing here updates or deletes one. An event
says who (the caller's subject, role, agency and brand), what (`action` and the `ids` it
touched), when (`at`, UTC), under which request, and free `details` kept as a JSON
string. Events are written and read through `graph.access` (timeout, retries, metrics,
errors); there is a sync and an async form of `append`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import neo4j

from graph import access
from graph.caller import Caller
from graph.model import check_label

LABEL = check_label("AuditEvent")
CREATE_EVENT = f"CREATE (e:{LABEL}) SET e = $event RETURN e.event_id AS event_id"
WRITE_TIMEOUT = 10.0


@dataclass(frozen=True)
class AuditEvent:
    who: str
    role: str
    action: str
    agency_id: str | None = None
    brand_id: str | None = None
    ids: tuple[str, ...] = ()
    request_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def properties(self) -> dict[str, Any]:
        """The node's properties; `details` becomes a JSON string (dates as ISO text)."""
        return {
            "event_id": self.event_id,
            "at": self.at,
            "who": self.who,
            "role": self.role,
            "agency_id": self.agency_id,
            "brand_id": self.brand_id,
            "action": self.action,
            "ids": list(self.ids),
            "request_id": self.request_id,
            "details": json.dumps(self.details, ensure_ascii=False, sort_keys=True, default=str),
        }


def event(
    caller: Caller,
    action: str,
    *,
    ids: tuple[str, ...] | list[str] = (),
    request_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """An event for `caller` doing `action`."""
    if not action:
        raise ValueError("an audit event needs an action")
    return AuditEvent(
        who=caller.sub, role=caller.role, action=action, agency_id=caller.agency_id,
        brand_id=caller.brand_id, ids=tuple(ids), request_id=request_id, details=details or {},
    )


def _statement(audit_event: AuditEvent) -> list[access.Statement]:
    return [access.Statement(CREATE_EVENT, {"event": audit_event.properties()})]


def append(driver: neo4j.Driver, database: str, audit_event: AuditEvent) -> str:
    """Write one event; returns its id."""
    rows = access.write(driver, database, _statement(audit_event), timeout=WRITE_TIMEOUT,
                        name="audit:append")
    return str(rows[0][0]["event_id"])


async def append_async(driver: neo4j.AsyncDriver, database: str, audit_event: AuditEvent) -> str:
    rows = await access.write_async(driver, database, _statement(audit_event),
                                    timeout=WRITE_TIMEOUT, name="audit:append")
    return str(rows[0][0]["event_id"])


RECENT = f"""
MATCH (e:{LABEL}) WHERE $action IS NULL OR e.action = $action
RETURN e {{.*}} AS e ORDER BY e.at DESC, e.event_id LIMIT $limit
"""


def recent(driver: neo4j.Driver, database: str, *, limit: int = 20,
           action: str | None = None) -> list[dict[str, Any]]:
    """The newest `limit` events (optionally of one action), newest first."""
    records = access.read(driver, database, RECENT, {"limit": limit, "action": action},
                          timeout=WRITE_TIMEOUT, name="audit:recent")
    return [dict(r["e"]) for r in records]
