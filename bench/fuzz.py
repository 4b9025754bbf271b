"""The long hostile run (`./dev fuzz`): the fuzz tests with the `long` hypothesis profile
and the hostile matrix on a bigger bundle, then the figures: examples run (passing,
failing, invalid), tests passed and failed, and the duration.

    ./dev fuzz [--examples 300] [--scale 400] [--budget 600] [pytest args...]

`--budget` stops the run after that many seconds (the figures then say so).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ("tests/test_fuzz_loaders.py", "tests/test_fuzz_graphql.py", "tests/test_hostile_matrix.py")
EXAMPLES = re.compile(r"(\d+) passing examples?, (\d+) failing examples?, (\d+) invalid examples?")
OUTCOME = re.compile(r"(\d+) (passed|failed|error|errors|skipped)")


def figures(output: str) -> dict[str, int]:
    """Examples and test outcomes counted from pytest's output."""
    counts = {"passing examples": 0, "failing examples": 0, "invalid examples": 0}
    for passing, failing, invalid in EXAMPLES.findall(output):
        counts["passing examples"] += int(passing)
        counts["failing examples"] += int(failing)
        counts["invalid examples"] += int(invalid)
    summary = [line for line in output.splitlines() if " in " in line and OUTCOME.search(line)]
    for number, outcome in OUTCOME.findall(summary[-1] if summary else ""):
        counts[f"tests {outcome.rstrip('s') if outcome == 'errors' else outcome}"] = int(number)
    return counts


def run(command: list[str], env: dict[str, str], budget: float) -> tuple[str, int, bool]:
    """pytest's output and exit code, and whether the budget stopped it. At the budget
    pytest gets SIGINT, so it stops its Neo4j and prints its summary."""
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, preexec_fn=_interruptible)
    try:
        out, _ = proc.communicate(timeout=budget)
        return out, proc.returncode, False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            proc.terminate()
            out, _ = proc.communicate()
        return out, 1, True


def _interruptible() -> None:
    """SIGINT as usual in pytest, even when this runs in the background (where it is
    ignored and the child would inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300, help="examples per property test")
    parser.add_argument("--scale", type=int, default=400, help="scale of the hostile matrix's bundle")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds before the run is stopped")
    args, rest = parser.parse_known_args(argv)
    log = ROOT / "bench" / "out" / "fuzz-examples.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    env = {**os.environ, "ALLIANCE_HYPOTHESIS_PROFILE": "long", "ALLIANCE_FUZZ_LOG": str(log),
           "PYTHONUNBUFFERED": "1",
           "ALLIANCE_FUZZ_EXAMPLES": str(args.examples), "ALLIANCE_HOSTILE_SCALE": str(args.scale)}
    command = [sys.executable, "-m", "pytest", *TESTS, "-q", "-p", "no:cacheprovider",
               "--hypothesis-show-statistics", *rest]
    print("running:", " ".join(command[2:]), f"(examples {args.examples}, scale {args.scale})", flush=True)
    started = time.monotonic()
    output, code, stopped = run(command, env, args.budget)
    took = time.monotonic() - started
    lines = output.splitlines()
    failed = [line for line in lines if line.startswith(("FAILED", "ERROR"))]
    print("\n".join(failed))
    closing = [line for line in lines if " in " in line and OUTCOME.search(line)]
    print(closing[-1].strip("= ") if closing else "pytest printed no closing line")
    counts = figures(output)
    for name, number in sorted(Counter(log.read_text().splitlines()).items()):
        counts[f"examples run: {name}"] = number
    print(f"\nhostile run: {took:.0f} s{' (stopped at the budget)' if stopped else ''}")
    for name, value in counts.items():
        print(f"  {name}: {value}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
