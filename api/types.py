"""GraphQL object types generated from `graph.model`: one per label.

Fields are the label's key, its properties and the provenance properties, in camelCase;
every relationship of the label becomes a Relay connection (`first`, `after`, `edges`,
`nodes`, `pageInfo`, `totalCount`) in both directions. Neighbours are fetched by
DataLoaders, one query per field and page for all parents of a request; that query also
fetches the connection fields selected below the field (and `node_loader` those selected
on the nodes it looks up), so a nested selection takes one round trip.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, LiteralString, Optional, cast

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON
from strawberry.types.nodes import SelectedField

from api.context import Context
from api.extra_fields import extra_fields
from api.pacing import pace
from api.scope import Kind, visible_as
from api.values import plain
from core.errors import UserError
from graph import access
from graph.model import NODES, PROVENANCE, RELATIONSHIPS, NodeType, PropType, check_rel_type

MAX_FIRST = 500
DEFAULT_FIRST = 20

_PY_TYPES: dict[PropType, Any] = {
    "string": Optional[str], "int": Optional[int], "float": Optional[float],  # noqa: UP045
    "bool": Optional[bool], "date": Optional[str], "datetime": Optional[str],  # noqa: UP045
    "list": Optional[list[str]],  # noqa: UP045
}
_PROVENANCE_TYPES: dict[str, PropType] = {
    "source": "string", "run_id": "string", "first_seen_at": "datetime",
    "last_seen_at": "datetime", "observed_on": "date",
}

INCOMING_NAMES: dict[str, str | dict[str, str]] = {
    "OPERATES": "operatedBy", "OFFERS": "offeredBy", "CLAIMS_BRAND": "claimedBy",
    "VERIFIED_AS": "verifiedSellers", "HOLDS": "heldBy",
    "HAS_PHONE": {"Seller": "sellers", "Person": "persons", "Shipment": "shipments"},
    "HAS_EMAIL": {"Seller": "sellers", "Person": "persons"},
    "PAID_TO": "paidBy", "OWNS": "ownedBy",
    "TRANSFERRED_TO": "transferredFrom", "USED_DEVICE": "usedBy",
    "REGISTERED_AT": "registeredSellers", "SHIPS_FROM": "shopsShippingFrom",
    "RETURNS_TO": "shopsReturningTo",
    "SENT_BY": "shipments", "ORIGINATES_AT": "shipmentsFrom", "BOUGHT": "testPurchases",
    "DELIVERED_BY": "deliveredPurchases", "AUTHENTICATED_BY": "authenticatedPurchases",
    "FILED": "filedBy", "AGAINST": "complaints", "LOCATED_AT": "sites", "CONTROLS": "controlledBy",
    "RUNS": "runBy", "IN_DIVISION": {"Address": "addresses", "Agency": "agencies"},
    "PART_OF": "parts", "ON_BEHALF_OF": "leads",
    "CONCERNS": "concernedBy", "EVIDENCED_BY": "evidenceFor", "PUSHED_TO": "leadsPushed",
    "BECAME": "becameFrom", "HANDLED_BY": "cases", "CONCERNS_BRAND": "cases", "RAIDED": "raidedBy",
    "NAMES_SUSPECT": "suspectIn", "IN_NETWORK": "sellers",
}
"""Field names for relationships seen from their target (outgoing ones use the type);
a dict names the field per source label when a type has several."""


@cache
def camel(name: str) -> str:
    head, *rest = name.lower().split("_")
    return head + "".join(part.title() for part in rest)


def field_value(value: Any, prop_type: PropType) -> Any:
    if type(value) is str and prop_type == "string":
        return value
    value = plain(value)
    if value is None:
        return None
    if prop_type in ("string", "date", "datetime"):
        return str(value)
    if prop_type == "list":
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]
    if prop_type == "int":
        return int(value)
    if prop_type == "float":
        return float(value)
    return bool(value)


def node_fields(n: NodeType) -> dict[str, PropType]:
    """Key first, then the model's properties, then provenance."""
    fields: dict[str, PropType] = {n.key: "string", **n.properties}
    for prop in PROVENANCE:
        fields.setdefault(prop, _PROVENANCE_TYPES[prop])
    return fields


