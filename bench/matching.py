"""Probable matches on rings that hide: quality of STRONG and PROBABLE networks, and the
time and memory of `alliance analyze matches`.

Generates a bundle with `--evasion` (rings whose members share no exact identifier),
loads it into a throwaway local Neo4j (or `--uri`, `--bundle DIR --reuse` for one loaded
already), then:

1. the baseline: `alliance analyze networks` (STRONG) against the planted rings;
2. `alliance analyze matches` run `--rounds` times in its own process under
   `/usr/bin/time -v` (wall time and peak RSS; the median is reported; every round after
   the first must write and drop nothing: the run is idempotent);
3. `alliance analyze networks --strength probable` against the planted rings.

Quality, for each tier: pairwise precision and recall of the networks against the rings
(pairs of sellers in one network / in one ring), member recall (for each ring, its
members in the network holding most of it, over all ring members: the issue's "ring
recall"; pairwise recall weighs a big ring with the square of its size), the rings found
whole (all members in one network), and honest sellers pulled into a network with ring
sellers (per 1,000 honest sellers). Goals (PROBABLE, 100k sellers): recall >= 0.95,
precision >= 0.99, at most 1 honest seller in 1,000 pulled in; `analyze matches` at 1M
< 10 min, < 4 GiB.

    .venv/bin/python bench/matching.py --scale 10000 --evasion 2 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import combinations
from pathlib import Path
from typing import Any

from neo4j import Driver, GraphDatabase

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alliance import local_neo4j  # noqa: E402
from graph import schema  # noqa: E402

ALLIANCE = str(Path(sys.executable).with_name("alliance"))


@contextmanager
def server(uri: str | None) -> Iterator[tuple[Driver, str, dict[str, str]]]:
    """A driver, the database and the environment the CLI needs to reach the same server."""
    if uri:
        env = {"NEO4J_URI": uri}
        auth = None
        if "NEO4J_PASSWORD" in os.environ:
            auth = (os.environ.get("NEO4J_USER", "neo4j"), os.environ["NEO4J_PASSWORD"])
        with GraphDatabase.driver(uri, auth=auth, notifications_min_severity="OFF") as driver:
            yield driver, os.environ.get("NEO4J_DATABASE", "neo4j"), env
        return
    home = Path(tempfile.mkdtemp(prefix="alliance-bench-match-"))
    config = local_neo4j.ServerConfig(home=home, port=local_neo4j.free_port(), auth=False)
    local_neo4j.start(config)
    try:
        with GraphDatabase.driver(config.uri, auth=None, notifications_min_severity="OFF") as driver:
            yield driver, "neo4j", {"NEO4J_URI": config.uri, "NEO4J_USER": "neo4j",
                                    "NEO4J_PASSWORD": ""}
    finally:
        local_neo4j.stop(home)
        shutil.rmtree(home, ignore_errors=True)


def prepare(driver: Driver, database: str, args: argparse.Namespace) -> Path:
    from alliance.generate import generate_bundle
    from loaders import load_paths

    bundle = Path(args.bundle) if args.bundle else Path(tempfile.mkdtemp(prefix="alliance-bench-ev-"))
    if not (bundle / "truth.json").exists():
        began = time.perf_counter()
        generate_bundle(bundle, scale=args.scale, seed=args.seed, evasion=args.evasion)
        print(f"generated {args.scale} sellers (evasion {args.evasion}) in "
              f"{time.perf_counter() - began:.1f} s into {bundle}")
    if not args.reuse:
        schema.apply(driver, database)
        began = time.perf_counter()
        load_paths(driver, database, [bundle], source="bench-matching")
        print(f"loaded in {time.perf_counter() - began:.1f} s")
    return bundle


# --- quality ------------------------------------------------------------------------------


def member_recall(groups: list[list[str]], truth: dict[str, Any]) -> float:
    """Ring recall by members: for each ring, its members in the network that holds most
    of them (none when no member is in a network), summed over rings, over all ring
    members. A member left out costs one, however big its ring; pairwise recall counts
    the pairs it is in, so the big rings weigh with the square of their size there."""
    network_of = {s: i for i, g in enumerate(groups) for s in g}
    held = total = 0
    for ring in truth["rings"]:
        counts = Counter(network_of[s] for s in ring["sellers"] if s in network_of)
        held += max(counts.values(), default=0)
        total += len(ring["sellers"])
    return held / total if total else 1.0


def quality(groups: list[list[str]], truth: dict[str, Any], honest: int) -> dict[str, float]:
    ring_of = {s: i for i, r in enumerate(truth["rings"]) for s in r["sellers"]}
    planted = {(a, b) for r in truth["rings"] for a, b in combinations(sorted(r["sellers"]), 2)}
    found = {(a, b) for g in groups for a, b in combinations(sorted(g), 2)}
    hit = len(found & planted)
    whole = sum(1 for r in truth["rings"] if any(set(r["sellers"]) <= set(g) for g in groups))
    held = member_recall(groups, truth)
    pulled = sum(1 for g in groups if any(s in ring_of for s in g) for s in g if s not in ring_of)
    among_honest = sum(1 for g in groups if not any(s in ring_of for s in g) for _ in g)
    return {"precision": hit / len(found) if found else 1.0,
            "recall": hit / len(planted) if planted else 1.0,
            "member_recall": held,
            "rings_whole": whole / len(truth["rings"]), "rings": len(truth["rings"]),
            "pulled": pulled, "pulled_per_1000": 1000 * pulled / max(honest, 1),
            "honest_only_networks_sellers": among_honest, "networks": len(groups)}


def networks(env: dict[str, str], strength: str) -> float:
    began = time.perf_counter()
    subprocess.run([ALLIANCE, "analyze", "networks", "--strength", strength], check=True,
                   env={**os.environ, **env}, capture_output=True, text=True)
    return time.perf_counter() - began


def stored(driver: Driver, database: str, strength: str) -> list[list[str]]:
    rows, _, _ = driver.execute_query(
        "MATCH (s:Seller)-[:IN_NETWORK]->(n:Network {strength: $strength}) "
        "RETURN n.network_id AS n, collect(s.seller_id) AS ids",
        {"strength": strength}, database_=database)
    return [r["ids"] for r in rows]


# --- analyze matches -----------------------------------------------------------------------


def timed_matches(env: dict[str, str], threshold: float | None) -> dict[str, Any]:
    """One `alliance analyze matches` in its own process under /usr/bin/time -v."""
    command = ["/usr/bin/time", "-v", ALLIANCE, "analyze", "matches"]
    if threshold is not None:
        command += ["--threshold", str(threshold)]
    done = subprocess.run(command, check=True, env={**os.environ, **env, "COLUMNS": "200"},
                          capture_output=True, text=True)
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    assert wall and rss, done.stderr
    hours, minutes, seconds = (float(g or 0) for g in wall.groups())
    line = " ".join(done.stdout.split())
    counts = re.search(r"(\d+) links written, (\d+) dropped", line)
    assert counts, line
    return {"wall": hours * 3600 + minutes * 60 + seconds, "rss_mib": int(rss.group(1)) / 1024,
            "written": int(counts.group(1)), "dropped": int(counts.group(2)), "output": line}


def links(driver: Driver, database: str) -> list[tuple[str, str, float]]:
    rows, _, _ = driver.execute_query(
        "MATCH (a:Seller)-[r:PROBABLY_SAME]->(b:Seller) RETURN a.seller_id AS a, "
        "b.seller_id AS b, r.probability AS p", database_=database)
    return [(r["a"], r["b"], r["p"]) for r in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=10_000)
    parser.add_argument("--evasion", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--uri", help="Use this Neo4j instead of a throwaway local one.")
    parser.add_argument("--bundle", help="Bundle folder (generated there if it has no truth.json).")
    parser.add_argument("--reuse", action="store_true", help="The bundle is loaded already.")
    parser.add_argument("--load-only", action="store_true", help="Generate and load, then stop.")
    parser.add_argument("--json", help="Write the figures as JSON to this file.")
    args = parser.parse_args()
    with server(args.uri) as (driver, database, env):
        bundle = prepare(driver, database, args)
        if args.load_only:
            return 0
        truth = json.loads((bundle / "truth.json").read_text(encoding="utf-8"))
        sellers = driver.execute_query("MATCH (s:Seller) RETURN count(s) AS n",
                                       database_=database).records[0]["n"]
        honest = sellers - sum(len(r["sellers"]) for r in truth["rings"])
        figures: dict[str, Any] = {"scale": args.scale, "evasion": truth.get("evasion", 0),
                                   "sellers": sellers, "honest": honest}
        figures["strong_seconds"] = networks(env, "STRONG")
        figures["strong"] = quality(stored(driver, database, "STRONG"), truth, honest)
        print("STRONG", figures["strong"])
        rounds = []
        for index in range(args.rounds):
            rounds.append(timed_matches(env, args.threshold))
            print(f"analyze matches round {index + 1}: {rounds[-1]['output']} "
                  f"(wall {rounds[-1]['wall']:.1f} s, peak RSS {rounds[-1]['rss_mib']:.0f} MiB)")
        figures["matches"] = {
            "wall": [r["wall"] for r in rounds], "rss_mib": [r["rss_mib"] for r in rounds],
            "wall_median": statistics.median(r["wall"] for r in rounds),
            "rss_median": statistics.median(r["rss_mib"] for r in rounds),
            "written_first": rounds[0]["written"],
            "idempotent": all(r["written"] == 0 and r["dropped"] == 0 for r in rounds[1:]),
        }
        found = links(driver, database)
        ring_of = {s: i for i, r in enumerate(truth["rings"]) for s in r["sellers"]}
        true_links = sum(1 for a, b, _ in found if ring_of.get(a, -1) == ring_of.get(b, -2))
        figures["links"] = {"written": len(found), "true": true_links,
                            "link_precision": true_links / len(found) if found else 1.0}
        figures["probable_seconds"] = networks(env, "PROBABLE")
        figures["probable"] = quality(stored(driver, database, "PROBABLE"), truth, honest)
        print("PROBABLE", figures["probable"])
        print(json.dumps(figures, indent=1))
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
