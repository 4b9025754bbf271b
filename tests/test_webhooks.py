"""Webhook deliveries of alerts on a real Neo4j, to a real HTTP receiver on 127.0.0.1:
signed and verified with the recipe of docs/alerts.md, retried when the receiver is
down, failing or slow, given up after the last attempt, resumed by a new worker (or a
restarted service), and never delivered by two workers at once."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from graph import access, alerts, outbox, webhooks
from graph.access import Statement
from graph.drivers import Connection, open_async_driver
from tests.saved_query_fixture import write_fixture

KEY = b"a-test-webhook-key-of-some-length"
FAST = outbox.Policy(max_attempts=4, timeout=0.5, base=0.05, cap=0.2, lease=2.0, batch=10,
                     allow_private=True)
DOCS = Path(__file__).resolve().parents[1] / "docs" / "alerts.md"


def recipe() -> Callable[..., bool]:
    """`verify` as docs/alerts.md gives it to receivers."""
    text = DOCS.read_text(encoding="utf-8")
    found = re.search(r"<!-- verify-recipe -->\s*```python\n(.*?)```", text, re.S)
    assert found, "docs/alerts.md has no verify recipe"
    namespace: dict[str, Any] = {}
    exec(compile(found.group(1), str(DOCS), "exec"), namespace)  # noqa: S102 - our own docs
    verify: Callable[..., bool] = namespace["verify"]
    return verify


# ---------------------------------------------------------------- a receiver


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    """An HTTP server on 127.0.0.1 that answers POSTs from `script` (an HTTP status,
    ("slow", seconds) to answer 200 that late, or ("trickle", seconds) to send a 200's body
    a byte at a time over that long), then 200, and keeps every request."""

    def __init__(self, port: int | None = None, script: list[Any] | None = None,
                 delay: float = 0.0) -> None:
        self.port = port or free_port()
        self.script = list(script or [])
        self.delay = delay
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def keys(self) -> list[str]:
        with self.lock:
            return [h["Idempotency-Key"] for h, _ in self.got]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.got.append((dict(self.headers.items()), body))
                    step = receiver.script.pop(0) if receiver.script else 200
                if isinstance(step, tuple) and step[0] == "trickle":
                    self._trickle(step[1])
                    return
                if isinstance(step, tuple):
                    time.sleep(step[1])
                    step = 200
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(step)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _trickle(self, seconds: float) -> None:
                """Answer 200 with a body sent one byte at a time over `seconds`."""
                self.send_response(200)
                self.send_header("Content-Length", "10")
                self.end_headers()
                for _ in range(10):
                    self.wfile.write(b".")
                    self.wfile.flush()
                    time.sleep(seconds / 10)

            def log_message(self, *args: Any) -> None:
                return None

        return Handler

    def start(self) -> Receiver:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.stop()


# ---------------------------------------------------------------- the graph


def register(driver: Driver, database: str, url: str, receiver: str = "investigator") -> str:
    webhook_id = webhooks.new_webhook_id()
    access.write(driver, database, [Statement(webhooks.REGISTER, {
        "id": webhook_id, "receiver": receiver, "role": receiver.split(":")[0], "url": url,
        "agency_id": None, "brand_id": None, "who": "test", "most": webhooks.MAX_PER_RECEIVER},
        must_match=True)])
    return webhook_id


def raise_alerts(driver: Driver, database: str, n: int, receiver: str = "investigator") -> int:
    """`n` alerts for `receiver`, queued as an alert run queues them; the deliveries queued."""
    ids = [f"alert-{i:04d}" for i in range(n)]
    written = access.write(driver, database, [
        Statement("UNWIND $ids AS id CREATE (:Alert {alert_id: id, alert: 'alert-test', "
                  "receiver: $receiver, status: 'new', keys: '{\"shop_id\": \"SH1\"}', "
                  "row: '{\"shop_id\": \"SH1\", \"n\": 1}', raised_at: datetime()})",
                  {"ids": ids, "receiver": receiver}),
        Statement(outbox.ENQUEUE, {"ids": ids})])
    return int(written[1][0]["queued"])


def deliveries(driver: Driver, database: str) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        "MATCH (d:Delivery) RETURN d {.*} AS d ORDER BY d.delivery_id", database_=database)
    return [dict(r["d"]) for r in records]


def worker(conn: Connection, policy: outbox.Policy = FAST) -> outbox.Worker:
    return outbox.Worker(open_async_driver(conn), conn.database, KEY, policy)


async def drain(w: outbox.Worker, done: Callable[[], bool], rounds: int = 100) -> outbox.Pass:
    """Passes of `w` until `done()` (bounded), waiting a little for retries to come due."""
    total = outbox.Pass()
    for _ in range(rounds):
        total.add(await w.run_once())
        if done():
            return total
        await asyncio.sleep(0.05)
    raise AssertionError(f"not done after {rounds} passes: {total}")


def settled(driver: Driver, database: str) -> Callable[[], bool]:
    return lambda: all(d["status"] != "pending" for d in deliveries(driver, database))


# ---------------------------------------------------------------- the tests


def test_a_new_alert_reaches_the_receivers_webhook_signed(
    clean_db: Driver, database: str, neo4j_connection: Connection, receiver: Receiver,
) -> None:
    write_fixture(clean_db, database)
    receiver.start()
    webhook_id = register(clean_db, database, receiver.url)
    other = register(clean_db, database, receiver.url, receiver="brand_member:B3")
    report = alerts.run_all(clean_db, database, "alert-suspended-seller-identifiers")
    assert report.raised == 1 and report.queued == 1  # queued with the alert, for its receiver

    async def scenario() -> outbox.Pass:
        w = worker(neo4j_connection)
        try:
            return await w.run_once()
        finally:
            await w.driver.close()

    done = asyncio.run(scenario())
    assert (done.claimed, done.delivered) == (1, 1)
    [(headers, body)] = receiver.got
    [delivery] = deliveries(clean_db, database)
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1
    assert delivery["webhook_id"] == webhook_id != other
    assert headers["Idempotency-Key"] == delivery["delivery_id"] == headers["X-Alliance-Delivery"]
    payload = json.loads(body)
    assert payload["alert"] == "alert-suspended-seller-identifiers"
    assert payload["receiver"] == "investigator" and payload["alert_id"] == delivery["alert_id"]
    assert payload["keys"] and payload["row"]
    verify = recipe()
    secret = webhooks.secret_for(KEY, webhook_id)
    stamp, signature = headers["X-Alliance-Timestamp"], headers["X-Alliance-Signature"]
    assert verify(secret, body, stamp, signature)
    assert not verify(webhooks.secret_for(KEY, other), body, stamp, signature)  # wrong secret
    assert not verify(secret, body.replace(b"investigator", b"investigatoR"), stamp, signature)
    assert not verify(secret, body, stamp, signature, now=int(stamp) + 301)  # a replay, later
    assert not verify(secret, body, str(int(stamp) + 1), signature)  # a timestamp changed


def test_receiver_down_then_up_gets_it_once_from_a_new_worker(
    clean_db: Driver, database: str, neo4j_connection: Connection,
) -> None:
    down = Receiver()  # nothing listens on its port yet
    register(clean_db, database, down.url)
    assert raise_alerts(clean_db, database, 1) == 1

    async def first_worker() -> outbox.Pass:
        w = worker(neo4j_connection)
        try:
            return await w.run_once()
        finally:
            await w.driver.close()  # the service stops

    first = asyncio.run(first_worker())
    assert (first.claimed, first.retrying, first.delivered) == (1, 1, 0)
    [pending] = deliveries(clean_db, database)
    assert pending["status"] == "pending" and pending["attempts"] == 1
    assert "Connect" in pending["last_error"] and pending.get("lease_owner") is None

    down.start()
    try:
        async def second_worker() -> outbox.Pass:
            w = worker(neo4j_connection)  # another process would see the same graph
            try:
                return await drain(w, settled(clean_db, database))
            finally:
                await w.driver.close()

        second = asyncio.run(second_worker())
        assert second.delivered == 1
        assert down.keys() == [pending["delivery_id"]]
        [delivered] = deliveries(clean_db, database)
        assert delivered["status"] == "delivered" and delivered["attempts"] == 2
    finally:
        down.stop()


def test_5xx_and_429_are_retried_until_ok(
    clean_db: Driver, database: str, neo4j_connection: Connection,
) -> None:
    flaky = Receiver(script=[503, 429, 500]).start()
    try:
        register(clean_db, database, flaky.url)
        raise_alerts(clean_db, database, 1)

        async def scenario() -> outbox.Pass:
            w = worker(neo4j_connection)
            try:
                return await drain(w, settled(clean_db, database))
            finally:
                await w.driver.close()

        done = asyncio.run(scenario())
        assert (done.retrying, done.delivered, done.failed) == (3, 1, 0)
        [delivery] = deliveries(clean_db, database)
        assert delivery["status"] == "delivered" and delivery["attempts"] == 4
        assert len(set(flaky.keys())) == 1 and len(flaky.keys()) == 4  # one key, four tries
        stamps = [h["X-Alliance-Timestamp"] for h, _ in flaky.got]
        verify = recipe()
        secret = webhooks.secret_for(KEY, delivery["webhook_id"])
        assert all(verify(secret, b, h["X-Alliance-Timestamp"], h["X-Alliance-Signature"])
                   for h, b in flaky.got), stamps
    finally:
        flaky.stop()


def test_a_receiver_slower_than_the_timeout_is_tried_again(
    clean_db: Driver, database: str, neo4j_connection: Connection,
) -> None:
    slow = Receiver(script=[("slow", 1.5)]).start()
    try:
        register(clean_db, database, slow.url)
        raise_alerts(clean_db, database, 1)

        async def scenario() -> tuple[outbox.Pass, dict[str, Any]]:
            w = worker(neo4j_connection)
            try:
                first = await w.run_once()
                after_first = deliveries(clean_db, database)[0]
                assert first.retrying == 1, first
                await drain(w, settled(clean_db, database))
                return first, after_first
            finally:
                await w.driver.close()

        _, after_first = asyncio.run(scenario())
        assert after_first["status"] == "pending"
        assert after_first["last_error"] == "no answer within 0.5 s"
        [delivery] = deliveries(clean_db, database)
        assert delivery["status"] == "delivered" and delivery["attempts"] == 2
        # at least once: the slow answer came too late, so the receiver saw it twice,
        # with the same idempotency key
        assert slow.keys() == [delivery["delivery_id"]] * 2
    finally:
        slow.stop()


def test_an_answer_that_trickles_in_counts_as_a_timeout(
    clean_db: Driver, database: str, neo4j_connection: Connection,
) -> None:
    trickle = Receiver(script=[("trickle", 3.0)]).start()
    try:
        register(clean_db, database, trickle.url)
        raise_alerts(clean_db, database, 1)
        policy = outbox.Policy(timeout=1.0, lease=5.0, base=0.05, cap=0.2, allow_private=True)

        async def scenario() -> outbox.Pass:
            w = worker(neo4j_connection, policy)
            try:
                return await w.run_once()
            finally:
                await w.driver.close()

        done = asyncio.run(scenario())
        assert done.retrying == 1  # each read came within a second; the whole did not
        [delivery] = deliveries(clean_db, database)
        assert delivery["last_error"] == "no answer within 1 s"
    finally:
        trickle.stop()


def test_given_up_after_the_last_attempt_and_4xx_not_retried(
    clean_db: Driver, database: str, neo4j_connection: Connection,
) -> None:
    broken = Receiver(script=[500] * 10).start()
    gone = Receiver(script=[404]).start()
    try:
        register(clean_db, database, broken.url, receiver="investigator")
        register(clean_db, database, gone.url, receiver="admin")
        raise_alerts(clean_db, database, 1, receiver="investigator")
        access.write(clean_db, database, [Statement(
            "CREATE (:Alert {alert_id: 'admin-1', alert: 'alert-test', receiver: 'admin', "
            "status: 'new', keys: '{}', row: '{}'})"), Statement(outbox.ENQUEUE,
                                                                {"ids": ["admin-1"]})])

        async def scenario() -> outbox.Pass:
            w = worker(neo4j_connection, FAST)
            try:
                return await drain(w, settled(clean_db, database))
            finally:
                await w.driver.close()

        done = asyncio.run(scenario())
        assert done.failed == 2 and done.delivered == 0
        found = {d["receiver"]: d for d in deliveries(clean_db, database)}
        assert found["investigator"]["status"] == "failed"
        assert found["investigator"]["attempts"] == FAST.max_attempts == len(broken.got)
        assert found["investigator"]["last_error"] == "gave up after 4 attempts: HTTP 500"
        assert found["admin"]["status"] == "failed" and found["admin"]["attempts"] == 1
        assert found["admin"]["last_error"] == "HTTP 404 (not retried)" and len(gone.got) == 1
    finally:
        broken.stop()
        gone.stop()


def test_a_claim_holds_until_its_lease_ends_then_another_worker_resumes(
    clean_db: Driver, database: str, neo4j_connection: Connection, receiver: Receiver,
) -> None:
    receiver.start()
    register(clean_db, database, receiver.url)
    raise_alerts(clean_db, database, 3)

    async def scenario() -> tuple[int, outbox.Pass, int]:
        dead = worker(neo4j_connection)  # claims, then "dies" before trying
        alive = worker(neo4j_connection)
        try:
            claimed = await dead.claim()
            blocked = await alive.run_once()
            assert blocked.claimed == 0  # the lease holds
            resumed = await drain(alive, settled(clean_db, database), rounds=600)
            late = await dead.record([outbox.Outcome(c.id, outbox.DELIVERED, 200)
                                      for c in claimed])
            return len(claimed), resumed, late
        finally:
            await dead.driver.close()
            await alive.driver.close()

    claimed, resumed, late = asyncio.run(scenario())
    assert claimed == 3 and resumed.delivered == 3
    assert late == 0  # the dead worker's claim had moved on: its outcome is not recorded
    assert sorted(receiver.keys()) == sorted(d["delivery_id"] for d in deliveries(clean_db, database))
    assert {d["attempts"] for d in deliveries(clean_db, database)} == {2}


def test_a_stopped_worker_gives_its_claims_back(
    clean_db: Driver, database: str, neo4j_connection: Connection,
) -> None:
    slow = Receiver(script=[("slow", 3.0)]).start()
    try:
        register(clean_db, database, slow.url)
        raise_alerts(clean_db, database, 1)
        policy = outbox.Policy(timeout=10.0, lease=60.0, allow_private=True)

        async def scenario() -> None:
            w = worker(neo4j_connection, policy)
            try:
                task = asyncio.create_task(w.run_once())
                while not slow.got:
                    await asyncio.sleep(0.02)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            finally:
                await w.driver.close()

        asyncio.run(scenario())
        [delivery] = deliveries(clean_db, database)
        assert delivery["status"] == "pending" and delivery.get("lease_owner") is None
        assert delivery["last_error"] == "interrupted: the worker stopped during the attempt"
    finally:
        slow.stop()


def test_concurrent_claims_never_take_the_same_delivery(
    clean_db: Driver, database: str, neo4j_connection: Connection,
) -> None:
    register(clean_db, database, "http://127.0.0.1:9/never")
    assert raise_alerts(clean_db, database, 60) == 60

    async def scenario() -> list[list[outbox.Claimed]]:
        claimers = [worker(neo4j_connection, outbox.Policy(batch=60, lease=30.0, timeout=1.0))
                    for _ in range(6)]
        try:
            return list(await asyncio.gather(*(w.claim() for w in claimers)))
        finally:
            for w in claimers:
                await w.driver.close()

    claims = asyncio.run(scenario())
    ids = [c.id for claim in claims for c in claim]
    assert len(ids) == len(set(ids)) == 60, Counter(len(c) for c in claims)
    owners = {d["delivery_id"]: d["lease_owner"] for d in deliveries(clean_db, database)}
    assert all(d["attempts"] == 1 for d in deliveries(clean_db, database))
    assert len(set(owners.values())) == sum(1 for c in claims if c)


def test_two_workers_deliver_each_delivery_once(
    clean_db: Driver, database: str, neo4j_connection: Connection,
) -> None:
    slowish = Receiver(delay=0.01).start()
    try:
        register(clean_db, database, slowish.url)
        raise_alerts(clean_db, database, 40)
        policy = outbox.Policy(timeout=5.0, lease=30.0, batch=4, concurrency=4,
                               allow_private=True)

        async def scenario() -> list[outbox.Pass]:
            pair = [worker(neo4j_connection, policy), worker(neo4j_connection, policy)]
            try:
                return list(await asyncio.gather(*(w.run_once() for w in pair)))
            finally:
                for w in pair:
                    await w.driver.close()

        passes = asyncio.run(scenario())
        assert sum(p.delivered for p in passes) == 40
        counts = Counter(slowish.keys())
        assert len(counts) == 40 and set(counts.values()) == {1}
        assert {d["status"] for d in deliveries(clean_db, database)} == {"delivered"}
    finally:
        slowish.stop()


def test_a_removed_webhook_fails_its_pending_deliveries(
    clean_db: Driver, database: str, neo4j_connection: Connection,
) -> None:
    webhook_id = register(clean_db, database, "http://127.0.0.1:9/never")
    raise_alerts(clean_db, database, 2)
    access.write(clean_db, database, [Statement(
        webhooks.REMOVE, {"id": webhook_id, "receiver": "investigator"}, must_match=True)])
    assert {(d["status"], d["last_error"]) for d in deliveries(clean_db, database)} == {
        ("failed", "webhook removed")}
    queued = access.write(clean_db, database, [
        Statement("CREATE (:Alert {alert_id: 'later', alert: 'alert-test', receiver: "
                  "'investigator', status: 'new'})"),
        Statement(outbox.ENQUEUE, {"ids": ["later"]})])
    assert queued[1][0]["queued"] == 0  # nothing left to deliver to


# ---------------------------------------------------------------- pure


@pytest.mark.parametrize("url", [
    "ftp://example.org/x", "file:///etc/passwd", "javascript:alert(1)", "example.org/x",
    "http://user:pw@example.org/x", "http:///x", "https://example.org/x#frag",
    "http://example.org:99999/x", "http://exa mple.org/x", "", "https://" + "a" * 2050 + ".org",
])
def test_malformed_addresses_are_refused(url: str) -> None:
    with pytest.raises(webhooks.BadWebhookUrl):
        webhooks.check_reachable(url, allow_private=True)


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "240.0.0.1",
])
def test_private_and_reserved_addresses_are_refused(address: str) -> None:
    def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34", address]

    with pytest.raises(webhooks.BadWebhookUrl, match="loopback, private or reserved"):
        webhooks.check_reachable("https://hooks.example.org/a", allow_private=False,
                                 resolver=resolver)
    webhooks.check_reachable("https://hooks.example.org/a", allow_private=True, resolver=resolver)


def test_public_addresses_pass_and_unresolvable_hosts_do_not() -> None:
    webhooks.check_reachable("https://hooks.example.org:8443/a?b=1", allow_private=False,
                             resolver=lambda h, p: ["93.184.216.34", "2606:2800:220:1::1"])
    with pytest.raises(webhooks.BadWebhookUrl, match="does not resolve"):
        webhooks.check_reachable("https://nowhere.invalid/a", allow_private=False,
                                 resolver=lambda h, p: [])
    with pytest.raises(webhooks.BadWebhookUrl):
        webhooks.check_reachable("http://127.0.0.1:8080/hook", allow_private=False)


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    import random

    policy = outbox.Policy(base=2.0, cap=60.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (6, 60.0), (20, 60.0)]:
        waits = [outbox.backoff(attempt, policy, rng) for _ in range(200)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 100  # jittered


def test_the_secret_is_derived_not_random_and_differs_per_webhook() -> None:
    one, two = webhooks.new_webhook_id(), webhooks.new_webhook_id()
    assert webhooks.secret_for(KEY, one) == webhooks.secret_for(KEY, one)
    assert webhooks.secret_for(KEY, one) != webhooks.secret_for(KEY, two)
    assert webhooks.secret_for(KEY, one) != webhooks.secret_for(KEY + b"x", one)
    assert webhooks.secret_for(KEY, one).startswith("whsec_")


def test_the_deliver_and_deliveries_commands(
    clean_db: Driver, database: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from alliance.cli import app
    from core.settings import get_settings

    monkeypatch.setenv("ALLIANCE_WEBHOOK_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("COLUMNS", "250")
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        receiver.start()
        register(clean_db, database, receiver.url)
        register(clean_db, database, "http://127.0.0.1:9/refused", receiver="admin")
        raise_alerts(clean_db, database, 2)
        access.write(clean_db, database, [Statement(
            "CREATE (:Alert {alert_id: 'admin-1', alert: 'alert-test', receiver: 'admin', "
            "status: 'new', keys: '{}', row: '{}'})"),
            Statement(outbox.ENQUEUE, {"ids": ["admin-1"]})])
        before = runner.invoke(app, ["alerts", "deliveries"])
        assert before.exit_code == 0, before.output
        assert "deliveries: 3 pending, 0 delivered, 0 failed" in before.output
        done = runner.invoke(app, ["alerts", "deliver", "--json"])
        assert done.exit_code == 0, done.output
        assert json.loads(done.output) == {"claimed": 3, "delivered": 2, "retrying": 1,
                                           "failed": 0, "lost": 0}
        assert sorted(receiver.keys()) == sorted(
            d["delivery_id"] for d in deliveries(clean_db, database) if d["receiver"] == "investigator")
        after = runner.invoke(app, ["alerts", "deliveries", "--status", "pending"])
        assert after.exit_code == 0, after.output
        assert "deliveries: 1 pending, 2 delivered, 0 failed" in after.output
        assert "ConnectError" in after.output and "admin" in after.output
        assert receiver.url not in after.output  # only the pending one is listed
        bad = runner.invoke(app, ["alerts", "deliveries", "--status", "lost"])
        assert bad.exit_code != 0
    finally:
        get_settings.cache_clear()