def caption(n: NodeType, props: dict[str, Any]) -> str:
    for prop in n.caption:
        if props.get(prop) not in (None, ""):
            return str(props[prop])
    return str(props.get(n.key, ""))


# --- cursors ------------------------------------------------------------------------


def cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


MAX_OFFSET = 999_999_999
"""The largest offset a cursor may hold (nine digits)."""
_OFFSET = re.compile(r"o:([0-9]{1,9})")


def offset_after(after: str | None) -> int:
    """The offset just after a cursor; UserError when the cursor is not one of ours."""
    if after is None:
        return 0
    try:
        found = _OFFSET.fullmatch(base64.urlsafe_b64decode(after.encode()).decode())
    except (ValueError, binascii.Error, UnicodeError):
        found = None
    if found is None:
        raise UserError(f"after: {after[:40]!r} is not a cursor returned by this API")
    return int(found.group(1)) + 1


def check_first(first: int, *, name: str = "first", cap: int = MAX_FIRST) -> int:
    if first < 0:
        raise UserError(f"{name} must be 0 or more, not {first}")
    if first > cap:
        raise UserError(f"{name} is {first}, above the maximum of {cap}")
    return first


# --- shared types -------------------------------------------------------------------


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@dataclass(frozen=True)
class RelField:
    owner: str
    name: str
    rel_type: str
    outgoing: bool
    other: str


def incoming_name(rel_type: str, source: str, several: bool) -> str:
    named = INCOMING_NAMES.get(rel_type, camel(rel_type) + "In")
    if isinstance(named, dict):
        return named[source]
    return named + source if several else named


def rel_fields(label: str) -> list[RelField]:
    fields = []
    for r in RELATIONSHIPS:
        if label in r.sources:
            for target in r.targets:
                suffix = target if len(r.targets) > 1 else ""
                fields.append(RelField(label, camel(r.type) + suffix, r.type, True, target))
        if label in r.targets:
            for source in r.sources:
                fields.append(RelField(label, incoming_name(r.type, source, len(r.sources) > 1),
                                       r.type, False, source))
    return fields


# --- loaders ------------------------------------------------------------------------


def node_loader(ctx: Context, label: str, selections: list[Any] | None = None
                ) -> DataLoader[str, Any]:
    """Nodes of `label` by key. Given the fields selected on them, the connection fields
    among them are fetched in the same query (their DataLoaders primed)."""
    fields = flatten(selections or [])
    children = child_plans(label, fields)
    temporal = selections is None or asks_temporal(label, {f.name for f in fields})

    async def load(keys: list[str]) -> list[Any]:
        records = await read_nodes(ctx, label, children, keys, temporal=temporal)
        for r in records:
            _prime_children(ctx, children, r["props"][NODES_BY_LABEL[label].key], r)
        found = {r["key"]: make_node(label, r["props"]) for r in records}
        return [found.get(k) for k in keys]

    return ctx.loader(("node", label, children, temporal), lambda: DataLoader(load_fn=load))


async def read_nodes(ctx: Context, label: str, children: tuple[Plan, ...],
                     keys: list[str], *, temporal: bool = True) -> list[Any]:
    """The records of the nodes of `label` with these keys that the caller may see: `key`,
    `props` (without dates and times unless `temporal`) and, for each child plan i, its
    page as `ci`."""
    return await access.read_async(ctx.driver, ctx.database,
                                   node_query(label, children, ctx.kind, temporal),
                                   {"keys": list(keys), **_children_params(children), **ctx.scope},
                                   timeout=ctx.timeout, name=f"node:{label}")


def asks_temporal(label: str, names: set[str]) -> bool:
    """Whether fields named `names` on a node of `label` include a date or a time."""
    return any(camel(p) in names for p, t in NODE_FIELDS[label].items()
               if t in ("date", "datetime"))


