"""Watchlist alerts over GraphQL, and their schedule inside `alliance serve`.

A caller reads and changes only its own receiver's alerts (`graph.alerts.receiver_id`:
its role; a police liaison its agency's; a brand member its brand's), which the alert
runs made by running each query AS that receiver, so nothing here widens what the
caller may see. `updateAlert` moves an alert (new -> confirmed / dismissed) and is
audited; `raiseLeadFromAlert` makes a draft lead of the alert's entities through the
lead creation of `api.leads` (its roles, its brand rule, its visibility checks).

`AlertSchedule` runs the alerts that are due (each alert's `every`) one run at a time,
off the event loop with a sync driver of its own, from a task started in the app's
lifespan when `ALLIANCE_ALERTS_SCHEDULE` is on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any, Optional

import neo4j
import strawberry

from api.context import Context
from api.leads import CreateLeadInput, LeadType, create_lead
from api.types import check_first, cursor, offset_after
from core import errors
from graph import access, alerts, audit, drivers, query_library
from graph.access import Statement
from graph.drivers import Connection

log = logging.getLogger("api.alerts")
MAX_FIRST = 100


@strawberry.type(description="An entity an alert is about, by its model key.")
class AlertSubject:
    label: str
    key: str


@strawberry.type(description="A new match of a watchlist alert for the caller's receiver.")
class WatchAlert:
    id: strawberry.ID
    alert: str
    status: str
    raised_at: str | None
    updated_at: str | None
    updated_by: str | None
    note: str | None
    keys: str = strawberry.field(description="The key columns as JSON.")
    row: str = strawberry.field(description="The row as the receiver saw it, as JSON.")
    subjects: list[AlertSubject]


@strawberry.type
class WatchAlertPage:
    total: int
    nodes: list[WatchAlert]
    end_cursor: str | None
    has_next_page: bool


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def watch_alert(data: dict[str, Any]) -> WatchAlert:
    subjects = [AlertSubject(label=label, key=key)
                for label, keys in sorted(alerts.subject_ids(data).items()) for key in keys]
    return WatchAlert(id=strawberry.ID(data["alert_id"]), alert=data["alert"],
                      status=data["status"], raised_at=_text(data.get("raised_at")),
                      updated_at=_text(data.get("updated_at")),
                      updated_by=data.get("updated_by"), note=data.get("note"),
                      keys=data.get("keys") or "{}", row=data.get("row") or "{}",
                      subjects=subjects)


async def page(ctx: Context, status: str | None, first: int, after: str | None) -> WatchAlertPage:
    first = check_first(first, cap=MAX_FIRST)
    skip = offset_after(after)
    rows = await access.read_async(
        ctx.driver, ctx.database, alerts.LIST,
        {"receiver": alerts.receiver_id(ctx.caller), "status": status, "skip": skip,
         "first": first}, timeout=ctx.timeout, name="alerts:page")
    total, found = rows[0]["total"], rows[0]["page"]
    end = skip + len(found)
    return WatchAlertPage(total=total, nodes=[watch_alert(a) for a in found],
                          end_cursor=cursor(end) if found else None, has_next_page=end < total)


async def one(ctx: Context, alert_id: str) -> dict[str, Any]:
    rows = await access.read_async(
        ctx.driver, ctx.database, alerts.ONE,
        {"id": alert_id, "receiver": alerts.receiver_id(ctx.caller)},
        timeout=ctx.timeout, name="alerts:one")
    if not rows:
        raise alerts.AlertNotFound(f"no alert {alert_id!r}")
    return dict(rows[0]["alert"])


async def _audited(ctx: Context, action: str, ids: list[str], details: dict[str, Any]) -> None:
    await audit.append_async(ctx.driver, ctx.database, audit.event(
        ctx.caller, action, ids=ids, request_id=ctx.request_id, details=details))


async def update(ctx: Context, alert_id: str, status: str, note: str | None) -> WatchAlert:
    alerts.check_note(note)
    old = (await one(ctx, alert_id))["status"]
    alerts.check_move(old, status)
    await access.write_async(ctx.driver, ctx.database, [Statement(
        alerts.UPDATE, {"id": alert_id, "receiver": alerts.receiver_id(ctx.caller),
                        "from": old, "to": status, "who": ctx.caller.sub, "note": note},
        must_match=True)], name="alerts:update")
    await _audited(ctx, "alert.update", [alert_id], {"from": old, "to": status})
    return watch_alert(await one(ctx, alert_id))


def lead_input(data: dict[str, Any], brand_ids: list[strawberry.ID] | None) -> CreateLeadInput:
    found = alerts.subject_ids(data)

    def ids(label: str) -> list[strawberry.ID]:
        return [strawberry.ID(v) for v in found.get(label, [])]

    brands = brand_ids if brand_ids is not None else (ids("Brand") or None)
    return CreateLeadInput(
        title=f"{data['alert']}", brand_ids=brands, seller_ids=ids("Seller"),
        shop_ids=ids("Shop"), site_ids=ids("Site"), person_ids=ids("Person"),
        purchase_ids=ids("TestPurchase"), complaint_ids=ids("Complaint"),
        note=f"raised from alert {data['alert_id']}")


async def raise_lead(ctx: Context, alert_id: str, brand_ids: list[strawberry.ID] | None) -> Any:
    data = await one(ctx, alert_id)
    lead = await create_lead(ctx, lead_input(data, brand_ids))
    lead_id = str(lead.lead_id)
    await access.write_async(ctx.driver, ctx.database, [Statement(
        alerts.LINK_LEAD, {"id": alert_id, "lead_id": lead_id}, must_match=True)],
        name="alerts:lead")
    await _audited(ctx, "alert.raise_lead", [alert_id, lead_id], {"lead_id": lead_id})
    return lead


@strawberry.type
class AlertsQuery:
    @strawberry.field(description="The caller's own alerts (its receiver's), newest first.")
    async def alerts(self, info: strawberry.Info, status: str | None = None, first: int = 20,
                     after: str | None = None) -> WatchAlertPage:
        return await page(info.context, status, first, after)


@strawberry.type
class AlertsMutation:
    @strawberry.mutation(description="Confirm or dismiss one of the caller's alerts (audited).")
    async def update_alert(self, info: strawberry.Info, id: strawberry.ID, status: str,
                           note: str | None = None) -> WatchAlert:
        return await update(info.context, str(id), status, note)

    @strawberry.mutation(description="A draft lead with the alert's entities, made as "
                                     "createLead makes one (its roles and rules).",
                         graphql_type=Optional[LeadType])  # noqa: UP045
    async def raise_lead_from_alert(self, info: strawberry.Info, id: strawberry.ID,
                                    brand_ids: list[strawberry.ID] | None = None) -> Any:
        return await raise_lead(info.context, str(id), brand_ids)


# ---------------------------------------------------------------- the schedule


class AlertSchedule:
    """Runs the alerts that are due, one run at a time, each bounded by its alert's own
    row and time caps; a failed run is logged and tried at the next tick."""

    def __init__(self, connection: Connection, tick: float) -> None:
        self.connection = connection
        self.tick = tick
        self.last_run: dict[str, float] = {}
        self.lock = asyncio.Lock()

    def due(self, library: query_library.Library, now: float) -> list[query_library.SavedQuery]:
        found = []
        for query in alerts.alert_queries(library):
            assert query.alert is not None
            if now - self.last_run.get(query.name, float("-inf")) >= query.alert.every:
                found.append(query)
        return found

    def run_due(self) -> alerts.AlertRun | None:
        with drivers.open_driver(self.connection) as driver:
            library = query_library.load_checked(driver, self.connection.database)
            now = time.monotonic()
            due = self.due(library, now)
            if not due:
                return None
            report = alerts.run_alerts(driver, self.connection.database, due)
            for query in due:
                if query.name not in report.failures:
                    self.last_run[query.name] = now
            return report

    async def once(self) -> alerts.AlertRun | None:
        async with self.lock:
            return await asyncio.to_thread(self.run_due)

    async def forever(self) -> None:
        while True:
            try:
                report = await self.once()
                if report is not None and report.raised:
                    log.info("alerts raised: %s", json.dumps(report.raised_by_alert()))
            except (errors.AllianceError, neo4j.exceptions.Neo4jError, OSError) as exc:
                log.warning("scheduled alerts not run: %s", exc)
            await asyncio.sleep(self.tick)


@contextlib.asynccontextmanager
async def scheduled(connection: Connection, enabled: bool, tick: float) -> Any:
    """The schedule's task for the app's lifespan (nothing when not `enabled`)."""
    if not enabled:
        yield None
        return
    schedule = AlertSchedule(connection, tick)
    task = asyncio.create_task(schedule.forever(), name="alerts-schedule")
    try:
        yield schedule
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
