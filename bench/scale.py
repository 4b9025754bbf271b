"""Scale: a generated bundle from files to a served, analysed graph on one machine.

For one scale (sellers), each step through the `alliance` command, as a user runs it:
  generate  `alliance generate --scale N --seed 7` (kept in --work and reused);
  bulk      `alliance db start` on a fresh ALLIANCE_HOME, then `alliance load --bulk`:
            wall time, its steps (prepare / import / schema), rows/s, peak RSS of the
            Python processes (the command and its workers, largest one and all at once),
            peak RSS of the importer's JVM, store size;
  analyze   `alliance analyze networks` on the bulk-loaded graph;
  delta     a 1% bundle (`alliance generate --scale N/100 --seed 99`: its ids overlap the
            base, so it updates and adds) loaded online with `alliance load`, then
            `alliance analyze networks --incremental --run-id RUN`;
  api       `alliance serve` on that graph; p50 / p95 of seller, search, 2-hop network,
            sellerNetwork and traceToSource over HTTP, one client;
  online    (--online) `alliance load` of the same bundle into another fresh server, for
            the bulk / online ratio.
Every figure is printed and appended as one JSON line to --results, with `uptime`'s load
average beside it (the machine is shared). Servers started here are stopped at the end.

    .venv/bin/python bench/scale.py --scale 100000 --online
    .venv/bin/python bench/scale.py --scale 1000000
    .venv/bin/python bench/scale.py --scale 10000000 --skip api
    .venv/bin/python bench/scale.py --scale 1000000 --reuse-home --skip bulk   # the rest
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import psutil  # noqa: E402

from alliance import local_neo4j  # noqa: E402
from api.auth import issue_token  # noqa: E402
from bench.common import (  # noqa: E402
    Figures,
    check_graphql,
    http_client,
    measure,
    serve_ours,
    wait_ready,
)
from core.local_server import local_home, local_password  # noqa: E402
from graph.caller import Caller  # noqa: E402

ROOT = _HERE.parent
ALLIANCE = [sys.executable, "-m", "alliance.cli"]
"""The `alliance` command of this checkout (the one beside this file), with the running
interpreter: a second working copy of the repository runs its own code."""
PII_KEY = "bench-scale-pii-key-0123456789abcdef0123"
STEPS = ("bulk", "analyze", "delta", "api")

SELLER = """query($id: ID!) { seller(sellerId: $id) { sellerId nickname
  operates(first: 20) { nodes { shopId name
    offers(first: 20) { nodes { listingId title price } } } } } }"""
SEARCH = """query($text: String!) { search(text: $text, first: 20) { id label score } }"""
NETWORK = """query($ids: [ID!]!) { network(seedIds: $ids, hops: 2, limit: 200) {
  nodes { id label degree } edges { id type source target } truncated } }"""
SELLER_NETWORK = """query($id: ID!) { sellerNetwork(sellerId: $id) {
  sellerId truncated sellers { sellerId distance } shops } }"""
TRACE = """query($id: ID!) { traceToSource(listingId: $id, first: 3) {
  score site { siteId kind } } }"""


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------- processes


class PeakRss:
    """Polls a process and its children: peak RSS of the largest Python process, of all
    Python processes at once (RSS, and PSS, which counts a page the forked workers share
    with their parent once instead of in each), and of the largest Java process (the
    importer, the server while it is still a child)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.python_max = self.python_sum = self.python_pss = self.java_max = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                root = psutil.Process(self.pid)
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            python: list[int] = []
            pss: list[int] = []
            java: list[int] = []
            for proc in procs:
                try:
                    if proc.name().startswith("java"):
                        java.append(proc.memory_info().rss)
                        continue
                    full = proc.memory_full_info()
                    python.append(full.rss)
                    pss.append(full.pss)
                except psutil.Error:
                    continue
            self.python_max = max(self.python_max, *python, 0)
            self.python_sum = max(self.python_sum, sum(python))
            self.python_pss = max(self.python_pss, sum(pss))
            self.java_max = max(self.java_max, *java, 0)
            self.stop.wait(0.25)

    def figures(self) -> dict[str, float]:
        self.stop.set()
        self.thread.join()
        return {"python_rss_max_mib": round(self.python_max / 2**20),
                "python_rss_all_mib": round(self.python_sum / 2**20),
                "python_pss_all_mib": round(self.python_pss / 2**20),
                "java_rss_max_mib": round(self.java_max / 2**20)}


