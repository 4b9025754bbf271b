"""read -> validate -> normalise -> map -> write, file by file, in batches."""

from __future__ import annotations

import gc
import json
import os
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

from neo4j import Driver

from loaders.mapping import Mapper, Ops
from loaders.read import (
    FIELD_LIMIT,
    Record,
    UnusableInput,
    check_file,
    codec_for,
    csv_header,
    field_size,
    file_kind,
    read_records,
)
from loaders.validate import FILES, ignored_columns, masked, validate
from loaders.write import EarlierBatchFailed, Prepared, Writer

BATCH_SIZE = 1000
"""Rows per write transaction. The server's CPU per row grows with the size of the
transaction: the 100k-seller file took 73 s in transactions of 500 rows, 67 s of 1,000,
72 s of 2,000 and 84 s of 5,000 (bench/RESULTS.md)."""
Progress = Callable[[str, int], None]
"""Called as progress(file name, rows done so far in that file)."""


@dataclass
class FileReport:
    file: str
    read: int = 0
    loaded: int = 0
    rejected: int = 0
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class RunReport:
    run_id: str
    source: str
    files: list[FileReport] = field(default_factory=list)
    rejects_path: str | None = None

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rejected": self.rejected}


def bundle_files(paths: list[Path]) -> list[Path]:
    """Expand folders to their bundle files; every file must be a known bundle file."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in (".csv", ".jsonl"))
            out += [p for p in found if p.stem.lower() in FILES]
        elif path.is_file():
            name, _ = file_kind(path)
            if name not in FILES:
                raise UnusableInput(f"{path}: {name!r} is not a bundle file "
                                    f"({', '.join(FILES)})")
            out.append(path)
        else:
            raise UnusableInput(f"{path}: no such file or folder")
    if not out:
        raise UnusableInput("no bundle files found in " + ", ".join(map(str, paths)))
    return out


def _batches(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


WRITES_AT_ONCE = 2
"""Batches written at the same time (see loaders/write.py): one commits while the next
runs its statements. On the 100k-seller file alone: 52 s with one, 39-42 s with two."""


class InFlight:
    """Up to WRITES_AT_ONCE batches being written while the next one is read, validated,
    mapped and prepared. Errors surface in the order the batches were submitted."""

    def __init__(self, depth: int = WRITES_AT_ONCE) -> None:
        self.depth = depth
        self.pool = ThreadPoolExecutor(max_workers=depth, thread_name_prefix="loader-write")
        self.futures: deque[Future[None]] = deque()

    def submit(self, write: Callable[[Prepared], None], batch: Prepared) -> None:
        while len(self.futures) >= self.depth:
            self.futures.popleft().result()
        self.futures.append(self.pool.submit(write, batch))

    def close(self, quiet: bool = False) -> None:
        """Wait for every batch, then raise the first error, unless `quiet` (an error is
        already on its way). A batch not written because the one before it failed adds
        no error of its own."""
        self.pool.shutdown(wait=True)
        futures, self.futures = self.futures, deque()
        errors = [future.exception() for future in futures]
        first = next((e for e in errors if e and not isinstance(e, EarlierBatchFailed)), None)
        if first is not None and not quiet:
            raise first


GC_THRESHOLD = 50_000
"""Allocations between two young-generation collections while a load runs (Python's
default is 700)."""


@contextmanager
def gc_relaxed() -> Iterator[None]:
    """Make the cyclic garbage collector cheap while rows are loaded: what exists before
    the load (address and phone tables, the driver) is frozen out of its scans, and it
    runs after GC_THRESHOLD allocations instead of 700. It keeps running, so the few
    cycles the driver makes per batch are still freed."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


class Sink(Protocol):
    def write(self, text: str, /) -> int: ...


REJECTS_FOLDER = "rejects"
"""Under ALLIANCE_HOME: a run's rejected rows go to rejects/<run id>.jsonl unless the
caller names a file."""


def default_rejects_path(run_id: str) -> Path:
    """ALLIANCE_HOME/rejects/<run id>.jsonl."""
    from core.settings import get_settings
    return get_settings().alliance_home / REJECTS_FOLDER / f"{run_id}.jsonl"


class Rejects:
    """The run's rejects file (JSON Lines). A file the caller names is written even when
    no row is rejected; the default one is created at the first rejected row, readable
    by its owner only (rows hold personal data)."""

    def __init__(self, path: Path, *, named: bool) -> None:
        self.path = path
        self.named = named
        self.handle: IO[str] | None = self._open() if named else None

    @property
    def written(self) -> bool:
        return self.handle is not None

    def _open(self) -> IO[str]:
        if not self.named:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        mode = 0o666 if self.named else 0o600
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        return os.fdopen(fd, "w", encoding="utf-8")

    def write(self, text: str) -> int:
        if self.handle is None:
            self.handle = self._open()
        return self.handle.write(text)

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


