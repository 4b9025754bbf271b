"""All loader Cypher: builders that take only labels, types and property names from
graph/model.py.

User values travel only as parameters ($rows, $source, $run_id, $now). Every
property is set by name (never `+= map`), so the planner needs no Eager step, and a
property a row lacks keeps its stored value (`coalesce`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from graph.model import check_label, check_rel_type, node, rel

PROVENANCE_SET = "{v}.source = $source, {v}.run_id = $run_id, {v}.last_seen_at = $now"
OBSERVED = "observed_on"
PHONE_RAWS = "raws"
"""Phone rows carry the raw spellings seen in the batch; they are added to raw_forms."""
FIRST_WINS = {("Address", "raw")}
"""Properties that keep the first value ever stored."""


def _merge(var: str, label: str, key_expr: str) -> str:
    label = check_label(label)
    return (f"MERGE ({var}:`{label}` {{`{node(label).key}`: {key_expr}}})\n"
            f"ON CREATE SET {var}.first_seen_at = $now, {PROVENANCE_SET.format(v=var)}\n")


def _checked(names: tuple[str, ...], allowed: set[str], what: str) -> tuple[str, ...]:
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise ValueError(f"{what} has no properties {unknown} in graph/model.py")
    return names


def _assign(var: str, label: str, name: str, types: Mapping[str, str], src: str = "row") -> str:
    """Dates travel as ISO text (cheaper to send than driver date values)."""
    value = f"{src}.`{name}`"
    if types.get(name) == "date" or name == OBSERVED:
        value = f"date({value})"
    if (label, name) in FIRST_WINS:
        return f"{var}.`{name}` = coalesce({var}.`{name}`, {value})"
    return f"{var}.`{name}` = coalesce({value}, {var}.`{name}`)"


def _node_sets(var: str, label: str, props: tuple[str, ...], src: str) -> list[str]:
    allowed = {*node(label).properties, OBSERVED} | ({PHONE_RAWS} if label == "Phone" else set())
    names = _checked(props, allowed, label)
    types = dict(node(label).properties)
    sets = [PROVENANCE_SET.format(v=var)]
    sets += [_assign(var, label, name, types, src) for name in names if name != PHONE_RAWS]
    if PHONE_RAWS in names:
        sets.append(f"{var}.raw_forms = coalesce({var}.raw_forms, []) + "
                    f"[x IN {src}.{PHONE_RAWS} WHERE NOT x IN coalesce({var}.raw_forms, [])]")
    return sets


@lru_cache
def node_merge(label: str, props: tuple[str, ...]) -> str:
    """rows: {key, <props>...}; sets the named properties and provenance."""
    sets = _node_sets("n", label, props, "row")
    return "UNWIND $rows AS row\n" + _merge("n", label, "row.key") + "SET " + ", ".join(sets)


@dataclass(frozen=True)
class Link:
    """Relationships of one type between a batch's main nodes and nodes of one label.

    Rows carry them as `row.<name>`: a list of {key, node: {<node_props>}, rel:
    {<rel_props>}}. Without `node_props` the far node is only merged on its key (a
    placeholder when it does not exist yet); with them, its properties and provenance are
    set too."""

    name: str
    rel_type: str
    label: str
    inbound: bool
    sets_node: bool
    node_props: tuple[str, ...]
    rel_props: tuple[str, ...]


def _link(link: Link) -> str:
    rel_type = check_rel_type(link.rel_type)
    rel_names = _checked(link.rel_props, {*rel(rel_type).properties, OBSERVED}, rel_type)
    types = dict(rel(rel_type).properties)
    rel_sets = [PROVENANCE_SET.format(v="r")]
    rel_sets += [_assign("r", rel_type, name, types, "e.rel") for name in rel_names]
    text = (f"CALL (n, row) {{\nUNWIND coalesce(row.`{link.name}`, []) AS e\n"
            + _merge("m", link.label, "e.key"))
    if link.sets_node:
        text += "SET " + ", ".join(_node_sets("m", link.label, link.node_props, "e.node")) + "\n"
    arrow = "(m)-[r:`{t}`]->(n)" if link.inbound else "(n)-[r:`{t}`]->(m)"
    return (text + f"MERGE {arrow.format(t=rel_type)}\nON CREATE SET r.first_seen_at = $now\n"
            + "SET " + ", ".join(rel_sets) + "\n}\n")


@lru_cache
def star_merge(label: str, props: tuple[str, ...], links: tuple[Link, ...]) -> str:
    """rows: {key, <props>..., <link name>: [...]}: each main node with its properties,
    then its relationships, the far node found once per relationship (as LOAD CSV does)."""
    text = node_merge(label, props)
    if links:
        text += "\nWITH n, row\n" + "".join(_link(link) for link in links)
    return text


@lru_cache
def rel_merge(rel_type: str, start: str, end: str, props: tuple[str, ...]) -> str:
    """rows: {start, end, <props>...}. Each end is merged on its key: an end written by a
    batch still committing is waited for and found (a MATCH would miss it), an end not
    loaded yet becomes a placeholder carrying only its key, filled in by its own row.
    With both ends of one label the plan has an Eager step: these statements carry few
    rows (divisions, once per run; transfers)."""
    rel_type = check_rel_type(rel_type)
    names = _checked(props, {*rel(rel_type).properties, OBSERVED}, rel_type)
    types = dict(rel(rel_type).properties)
    sets = [PROVENANCE_SET.format(v="r")]
    sets += [_assign("r", rel_type, name, types) for name in names]
    return ("UNWIND $rows AS row\n" + _merge("a", start, "row.start")
            + _merge("b", end, "row.end")
            + f"MERGE (a)-[r:`{rel_type}`]->(b)\n"
            "ON CREATE SET r.first_seen_at = $now\n"
            "SET " + ", ".join(sets))


INGEST_RUN = (
    "MERGE (r:`" + check_label("IngestRun") + "` {run_id: $run_id})\n"
    "SET r.source = $source, r.started_at = $started_at, r.finished_at = $finished_at,\n"
    "    r.counts = $counts, r.first_seen_at = coalesce(r.first_seen_at, $started_at),\n"
    "    r.last_seen_at = $finished_at"
)
