"""The outbox of alert deliveries to webhooks, kept in Neo4j, and the worker that empties it.

A `Delivery` node is one alert to one webhook. It is written in the same transaction as
the alert it carries (`ENQUEUE`, from `graph.alerts.keep_new`), so an alert is never
kept without its deliveries nor the reverse. Its id is the alert's id and the webhook's
joined: the same alert is never queued twice for one webhook, and the id is the
`Idempotency-Key` a receiver sees on every attempt.

`Worker` claims the deliveries that are due (`status` pending, `next_at` passed, no live
lease): the claim takes each node's write lock first and only then reads its state, so
two workers (threads, processes, machines) never claim the same delivery at once; the
lease (`lease_owner`, `lease_until`, longer than an attempt's timeout) is what lets
another worker take a delivery over once its claimant died. Each claimed delivery is
POSTed, signed (`graph.webhooks.sign`), and its outcome recorded only while the claim
still holds:

- a 2xx answer: `delivered`;
- no answer (connection refused or reset), a timeout, a 5xx or a 429: tried again after
  an exponential backoff with jitter (`backoff`; a `Retry-After` is followed, bounded),
  until `max_attempts` attempts, then `failed` with the last error;
- any other answer (3xx: redirects are not followed; 4xx), an address that is no longer
  allowed, a removed webhook: `failed` at once.

All times of the outbox (`next_at`, `lease_until`) are the Neo4j server's epoch
milliseconds, so workers on several machines agree. A service restart loses nothing:
what was pending is still pending in the graph, and a claim whose worker stopped comes
free when its lease ends (a worker that is stopped gives its claims back at once).
Delivery is at least once; the idempotency key lets a
receiver drop a repeat.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, LiteralString

import httpx
import neo4j
import neo4j.exceptions

from core import errors
from core.settings import Settings
from graph import access, webhooks
from graph.access import Statement

log = logging.getLogger(__name__)

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
STATUSES = (PENDING, DELIVERED, FAILED)
MAX_ERROR = 500
MAX_RETRY_AFTER = 3600.0
READ_TIMEOUT = 15.0

ENQUEUE: LiteralString = """
UNWIND $ids AS id
MATCH (a:Alert {alert_id: id})
MATCH (w:Webhook {receiver: a.receiver})
MERGE (d:Delivery {delivery_id: a.alert_id + '-' + w.webhook_id})
ON CREATE SET d.alert_id = a.alert_id, d.webhook_id = w.webhook_id, d.receiver = a.receiver,
  d.status = 'pending', d.attempts = 0, d.next_at = timestamp(), d.created_at = datetime(),
  d.updated_at = datetime()
