"""Watchlist alerts at scale: the five starter alerts after a 1% delta load beside the same
queries run as plain saved queries (the floor), their cost on `alliance load`, and the
webhook outbox's delivery rate to a local receiver.

    .venv/bin/python bench/alerts.py --scale 100000
    .venv/bin/python bench/alerts.py --scale 10000 --rounds 3 --deliveries 2000

Uses NEO4J_URI if set, else starts a throwaway local server. Steps:

1. `alliance generate --scale N`; each CSV file is split into its first 99% of rows (the
   base) and its last 1% (the delta, `--delta`).
2. The base is loaded (`load_paths`, as `alliance load --no-alerts`), its seller networks
   stored (`analyze_networks`), and the alerts run once (every match is new: the first run).
3. The delta is loaded (timed), then the alerts run (timed): what `alliance load` adds
   after a load that loaded rows. The overhead on the load is the alert run's time over
   the load's.
   Each alert query's time cap is raised to `--timeout` (120 s) for both runs.
4. The floor: the same five queries, for the same receivers, through
   `graph.query_library.run` (what `alliance query run` does), without keeping matches.
   Then `--rounds` rounds alternate a plain run and an alert run (nothing new by then:
   the diff only compares hashes); the best round of each is reported.
5. Deliveries: `--deliveries` alerts queued for one webhook on a local receiver (uvicorn,
   in its own process, verifying every signature as docs/alerts.md says), delivered by
   one `graph.outbox.Worker` pass (batches of 200, 32 at once); the receiver's count
   of good signatures and distinct idempotency keys is checked against it.

Prints a JSON report; `uptime` before and after says how busy the machine was.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import dataclasses
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from alliance.local_neo4j import free_port  # noqa: E402
from bench.common import DATABASE, database, generate, neo4j_auth  # noqa: E402
from graph import access, alerts, outbox, query_library, schema, webhooks  # noqa: E402
from graph.access import Statement  # noqa: E402
from graph.drivers import Connection, open_async_driver, open_driver  # noqa: E402
from graph.seller_networks import analyze_networks  # noqa: E402
from loaders import load_paths  # noqa: E402

KEY = b"bench-webhook-key-0123456789abcdef"
PII_KEY = b"bench-key"
RECEIVER = "investigator"


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return round(time.perf_counter() - started, 3), result


# ---------------------------------------------------------------- the bundle


def split(bundle: Path, base: Path, delta: Path, share: float) -> dict[str, int]:
    """Each CSV file's first rows into `base`, its last `share` into `delta`."""
    base.mkdir()
    delta.mkdir()
    rows = {"base": 0, "delta": 0}
    csv.field_size_limit(10**8)
    for path in sorted(bundle.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            body = list(reader)
        cut = len(body) - int(len(body) * share)
        for folder, part, name in ((base, body[:cut], "base"), (delta, body[cut:], "delta")):
            with (folder / path.name).open("w", encoding="utf-8", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(header)
                writer.writerows(part)
            rows[name] += len(part)
    return rows


# ---------------------------------------------------------------- runs


def plain_run(driver: Any, database_name: str, queries: list[Any]) -> int:
    """The alerts' queries as plain saved queries, for the same receivers: rows seen."""
    rows = 0
    for query in queries:
        spec = query.alert
        capped = dataclasses.replace(query, max_rows=spec.max_rows, timeout=spec.timeout)
        for receiver in alerts.receivers(driver, database_name, spec.receivers):
            rows += len(query_library.run(driver, database_name, capped, {},
                                          receiver.caller()).rows)
    return rows


def alert_run(driver: Any, database_name: str, queries: list[Any]) -> alerts.AlertRun:
    run = alerts.run_alerts(driver, database_name, queries)
    if run.failures:
        raise SystemExit(f"alerts failed: {run.failures}")
    return run


def measure_alerts(driver: Any, database_name: str, base: Path, delta: Path,
                   rounds: int, timeout: float) -> dict[str, Any]:
    library = query_library.load_checked(driver, database_name)
    queries = [dataclasses.replace(q, alert=dataclasses.replace(q.alert, timeout=timeout))
               for q in alerts.alert_queries(library) if q.alert is not None]
    found: dict[str, Any] = {"alerts": [q.name for q in queries]}
    found["base_load_s"], report = timed(lambda: load_paths(
        driver, database_name, [base], source="bench-base", pii_key=PII_KEY))
    found["networks_s"], _ = timed(lambda: analyze_networks(driver, database_name))
    found["first_run_s"], first = timed(lambda: alert_run(driver, database_name, queries))
    found["first_run_raised"] = first.raised
    found["delta_load_s"], _ = timed(lambda: load_paths(
        driver, database_name, [delta], source="bench-delta", pii_key=PII_KEY))
    found["plain_after_delta_s"], found["plain_rows"] = timed(
        lambda: plain_run(driver, database_name, queries))
    found["alerts_after_delta_s"], after = timed(lambda: alert_run(driver, database_name, queries))
    found["alerts_after_delta_raised"] = after.raised_by_alert()
    found["load_overhead"] = round(found["alerts_after_delta_s"] / found["delta_load_s"], 3)
    plain, steady = [], []
    for _ in range(rounds):
        plain.append(timed(lambda: plain_run(driver, database_name, queries))[0])
        steady.append(timed(lambda: alert_run(driver, database_name, queries))[0])
    found["plain_rounds_s"], found["steady_alert_rounds_s"] = plain, steady
    found["ratio_after_delta"] = round(found["alerts_after_delta_s"] / min(plain), 3)
    found["ratio_steady"] = round(min(steady) / min(plain), 3)
    return found


# ---------------------------------------------------------------- deliveries


def receive(port: int) -> None:
    """A webhook receiver (ASGI, uvicorn) that verifies each signature as docs/alerts.md
    says and counts good ones, bad ones and distinct idempotency keys (GET answers them)."""
    import uvicorn

    secret = os.environ["BENCH_WEBHOOK_SECRET"].encode()
    seen: set[bytes] = set()
    counts = {"good": 0, "bad": 0}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if scope["method"] == "GET":
            answer = json.dumps({**counts, "keys": len(seen)}).encode()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": answer})
            return
        headers = dict(scope["headers"])
        stamp = headers.get(b"x-alliance-timestamp", b"")
        expected = b"v1=" + hmac.new(secret, stamp + b"." + body, hashlib.sha256
                                     ).hexdigest().encode()
        fresh = stamp.isdigit() and abs(time.time() - int(stamp)) <= 300
        good = fresh and hmac.compare_digest(expected, headers.get(b"x-alliance-signature", b""))
        counts["good" if good else "bad"] += 1
        seen.add(headers.get(b"idempotency-key", b""))
        await send({"type": "http.response.start", "status": 204 if good else 401,
                    "headers": []})
        await send({"type": "http.response.body", "body": b""})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                lifespan="off")


def wait_for(url: str) -> None:
    for _ in range(200):
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the receiver at {url} did not start")


def measure_deliveries(driver: Any, conn: Connection, n: int) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    webhook_id = webhooks.new_webhook_id()
    env = {**os.environ, "BENCH_WEBHOOK_SECRET": webhooks.secret_for(KEY, webhook_id)}
    receiver = subprocess.Popen([sys.executable, __file__, "--receive", str(port)], env=env)
    try:
        wait_for(url)
        access.write(driver, conn.database, [Statement(webhooks.REGISTER, {
            "id": webhook_id, "receiver": RECEIVER, "role": RECEIVER, "url": url,
            "agency_id": None, "brand_id": None, "who": "bench", "most": 1000})])
        ids = [f"bench-delivery-{i:06d}" for i in range(n)]
        access.write(driver, conn.database, [
            Statement("UNWIND $ids AS id CREATE (:Alert {alert_id: id, alert: 'bench', "
                      "receiver: $receiver, status: 'new', keys: '{\"n\": 1}', "
                      "row: '{\"n\": 1, \"text\": \"a row of a few dozen bytes\"}', "
                      "raised_at: datetime()})", {"ids": ids, "receiver": RECEIVER}),
            Statement(outbox.ENQUEUE, {"ids": ids})], timeout=120)
        policy = outbox.Policy(batch=200, concurrency=32, timeout=10.0, lease=60.0,
                               allow_private=True)

        async def one_pass() -> outbox.Pass:
            async_driver = open_async_driver(conn)
            try:
                return await outbox.Worker(async_driver, conn.database, KEY, policy).run_once()
            finally:
                await async_driver.close()

        seconds, done = timed(lambda: asyncio.run(one_pass()))
        in_neo4j = {name: round(db_seconds(name), 3) for name in ("outbox:claim", "outbox:record")}
        with urllib.request.urlopen(url, timeout=5) as answer:
            got = json.loads(answer.read())
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
    return {"deliveries": n, "seconds": seconds, "per_second": round(done.delivered / seconds, 1),
            "delivered": done.delivered, "retrying": done.retrying, "failed": done.failed,
            "receiver": got, "batch": policy.batch, "concurrency": policy.concurrency,
            "neo4j_seconds": in_neo4j}


def db_seconds(name: str) -> float:
    """Seconds spent in the named query so far (`graph.access.DB_SECONDS`)."""
    for metric in access.DB_SECONDS.collect():
        for sample in metric.samples:
            if sample.name.endswith("_sum") and sample.labels.get("query") == name:
                return float(sample.value)
    return 0.0


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--delta", type=float, default=0.01)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="Each alert query's time cap here (theirs is 10 s), so a busy "
                             "machine measures rather than stops them.")
    parser.add_argument("--only-deliveries", action="store_true",
                        help="Skip the bundle: measure the outbox only.")
    parser.add_argument("--receive", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receive:
        receive(args.receive)
        return
    report: dict[str, Any] = {"command": " ".join(sys.argv), "uptime_before": uptime()}
    with database("alliance-bench-alerts-") as uri, \
            tempfile.TemporaryDirectory(prefix="alliance-bench-alerts-") as tmp:
        conn = Connection(uri, neo4j_auth(), DATABASE, local=False)
        with open_driver(conn) as driver:
            schema.apply(driver, conn.database)
            if not args.only_deliveries:
                folder = Path(tmp)
                bundle = generate(folder / "bundle", args.scale)
                report["rows"] = split(bundle, folder / "base", folder / "delta", args.delta)
                report["scale"] = args.scale
                report.update(measure_alerts(driver, conn.database, folder / "base",
                                             folder / "delta", args.rounds, args.timeout))
                print(json.dumps(report, indent=2), flush=True)
            report["outbox"] = measure_deliveries(driver, conn, args.deliveries)
    report["uptime_after"] = uptime()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
