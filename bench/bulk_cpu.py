"""CPU per row of the bulk load's preparation (read, check, map, fold, write the import
files), without a database: the parent's CPU and its workers', per input row.

    .venv/bin/python bench/bulk_cpu.py BUNDLE [--workers 2] [--keep CSV_DIR]

Run before and after a change on the same bundle, back to back: CPU per row compares
runs made at different loads, which wall time does not.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from loaders import bulk  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="copy the import files here")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="alliance-bulk-cpu-"))
    print("uptime before:", os.getloadavg())
    began, cpu = time.perf_counter(), time.process_time()
    prepared = bulk.prepare([args.bundle], source="bench", home=home, pii_key=b"k" * 32,
                            workers=args.workers, rejects_path=home / "rejects.jsonl")
    wall, parent = time.perf_counter() - began, time.process_time() - cpu
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers = children.ru_utime + children.ru_stime
    rows = sum(f.read for f in prepared.report.files)
    print(f"rows {rows:,}, nodes {prepared.node_count:,}, relationships {prepared.rel_count:,}")
    print(f"wall {wall:.1f} s ({rows / wall:,.0f} rows/s); CPU: parent {parent:.1f} s, workers "
          f"{workers:.1f} s; per row {(parent + workers) / rows * 1e6:.0f} us, of which workers "
          f"{workers / rows * 1e6:.0f} us")
    print("uptime after:", os.getloadavg())
    if args.keep:
        shutil.rmtree(args.keep, ignore_errors=True)
        shutil.copytree(prepared.folder / "csv", args.keep)
    prepared.remove_files()
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
