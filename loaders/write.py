"""Write mapped operations to Neo4j in batches (managed write transactions)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from neo4j import Driver, ManagedTransaction

from loaders import cypher
from loaders.mapping import Ops


def _statements(ops: list[Ops]) -> list[tuple[str, list[dict[str, Any]]]]:
    nodes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rels: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for op in ops:
        for n in op.nodes:
            props = dict(n.props)
            raw = props.pop("raw_form", None) if n.label == "Phone" else props.pop("raw", None) \
                if n.label == "Address" else None
            nodes[n.label].append({"key": n.key, "props": props, "raw": raw})
        for r in op.rels:
            rels[(r.type, r.start[0], r.end[0])].append(
                {"start": r.start[1], "end": r.end[1], "props": r.props})
    out = [(cypher.node_merge(label), rows) for label, rows in nodes.items()]
    out += [(cypher.rel_merge(*group), rows) for group, rows in rels.items()]
    return out


class Writer:
    def __init__(self, driver: Driver, database: str, source: str, run_id: str) -> None:
        self.driver = driver
        self.database = database
        self.params = {"source": source, "run_id": run_id}

    def write(self, ops: list[Ops]) -> None:
        statements = _statements(ops)
        if not statements:
            return
        params = {**self.params, "now": datetime.now().astimezone()}

        def work(tx: ManagedTransaction) -> None:
            for query, rows in statements:
                tx.run(query, rows=rows, **params).consume()  # type: ignore[arg-type]

        with self.driver.session(database=self.database) as session:
            session.execute_write(work)

    def record_run(self, started_at: datetime, finished_at: datetime, counts: str) -> None:
        params = {**self.params, "started_at": started_at, "finished_at": finished_at,
                  "counts": counts}
        self.driver.execute_query(cypher.INGEST_RUN, params, database_=self.database)
