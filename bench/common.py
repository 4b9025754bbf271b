"""What the benchmarks share: a database to run on, a generated bundle loaded into it, the
seed sellers it holds, drivers and tokens, `alliance serve` as a process, the HTTP client
that measures it, and a latency/throughput measurement with a fixed number of
concurrent clients.

The HTTP client is aiohttp, not httpx. Both run in the benchmark's own process, on the
same cores as the server and Neo4j, and a request's client time is part of its latency;
the in-process contenders pay no HTTP client at all. Against `alliance serve` on one
machine (`/healthz`, kept-alive connection, 1 client), httpx took about 0.9 ms of CPU
per request and aiohttp about 0.2 ms; a bare HTTP/1.1 client on asyncio streams about
0.1 ms, but it would be one more HTTP implementation to trust.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import neo4j  # noqa: E402

from alliance import local_neo4j  # noqa: E402
from graph import schema  # noqa: E402
from graph.caller import Caller  # noqa: E402

DATABASE = "neo4j"
Call = Callable[[int], Awaitable[None]]


@dataclass
class Figures:
    p50_ms: float
    p95_ms: float
    rps: float
    count: int


@contextmanager
def database(prefix: str = "alliance-bench-") -> Iterator[str]:
    """NEO4J_URI when set, else a throwaway server (no auth) stopped on exit."""
    uri = os.environ.get("NEO4J_URI")
    if uri:
        yield uri
        return
    local_neo4j.ensure_jars()
    home = Path(tempfile.mkdtemp(prefix=prefix))
    config = local_neo4j.ServerConfig(home=home, port=local_neo4j.free_port(), auth=False)
    local_neo4j.start(config)
    try:
        yield config.uri
    finally:
        local_neo4j.stop(home)
        shutil.rmtree(home, ignore_errors=True)


def neo4j_auth() -> tuple[str, str] | None:
    password = os.environ.get("NEO4J_PASSWORD")
    return (os.environ.get("NEO4J_USER", "neo4j"), password) if password else None


def sync_driver(uri: str) -> neo4j.Driver:
    return neo4j.GraphDatabase.driver(uri, auth=neo4j_auth())


def async_driver(uri: str, **options: Any) -> neo4j.AsyncDriver:
    return neo4j.AsyncGraphDatabase.driver(uri, auth=neo4j_auth(), **options)


@contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    """A temporary folder, removed on exit."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def signed(caller: Caller) -> tuple[str, str]:
    """A new JWT secret and a token for `caller` signed with it."""
    from api.auth import issue_token  # here: a script in bench/ may find bench/api.py as `api`

    secret = secrets.token_urlsafe(48)
    return secret, issue_token(caller, secret=secret)


# ---------------------------------------------------------------- the bundle


def alliance_command() -> str:
    """The `alliance` command of the Python that runs the benchmark."""
    return str(Path(sys.executable).with_name("alliance"))


def generate(out: Path, scale: int, seed: int = 1) -> Path:
    """A bundle of `scale` sellers from `alliance generate`, in a child process (its
    memory is not ours)."""
    began = time.perf_counter()
    subprocess.run([alliance_command(), "generate", "--scale", str(scale), "--seed", str(seed),
                    "--out", str(out)], check=True, stdout=subprocess.DEVNULL)
    print(f"generated scale {scale} in {time.perf_counter() - began:.0f} s", flush=True)
    return out


def load(uri: str, folders: list[Path], *, source: str, pii_key: bytes, networks: bool = False) -> None:
    """The schema, then the folders loaded (`load_paths`, as `alliance load --no-alerts`),
    then with `networks` the seller networks stored (`alliance analyze networks`)."""
    from graph.seller_networks import analyze_networks
    from loaders import load_paths

    with sync_driver(uri) as db:
        schema.apply(db, DATABASE)
        began = time.perf_counter()
        load_paths(db, DATABASE, folders, source=source, pii_key=pii_key)
        said = f"loaded in {time.perf_counter() - began:.0f} s"
        if networks:
            began = time.perf_counter()
            analyze_networks(db, DATABASE)
            said += f", networks stored in {time.perf_counter() - began:.0f} s"
        print(said, flush=True)


def add_bundle_options(parser: argparse.ArgumentParser, scale: int) -> None:
    """--scale, --seed, --bundle and --reuse, as `prepare` reads them."""
    parser.add_argument("--scale", type=int, default=scale, help="sellers to generate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--bundle", help="load this bundle instead of generating one")
    parser.add_argument("--reuse", action="store_true", help="the database is already loaded")


