"""All loader Cypher: builders that take only labels/types from graph/model.py.

User values travel only as parameters ($rows, $source, $run_id, $now).
"""

from __future__ import annotations

from functools import lru_cache

from graph.model import check_label, check_rel_type, node

PROVENANCE_SET = "{v}.source = $source, {v}.run_id = $run_id, {v}.last_seen_at = $now"


def _merge(var: str, label: str, key_expr: str) -> str:
    label = check_label(label)
    return (f"MERGE ({var}:`{label}` {{`{node(label).key}`: {key_expr}}})\n"
            f"ON CREATE SET {var}.first_seen_at = $now, {PROVENANCE_SET.format(v=var)}\n")


@lru_cache
def node_merge(label: str) -> str:
    """rows: {key, props, raw?}. Sets properties and provenance."""
    text = ("UNWIND $rows AS row\n" + _merge("n", label, "row.key")
            + f"SET n += row.props, {PROVENANCE_SET.format(v='n')}\n")
    if label == "Phone":
        text += ("SET n.raw_forms = CASE WHEN row.raw IN coalesce(n.raw_forms, []) "
                 "THEN n.raw_forms ELSE coalesce(n.raw_forms, []) + row.raw END\n")
    if label == "Address":
        text += "SET n.raw = coalesce(n.raw, row.raw)\n"
    return text


@lru_cache
def rel_merge(rel_type: str, start: str, end: str) -> str:
    """rows: {start, end, props}. Missing ends become key-only placeholders."""
    rel_type = check_rel_type(rel_type)
    return ("UNWIND $rows AS row\n" + _merge("a", start, "row.start") + "WITH a, row\n"
            + _merge("b", end, "row.end") + "WITH a, b, row\n"
            + f"MERGE (a)-[r:`{rel_type}`]->(b)\n"
            "ON CREATE SET r.first_seen_at = $now\n"
            f"SET r += row.props, {PROVENANCE_SET.format(v='r')}\n")


INGEST_RUN = (
    "MERGE (r:`" + check_label("IngestRun") + "` {run_id: $run_id})\n"
    "SET r.source = $source, r.started_at = $started_at, r.finished_at = $finished_at,\n"
    "    r.counts = $counts, r.first_seen_at = coalesce(r.first_seen_at, $started_at),\n"
    "    r.last_seen_at = $finished_at"
)
