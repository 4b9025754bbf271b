"""CPU per GraphQL request in the API process, with compiled plans and without.

Drives the ASGI app directly (no HTTP, no client in the way) with the three operations
of `bench/api.py` on a loaded database, and prints the process's CPU time and the wall
time per request for each, answered the usual way (strawberry and graphql-core) and by
compiled plans (`api.compiled`), in turn, `--rounds` times.

    NEO4J_URI=bolt://127.0.0.1:7687 NEO4J_PASSWORD=... \\
        .venv/bin/python bench/api_cpu.py --bundle BUNDLE --requests 400 --rounds 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import orjson  # noqa: E402

from api import compiled  # noqa: E402
from api.auth import issue_token  # noqa: E402
from api.main import create_app  # noqa: E402
from bench.api import NETWORK_OURS, SEARCH_OURS, SELLER_OURS  # noqa: E402
from graph.caller import Caller  # noqa: E402
from graph.drivers import connection  # noqa: E402

TEXTS = ["莆田 工业路", "广州市", "鞋", "加工点", "运动鞋"]
Call = Callable[[bytes], Awaitable[bytes]]


def asgi_caller(app: Any, token: str) -> Call:
    """POST /graphql to the app, as uvicorn would hand it over; the answer's body."""

    async def call(body: bytes) -> bytes:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": "/graphql",
                 "raw_path": b"/graphql", "query_string": b"", "root_path": "",
                 "headers": [(b"host", b"bench"), (b"content-type", b"application/json"),
                             (b"authorization", b"Bearer " + token.encode()),
                             (b"content-length", str(len(body)).encode())],
                 "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {}}
        given, out = False, []

        async def receive() -> dict[str, Any]:
            nonlocal given
            if not given:
                given = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and message["status"] != 200:
                raise SystemExit(f"status {message['status']}")
            out.append(message.get("body", b""))

        await app(scope, receive, send)
        return b"".join(out)

    return call


def bodies(sellers: list[str]) -> dict[str, list[bytes]]:
    return {
        "seller": [orjson.dumps({"query": SELLER_OURS, "variables": {"id": s}}) for s in sellers],
        "network": [orjson.dumps({"query": NETWORK_OURS, "variables": {"ids": [f"Seller:{s}"]}})
                    for s in sellers],
        "search": [orjson.dumps({"query": SEARCH_OURS, "variables": {"text": t}}) for t in TEXTS],
    }


async def per_request(call: Call, requests: list[bytes], count: int) -> tuple[float, float]:
    """CPU and wall milliseconds per request, after a warm-up of each request."""
    for body in requests:
        answer = await call(body)
        if b'"errors"' in answer:
            raise SystemExit(answer[:400].decode(errors="replace"))
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(count):
        await call(requests[i % len(requests)])
    return ((time.process_time() - cpu) * 1000 / count, (time.perf_counter() - wall) * 1000 / count)


def never(plans: compiled.Plans, query: str, name: str | None) -> compiled.Compiled | None:
    """`Plans.get` when every operation is to go the usual way."""
    return None


async def run(args: argparse.Namespace) -> None:
    truth = json.loads((Path(args.bundle) / "truth.json").read_text(encoding="utf-8"))
    sellers = [s for ring in truth["rings"] for s in ring["sellers"]][:50]
    app = create_app(connection=connection(), warm_up=False)
    call = asgi_caller(app, issue_token(Caller(sub="bench", role="investigator")))
    planned = compiled.Plans.get
    async with app.router.lifespan_context(app):
        for round_ in range(1, args.rounds + 1):
            for way in ("usual", "compiled"):
                compiled.Plans.get = planned if way == "compiled" else never  # type: ignore[method-assign, assignment]
                for kind, requests in bodies(sellers).items():
                    cpu, wall = await per_request(call, requests, args.requests)
                    print(f"round {round_} {way:8} {kind:7} CPU {cpu:5.2f} ms, wall {wall:5.2f} ms "
                          "per request", flush=True)
    compiled.Plans.get = planned  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", required=True, help="the loaded bundle (its truth.json)")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not os.environ.get("NEO4J_URI"):
        parser.error("set NEO4J_URI (and NEO4J_PASSWORD) to the loaded database")
    os.environ.setdefault("ALLIANCE_JWT_SECRET", "bench-api-cpu-" + "x" * 32)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
