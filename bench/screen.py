"""Screening new uploads: quality of the decisions and speed of `POST /screen`.

Data: a generated bundle (`alliance.generate`, scale `--scale`) loaded with its seller
networks stored (`alliance analyze networks`), and its `uploads.jsonl`, each upload
labelled in truth.json (ring members reusing known identifiers, ring members and new bad
actors reusing nothing known, honest sellers and honest traps).

Quality: every upload is checked (`loaders.uploads`) and matched (`graph.screening.MATCH`,
batches of 500) once; the decisions at the settings' thresholds and at other pairs of
thresholds follow from the scores. Targets: of the ring uploads that reuse
anything the graph knows, at least 0.96 blocked; honest uploads blocked at most 0.5%,
sent to review at most 3%. All ring uploads and the review rates are reported too.

Speed, in one run, three rounds (median of each figure):
  ours   `POST /screen` over HTTP with a platform token, served by uvicorn with the app
         `alliance serve` runs (`alliance.api_app:create_app`), read-only (a BLOCK still
         writes its audit event, as in production);
  floor  the same matching Cypher (`graph.screening.MATCH`) through the async driver
         in-process (`graph.access.read_async`), on uploads normalised beforehand: no
         HTTP, no JSON, no checks, no decision, no audit.
  (a) one upload per request at 1 client: p50 and p95 (target: ours p95 <= 25 ms);
  (b) batches of 100 uploads at 4 clients: uploads/s (target: ours >= 300 uploads/s).

    .venv/bin/python bench/screen.py --scale 10000
    NEO4J_URI=bolt://... .venv/bin/python bench/screen.py --reuse --bundle DIR

Without NEO4J_URI a throwaway Neo4j is started (no auth) and stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import aiohttp  # noqa: E402
import neo4j  # noqa: E402

from alliance import local_neo4j  # noqa: E402
from bench.common import (  # noqa: E402
    DATABASE,
    Figures,
    add_bundle_options,
    async_driver,
    database,
    http_client,
    measure,
    prepare,
    process,
    signed,
    sync_driver,
    workdir,
)
from core.settings import DEFAULT_SCREEN_BLOCK, DEFAULT_SCREEN_REVIEW  # noqa: E402
from graph import access, screening  # noqa: E402
from graph.caller import Caller  # noqa: E402
from graph.screening import Thresholds, Upload  # noqa: E402
from graph.seller_networks import HUB_THRESHOLD  # noqa: E402
from loaders.uploads import UploadChecker  # noqa: E402

ROOT = _HERE.parent
PII_KEY = "bench-screen-pii-key-0123456789abcdef"
HONEST = ("honest_new", "honest_existing", "honest_hub", "honest_carrier_ip", "honest_park")
RING = ("ring_reuse", "ring_fresh")
SWEEP_BLOCK = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7)
SWEEP_REVIEW = (0.1, 0.15, 0.2, 0.25, 0.3)
BATCH = 100
NO_HUB = 10**6
ABLATION = 100
TARGETS = {"p95_ms": 25.0, "uploads_per_s": 300.0, "ring_blocked": 0.96,
           "honest_blocked": 0.005, "honest_review": 0.03}


# ---------------------------------------------------------------- data


@dataclass
class Uploads:
    raw: list[dict[str, Any]]
    normalised: list[Upload]
    kinds: list[str]
    reused: list[list[str]]


def read_uploads(bundle: Path) -> Uploads:
    raw = [json.loads(line) for line in (bundle / "uploads.jsonl").read_text("utf-8").splitlines()]
    truth = {u["upload_id"]: u for u in json.loads((bundle / "truth.json").read_text("utf-8"))["uploads"]}
    good, invalid = UploadChecker(PII_KEY.encode()).check(raw)
    if invalid:
        raise SystemExit(f"{len(invalid)} generated uploads are invalid: {invalid[:3]}")
    labels = [truth[u["upload_id"]] for u in raw]
    return Uploads(raw, [u for _, u in good], [t["kind"] for t in labels],
                   [t["reused"] for t in labels])


# ---------------------------------------------------------------- quality


def scores(uri: str, normalised: list[Upload], hub: int = HUB_THRESHOLD) -> tuple[list[float], float]:
    """Each upload's score (batches of 500, read only) with the hub threshold `hub`, and
    the seconds it took."""
    limits = Thresholds(DEFAULT_SCREEN_BLOCK, DEFAULT_SCREEN_REVIEW)
    found: list[float] = []
    began = time.perf_counter()
    with sync_driver(uri) as db:
        for start in range(0, len(normalised), screening.MAX_BATCH):
            batch = normalised[start:start + screening.MAX_BATCH]
            rows = access.read(db, DATABASE, screening.MATCH,
                               screening.match_params(batch, hub), timeout=600,
                               name="screen").dicts()
            found += [d.score for d in screening.decide_all(batch, rows, limits)]
    return found, time.perf_counter() - began


def without_hub_rule(uri: str, uploads: Uploads) -> None:
    """The hub traps (and ring members using only hubs) scored as if hubs linked like any
    identifier: what the hub rule keeps from being blocked (ABLATION uploads of each)."""
    print(f"\nwithout the hub rule (hub threshold {NO_HUB:,}), {ABLATION} uploads of each kind at most")
    limits = Thresholds(DEFAULT_SCREEN_BLOCK, DEFAULT_SCREEN_REVIEW)
    for kind in ("honest_hub", "honest_carrier_ip", "ring_fresh"):
        picked = [u for u, k in zip(uploads.normalised, uploads.kinds, strict=True) if k == kind]
        found, _ = scores(uri, picked[:ABLATION], NO_HUB)
        verdicts = Counter(screening.verdict(s, limits) for s in found)
        print(f"  {kind:20} {len(found):5d} uploads: BLOCK {verdicts['BLOCK'] / len(found):.3f}, "
              f"REVIEW {verdicts['REVIEW'] / len(found):.3f}")


def rates(kinds: list[str], verdicts: list[str], wanted: tuple[str, ...]) -> tuple[int, float, float]:
    """(uploads, blocked share, review share) of the uploads of the `wanted` kinds."""
    picked = [v for k, v in zip(kinds, verdicts, strict=True) if k in wanted]
    if not picked:
        return 0, 0.0, 0.0
    counts = Counter(picked)
    return len(picked), counts["BLOCK"] / len(picked), counts["REVIEW"] / len(picked)


def quality(uploads: Uploads, found: list[float], limits: Thresholds) -> dict[str, tuple[int, float, float]]:
    verdicts: list[str] = [screening.verdict(s, limits) for s in found]
    kinds = ["ring_reuse_known" if k == "ring_reuse" and r else k
             for k, r in zip(uploads.kinds, uploads.reused, strict=True)]
    table = {"ring uploads reusing something known": rates(kinds, verdicts, ("ring_reuse_known",)),
             "all ring uploads": rates(kinds, verdicts, ("ring_reuse_known", "ring_reuse", "ring_fresh")),
             "new bad actors": rates(kinds, verdicts, ("new_bad",)),
             "honest uploads (all)": rates(kinds, verdicts, HONEST)}
    for kind in HONEST:
        table[f"  {kind}"] = rates(kinds, verdicts, (kind,))
    for reused in sorted({k for r in uploads.reused for k in r}):
        picked = [v for r, v in zip(uploads.reused, verdicts, strict=True) if r == [reused]]
        if picked:
            table[f"  ring, only {reused}"] = (len(picked), picked.count("BLOCK") / len(picked),
                                               picked.count("REVIEW") / len(picked))
    return table


def print_quality(table: dict[str, tuple[int, float, float]], limits: Thresholds) -> None:
    print(f"\nquality at block {limits.block}, review {limits.review}")
    print(f"  {'':42} {'uploads':>8} {'BLOCK':>8} {'REVIEW':>8}")
    for name, (n, blocked, review) in table.items():
        print(f"  {name:42} {n:8d} {blocked:8.4f} {review:8.4f}")


def sweep(uploads: Uploads, found: list[float]) -> None:
    print("\nthreshold sweep: ring reusing known blocked / honest blocked / honest review")
    for block in SWEEP_BLOCK:
        cells = []
        for review in SWEEP_REVIEW:
            if review > block:
                continue
            t = quality(uploads, found, Thresholds(block, review))
            ring, honest = t["ring uploads reusing something known"], t["honest uploads (all)"]
            cells.append(f"r{review}: {ring[1]:.3f}/{honest[1]:.4f}/{honest[2]:.4f}")
        print(f"  block {block}: " + "  ".join(cells))


# ---------------------------------------------------------------- speed


@contextmanager
def serve(uri: str, secret: str, tmp: Path) -> Iterator[str]:
    """The API as `alliance serve` runs it, on a free port; yields the base URL."""
    port = local_neo4j.free_port()
    env = {**os.environ, "NEO4J_URI": uri, "ALLIANCE_JWT_SECRET": secret,
           "ALLIANCE_PII_KEY": PII_KEY, "ALLIANCE_HOME": str(tmp / "home")}
    code = ("import uvicorn; from api.logs import LOG_CONFIG; "
            f"uvicorn.run('alliance.api_app:create_app', factory=True, host='127.0.0.1', "
            f"port={port}, log_config=LOG_CONFIG)")
    with process([sys.executable, "-c", code], env, ROOT, tmp / "serve.log"):
        yield f"http://127.0.0.1:{port}"


async def wait_up(client: aiohttp.ClientSession, base: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            async with client.get(f"{base}/readyz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.5)
    raise SystemExit(f"the API did not start; see {log}")


def batches(items: list[Any], size: int, i: int) -> list[Any]:
    start = (i * size) % len(items)
    return (items + items)[start:start + size]


async def round_of(client: aiohttp.ClientSession, url: str, token: str,
                   driver: neo4j.AsyncDriver, uploads: Uploads,
                   args: argparse.Namespace) -> dict[str, Figures]:
    headers = {"Authorization": f"Bearer {token}"}

    def ours(size: int) -> Any:
        async def call(i: int) -> None:
            body = {"uploads": batches(uploads.raw, size, i)}
            async with client.post(url, json=body, headers=headers) as response:
                data = await response.read()
            if response.status != 200:
                raise RuntimeError(f"{response.status} {data[:300]!r}")
        return call

    def floor(size: int) -> Any:
        async def call(i: int) -> None:
            params = screening.match_params(batches(uploads.normalised, size, i))
            await access.read_async(driver, DATABASE, screening.MATCH, params, name="floor")
        return call

    out = {}
    for name, call, clients, count in (
            ("ours 1x1", ours(1), 1, args.requests), ("floor 1x1", floor(1), 1, args.requests),
            (f"ours {BATCH}x4", ours(BATCH), 4, args.requests // 4),
            (f"floor {BATCH}x4", floor(BATCH), 4, args.requests // 4)):
        out[name] = await measure(call, clients, count, args.seconds)
    return out


async def speed(uri: str, uploads: Uploads, args: argparse.Namespace, tmp: Path
                ) -> list[dict[str, Figures]]:
    secret, token = signed(Caller(sub="bench", role="platform"))
    driver = async_driver(uri, notifications_min_severity="OFF")
    rounds = []
    try:
        async with http_client() as client:
            with serve(uri, secret, tmp) as base:
                await wait_up(client, base, tmp / "serve.log")
                url = f"{base}/screen"
                for _ in range(2):  # warm-up: plans, caches, pools
                    await round_of(client, url, token, driver, uploads,
                                   argparse.Namespace(requests=args.warmup, seconds=args.seconds))
                for number in range(1, args.rounds + 1):
                    figures = await round_of(client, url, token, driver, uploads, args)
                    print_round(number, figures)
                    rounds.append(figures)
    finally:
        await driver.close()
    return rounds


def print_round(number: int, figures: dict[str, Figures]) -> None:
    print(f"\nround {number}")
    print(f"  {'':12} {'p50 ms':>9} {'p95 ms':>9} {'req/s':>9} {'uploads/s':>10} {'n':>6}")
    for name, f in figures.items():
        size = BATCH if f"{BATCH}x" in name else 1
        print(f"  {name:12} {f.p50_ms:9.2f} {f.p95_ms:9.2f} {f.rps:9.1f} {f.rps * size:10.0f} "
              f"{f.count:6d}")
    sys.stdout.flush()


def print_speed(rounds: list[dict[str, Figures]]) -> None:
    def med(name: str, attr: str) -> float:
        return statistics.median(getattr(r[name], attr) for r in rounds)

    p95, p95_floor = med("ours 1x1", "p95_ms"), med("floor 1x1", "p95_ms")
    p50, p50_floor = med("ours 1x1", "p50_ms"), med("floor 1x1", "p50_ms")
    ups = med(f"ours {BATCH}x4", "rps") * BATCH
    ups_floor = med(f"floor {BATCH}x4", "rps") * BATCH
    print(f"\nspeed, median of {len(rounds)} rounds")
    print(f"  one upload per request, 1 client: ours p50 {p50:.2f} ms, p95 {p95:.2f} ms "
          f"(target <= {TARGETS['p95_ms']:g}); floor p50 {p50_floor:.2f} ms, p95 {p95_floor:.2f} ms; "
          f"ours/floor p95 {p95 / p95_floor:.2f}x")
    print(f"  batches of {BATCH} at 4 clients: ours {ups:.0f} uploads/s (target >= "
          f"{TARGETS['uploads_per_s']:g}); floor {ups_floor:.0f} uploads/s; "
          f"ours/floor {ups / ups_floor:.2f}x")


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_bundle_options(parser, scale=10_000)
    parser.add_argument("--requests", type=int, default=400, help="per measurement, at most")
    parser.add_argument("--seconds", type=float, default=20.0, help="per measurement, at most")
    parser.add_argument("--warmup", type=int, default=40, help="warm-up requests per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quality-only", action="store_true")
    args = parser.parse_args()
    logging.getLogger("neo4j").setLevel(logging.ERROR)
    if args.reuse and not (args.bundle and os.environ.get("NEO4J_URI")):
        parser.error("--reuse needs NEO4J_URI and --bundle (the bundle the database holds)")

    with workdir("alliance-bench-screen-") as tmp, database("alliance-bench-screen-db-") as uri:
        bundle = prepare(uri, args, tmp, source="bench", pii_key=PII_KEY.encode(), networks=True)
        assert bundle is not None  # --reuse comes with --bundle
        uploads = read_uploads(bundle)
        print(f"database {uri}; {len(uploads.raw)} uploads: "
              f"{dict(sorted(Counter(uploads.kinds).items()))}", flush=True)
        found, seconds = scores(uri, uploads.normalised)
        print(f"matched and decided in {seconds:.1f} s (batches of {screening.MAX_BATCH})")
        print_quality(quality(uploads, found, Thresholds(DEFAULT_SCREEN_BLOCK,
                                                          DEFAULT_SCREEN_REVIEW)),
                      Thresholds(DEFAULT_SCREEN_BLOCK, DEFAULT_SCREEN_REVIEW))
        sweep(uploads, found)
        without_hub_rule(uri, uploads)
        if not args.quality_only:
            print_speed(asyncio.run(speed(uri, uploads, args, tmp)))


if __name__ == "__main__":
    main()
