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

Pure Python, no database: the columns come from graph/model.py.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

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
    """A stable bucket (the same in every process) for a node or relationship."""
    return zlib.crc32(repr(parts).encode("utf-8")) % buckets


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
                current = out[ref] = {}
            if not props or ref in fixed:
                continue
            if label in ONCE_PER_RUN_LABELS:
                fixed.add(ref)
            _merge_props(current, props)
    return out


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
                current = out[ref] = {}
            elif rel_type in ONCE_PER_RUN_RELS:
                continue
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


class Files:
    """One open CSV file per group (label, or type and end labels) of one bucket."""

    def __init__(self, folder: Path, bucket: int) -> None:
        self.folder = folder
        self.bucket = bucket
        self.handles: dict[Any, tuple[Path, IO[str]]] = {}
        self.multiline: set[Path] = set()

    def line(self, group: Any, name: str, cells: list[str]) -> None:
        entry = self.handles.get(group)
        if entry is None:
            path = self.folder / f"{name}.{self.bucket}.csv"
            entry = self.handles[group] = (path, path.open("w", encoding="utf-8", newline=""))
        text = ",".join(cells)
        if "\n" in text or "\r" in text:
            self.multiline.add(entry[0])
        entry[1].write(text + "\n")

    def close(self) -> dict[Any, Path]:
        for _, handle in self.handles.values():
            handle.close()
        return {group: path for group, (path, _) in self.handles.items()}


def provenance(source: str, run_id: str, now: datetime) -> dict[str, Any]:
    return {"source": source, "run_id": run_id, "first_seen_at": now, "last_seen_at": now}


def node_lines(nodes: dict[tuple[str, Any], dict[str, Any]],
               stamp: dict[str, Any]) -> Iterator[tuple[str, list[str]]]:
    for (label, key), props in nodes.items():
        cols = node_columns(label)
        yield label, [key_cell(key), *(cell(stamp.get(n, props.get(n)), k)
                                       for n, k in cols.props)]


def rel_lines(rels: dict[RelRef, dict[str, Any]],
              stamp: dict[str, Any]) -> Iterator[tuple[tuple[str, str, str], list[str]]]:
    for (rel_type, sl, sk, el, ek), props in rels.items():
        cols = rel_columns(rel_type, sl, el)
        yield (rel_type, sl, el), [key_cell(sk), key_cell(ek),
                                   *(cell(stamp.get(n, props.get(n)), k) for n, k in cols.props)]


def write_bucket(folder: Path, bucket: int, nodes: dict[tuple[str, Any], dict[str, Any]],
                 rels: dict[RelRef, dict[str, Any]], stamp: dict[str, Any]) -> Written:
    """Write one bucket's folded nodes and relationships as headerless CSV files."""
    files = Files(folder, bucket)
    for label, cells in node_lines(nodes, stamp):
        files.line(label, f"nodes-{label}", cells)
    for group, cells in rel_lines(rels, stamp):
        files.line(group, "rels-{}-{}-{}".format(*group), cells)
    paths = files.close()
    return Written({g: [p] for g, p in paths.items() if isinstance(g, str)},
                   {g: [p] for g, p in paths.items() if isinstance(g, tuple)},
                   sorted(files.multiline), len(nodes), len(rels))

