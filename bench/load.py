"""Loader throughput: ours (batched) vs a naive per-row loader, same bundle, same run.

    .venv/bin/python bench/load.py --scale 10000        # built-in simple bundle
    .venv/bin/python bench/load.py --bundle DIR          # any bundle folder

Uses NEO4J_URI if set, else starts a throwaway local server. Prints rows/s, the ratio and
the Python process peak RSS. The naive loader (one transaction per row) runs on a sample
of at most --naive-rows rows per file and its rate is extrapolated (labelled so).
The LOAD CSV comparison is not implemented yet.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import socket
import tempfile
import time
from pathlib import Path

from graph import db, schema, server
from loaders import load_paths

KEY = b"bench-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_bundle(out: Path, scale: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    def write(name: str, header: list[str], rows: object) -> None:
        with (out / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
            w = csv.writer(handle)
            w.writerow(header)
            w.writerows(rows)  # type: ignore[arg-type]
    districts = ["广州市白云区", "深圳市宝安区", "莆田市荔城区", "义乌市", "东莞市"]
    write("sellers", ["seller_id", "platform", "phones", "registered_address"],
          ((f"S{i}", "x", f"1380013{i % 10000:04d}", f"{districts[i % 5]}机场路{i % 500}号")
           for i in range(scale)))
    write("shops", ["shop_id", "seller_id", "platform", "name"],
          ((f"SH{i}", f"S{i}", "x", f"shop {i}") for i in range(scale)))
    write("listings", ["listing_id", "shop_id", "title", "price", "status"],
          ((f"L{i}", f"SH{i % scale}", f"item {i}", "9.9", "live") for i in range(scale * 3)))


def wipe(driver: object, database: str) -> None:
    with driver.session(database=database) as session:  # type: ignore[attr-defined]
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
                    ).consume()


def sample(bundle: Path, dest: Path, rows: int) -> Path:
    dest.mkdir()
    for path in bundle.glob("*.csv"):
        with path.open(encoding="utf-8") as src, (dest / path.name).open("w", encoding="utf-8") as out:
            for n, line in enumerate(src):
                if n > rows:
                    break
                out.write(line)
    return dest


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=10000)
    parser.add_argument("--bundle", type=Path)
    parser.add_argument("--naive-rows", type=int, default=300)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    bundle = args.bundle or tmp / "bundle"
    if args.bundle is None:
        make_bundle(bundle, args.scale)
    started: server.ServerState | None = None
    if os.environ.get("NEO4J_URI"):
        conn = db.connection()
    else:
        started, _ = server.start(
            server.ServerConfig(home=tmp / "neo4j", port=free_port(), auth=False))
        conn = db.Connection(started.uri, None, "neo4j", local=False)
    try:
        run(conn, bundle, tmp, args.naive_rows)
    finally:
        if started is not None:
            server.stop(tmp / "neo4j")
        shutil.rmtree(tmp, ignore_errors=True)


def run(conn: db.Connection, bundle: Path, tmp: Path, naive_rows_max: int) -> None:
    with db.open_driver(conn) as driver:
        schema.apply(driver, conn.database)
        wipe(driver, conn.database)
        t = time.perf_counter()
        report = load_paths(driver, conn.database, [bundle], source="bench", pii_key=KEY)
        ours_s = time.perf_counter() - t
        rows = sum(f.read for f in report.files)
        wipe(driver, conn.database)
        small = sample(bundle, tmp / "sample", naive_rows_max)
        t = time.perf_counter()
        naive = load_paths(driver, conn.database, [small], source="bench", pii_key=KEY,
                           batch_size=1)
        naive_s = time.perf_counter() - t
        naive_rows = sum(f.read for f in naive.files)
        wipe(driver, conn.database)
    ours_rate, naive_rate = rows / ours_s, naive_rows / naive_s
    print(f"rows: {rows}")
    print(f"ours (batched):            {ours_rate:10.0f} rows/s  ({ours_s:.1f} s)")
    print(f"naive per-row (sample {naive_rows}, extrapolated): {naive_rate:10.0f} rows/s")
    print(f"ratio ours/naive: {ours_rate / naive_rate:.1f}x")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
