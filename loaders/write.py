"""Write mapped operations to Neo4j in batches (managed write transactions).

A batch becomes a few `UNWIND $rows` statements in one transaction: one per label of
the rows' main nodes, each with its relationships (the shape of a LOAD CSV statement),
then one per label for other nodes (merged by key) and one per other relationship type
and end labels. Divisions, addresses and the links between them depend only on their
keys, so a run writes each of them once.

Two batches are written at once, in two transactions, while the next one is read and
mapped: a batch runs its statements once the batch before it has run its own and is
committing, so the server need not wait for the client between transactions. Batches
still commit in order, and only after the one before them has committed:
- a batch that writes what the batch before it wrote waits on the server's locks until
  that batch has committed;
- before its own commit, a batch waits for the one before it to end. If that one failed,
  it rolls back and is not written; if that one is being written again (a retry, or in
  halves), it rolls back, waits for it to end and runs again;
- that wait is bounded (COMMIT_WAIT_SECONDS): should the batch before need a lock this one
  holds, this one rolls back and runs again after it instead of waiting for ever.
So the batches run their own transactions rather than `graph.access.write`; they open their
sessions with `graph.access.session_config` and go through `graph.access.accounted` (time
per batch, errors counted and translated: a server that stops answering is
`graph.access.DatabaseUnavailable`, still a driver `ServiceUnavailable`). The run record is
an ordinary `graph.access.write`. Loads have no transaction timeout of their own.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from neo4j import Driver, ManagedTransaction
from neo4j.exceptions import TransientError

from graph import access
from loaders import statements
from loaders.mapping import NodeOp, Ops, RelOp

ONCE_PER_RUN_LABELS = frozenset({"Division", "Address"})
ONCE_PER_RUN_RELS = frozenset({"PART_OF", "IN_DIVISION"})
Statement = tuple[str, dict[str, Any]]
NodeRef = tuple[str, Any]
RelRef = tuple[str, NodeRef, NodeRef]


class Batch:
    """The operations of one batch grouped into statements.

    The first node of each input row is its main node: it is written with its
    relationships to other nodes in one statement per label (the far node is looked up
    once per relationship). Other nodes (divisions) are merged by key; relationships
    between two other nodes get their own statements."""

    def __init__(self, written: set[Any]) -> None:
        self.written = written
        self.new: set[Any] = set()
        self.nodes: dict[str, dict[Any, dict[str, Any]]] = defaultdict(dict)
        self.rels: dict[tuple[str, str, str], dict[tuple[Any, Any], dict[str, Any]]] = \
            defaultdict(dict)
        self.stars: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.links: dict[str, dict[tuple[Any, ...], LinkNames]] = defaultdict(dict)

    def add(self, ops: Iterable[Ops]) -> None:
        for op in ops:
            if op.nodes:
                self._star(op.nodes[0], op)
            else:
                for r in op.rels:
                    self._rel(r)

    def _once(self, ref: NodeRef | RelRef) -> bool:
        """True at the first mention of `ref` in this run (it is written there, with its
        properties): so an address keeps the raw text of its first row in the files,
        whatever the batches and the order the server applies a statement's links in."""
        if ref in self.written or ref in self.new:
            return False
        self.new.add(ref)
        return True

    def _star(self, main: NodeOp, op: Ops) -> None:
        me = (main.label, main.key)
        others = {(n.label, n.key): n for n in op.nodes[1:]} if len(op.nodes) > 1 else {}
        row = _props({"key": main.key}, main)
        links = self.links[main.label]
        plain: dict[int, dict[str, Any]] = {}
        for r in op.rels:
            start, end = r.start, r.end
            if start == me:
                far, inbound = end, end == me
            elif end == me:
                far, inbound = start, True
            else:
                self._rel(r)
                continue
            if r.type in ONCE_PER_RUN_RELS and not self._once((r.type, start, end)):
                self._rel(r)
                continue
            far_op = others.pop(far, None)
            if far_op is not None and far_op.label in ONCE_PER_RUN_LABELS \
                    and not self._once(far):
                far_op = None
            names = _link_names(links, (r.type, far[0], inbound, far_op is not None))
            entries = row.get(names.name)
            if entries is None:
                entries = row[names.name] = []
            entries.append(_entry(names, far[1], far_op, r.props, plain))
        for ref, n in others.items():
            self._node(n, ref)
        self.stars[main.label].append(row)

    def _node(self, n: NodeOp, ref: NodeRef) -> None:
        if n.label in ONCE_PER_RUN_LABELS and not self._once(ref):
            return
        _props(self.nodes[n.label].setdefault(n.key, {"key": n.key}), n)

    def _rel(self, r: RelOp) -> None:
        if r.type in ONCE_PER_RUN_RELS and not self._once((r.type, r.start, r.end)):
            return
        rows = self.rels[(r.type, r.start[0], r.end[0])]
        row = rows.setdefault((r.start[1], r.end[1]), {"start": r.start[1], "end": r.end[1]})
        for name, value in r.props.items():
            row[name] = _plain(value)

    def statements(self) -> list[Statement]:
        out: list[Statement] = []
        for label, by_key in self.nodes.items():
            rows = list(by_key.values())
            out.append((statements.node_merge(label, _names(rows, "key")), {"rows": rows}))
        for label, rows in self.stars.items():
            out.append((self._star_query(label, rows), {"rows": rows}))
        for (rel_type, start, end), by_ends in self.rels.items():
            rows = list(by_ends.values())
            query = statements.rel_merge(rel_type, start, end, _names(rows, "start", "end"))
            out.append((query, {"rows": rows}))
        return out

    def _star_query(self, label: str, rows: list[dict[str, Any]]) -> str:
        groups = self.links[label]
        links = tuple(statements.Link(names.name, rel_type, far, inbound, sets_node,
                                  tuple(sorted(names.node)), tuple(sorted(names.rel)))
                      for (rel_type, far, inbound, sets_node), names in groups.items())
        skip = {"key", *(names.name for names in groups.values())}
        return statements.star_merge(label, _names(rows, *skip), links)


