"""The graph of a bulk load as Neo4j import files: operations folded per node and per
relationship as the online writer's MERGE statements would leave them, then written as
node and relationship CSV files for `neo4j-admin database import full`.

Folding follows `loaders/statements.py` and `loaders/write.py`, in the order the rows
come in the bundle:
- a node is merged on its key; each property keeps its last value that is not null
  (`coalesce(new, old)`); a Phone's raw spellings are gathered into `raw_forms`, each
  once, in the order seen;
- a division or address (and the PART_OF / IN_DIVISION links between them) takes its
  properties from its first mention in the run, as the online writer writes it once
  per run;
- a relationship is merged on (type, start node, end node), properties as for nodes;
- an end of a relationship that no row describes becomes a node with only its key (the
  online writer's placeholder);
- every node and relationship carries the provenance `source`, `run_id`,
  `first_seen_at` and `last_seen_at`.

The files are gzipped (level 1), which the importer reads as they are: about a ninth of
the plain size (377 MB plain at 100k sellers, 40 MB gzipped), with no measurable cost
in time (`bench/RESULTS.md`). A worker appends each bucket as a gzip member of its own.

Pure Python, no database: the columns come from graph/model.py.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import IO, Any
from zlib import crc32

from graph.model import node, rel
from loaders.mapping import Ops
from loaders.statements import OBSERVED
from loaders.write import ONCE_PER_RUN_LABELS, ONCE_PER_RUN_RELS

ARRAY_DELIMITER = "\x1f"
"""Between the items of a list value (the unit separator: never in normalised text)."""
ARRAY_DELIMITER_OPTION = "U+001F"
IMPORT_TYPES = {"string": "string", "int": "long", "float": "double", "bool": "boolean",
                "date": "date", "datetime": "datetime", "list": "string[]"}
PROVENANCE_COLUMNS = (("source", "string"), ("run_id", "string"),
                      ("first_seen_at", "datetime"), ("last_seen_at", "datetime"))

NodeItem = tuple[str, Any, dict[str, Any]]
"""(label, key, properties); empty properties: the node is only named (a placeholder)."""
RelItem = tuple[str, str, Any, str, Any, dict[str, Any]]
"""(type, start label, start key, end label, end key, properties)."""


def items(ops: Ops) -> tuple[list[NodeItem], list[RelItem]]:
    """One row's operations as node and relationship items, with a bare item for each
    relationship end the row does not describe."""
    nodes: list[NodeItem] = [(n.label, n.key, n.props) for n in ops.nodes]
    named = {(n.label, n.key) for n in ops.nodes}
    rels: list[RelItem] = []
    for r in ops.rels:
        for end in (r.start, r.end):
            if end not in named:
                named.add(end)
                nodes.append((end[0], end[1], {}))
        rels.append((r.type, r.start[0], r.start[1], r.end[0], r.end[1], r.props))
    return nodes, rels


def bucket_of(*parts: Any, buckets: int) -> int:
    """A stable bucket (the same in every process) for a node or relationship: a node
    by its key, a relationship by its two end keys (all items of one node or one
    relationship go to one bucket, which is all the fold needs)."""
    if len(parts) == 2:
        return node_bucket(parts[1], buckets)
    return rel_bucket(parts[2], parts[4], buckets)


def _bytes(key: Any) -> bytes:
    return key.encode("utf-8") if key.__class__ is str else repr(key).encode("utf-8")


def node_bucket(key: Any, buckets: int) -> int:
    return crc32(_bytes(key)) % buckets


def rel_bucket(start_key: Any, end_key: Any, buckets: int) -> int:
    return crc32(_bytes(end_key), crc32(_bytes(start_key))) % buckets


SEEN_KEPT = 100_000
"""Node and relationship references a worker remembers (then it starts afresh)."""


class Split:
    """Mapped rows as node and relationship items by bucket, for one worker, which maps
    its tasks in bundle order. It leaves out the items its own earlier items make
    redundant in the fold: a bare node it has already named, and a repeat of a division,
    address, PART_OF or IN_DIVISION whose first mention it has already written (the fold
    keeps the first mention, and this worker's earlier one comes first). The rest are
    `items` of each row, in the same order."""

    def __init__(self, buckets: int, kept: int = SEEN_KEPT) -> None:
        self.buckets = buckets
        self.kept = kept
        self.named: set[tuple[str, Any]] = set()
        self.fixed: set[Any] = set()

    def split(self, rows: Iterable[Ops]) -> tuple[dict[int, list[NodeItem]],
                                                   dict[int, list[RelItem]]]:
        if len(self.named) > self.kept:
            self.named.clear()
        if len(self.fixed) > self.kept:
            self.fixed.clear()
        nodes: dict[int, list[NodeItem]] = {}
        rels: dict[int, list[RelItem]] = {}
        for ops in rows:
            self._row(ops, nodes, rels)
        return nodes, rels

    def _row(self, ops: Ops, nodes: dict[int, list[NodeItem]],
             rels: dict[int, list[RelItem]]) -> None:
        named, fixed, buckets = self.named, self.fixed, self.buckets
        for n in ops.nodes:
            label, key = n.label, n.key
            ref = (label, key)
            if not n.props:
                if ref in named:
                    continue
            elif label in ONCE_PER_RUN_LABELS:
                if ref in fixed:
                    continue
                fixed.add(ref)
            named.add(ref)
            _put(nodes, crc32(_bytes(key)) % buckets, (label, key, n.props))
        for r in ops.rels:
            start, end = r.start, r.end
            if start not in named:
                named.add(start)
                _put(nodes, crc32(_bytes(start[1])) % buckets, (start[0], start[1], {}))
            if end not in named:
                named.add(end)
                _put(nodes, crc32(_bytes(end[1])) % buckets, (end[0], end[1], {}))
            if r.type in ONCE_PER_RUN_RELS:
                ref3 = (r.type, start, end)
                if ref3 in fixed:
                    continue
                fixed.add(ref3)
            bucket = crc32(_bytes(end[1]), crc32(_bytes(start[1]))) % buckets
            _put(rels, bucket, (r.type, start[0], start[1], end[0], end[1], r.props))


def _put(chunks: dict[int, list[Any]], bucket: int, item: Any) -> None:
    chunk = chunks.get(bucket)
    if chunk is None:
        chunks[bucket] = [item]
    else:
        chunk.append(item)


# --- folding ----------------------------------------------------------------------


def fold_nodes(chunks: Iterable[list[NodeItem]]) -> dict[tuple[str, Any], dict[str, Any]]:
    """Node items, in bundle order, folded into one property map per (label, key)."""
    out: dict[tuple[str, Any], dict[str, Any]] = {}
    fixed: set[tuple[str, Any]] = set()
    for chunk in chunks:
        for label, key, props in chunk:
            ref = (label, key)
            current = out.get(ref)
            if current is None:
                out[ref] = _first(props)
                if props and label in ONCE_PER_RUN_LABELS:
                    fixed.add(ref)
                continue
            if not props or ref in fixed:
                continue
            if label in ONCE_PER_RUN_LABELS:
                fixed.add(ref)
            _merge_props(current, props)
    return out


def _first(props: dict[str, Any]) -> dict[str, Any]:
    """The property map of a first mention: `_merge_props` into an empty map, the
    common case (no null, no raw phone spelling) copied at once."""
    if not props:
        return {}
    if "raw_form" in props or None in props.values():
        current: dict[str, Any] = {}
        _merge_props(current, props)
        return current
    return props.copy()


def _merge_props(current: dict[str, Any], props: dict[str, Any]) -> None:
    for name, value in props.items():
        if value is None:
            continue
        if name == "raw_form":
            raws = current.setdefault("raw_forms", [])
            if value not in raws:
                raws.append(value)
        else:
            current[name] = value


RelRef = tuple[str, str, Any, str, Any]


def fold_rels(chunks: Iterable[list[RelItem]]) -> dict[RelRef, dict[str, Any]]:
    """Relationship items, in bundle order, folded into one property map per
    (type, start, end)."""
    out: dict[RelRef, dict[str, Any]] = {}
    for chunk in chunks:
        for rel_type, sl, sk, el, ek, props in chunk:
            ref = (rel_type, sl, sk, el, ek)
            current = out.get(ref)
            if current is None:
                out[ref] = _first(props)
            elif rel_type not in ONCE_PER_RUN_RELS:
                _merge_props(current, props)
    return out


# --- columns and cells ------------------------------------------------------------


@dataclass(frozen=True)
class Columns:
    """The columns of one import file group: (property, model type) after the id ones."""

    header: str
    props: tuple[tuple[str, str], ...]


@lru_cache
def node_columns(label: str) -> Columns:
    nt = node(label)
    props = [(name, kind) for name, kind in sorted(nt.properties.items())
             if name not in {nt.key, *(n for n, _ in PROVENANCE_COLUMNS)}]
    props.append((OBSERVED, "date"))
    cols = (*props, *PROVENANCE_COLUMNS)
    header = ",".join([f"{nt.key}:ID({label})", *(_typed(n, k) for n, k in cols)])
    return Columns(header, cols)


@lru_cache
def rel_columns(rel_type: str, start: str, end: str) -> Columns:
    rt = rel(rel_type)
    props = [(name, kind) for name, kind in sorted(rt.properties.items())
             if name not in {n for n, _ in PROVENANCE_COLUMNS}]
    props.append((OBSERVED, "date"))
    cols = (*props, *PROVENANCE_COLUMNS)
    header = ",".join([f":START_ID({start})", f":END_ID({end})",
                       *(_typed(n, k) for n, k in cols)])
    return Columns(header, cols)


def _typed(name: str, kind: str) -> str:
    return f"{name}:{IMPORT_TYPES[kind]}"


def cell(value: Any, kind: str) -> str:
    """One CSV cell: empty for no value, text quoted (quotes doubled), lists joined by
    ARRAY_DELIMITER, dates and times in ISO form."""
    if value is None:
        return ""
    if kind == "list":
        return _quoted(ARRAY_DELIMITER.join(str(v) for v in value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if kind in ("int", "float", "bool"):
        return repr(float(value)) if kind == "float" else str(value)
    return _quoted(str(value))


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def key_cell(key: Any) -> str:
    return _quoted(str(key))


# --- files ------------------------------------------------------------------------


@dataclass
class Written:
    """The import files one bucket wrote: group name -> files, and the files holding a
    line break inside a value (the importer reads those more slowly)."""

    nodes: dict[str, list[Path]]
    rels: dict[tuple[str, str, str], list[Path]]
    multiline: list[Path]
    node_count: int = 0
    rel_count: int = 0


FLUSH_LINES = 4096
"""Lines a file gathers before they are written in one call."""
SUFFIX = ".csv.gz"
"""Import files are gzipped CSV."""
GZIP_LEVEL = 1
"""The fastest level: nine tenths smaller already; higher levels cost twice the time for
a sixth less."""


class Files:
    """One open CSV file per group (label, or type and end labels) of one part, appended
    to: a part is a bucket, or a worker that writes all its buckets into one set of files
    (fewer files: the importer's command line names each one)."""

    def __init__(self, folder: Path, part: Any) -> None:
        self.folder = folder
        self.part = part
        self.handles: dict[Any, tuple[Path, IO[str], list[str]]] = {}
        self.multiline: set[Path] = set()

    def line(self, group: Any, name: str, text: str) -> None:
        entry = self.handles.get(group)
        if entry is None:
            path = self.folder / f"{name}.{self.part}{SUFFIX}"
            handle = gzip.open(path, "at", compresslevel=GZIP_LEVEL, encoding="utf-8",  # noqa: SIM115
                               newline="")  # closed by close()
            entry = self.handles[group] = (path, handle, [])
        if "\n" in text or "\r" in text:
            self.multiline.add(entry[0])
        lines = entry[2]
        lines.append(text)
        if len(lines) >= FLUSH_LINES:
            self._flush(entry)

    @staticmethod
    def _flush(entry: tuple[Path, IO[str], list[str]]) -> None:
        _, handle, lines = entry
        if lines:
            handle.write("\n".join(lines) + "\n")
            lines.clear()

    def close(self) -> dict[Any, Path]:
        for entry in self.handles.values():
            self._flush(entry)
            entry[1].close()
        return {group: path for group, (path, _, _) in self.handles.items()}


def provenance(source: str, run_id: str, now: datetime) -> dict[str, Any]:
    return {"source": source, "run_id": run_id, "first_seen_at": now, "last_seen_at": now}


Format = Callable[[Any], str]


def _text_cell(value: Any) -> str:
    if value.__class__ is str:
        return '"' + value.replace('"', '""') + '"'
    return cell(value, "string")


def _date_cell(value: Any) -> str:
    if value.__class__ is date:
        return value.isoformat()
    return cell(value, "date")


def formatter(kind: str) -> Format:
    """`cell` for one kind, with the common value type first."""
    if kind == "string":
        return _text_cell
    if kind == "date":
        return _date_cell
    return partial(cell, kind=kind)


@dataclass(frozen=True)
class Shape:
    """How one group's lines are made: the cells of a line with the id cells and every
    property empty and the stamp's cells filled in, and where each property goes."""

    blank: list[str]
    slots: dict[str, tuple[int, Format]]

    def line(self, ids: tuple[str, ...], props: dict[str, Any]) -> str:
        cells = self.blank.copy()
        cells[:len(ids)] = ids
        slots = self.slots
        for name, value in props.items():
            slot = slots.get(name)
            if slot is not None and value is not None:
                cells[slot[0]] = slot[1](value)
        return ",".join(cells)


def shape(columns: Columns, ids: int, stamp: dict[str, Any]) -> Shape:
    blank = [""] * ids
    slots: dict[str, tuple[int, Format]] = {}
    for name, kind in columns.props:
        if name in stamp:
            blank.append(cell(stamp[name], kind))
        else:
            slots[name] = (len(blank), formatter(kind))
            blank.append("")
    return Shape(blank, slots)


def node_lines(nodes: dict[tuple[str, Any], dict[str, Any]],
               stamp: dict[str, Any]) -> Iterator[tuple[str, str]]:
    shapes: dict[str, Shape] = {}
    for (label, key), props in nodes.items():
        found = shapes.get(label)
        if found is None:
            found = shapes[label] = shape(node_columns(label), 1, stamp)
        yield label, found.line((key_cell(key),), props)


def rel_lines(rels: dict[RelRef, dict[str, Any]],
              stamp: dict[str, Any]) -> Iterator[tuple[tuple[str, str, str], str]]:
    shapes: dict[tuple[str, str, str], Shape] = {}
    for (rel_type, sl, sk, el, ek), props in rels.items():
        group = (rel_type, sl, el)
        found = shapes.get(group)
        if found is None:
            found = shapes[group] = shape(rel_columns(rel_type, sl, el), 2, stamp)
        yield group, found.line((key_cell(sk), key_cell(ek)), props)


def write_bucket(folder: Path, bucket: int, nodes: dict[tuple[str, Any], dict[str, Any]],
                 rels: dict[RelRef, dict[str, Any]], stamp: dict[str, Any],
                 part: Any = None) -> Written:
    """Write one bucket's folded nodes and relationships as headerless CSV files, added
    to those of `part` when given (else files of the bucket's own)."""
    files = Files(folder, bucket if part is None else part)
    for label, text in node_lines(nodes, stamp):
        files.line(label, f"nodes-{label}", text)
    for group, text in rel_lines(rels, stamp):
        files.line(group, "rels-{}-{}-{}".format(*group), text)
    paths = files.close()
    return Written({g: [p] for g, p in paths.items() if isinstance(g, str)},
                   {g: [p] for g, p in paths.items() if isinstance(g, tuple)},
                   sorted(files.multiline), len(nodes), len(rels))