WITH a.receiver AS receiver, count(d) AS n
RETURN sum(n) AS queued, collect({receiver: receiver, n: n}) AS by_receiver
"""
"""Queue each alert of `$ids` for every webhook of its receiver (with the alert's write):
how many in all, and by receiver."""

CLAIM: LiteralString = """
MATCH (d:Delivery) WHERE d.status = 'pending' AND d.next_at <= timestamp()
  AND coalesce(d.lease_until, 0) < timestamp()
WITH d ORDER BY d.next_at, d.delivery_id LIMIT $batch
SET d._claiming = true
WITH d, d.status = 'pending' AND coalesce(d.lease_until, 0) < timestamp() AS free
REMOVE d._claiming
WITH d WHERE free
SET d.lease_owner = $owner, d.lease_until = timestamp() + $lease_ms,
    d.attempts = coalesce(d.attempts, 0) + 1, d.updated_at = datetime()
WITH d
OPTIONAL MATCH (a:Alert {alert_id: d.alert_id})
OPTIONAL MATCH (w:Webhook {webhook_id: d.webhook_id})
RETURN d.delivery_id AS id, d.attempts AS attempts, w.url AS url, w.webhook_id AS webhook_id,
       a {.alert_id, .alert, .receiver, .status, .keys, .row, raised_at: toString(a.raised_at)}
       AS alert
"""
"""Claim up to `$batch` due deliveries for `$owner`: the `SET` takes each node's write
lock, and its state is read again under that lock (Neo4j's documented way to avoid a
lost update), so a delivery another worker claimed meanwhile is left out."""

RECORD: LiteralString = """
UNWIND $outcomes AS o
MATCH (d:Delivery {delivery_id: o.id}) WHERE d.lease_owner = $owner
SET d.status = o.status, d.last_status = o.http_status, d.last_error = o.error,
    d.next_at = CASE WHEN o.delay_ms IS NULL THEN d.next_at ELSE timestamp() + o.delay_ms END,
    d.lease_owner = null, d.lease_until = null, d.updated_at = datetime(),
    d.delivered_at = CASE WHEN o.status = 'delivered' THEN datetime() ELSE d.delivered_at END
RETURN count(d) AS recorded
"""
"""Record outcomes, each only while `$owner`'s claim on it still holds."""

RELEASE: LiteralString = """
UNWIND $ids AS id
MATCH (d:Delivery {delivery_id: id}) WHERE d.lease_owner = $owner
SET d.lease_owner = null, d.lease_until = null, d.updated_at = datetime(),
    d.last_error = 'interrupted: the worker stopped during the attempt'
"""

COUNTS: LiteralString = """
MATCH (d:Delivery) RETURN d.status AS status, count(d) AS n ORDER BY status
"""

LIST: LiteralString = """
MATCH (d:Delivery) WHERE $status IS NULL OR d.status = $status
OPTIONAL MATCH (a:Alert {alert_id: d.alert_id})
OPTIONAL MATCH (w:Webhook {webhook_id: d.webhook_id})
RETURN d.delivery_id AS id, a.alert AS alert, d.receiver AS receiver, w.url AS url,
       d.status AS status, d.attempts AS attempts,
       CASE WHEN d.status = 'pending' THEN toString(datetime({epochMillis: d.next_at})) END
         AS next_at,
       toString(d.delivered_at) AS delivered_at, d.last_status AS last_status,
       d.last_error AS last_error
ORDER BY CASE d.status WHEN 'failed' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END,
         d.updated_at DESC, d.delivery_id
LIMIT $limit
"""


# ---------------------------------------------------------------- policy


@dataclass(frozen=True)
class Policy:
    """How deliveries are tried. `lease` must outlast an attempt (`timeout`)."""

    max_attempts: int = 8
    timeout: float = 10.0
    base: float = 2.0
    """Seconds before the second attempt (doubled for each one after)."""
    cap: float = 3600.0
    """The longest wait between two attempts."""
    lease: float = 60.0
    batch: int = 50
    concurrency: int = 16
    allow_private: bool = False

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.batch < 1 or self.concurrency < 1:
            raise ValueError("max_attempts, batch and concurrency are 1 or more")
        if self.lease <= self.timeout:
            raise ValueError("the lease must outlast an attempt's timeout")


def backoff(attempt: int, policy: Policy, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1 for the first):
    `base * 2**(attempt-1)`, capped, of which a random half ("equal jitter"), so receivers
    coming back are not hit by every worker at once."""
    ceiling = min(policy.cap, policy.base * 2 ** (max(attempt, 1) - 1))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


# ---------------------------------------------------------------- one attempt


@dataclass
class Outcome:
    id: str
    status: str
    http_status: int | None = None
    error: str | None = None
    delay: float | None = None

    def as_param(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "http_status": self.http_status,
                "error": None if self.error is None else self.error[:MAX_ERROR],
                "delay_ms": None if self.delay is None else int(self.delay * 1000)}


def body_of(delivery_id: str, alert: Mapping[str, Any]) -> bytes:
    """The JSON a receiver gets: the alert as its receiver saw it (canonical JSON)."""
    payload = {
        "type": "alert.raised", "delivery_id": delivery_id, "alert_id": alert["alert_id"],
        "alert": alert["alert"], "receiver": alert["receiver"], "status": alert["status"],
        "raised_at": alert.get("raised_at"),
        "keys": json.loads(alert.get("keys") or "{}"),
        "row": json.loads(alert.get("row") or "{}"),
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def headers_for(secret: str, delivery_id: str, body: bytes, now: float | None = None
                ) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {"Content-Type": "application/json",
            webhooks.TIMESTAMP_HEADER: str(timestamp),
            webhooks.SIGNATURE_HEADER: webhooks.sign(secret, timestamp, body),
            webhooks.IDEMPOTENCY_HEADER: delivery_id,
            webhooks.DELIVERY_HEADER: delivery_id}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(value)))
    except ValueError:
        return None


@dataclass
class Claimed:
    id: str
    attempts: int
    url: str | None
    webhook_id: str | None
    alert: Mapping[str, Any] | None


# ---------------------------------------------------------------- the worker


@dataclass
class Pass:
    """What one pass of the worker did."""

    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    lost: int = 0
    """Outcomes not recorded: the claim had moved to another worker meanwhile."""

    def add(self, other: Pass) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass
class Worker:
    """Claims due deliveries and tries them. One object per process is enough; several
    (in one process or many) share the outbox safely."""

    driver: neo4j.AsyncDriver
    database: str
    key: bytes
    """ALLIANCE_WEBHOOK_KEY, from which each webhook's secret is derived."""
    policy: Policy = field(default_factory=Policy)
    owner: str = field(default_factory=lambda: f"worker-{uuid.uuid4().hex[:12]}")
    rng: random.Random = field(default_factory=random.Random)

    async def claim(self) -> list[Claimed]:
        result = await access.write_async(self.driver, self.database, [Statement(
            CLAIM, {"owner": self.owner, "batch": self.policy.batch,
                    "lease_ms": int(self.policy.lease * 1000)})], name="outbox:claim")
        return [Claimed(r["id"], r["attempts"], r["url"], r["webhook_id"], r["alert"])
                for r in result[0]]

    async def record(self, outcomes: list[Outcome]) -> int:
        if not outcomes:
            return 0
        result = await access.write_async(self.driver, self.database, [Statement(
            RECORD, {"owner": self.owner, "outcomes": [o.as_param() for o in outcomes]})],
            name="outbox:record")
        return int(result[0][0]["recorded"])

    async def release(self, ids: list[str]) -> None:
        """Give up the claim on `ids` without an outcome (the worker is stopping): they
        are due again at once, their attempt counted."""
        await access.write_async(self.driver, self.database, [Statement(
            RELEASE, {"owner": self.owner, "ids": ids})], name="outbox:release")

    def _retry_or_give_up(self, claimed: Claimed, error: str, http_status: int | None,
                          wait: float | None = None) -> Outcome:
        if claimed.attempts >= self.policy.max_attempts:
            return Outcome(claimed.id, FAILED, http_status,
                           f"gave up after {claimed.attempts} attempts: {error}")
        delay = wait if wait is not None else backoff(claimed.attempts, self.policy, self.rng)
        return Outcome(claimed.id, PENDING, http_status, error, delay)

    async def _allowed(self, url: str) -> str | None:
        """Why `url` may not be called now (None when it may); the host is resolved off
        the event loop, and only when private addresses are refused."""
        try:
            if self.policy.allow_private:
                webhooks.check_url(url)
            else:
                await asyncio.to_thread(webhooks.check_reachable, url, allow_private=False)
        except webhooks.BadWebhookUrl as exc:
            return str(exc)
        return None

    async def attempt(self, client: httpx.AsyncClient, claimed: Claimed) -> Outcome:
        """POST one claimed delivery and say what became of it."""
        if claimed.url is None or claimed.webhook_id is None:
            return Outcome(claimed.id, FAILED, error="webhook removed")
        if claimed.alert is None:
            return Outcome(claimed.id, FAILED, error="alert removed")
        refused = await self._allowed(claimed.url)
        if refused is not None:
            return Outcome(claimed.id, FAILED, error=refused)
        body = body_of(claimed.id, claimed.alert)
        secret = webhooks.secret_for(self.key, claimed.webhook_id)
        try:
            async with asyncio.timeout(self.policy.timeout):  # the whole attempt, not per read
                response = await client.post(claimed.url, content=body,
                                             headers=headers_for(secret, claimed.id, body))
        except (httpx.TimeoutException, TimeoutError):
            return self._retry_or_give_up(claimed, f"no answer within {self.policy.timeout:g} s",
                                          None)
        except httpx.HTTPError as exc:
            return self._retry_or_give_up(claimed, f"{type(exc).__name__}: {exc}"[:MAX_ERROR],
                                          None)
        status = response.status_code
        if 200 <= status < 300:
            return Outcome(claimed.id, DELIVERED, status)
        if status == 429 or status >= 500:
            return self._retry_or_give_up(claimed, f"HTTP {status}", status, _retry_after(response))
        return Outcome(claimed.id, FAILED, status, f"HTTP {status} (not retried)")

    def client(self) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=self.policy.concurrency,
                              max_keepalive_connections=self.policy.concurrency)
        return httpx.AsyncClient(timeout=self.policy.timeout, follow_redirects=False,
                                 trust_env=False, limits=limits)

    async def _batch(self, client: httpx.AsyncClient) -> Pass:
        claimed = await self.claim()
        done = Pass(claimed=len(claimed))
        if not claimed:
            return done
        gate = asyncio.Semaphore(self.policy.concurrency)

        async def one(c: Claimed) -> Outcome:
            async with gate:
                return await self.attempt(client, c)

        try:
            outcomes = await asyncio.gather(*(one(c) for c in claimed))
        except asyncio.CancelledError:
            await self.release([c.id for c in claimed])  # stopping: free them for others now
            raise
        recorded = await self.record(list(outcomes))
        done.lost = len(outcomes) - recorded
        for o in outcomes:
            if o.status == DELIVERED:
                done.delivered += 1
            elif o.status == FAILED:
                done.failed += 1
            else:
                done.retrying += 1
        return done

    async def run_once(self, client: httpx.AsyncClient | None = None) -> Pass:
        """Try every delivery that is due now (batch after batch), once."""
        total = Pass()
        async with self.client() if client is None else _borrowed(client) as http:
            while True:
                done = await self._batch(http)
                total.add(done)
                if done.claimed < self.policy.batch:
                    return total

    async def forever(self, poll: float) -> None:
        """Run passes until cancelled; wait `poll` seconds after a pass that found nothing."""
        async with self.client() as http:
            while True:
                try:
                    done = await self.run_once(http)
                    if done.claimed:
                        log.info("webhook deliveries: %s", dataclasses.asdict(done))
                        continue
                except (errors.AllianceError, neo4j.exceptions.Neo4jError, httpx.HTTPError,
                        OSError) as exc:
                    log.warning("webhook deliveries not run: %s", exc)
                await asyncio.sleep(poll)


class _borrowed:
    """A client the caller owns: used, not closed."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __aenter__(self) -> httpx.AsyncClient:
        return self.client

    async def __aexit__(self, *exc: object) -> None:
        return None


def worker_for(driver: neo4j.AsyncDriver, database: str, settings: Settings) -> Worker:
    """The worker as the settings say (ALLIANCE_WEBHOOK_*)."""
    timeout = settings.alliance_webhook_timeout_seconds
    policy = Policy(max_attempts=settings.alliance_webhook_max_attempts, timeout=timeout,
                    lease=max(Policy.lease, timeout * 3),
                    allow_private=settings.alliance_webhook_allow_private)
    return Worker(driver, database, settings.webhook_key(), policy)


def counts(driver: neo4j.Driver, database: str) -> dict[str, int]:
    """Deliveries by status."""
    rows = access.read(driver, database, COUNTS, {}, timeout=READ_TIMEOUT, name="outbox:counts")
    found = {status: 0 for status in STATUSES}
    found.update({r["status"]: r["n"] for r in rows})
    return found