@lru_cache(maxsize=1024)
def node_query(label: str, children: tuple[Plan, ...], who: Kind,
               temporal: bool = True) -> LiteralString:
    n = NODES_BY_LABEL[label]
    blocks = "".join(_page_block(c, "n", f"_{i}", who) for i, c in enumerate(children))
    below = "".join(f", {{total: total_{i}, page: page_{i}}} AS c{i}" for i in range(len(children)))
    props = "properties(n)" if temporal else f"n {{.*, {_NO_TEMPORALS}}}"
    return cast(LiteralString, f"UNWIND $keys AS k MATCH (n:{n.label} {{{n.key}: k}}) "
                               f"WHERE {visible_as(who, n.label, 'n')} {blocks}"
                               f"RETURN k AS key, {props} AS props{below}")


def _children_params(children: tuple[Plan, ...]) -> dict[str, int]:
    params: dict[str, int] = {}
    for i, child in enumerate(children):
        params.update(page_params(child, f"_{i}"))
    return params


def _prime_children(ctx: Context, children: tuple[Plan, ...], key: str, row: Any) -> None:
    for i, child in enumerate(children):
        below = Page(row[f"c{i}"]["total"], row[f"c{i}"]["page"])
        page_loader(ctx, child).prime(key, below)
        prime(ctx, child, below)


@dataclass
class Page:
    total: int
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class Plan:
    """One connection field to fetch: its relationship, its page, whether the nodes'
    dates and times are asked for, and the connection fields asked for below it (fetched
    in the same query: one round trip for a whole nested selection)."""

    spec: RelField
    skip: int
    first: int
    temporal: bool
    children: tuple[Plan, ...] = ()


def plan_for(spec: RelField, skip: int, first: int, selections: list[Any]) -> Plan:
    """The plan for `spec` from the selection under the connection field."""
    fields = node_selections(selections)
    temporal = asks_temporal(spec.other, {f.name for f in fields})
    return Plan(spec, skip, first, temporal, child_plans(spec.other, fields))


def child_plans(label: str, fields: list[SelectedField]) -> tuple[Plan, ...]:
    """Plans for the connection fields among `fields` selected on nodes of `label`."""
    children = []
    for f in fields:
        child = REL_FIELDS[label].get(f.name)
        asked = int_argument(f.arguments.get("first", DEFAULT_FIRST))
        if child is None or asked is None:
            continue
        try:
            child_skip = offset_after(f.arguments.get("after"))
            child_first = check_first(asked)
        except UserError:
            continue  # the field's own resolver reports it
        children.append(plan_for(child, child_skip, child_first, f.selections))
    return tuple(children)


def int_argument(value: Any) -> int | None:
    """An Int argument as the selection gives it (literals come as their text)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def node_selections(selections: list[Any]) -> list[SelectedField]:
    """The fields selected on the nodes of a connection (`nodes { ... }` and
    `edges { node { ... } }`), fragments flattened."""
    found: list[SelectedField] = []
    for f in flatten(selections):
        if f.name == "nodes":
            found += flatten(f.selections)
        elif f.name == "edges":
            for g in flatten(f.selections):
                if g.name == "node":
                    found += flatten(g.selections)
    return found


def flatten(selections: list[Any]) -> list[SelectedField]:
    out: list[SelectedField] = []
    for sel in selections:
        if isinstance(sel, SelectedField):
            out.append(sel)
        else:
            out += flatten(sel.selections)
    return out


@lru_cache(maxsize=1024)
def page_query(plan: Plan, who: Kind) -> LiteralString:
    """For each key in $keys: the total and one page of neighbours, and below each
    neighbour the pages of the plan's children."""
    n = NODES_BY_LABEL[plan.spec.owner]
    return cast(LiteralString, f"UNWIND $keys AS k MATCH (n:{n.label} {{{n.key}: k}}) "
                               f"{_page_block(plan, 'n', '', who)}RETURN k AS key, total, page")