def run(args: list[str], env: dict[str, str], log: Path) -> tuple[float, dict[str, float]]:
    """Run an `alliance` command; its wall time and peak RSS. Fails loudly."""
    began = time.perf_counter()
    with log.open("a") as out:
        out.write(f"\n$ alliance {' '.join(args)}\n")
        out.flush()
        proc = subprocess.Popen([*ALLIANCE, *args], env=env, stdout=out, stderr=subprocess.STDOUT)
        peak = PeakRss(proc.pid)
        code = proc.wait()
    figures = peak.figures()
    if code not in (0, 3):
        raise SystemExit(f"alliance {' '.join(args)} exited {code}; see {log}")
    return time.perf_counter() - began, figures


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD")}
    return {**env, "ALLIANCE_HOME": str(home), "ALLIANCE_PII_KEY": PII_KEY,
            "PYTHONPATH": str(ROOT)}


@contextmanager
def fresh_server(home: Path, log: Path) -> Iterator[dict[str, str]]:
    """A fresh ALLIANCE_HOME with its own local server; stopped on the way out."""
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    with started_server(home, log) as env:
        yield env


@contextmanager
def started_server(home: Path, log: Path) -> Iterator[dict[str, str]]:
    """The local server of ALLIANCE_HOME `home`, as it is; stopped on the way out."""
    env = environment(home)
    try:
        run(["db", "start", "--port", str(local_neo4j.free_port())], env, log)
        yield env
    finally:
        local_neo4j.stop(local_home(home))


def data_rows(bundle: Path) -> int:
    rows = 0
    for path in bundle.glob("*.csv"):
        with path.open("rb") as handle:
            rows += sum(1 for _ in handle) - 1
    return rows


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# ---------------------------------------------------------------- steps


def generate(work: Path, scale: int, seed: int, log: Path) -> tuple[Path, dict[str, Any]]:
    bundle = work / f"bundle-{scale}-{seed}"
    if (bundle / "truth.json").exists():
        return bundle, {"generated": "reused"}
    shutil.rmtree(bundle, ignore_errors=True)
    seconds, _ = run(["generate", "--scale", str(scale), "--seed", str(seed), "--out",
                      str(bundle)], environment(work / "gen-home"), log)
    rows = data_rows(bundle)
    return bundle, {"generate_seconds": round(seconds, 1), "rows": rows,
                    "generate_rows_per_s": round(rows / seconds)}


def bulk(env: dict[str, str], bundle: Path, work: Path, log: Path) -> dict[str, Any]:
    report = work / "bulk-report.json"
    seconds, peak = run(["load", "--bulk", str(bundle), "--source", "bench", "--no-alerts",
                         "--report", str(report)], env, log)
    body = json.loads(report.read_text())
    rows = sum(f["read"] for f in body["files"])
    data = local_neo4j.ServerConfig(home=local_home(Path(env["ALLIANCE_HOME"]))).data
    return {"bulk_seconds": round(seconds, 1), "rows": rows,
            "bulk_rows_per_s": round(rows / seconds), **body["bulk"], **peak,
            "store_mib": round(local_neo4j.store_size(data) / 2**20),
            "rejected": body["rejected"]}


def online(env: dict[str, str], bundle: Path, work: Path, log: Path) -> dict[str, Any]:
    report = work / "online-report.json"
    seconds, peak = run(["load", str(bundle), "--source", "bench", "--no-alerts",
                         "--report", str(report)], env, log)
    rows = sum(f["read"] for f in json.loads(report.read_text())["files"])
    return {"online_seconds": round(seconds, 1), "online_rows_per_s": round(rows / seconds),
            "online_python_rss_max_mib": peak["python_rss_max_mib"]}


def analyze(env: dict[str, str], log: Path) -> dict[str, Any]:
    seconds, _ = run(["analyze", "networks"], env, log)
    return {"analyze_seconds": round(seconds, 1)}