@dataclass
class LinkNames:
    """The row field of one link group and the property names its entries carry."""

    name: str
    node: set[str] = field(default_factory=set)
    rel: set[str] = field(default_factory=set)


def _entry(names: LinkNames, key: Any, far_op: NodeOp | None, props: dict[str, Any],
           plain: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """One relationship of a main node's row: the far node's key, its properties when they
    are set, and the relationship's properties (their names noted in `names`)."""
    entry: dict[str, Any] = {"key": key}
    if far_op is not None:
        entry["node"] = node_props = _props({}, far_op)
        names.node.update(node_props)
    if props:
        entry["rel"] = rel_props = _plain_props(props, plain)
        names.rel.update(rel_props)
    return entry


def _link_names(links: dict[tuple[Any, ...], LinkNames], group: tuple[Any, ...]) -> LinkNames:
    """The row field of a link group (type, far label, inbound, sets the far node)."""
    names = links.get(group)
    if names is None:
        names = links[group] = LinkNames(f"l{len(links)}")
    return names


def _plain_props(props: dict[str, Any], done: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Relationship properties with dates as text. The relationships of one row mostly
    share one properties dict: `done` (by id, for one row's live dicts) converts it once."""
    plain = done.get(id(props))
    if plain is None:
        plain = done[id(props)] = {name: _plain(value) for name, value in props.items()}
    return plain


FIRST_WINS_BY_LABEL: dict[str, frozenset[str]] = {
    label: frozenset(name for lbl, name in statements.FIRST_WINS if lbl == label)
    for label, _ in statements.FIRST_WINS}
NO_NAMES: frozenset[str] = frozenset()


def _props(row: dict[str, Any], n: NodeOp) -> dict[str, Any]:
    """Add the properties of `n` to `row` (Phone raw forms collected, dates as text)."""
    first_wins = FIRST_WINS_BY_LABEL.get(n.label, NO_NAMES)
    for name, value in n.props.items():
        if name == "raw_form":
            raws = row.setdefault(statements.PHONE_RAWS, [])
            if value not in raws:
                raws.append(value)
        elif name in first_wins:
            row.setdefault(name, value)
        else:
            row[name] = value.isoformat() if isinstance(value, date) else value
    return row


def _plain(value: Any) -> Any:
    """Dates as ISO text; the statements turn them back into dates."""
    return value.isoformat() if isinstance(value, date) else value


def _names(rows: list[dict[str, Any]], *skip: str) -> tuple[str, ...]:
    names: set[str] = set()
    for row in rows:
        names.update(row)
    return tuple(sorted(names - set(skip)))


def pack(ops: list[Ops], written: set[Any]) -> tuple[list[Statement], set[Any]]:
    """The statements of one batch, and the once-per-run references it writes."""
    batch = Batch(written)
    batch.add(ops)
    return batch.statements(), batch.new


class BatchTooBig(Exception):
    """The server ran out of transaction memory for this batch (not retried as is)."""


class EarlierBatchFailed(Exception):
    """Not written: the batch before it failed (its error is the one reported)."""


class Overtaken(Exception):
    """The batch before is being written again (or may need this one's locks): roll back
    and run again once it has ended."""


COMMIT_WAIT_SECONDS = 5.0
"""How long a batch holds its transaction open waiting for the batch before it to end
(a commit takes well under a second)."""


def _too_big(error: Exception) -> bool:
    return isinstance(error, BatchTooBig) or "MemoryPoolOutOfMemoryError" in str(
        getattr(error, "code", ""))


@dataclass
class Turn:
    """How far a batch's write has gone: `ran` its statements and is committing; `settled`
    ended or is being written again; `ended` committed or failed."""

    ran: threading.Event = field(default_factory=threading.Event)
    settled: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    failed: bool = False

    def finish(self, failed: bool) -> None:
        self.failed = failed
        for event in (self.ran, self.settled, self.ended):
            event.set()

    def committed(self) -> bool:
        return self.ended.is_set() and not self.failed


@dataclass
class Prepared:
    """A batch's operations, its statements, the once-per-run references they write, and
    its turn after the batch prepared before it."""

    ops: list[Ops]
    statements: list[Statement]
    new: set[Any]
    turn: Turn
    previous: Turn | None = None


def prepare(ops: list[Ops], written: set[Any]) -> Prepared:
    """The statements of a batch. What they write once per run (divisions, addresses)
    is added to `written`: it counts as written from now on."""
    statements, new = pack(ops, written)
    written |= new
    return Prepared(ops, statements, new, Turn())


class Writer:
    """Writes batches in the order they are prepared, two at once (see the module
    docstring). Preparing (grouping a batch into statements, in Python) runs in another
    thread while batches are written, so the server does not wait for it."""

    def __init__(self, driver: Driver, database: str, source: str, run_id: str) -> None:
        self.driver = driver
        self.database = database
        self.params = {"source": source, "run_id": run_id}
        self.written: set[Any] = set()
        self.last: Turn | None = None
        self.lock = threading.Lock()
        self.commit_wait = COMMIT_WAIT_SECONDS

    def prepare(self, ops: list[Ops]) -> Prepared:
        """The statements of a batch (see `prepare`), to be written after the batch
        prepared before it."""
        with self.lock:
            batch = prepare(ops, self.written)
            batch.previous, self.last = self.last, batch.turn
            return batch

    def write(self, batch: Prepared) -> None:
        """Write one batch in one transaction, in its turn."""
        failed = True
        try:
            self._write_in_turn(batch, batch.previous)
            failed = False
        finally:
            batch.turn.finish(failed)

    def _write_in_turn(self, batch: Prepared, previous: Turn | None) -> None:
        if previous is not None:
            previous.ran.wait()
            if not batch.statements:
                previous.ended.wait()
            if previous.failed:
                raise EarlierBatchFailed
        try:
            self._write(batch, previous)
        except Overtaken:
            assert previous is not None
            previous.ended.wait()
            if previous.failed:
                raise EarlierBatchFailed from None
            self._write(batch, None)

    def _write(self, batch: Prepared, previous: Turn | None) -> None:
        """A batch too big for the server's transaction memory is written in halves."""
        try:
            self._send(batch.statements, batch.turn, previous)
        except (BatchTooBig, TransientError) as error:
            if len(batch.ops) < 2 or not _too_big(error):
                raise
            batch.turn.settled.set()
            self._write_halves(batch, previous)

    def _write_halves(self, batch: Prepared, previous: Turn | None) -> None:
        """Each half writes what the whole batch was to write once per run (both may
        merge the same division: no harm), whatever was prepared since."""
        with self.lock:
            written = self.written - batch.new
        half = len(batch.ops) // 2
        for ops in (batch.ops[:half], batch.ops[half:]):
            statements, _ = pack(ops, written)
            self._write(Prepared(ops, statements, batch.new, batch.turn), previous)

    def _send(self, statements: list[Statement], turn: Turn, previous: Turn | None) -> None:
        """Run the statements in one managed transaction, then wait for the batch before
        to have committed; `turn.ran` is set just before the commit."""
        if not statements:
            return
        common = {**self.params, "now": datetime.now().astimezone()}
        attempts = 0

        def work(tx: ManagedTransaction) -> None:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                turn.settled.set()
            for query, params in statements:
                try:
                    tx.run(query, {**params, **common}).consume()
                except TransientError as error:
                    if _too_big(error):
                        raise BatchTooBig(str(error)) from error
                    raise
            if previous is not None:
                previous.settled.wait(self.commit_wait)
                if not previous.committed():
                    raise Overtaken
            turn.ran.set()

        with access.accounted("load:batch", None), \
                access.open_session(self.driver, access.session_config(self.database, read=False)) as session:
            session.execute_write(work)

    def record_run(self, started_at: datetime, finished_at: datetime, counts: str) -> None:
        params = {**self.params, "started_at": started_at, "finished_at": finished_at,
                  "counts": counts}
        access.write(self.driver, self.database, [access.Statement(statements.INGEST_RUN, params)],
                     timeout=None, name="load:run")
