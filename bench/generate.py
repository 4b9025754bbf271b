"""Speed and memory of `alliance generate` at growing scales.

Each scale runs in its own process, so the peak RSS is that run's alone; the script
prints rows/s, peak RSS and the RSS ratio between the largest and the smallest scale
(flat memory = ratio near 1). Target (issue 4): 1M sellers in < 10 min, < 300 MiB.

    .venv/bin/python bench/generate.py [--scales 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile

CHILD = """
import resource, sys, time
from alliance.generate import generate_bundle
began = time.perf_counter()
summary = generate_bundle(sys.argv[1], scale=int(sys.argv[2]), seed=1)
elapsed = time.perf_counter() - began
print(sum(summary.rows.values()), elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run(scale: int) -> tuple[int, float, float]:
    with tempfile.TemporaryDirectory(prefix="alliance-bench-gen-") as out:
        done = subprocess.run([sys.executable, "-c", CHILD, out, str(scale)], check=True,
                              capture_output=True, text=True)
    rows, elapsed, rss_kib = done.stdout.split()
    return int(rows), float(elapsed), int(rss_kib) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    results = []
    for scale in args.scales:
        rows, elapsed, rss = run(scale)
        results.append(rss)
        print(f"scale {scale:>9,}: {rows:>11,} rows in {elapsed:7.1f} s = {rows / elapsed:9,.0f} "
              f"rows/s, peak RSS {rss:6.1f} MiB")
    print(f"RSS ratio largest/smallest scale: {results[-1] / results[0]:.2f} (flat = 1.00)")


if __name__ == "__main__":
    main()