def prepare(uri: str, args: argparse.Namespace, tmp: Path, *, source: str, pii_key: bytes,
            networks: bool = False) -> Path | None:
    """Load the bundle (generated into `tmp` unless --bundle) unless --reuse; the bundle's
    folder (None with --reuse and no --bundle)."""
    if args.reuse:
        return Path(args.bundle) if args.bundle else None
    bundle = Path(args.bundle) if args.bundle else generate(tmp / "bundle", args.scale, args.seed)
    load(uri, [bundle], source=source, pii_key=pii_key, networks=networks)
    return bundle


def ring_sellers(uri: str, bundle: Path | None, count: int) -> list[str]:
    """The first `count` ring sellers of the bundle's truth.json when it has one, else the
    sellers with the most shops."""
    truth = bundle / "truth.json" if bundle else None
    if truth and truth.exists():
        rings = json.loads(truth.read_text(encoding="utf-8"))["rings"]
        sellers = [s for ring in rings for s in ring["sellers"]][:count]
        if sellers:
            return sellers
    with sync_driver(uri) as db:
        records, _, _ = db.execute_query(
            "MATCH (s:Seller)-[:OPERATES]->(sh:Shop) WITH s, count(sh) AS shops "
            "ORDER BY shops DESC, s.seller_id LIMIT $count RETURN s.seller_id AS id",
            {"count": count}, database_=DATABASE)
    return [r["id"] for r in records]


# ---------------------------------------------------------------- the API as a process


@contextmanager
def process(cmd: list[str], env: dict[str, str], cwd: Path, log: Path) -> Iterator[None]:
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


KEEPALIVE_SECONDS = 4.0
"""How long the client keeps an idle connection: under uvicorn's 5 s, so the client
drops it first and never sends on a connection the server is closing."""


def http_client(connections: int = 32, timeout: float = 60.0) -> aiohttp.ClientSession:
    """The measuring client: up to `connections` kept-alive connections."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections, keepalive_timeout=KEEPALIVE_SECONDS),
        timeout=aiohttp.ClientTimeout(total=timeout))


def check_graphql(url: str, status: int, body: bytes, *, full: bool) -> None:
    """A GraphQL answer with data and no errors. `full` parses the body; otherwise the
    status and the bytes are checked (a compact JSON answer with errors has the key
    `"errors":`, which no string value can contain unescaped), which costs next to
    nothing per request: the in-process contenders parse nothing either."""
    if full:
        try:
            parsed = json.loads(body) if status == 200 else None
        except ValueError:
            parsed = None
        ok = isinstance(parsed, dict) and parsed.get("data") is not None and not parsed.get("errors")
    else:
        ok = status == 200 and body.startswith(b'{"data":') and b'"errors":' not in body
    if not ok:
        raise RuntimeError(f"{url}: {status} {body[:300]!r}")


async def wait_ready(url: str, payload: dict[str, Any], log: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    async with http_client(connections=1, timeout=5.0) as client:
        while time.monotonic() < deadline:
            try:
                async with client.post(url, json=payload) as response:
                    if response.status < 500:
                        return
            except (TimeoutError, aiohttp.ClientError):
                pass
            await asyncio.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s; see {log}")


@contextmanager
def serve_ours(uri: str, secret: str, tmp: Path, workers: int = 1,
               extra: list[str] | None = None) -> Iterator[str]:
    """`alliance serve` on a free port (with `extra` options); yields the base URL."""
    port = local_neo4j.free_port()
    env = {**os.environ, "NEO4J_URI": uri, "ALLIANCE_JWT_SECRET": secret,
           "ALLIANCE_HOME": str(tmp / "home")}
    cmd = [alliance_command(), "serve", "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers), *(extra or [])]
    with process(cmd, env, ROOT, tmp / "ours.log"):
        yield f"http://127.0.0.1:{port}"


async def measure(call: Call, clients: int, requests: int, seconds: float) -> Figures:
    """`clients` loops calling `call(i)` until `requests` calls or `seconds` have passed."""
    latencies: list[float] = []
    counter = iter(range(requests))
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        for i in counter:
            if time.perf_counter() > deadline:
                return
            began = time.perf_counter()
            await call(i)
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.perf_counter() - began
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    return Figures(p50_ms=statistics.median(latencies) * 1000, p95_ms=p95 * 1000,
                   rps=len(latencies) / wall, count=len(latencies))