def _page_block(plan: Plan, parent: str, tag: str, who: Kind) -> str:
    spec, m, r = plan.spec, f"m{tag}", f"r{tag}"
    other = NODES_BY_LABEL[spec.other]
    arrow = (f"({parent})-[{r}:{check_rel_type(spec.rel_type)}]->({m}:{other.label})" if spec.outgoing
             else f"({parent})<-[{r}:{check_rel_type(spec.rel_type)}]-({m}:{other.label})")
    match = f"MATCH {arrow} WHERE {visible_as(who, other.label, m)}"
    inner = "".join(_page_block(c, m, f"{tag}_{i}", who) for i, c in enumerate(plan.children))
    below = "".join(f", c{i}: {{total: total{tag}_{i}, page: page{tag}_{i}}}"
                    for i in range(len(plan.children)))
    props = f"properties({m})" if plan.temporal else f"{m} {{.*, {_NO_TEMPORALS}}}"
    return (f"CALL ({parent}) {{ {match} RETURN count(*) AS total{tag} }} "
            f"CALL ({parent}) {{ {match} WITH {r}, {m} ORDER BY {m}.{other.key} "
            f"SKIP $skip{tag} LIMIT $first{tag} {inner}"
            f"RETURN collect({{props: {props}, rel: {r} {{.*, {_NO_PROVENANCE}}}{below}}}) "
            f"AS page{tag} }} ")


def page_params(plan: Plan, tag: str = "") -> dict[str, int]:
    params = {f"skip{tag}": plan.skip, f"first{tag}": plan.first}
    for i, child in enumerate(plan.children):
        params.update(page_params(child, f"{tag}_{i}"))
    return params


def page_loader(ctx: Context, plan: Plan) -> DataLoader[str, Page]:
    async def load(keys: list[str]) -> list[Page]:
        records = await access.read_async(ctx.driver, ctx.database, page_query(plan, ctx.kind),
                                          {"keys": list(keys), **page_params(plan), **ctx.scope},
                                          timeout=ctx.timeout, name=f"rel:{plan.spec.rel_type}")
        found = {r["key"]: Page(r["total"], r["page"]) for r in records}
        for page in found.values():
            prime(ctx, plan, page)
        return [found.get(k, Page(0, [])) for k in keys]

    return ctx.loader(("page", plan), lambda: DataLoader(load_fn=load))


def prime(ctx: Context, plan: Plan, page: Page) -> None:
    """Hand the pages fetched below `plan` to the loaders their own fields will ask."""
    key_name = NODES_BY_LABEL[plan.spec.other].key
    for row in page.rows:
        _prime_children(ctx, plan.children, row["props"][key_name], row)


# --- generated types ----------------------------------------------------------------

NODE_CLASSES: dict[str, type] = {}


def make_node(label: str, props: dict[str, Any]) -> Any:
    """The GraphQL object of a node from its properties (those absent are null)."""
    fields, key = NODE_FIELDS[label], NODES_BY_LABEL[label].key
    values = {p: field_value(v, fields[p]) for p, v in props.items() if v is not None and p in fields}
    if key not in values:
        values[key] = None
    return NODE_CLASSES[label](**values)


def row_projection(label: str, var: str, names: frozenset[str]) -> LiteralString:
    """How a query returns a node of `label` held in `var`: its key and the properties
    whose field names are in `names` (a page's nodes need no more: every field resolver
    below a node reads only its key)."""
    n = NODES_BY_LABEL[label]
    props = [p for p in node_fields(n) if p == n.key or camel(p) in names]
    return cast(LiteralString, f"{var} {{{', '.join('.' + p for p in props)}}}")


NODES_BY_LABEL = {n.label: n for n in NODES}
NODE_FIELDS = {n.label: node_fields(n) for n in NODES}
"""`node_fields` of each label, made once."""
REL_FIELDS = {n.label: {f.name: f for f in rel_fields(n.label)} for n in NODES}
_NO_TEMPORALS = ", ".join(sorted({f"{p}: null" for n in NODES for p, t in node_fields(n).items()
                                  if t in ("date", "datetime")}))
"""A map projection's overrides leaving out every date and time of the model, which the
driver is slow to turn into Python values: used when none of them is asked for."""
_NO_PROVENANCE = ", ".join(f"{p}: null" for p in PROVENANCE)