def delta(env: dict[str, str], work: Path, scale: int, log: Path) -> dict[str, Any]:
    bundle, _ = generate(work, max(2, scale // 100), 99, log)
    report = work / "delta-report.json"
    load_s, _ = run(["load", str(bundle), "--source", "delta", "--no-alerts",
                     "--report", str(report)], env, log)
    run_id = json.loads(report.read_text())["run_id"]
    inc_s, _ = run(["analyze", "networks", "--incremental", "--run-id", run_id], env, log)
    return {"delta_rows": data_rows(bundle), "delta_load_seconds": round(load_s, 1),
            "incremental_analyze_seconds": round(inc_s, 1)}


# ---------------------------------------------------------------- the API


def delta_sellers(work: Path, scale: int) -> set[str]:
    """The seller ids the delta bundle (if any) reuses: their identifiers are another
    generated world's now."""
    path = work / f"bundle-{max(2, scale // 100)}-99" / "sellers.csv"
    if not path.exists():
        return set()
    with path.open(encoding="utf-8") as handle:
        return {row["seller_id"] for row in csv.DictReader(handle)}


RING_NETWORK = """
UNWIND $rings AS ring
MATCH (s:Seller {seller_id: ring[0]})-[:IN_NETWORK]->(n:Network {strength: 'STRONG'})
WITH ring, n, COUNT { (n)<-[:IN_NETWORK]-(:Seller) } AS size
WHERE size = size(ring)
  AND all(m IN ring WHERE EXISTS { (:Seller {seller_id: m})-[:IN_NETWORK]->(n) })
RETURN ring[0] AS seller
"""
"""The first seller of each ring whose stored network is that ring and nothing else."""


def ring_sellers(driver: Any, rings: list[dict[str, Any]], leave_out: set[str],
                 count: int = 50) -> list[str]:
    """One seller from each of `count` rings spread over the truth (so small rings and
    large ones), taking only rings whose network is the ring alone: the delta bundle's
    own rings reuse identifiers of the base bundle's and join some of its rings, and
    none that the delta touched."""
    kept = [r["sellers"] for r in rings if not leave_out.intersection(r["sellers"])]
    clean = [r["seller"] for r in driver.execute_query(
        RING_NETWORK, rings=kept, database_="neo4j").records]
    step = max(1, len(clean) // count)
    return clean[::step][:count]


def api_inputs(uri: str, auth: tuple[str, str], bundle: Path,
               leave_out: set[str]) -> dict[str, list[str]]:
    """Sellers of the base bundle's rings (`ring_sellers`), a listing of each, and texts
    to search."""
    import neo4j

    rings = json.loads((bundle / "truth.json").read_text(encoding="utf-8"))["rings"]
    with neo4j.GraphDatabase.driver(uri, auth=auth) as driver:
        sellers = ring_sellers(driver, rings, leave_out)
        listings = [r["id"] for r in driver.execute_query(
            "UNWIND $ids AS id MATCH (:Seller {seller_id: id})-[:OPERATES]->(:Shop)"
            "-[:OFFERS]->(l:Listing) WITH id, min(l.listing_id) AS l RETURN l AS id",
            ids=sellers, database_="neo4j").records]
        brands = [r["n"] for r in driver.execute_query(
            "MATCH (b:Brand) WHERE b.name IS NOT NULL RETURN b.name AS n "
            "ORDER BY b.brand_id LIMIT 5", database_="neo4j").records]
    return {"sellers": sellers, "listings": listings, "texts": [*brands, "莆田 工业路"]}


def api(env: dict[str, str], bundle: Path, work: Path, scale: int, requests: int,
        seconds: float) -> dict[str, Any]:
    home = Path(env["ALLIANCE_HOME"])
    state = local_neo4j.status(local_home(home))
    assert state.uri
    auth = ("neo4j", local_password(local_home(home)))
    inputs = api_inputs(state.uri, auth, bundle, delta_sellers(work, scale))
    secret = secrets.token_urlsafe(48)
    token = issue_token(Caller(sub="bench", role="investigator"), secret=secret)
    saved = dict(os.environ)
    os.environ.update({"NEO4J_USER": auth[0], "NEO4J_PASSWORD": auth[1],
                       "ALLIANCE_PII_KEY": PII_KEY})
    try:
        with serve_ours(state.uri, secret, work) as base:
            figures = asyncio.run(_measure_api(f"{base}/graphql", token, inputs, requests,
                                               seconds, work))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {f"api_{name}_{k}": round(v, 1) for name, f in figures.items()
            for k, v in (("p50_ms", f.p50_ms), ("p95_ms", f.p95_ms))}


async def _measure_api(url: str, token: str, inputs: dict[str, list[str]], requests: int,
                       seconds: float, work: Path) -> dict[str, Figures]:
    headers = {"Authorization": f"Bearer {token}"}
    out: dict[str, Figures] = {}
    async with http_client() as client:
        await wait_ready(url, {"query": "{ __typename }"}, work / "ours.log")

        def call(query: str, variables: Any) -> Any:
            async def one(i: int) -> None:
                async with client.post(url, json={"query": query, "variables": variables(i)},
                                       headers=headers) as response:
                    body = await response.read()
                check_graphql(url, response.status, body, full=i < 3)
            return one

        def pick(items: list[str], i: int) -> str:
            return items[i % len(items)]

        calls = {
            "seller": call(SELLER, lambda i: {"id": pick(inputs["sellers"], i)}),
            "search": call(SEARCH, lambda i: {"text": pick(inputs["texts"], i)}),
            "network": call(NETWORK, lambda i: {"ids": [pick(inputs["sellers"], i)]}),
            "sellerNetwork": call(SELLER_NETWORK, lambda i: {"id": pick(inputs["sellers"], i)}),
            "traceToSource": call(TRACE, lambda i: {"id": pick(inputs["listings"], i)}),
        }
        for name, one in calls.items():
            await measure(one, 1, 20, seconds)  # warm-up
            out[name] = await measure(one, 1, requests, seconds)
            say(f"api {name}: p50 {out[name].p50_ms:.1f} ms, p95 {out[name].p95_ms:.1f} ms")
    return out


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=100_000, help="sellers")
    parser.add_argument("--work", type=Path, default=Path("/tmp/alliance-scale"),
                        help="bundles, homes and logs (bundles are reused)")
    parser.add_argument("--results", type=Path, default=None,
                        help="JSON lines file (default: WORK/results.jsonl)")
    parser.add_argument("--online", action="store_true", help="also load online (slow)")
    parser.add_argument("--skip", nargs="*", default=[], choices=STEPS)
    parser.add_argument("--reuse-home", action="store_true",
                        help="no bulk load: run the other steps on WORK/home-bulk-N as an "
                             "earlier run left it")
    parser.add_argument("--requests", type=int, default=200, help="API requests per query")
    parser.add_argument("--seconds", type=float, default=30.0, help="API seconds per query")
    args = parser.parse_args()
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    log = work / f"scale-{args.scale}.log"
    figures: dict[str, Any] = {"scale": args.scale, "cores": psutil.cpu_count(),
                               "machine_gib": round(psutil.virtual_memory().total / 2**30, 1),
                               "load_before": load_average()}
    say(f"scale {args.scale:,}: log in {log}; load average {figures['load_before']}")
    bundle, generated = generate(work, args.scale, 7, log)
    figures.update(generated)
    say(f"bundle {bundle}: {generated}")
    home = work / f"home-bulk-{args.scale}"
    if "bulk" not in args.skip or args.reuse_home:
        with (started_server(home, log) if args.reuse_home else fresh_server(home, log)) as env:
            if not args.reuse_home:
                figures.update(bulk(env, bundle, work, log))
                say(f"bulk: {figures}")
            if "analyze" not in args.skip:
                figures.update(analyze(env, log))
                say(f"analyze networks: {figures['analyze_seconds']} s")
            if "delta" not in args.skip:
                figures.update(delta(env, work, args.scale, log))
                say(f"delta: {figures}")
            if "api" not in args.skip:
                figures.update(api(env, bundle, work, args.scale, args.requests, args.seconds))
    if args.online:
        with fresh_server(work / f"home-online-{args.scale}", log) as env:
            figures.update(online(env, bundle, work, log))
        if "bulk_rows_per_s" in figures:
            figures["bulk_over_online"] = round(
                figures["bulk_rows_per_s"] / figures["online_rows_per_s"], 1)
    figures["load_after"] = load_average()
    results = args.results or work / "results.jsonl"
    with results.open("a") as out:
        out.write(json.dumps(figures) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