def _reject(rejects: Sink | None, path: Path, record: Record,
            reasons: list[dict[str, str]]) -> None:
    if rejects is not None:
        rejects.write(json.dumps({"file": path.name, "line": record.line,
                                  "row": masked(record.row, anywhere=bool(record.columns)),
                                  "reasons": reasons},
                                 ensure_ascii=False, default=str) + "\n")


def check_record(name: str, record: Record) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """`validate` for one record, with a reason for each field longer than FIELD_LIMIT
    (the other fields are checked as usual). A CSV row whose cells do not match the
    header gets that one reason: its values may be under the wrong names."""
    if record.columns:
        return {}, [{"field": "_row", "code": "columns", "message": record.columns}]
    if not record.too_long:
        return validate(name, record.row)
    long = set(record.too_long)
    _, reasons = validate(name, {k: v for k, v in record.row.items() if k not in long})
    too_long = [{"field": field, "code": "too_long",
                 "message": f"{field}: {field_size(record.row[field]):,} characters, "
                            f"longer than the limit of {FIELD_LIMIT:,}"}
                for field in record.too_long]
    return {}, too_long + [r for r in reasons if r["field"] not in long]


def map_batch(path: Path, batch: list[Record], mapper: Mapper, report: FileReport,
              rejects: Sink | None, columns: set[str]) -> list[Ops]:
    """Validate, normalise and map one batch of a file's records (no database): the
    operations of its good rows; bad rows are counted and written to `rejects`."""
    name, kind = file_kind(path)
    good = []
    for record in batch:
        if kind != "csv":
            columns.update(record.row)
        clean, reasons = check_record(name, record)
        if reasons:
            report.rejected += 1
            _reject(rejects, path, record, reasons)
        else:
            good.append(clean)
    mapper.prepare(good)
    ops = [mapper.map(name, clean) for clean in good]
    report.read += len(batch)
    report.loaded += len(good)
    return ops


def file_batches(path: Path, encoding: str, batch_size: int) -> tuple[set[str], Iterator[list[Record]]]:
    """The CSV header's columns (empty for JSONL) and the file's records in batches."""
    _, kind = file_kind(path)
    codec = codec_for(path, encoding)
    columns: set[str] = set(csv_header(path, codec)) if kind == "csv" else set()
    return columns, _batches(read_records(path, codec), batch_size)


def _load_file(path: Path, mapper: Mapper, writes: InFlight, writer: Writer,
               report: FileReport, rejects: Sink, opts: dict[str, Any]) -> None:
    columns, batches = file_batches(path, opts["codecs"][path], opts["batch_size"])
    for batch in batches:
        ops = map_batch(path, batch, mapper, report, rejects, columns)
        writes.submit(writer.write, writer.prepare(ops))
        if opts["progress"] is not None:
            opts["progress"](path.name, report.read)
    report.ignored_columns = ignored_columns(file_kind(path)[0], columns)


def load_paths(driver: Driver, database: str, paths: list[Path] | list[str], *, source: str,
               batch_size: int = BATCH_SIZE, strict: bool = False, encoding: str = "auto",
               rejects_path: Path | str | None = None, pii_key: bytes | None = None,
               progress: Progress | None = None) -> RunReport:
    """Load bundle files or folders; see the package docstring."""
    files = bundle_files([Path(p) for p in paths])
    codecs = {path: check_file(path, encoding) for path in files}
    if pii_key is None:
        from core.settings import get_settings
        pii_key = get_settings().pii_key()
    if strict:
        _check_strict(codecs)
    report = RunReport(run_id=str(uuid.uuid4()), source=source)
    writer = Writer(driver, database, source, report.run_id)
    mapper = Mapper(pii_key)
    started = datetime.now().astimezone()
    opts = {"codecs": codecs, "batch_size": max(1, batch_size), "progress": progress}
    writes = InFlight()
    rejects = Rejects(Path(rejects_path), named=True) if rejects_path \
        else Rejects(default_rejects_path(report.run_id), named=False)
    with gc_relaxed():
        try:
            for path in files:
                file_report = FileReport(path.name)
                report.files.append(file_report)
                _load_file(path, mapper, writes, writer, file_report, rejects, opts)
        except BaseException:
            writes.close(quiet=True)
            raise
        finally:
            rejects.close()
        writes.close()
    report.rejects_path = str(rejects.path) if rejects.written else None
    counts = json.dumps({f.file: {"read": f.read, "loaded": f.loaded, "rejected": f.rejected}
                         for f in report.files})
    writer.record_run(started, datetime.now().astimezone(), counts)
    return report


def _check_strict(codecs: dict[Path, str]) -> None:
    """--strict: refuse the whole run (nothing written) if any row would be rejected."""
    for path, codec in codecs.items():
        name, _ = file_kind(path)
        for record in read_records(path, codec):
            _, reasons = check_record(name, record)
            if reasons:
                raise UnusableInput(f"{path.name} line {record.line}: "
                                    f"{reasons[0]['message']} (--strict: nothing loaded)")
