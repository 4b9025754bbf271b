"""Watchlist alerts over GraphQL, and their schedule inside `alliance serve`.

A caller reads and changes only its own receiver's alerts (`graph.alerts.receiver_id`:
its role; a police liaison its agency's; a brand member its brand's), which the alert
runs made by running each query AS that receiver, so nothing here widens what the
caller may see. `updateAlert` moves an alert (new -> confirmed / dismissed) and is
audited; `raiseLeadFromAlert` makes a draft lead of the alert's entities through the
lead creation of `api.leads` (its roles, its brand rule, its visibility checks).

`webhooks`, `registerWebhook` and `removeWebhook` manage the caller's receiver's
webhooks (`graph.webhooks`): the signing secret is shown once, in the answer to
`registerWebhook`, and never stored; the platform's service token has none.

`AlertSchedule` runs the alerts that are due (each alert's `every`) one run at a time,
off the event loop with a sync driver of its own, from a task started in the app's
lifespan when `ALLIANCE_ALERTS_SCHEDULE` is on. Beside it, the webhook delivery worker
(`graph.outbox.Worker`, its own async driver) empties the outbox when
`ALLIANCE_WEBHOOK_DELIVERY` is on (`alliance serve` turns it on unless it is set).
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
from core.settings import get_settings
from graph import access, alerts, audit, drivers, outbox, query_library, webhooks
from graph.access import Statement
from graph.drivers import Connection

log = logging.getLogger("api.alerts")
MAX_FIRST = 100
DELIVERY_POLL = 2.0
"""Seconds the delivery worker waits after a pass that found nothing due."""


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


# ---------------------------------------------------------------- webhooks


@strawberry.type(description="Deliveries of one status to a webhook.")
class DeliveryCount:
    status: str
    count: int


@strawberry.type(description="A webhook of the caller's receiver: each new alert is POSTed "
                             "to it, signed (see docs/alerts.md).")
class AlertWebhook:
    id: strawberry.ID
    url: str
    created_at: str | None
    created_by: str | None
    deliveries: list[DeliveryCount]


@strawberry.type(description="A webhook just registered, with its signing secret: shown "
                             "this once, never again.")
class RegisteredWebhook:
    webhook: AlertWebhook
    secret: str


def alert_webhook(data: dict[str, Any]) -> AlertWebhook:
    counts = [DeliveryCount(status=c["status"], count=c["n"])
              for c in sorted(data.get("counts") or [], key=lambda c: str(c["status"]))]
    return AlertWebhook(id=strawberry.ID(data["webhook_id"]), url=data["url"],
                        created_at=_text(data.get("created_at")),
                        created_by=data.get("created_by"), deliveries=counts)


def _receiver(ctx: Context) -> str:
    if ctx.caller.role == "platform":
        raise errors.Forbidden("the platform's service token receives no alerts")
    return alerts.receiver_id(ctx.caller)


async def webhook_list(ctx: Context) -> list[AlertWebhook]:
    rows = await access.read_async(ctx.driver, ctx.database, webhooks.LIST,
                                   {"receiver": _receiver(ctx)}, timeout=ctx.timeout,
                                   name="webhooks:list")
    return [alert_webhook(dict(r["webhook"])) for r in rows]


async def register(ctx: Context, url: str) -> RegisteredWebhook:
    receiver = _receiver(ctx)
    settings = get_settings()
    await asyncio.to_thread(webhooks.check_reachable, url,
                            allow_private=settings.alliance_webhook_allow_private)
    webhook_id = webhooks.new_webhook_id()
    caller = ctx.caller
    written = await access.write_async(ctx.driver, ctx.database, [Statement(
        webhooks.REGISTER,
        {"id": webhook_id, "receiver": receiver, "role": caller.role, "url": url,
         "agency_id": caller.agency_id if caller.role == "police_liaison" else None,
         "brand_id": caller.brand_id if caller.role == "brand_member" else None,
         "who": caller.sub, "most": webhooks.MAX_PER_RECEIVER})], name="webhooks:register")
    if not written[0]:
        raise webhooks.TooManyWebhooks(
            f"a receiver has at most {webhooks.MAX_PER_RECEIVER} webhooks; remove one first")
    await _audited(ctx, "webhook.register", [webhook_id],
                   {"host": webhooks.check_url(url)[0]})
    secret = webhooks.secret_for(settings.webhook_key(), webhook_id)
    return RegisteredWebhook(webhook=alert_webhook(dict(written[0][0]["webhook"])), secret=secret)


async def remove(ctx: Context, webhook_id: str) -> bool:
    receiver = _receiver(ctx)
    written = await access.write_async(ctx.driver, ctx.database, [Statement(
        webhooks.REMOVE, {"id": webhook_id, "receiver": receiver})], name="webhooks:remove")
    if not written[0]:
        raise webhooks.WebhookNotFound(f"no webhook {webhook_id!r}")
    await _audited(ctx, "webhook.remove", [webhook_id], {})
    return True


@strawberry.type
class AlertsQuery:
    @strawberry.field(description="The caller's own alerts (its receiver's), newest first.")
    async def alerts(self, info: strawberry.Info, status: str | None = None, first: int = 20,
                     after: str | None = None) -> WatchAlertPage:
        return await page(info.context, status, first, after)

    @strawberry.field(description="The webhooks of the caller's receiver, with their "
                                  "deliveries by status.")
    async def webhooks(self, info: strawberry.Info) -> list[AlertWebhook]:
        return await webhook_list(info.context)


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

    @strawberry.mutation(description="Register a webhook for the caller's receiver's new "
                                     "alerts (http or https; public addresses only unless "
                                     "the service allows private ones). The answer holds "
                                     "the signing secret, shown this once (audited).")
    async def register_webhook(self, info: strawberry.Info, url: str) -> RegisteredWebhook:
        return await register(info.context, url)

    @strawberry.mutation(description="Remove one of the caller's receiver's webhooks; its "
                                     "pending deliveries are marked failed (audited).")
    async def remove_webhook(self, info: strawberry.Info, id: strawberry.ID) -> bool:
        return await remove(info.context, str(id))


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
async def _task(coroutine: Any, name: str) -> Any:
    task = asyncio.create_task(coroutine, name=name)
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def delivering(connection: Connection, poll: float = DELIVERY_POLL) -> Any:
    """The webhook delivery worker's task, with its own driver (nothing when
    ALLIANCE_WEBHOOK_DELIVERY is off)."""
    if not get_settings().alliance_webhook_delivery:
        yield None
        return
    driver = drivers.open_async_driver(connection)
    try:
        worker = outbox.worker_for(driver, connection.database, get_settings())
        async with _task(worker.forever(poll), "webhook-deliveries"):
            yield worker
    finally:
        await driver.close()


@contextlib.asynccontextmanager
async def scheduled(connection: Connection, enabled: bool, tick: float) -> Any:
    """The schedule's task for the app's lifespan (nothing when not `enabled`), and the
    webhook delivery worker beside it."""
    async with delivering(connection):
        if not enabled:
            yield None
            return
        schedule = AlertSchedule(connection, tick)
        async with _task(schedule.forever(), "alerts-schedule"):
            yield schedule