def _connection_resolver(spec: RelField) -> Any:
    key_name = NODES_BY_LABEL[spec.owner].key

    async def resolve(root: Any, info: strawberry.Info, first: int = DEFAULT_FIRST,
                      after: str | None = None) -> Any:
        ctx: Context = info.context
        skip = offset_after(after)
        plan = plan_for(spec, skip, check_first(first), info.selected_fields[0].selections)
        page = await page_loader(ctx, plan).load(getattr(root, key_name))
        await pace()
        return make_connection(spec, page, skip, first)

    resolve.__annotations__["return"] = f"{spec.other}Connection"
    return resolve


def make_connection(spec: RelField, page: Page, skip: int, first: int) -> Any:
    edge_cls, conn_cls = EDGE_CLASSES[spec.other], CONNECTION_CLASSES[spec.other]
    edges = [
        edge_cls(cursor=cursor(skip + i), node=make_node(spec.other, row["props"]),
                 properties=edge_properties(row))
        for i, row in enumerate(page.rows)
    ]
    return conn_cls(edges=edges, page_info=page_info(skip, len(edges), page.total),
                    total_count=page.total)


def edge_properties(row: Any) -> dict[str, Any]:
    """A page row's relationship properties as the API shows them (no provenance)."""
    return {k: plain(v) for k, v in (row["rel"] or {}).items() if k not in PROVENANCE}


def page_info(skip: int, count: int, total: int) -> PageInfo:
    """Where a page of `count` rows from `skip` stands among `total`."""
    return PageInfo(has_next_page=skip + count < total, has_previous_page=skip > 0,
                    start_cursor=cursor(skip) if count else None,
                    end_cursor=cursor(skip + count - 1) if count else None)


def _node_id(self: Any) -> strawberry.ID:
    """Global id `Label:key`, also accepted by `network(seedIds)`."""
    label = type(self).__name__
    return strawberry.ID(f"{label}:{getattr(self, NODES_BY_LABEL[label].key)}")


def _node_class(n: NodeType) -> type:
    fields = node_fields(n)
    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__annotations__": {p: _PY_TYPES[t] for p, t in fields.items()},
        "__doc__": f"A {n.label} node (key `{n.key}`).",
        "id": strawberry.field(resolver=_node_id),
    }
    namespace["__annotations__"][n.key] = str
    for p in fields:
        if p != n.key:
            namespace[p] = None
    extra = extra_fields(n.label)
    namespace.update(extra)
    taken = {camel(p) for p in fields} | {"id"} | set(extra)
    for i, spec in enumerate(rel_fields(n.label)):
        if spec.name in taken:
            raise ValueError(f"{n.label}.{spec.name} is both a property and a relationship field")
        taken.add(spec.name)
        namespace[f"rel_{i}"] = strawberry.field(
            resolver=_connection_resolver(spec), name=spec.name,
            description=f"{spec.rel_type} {'to' if spec.outgoing else 'from'} {spec.other}.")
    return strawberry.type(type(n.label, (), namespace))


EDGE_CLASSES: dict[str, type] = {}
CONNECTION_CLASSES: dict[str, type] = {}


def _connection_classes(label: str) -> tuple[type, type]:
    edge = strawberry.type(type(f"{label}Edge", (), {
        "__module__": __name__,
        "__annotations__": {"cursor": str, "node": label, "properties": JSON},
        "__doc__": "A neighbour and the relationship's own properties.",
    }))

    def nodes(self: Any) -> list[Any]:
        return [e.node for e in self.edges]

    nodes.__annotations__["return"] = f"list[{label}]"
    conn = strawberry.type(type(f"{label}Connection", (), {
        "__module__": __name__,
        "__annotations__": {"edges": f"list[{label}Edge]", "page_info": PageInfo,
                            "total_count": int},
        "nodes": strawberry.field(resolver=nodes, description="The edges' nodes, for short."),
    }))
    return edge, conn


def _build() -> None:
    for n in NODES:
        cls = _node_class(n)
        NODE_CLASSES[n.label] = cls
        globals()[n.label] = cls
        edge, conn = _connection_classes(n.label)
        EDGE_CLASSES[n.label], CONNECTION_CLASSES[n.label] = edge, conn
        globals()[f"{n.label}Edge"], globals()[f"{n.label}Connection"] = edge, conn


_build()
