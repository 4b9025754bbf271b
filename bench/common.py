"""What the API benchmarks share: a database to run on, `alliance serve` as a process,
and a latency/throughput measurement with a fixed number of concurrent clients."""

from __future__ import annotations

import asyncio
import os
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

import httpx  # noqa: E402

from graph import server  # noqa: E402

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
    server.ensure_jars()
    home = Path(tempfile.mkdtemp(prefix=prefix))
    config = server.ServerConfig(home=home, port=server.free_port(), auth=False)
    server.start(config)
    try:
        yield config.uri
    finally:
        server.stop(home)
        shutil.rmtree(home, ignore_errors=True)


def neo4j_auth() -> tuple[str, str] | None:
    password = os.environ.get("NEO4J_PASSWORD")
    return (os.environ.get("NEO4J_USER", "neo4j"), password) if password else None


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


async def wait_ready(url: str, payload: dict[str, Any], log: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=5.0) as client:
        while time.monotonic() < deadline:
            try:
                response = await client.post(url, json=payload)
                if response.status_code < 500:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s; see {log}")


@contextmanager
def serve_ours(uri: str, secret: str, tmp: Path, workers: int = 1) -> Iterator[str]:
    """`alliance serve` on a free port; yields the base URL (no path)."""
    port = server.free_port()
    env = {**os.environ, "NEO4J_URI": uri, "ALLIANCE_JWT_SECRET": secret,
           "ALLIANCE_HOME": str(tmp / "home")}
    cmd = [str(ROOT / ".venv" / "bin" / "alliance"), "serve", "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers)]
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
