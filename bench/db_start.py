"""Start-up time and idle memory of the local Neo4j server (`alliance db start`).

Runs the same code as `alliance db start` against a fresh folder and prints:
- cold start: a new store (Neo4j creates the system and neo4j databases), jars cached;
- warm restart: the same store, stopped cleanly and started again (median of --runs);
- peak RSS of the Neo4j process at idle, after the schema is applied and a few seconds
  of rest, with the default memory settings.
Targets (issue 2): warm ready < 20 s, idle RSS < 1.5 GiB.

    .venv/bin/python bench/db_start.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import psutil
from neo4j import GraphDatabase

from alliance import local_neo4j
from graph import schema

WARM_TARGET_S = 20.0
RSS_TARGET_MIB = 1536.0


def timed_start(config: local_neo4j.ServerConfig) -> float:
    began = time.perf_counter()
    local_neo4j.start(config)
    return time.perf_counter() - began


def idle_rss_mib(config: local_neo4j.ServerConfig, settle: float) -> float:
    with GraphDatabase.driver(config.uri, auth=None) as driver:
        schema.apply(driver, "neo4j")
        driver.execute_query("MATCH (n) RETURN count(n)")
    time.sleep(settle)
    state = local_neo4j.ServerState.load(config.home)
    assert state is not None
    peak = 0.0
    for _ in range(5):
        peak = max(peak, psutil.Process(state.pid).memory_info().rss / 2**20)
        time.sleep(0.5)
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--settle", type=float, default=5.0)
    args = parser.parse_args()

    local_neo4j.ensure_jars()
    home = Path(tempfile.mkdtemp(prefix="alliance-bench-db-"))
    config = local_neo4j.ServerConfig(home=home, port=local_neo4j.free_port(), auth=False)
    cold = timed_start(config)
    rss = idle_rss_mib(config, args.settle)
    warm = []
    for _ in range(args.runs):
        local_neo4j.stop(home)
        warm.append(timed_start(config))
    local_neo4j.stop(home)

    warm_median = statistics.median(warm)
    print(f"Neo4j {local_neo4j.NEO4J_VERSION}, default memory settings, {psutil.cpu_count()} cores")
    print(f"cold start (new store):   {cold:6.1f} s")
    print(f"warm restart (median {args.runs}): {warm_median:6.1f} s  "
          f"(runs: {', '.join(f'{w:.1f}' for w in warm)}; target < {WARM_TARGET_S:.0f} s, "
          f"ratio to target {warm_median / WARM_TARGET_S:.2f})")
    print(f"idle RSS:                 {rss:6.0f} MiB (target < {RSS_TARGET_MIB:.0f} MiB, "
          f"ratio to target {rss / RSS_TARGET_MIB:.2f})")


if __name__ == "__main__":
    main()
