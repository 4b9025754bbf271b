"""Compiled plans for the hot GraphQL operations: a node looked up by its key with the
pages below it, `network` and `search`.

graphql-core's executor is general: for every field of the answer it collects the
selection, finds the resolver, calls it and checks and serialises its value. For a node
with a few pages below it, or a network of two hundred nodes, that walk costs more than
the query itself. A plan does the same work for one known operation with what is known
in advance: the Cypher and the pages it fetches, and for each field of the answer where
its value comes from.

An operation is compiled once the usual path has answered it without an error (so it is
a valid document within the limits), when it is one `query` with one root field among
`PLANNED`, and every field selected below is a property, `id`, `__typename`, or a page
of neighbours (`nodes`, `edges`, `cursor`, `properties`, `totalCount`, `pageInfo`); no
fragments, no directives, no response name used twice. A compiled operation still
coerces its variables with graphql-core and checks the query's cost against the caller's
cap; the queries it runs are those of the usual resolvers (`api.types`,
`api.neighbourhood`, `api.search`), so the caller's scope is the same.

Anything out of the ordinary goes back to the usual path, which answers it as before:
variables that do not coerce, a cost over the cap, an argument a resolver refuses
(`first` out of bounds, a cursor that is not ours, a text with no word), and any error
while running (the usual path reports it with its path and code). The answers are the
same byte for byte (`tests/test_compiled.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, cast

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    parse,
)
from graphql.execution.values import get_argument_values, get_variable_values

from api import neighbourhood, search
from api.context import Context
from api.cost import SIZE_ARGUMENTS, query_cost
from api.extra_fields import extra_fields
from api.pacing import pace
from api.types import (
    NODE_FIELDS,
    NODES_BY_LABEL,
    REL_FIELDS,
    Page,
    Plan,
    RelField,
    asks_temporal,
    camel,
    check_first,
    cursor,
    edge_properties,
    field_value,
    offset_after,
    page_info,
    read_nodes,
)
from core.errors import UserError

MAX_PLANS = 512
"""Operations kept compiled; past that, new ones go the usual way."""


class NotPlanned(Exception):
    """The operation, or this request of it, is left to the usual path."""


# --- what an answer is made of ------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One field of the answer: its response name, what it is, and what is below it."""

    key: str
    kind: str
    name: str = ""
    """The property for `prop`, the type's name for `typename`."""
    below: tuple[Entry, ...] = ()
    child: int = -1
    """For `conn`: which of the parent's pages (its plan's children) it is."""
    get: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Connection:
    """A page of neighbours asked for below a node: where it is in the schema, its
    arguments, and the pages asked for below its nodes (in the order `api.types`
    plans them)."""

    spec: RelField
    node: FieldNode
    definition: GraphQLField
    temporal: bool
    children: tuple[Connection, ...]


def _name(node: FieldNode) -> str:
    return node.name.value


def _key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


def _fields(selection_set: SelectionSetNode | None) -> list[FieldNode]:
    """The fields of a selection; NotPlanned for fragments, directives or a response name
    given twice."""
    found: list[FieldNode] = []
    for sel in selection_set.selections if selection_set else ():
        if not isinstance(sel, FieldNode) or sel.directives:
            raise NotPlanned
        found.append(sel)
    if len({_key(f) for f in found}) != len(found):
        raise NotPlanned
    return found


# --- compiling: nodes and their pages ------------------------------------------------


class _NodeCompiler:
    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema

    def node(self, label: str, selection: SelectionSetNode | None,
             children: list[Connection]) -> tuple[Entry, ...]:
        """The entries of a node's selection; its pages are appended to `children`."""
        props = {camel(p): p for p in NODE_FIELDS[label]}
        resolved = extra_fields(label)
        entries = []
        for f in _fields(selection):
            name, key = f.name.value, _key(f)
            if name in resolved:
                raise NotPlanned
            if name == "__typename":
                entries.append(Entry(key, "typename", label))
            elif name == "id":
                entries.append(Entry(key, "id"))
            elif name in props and not f.selection_set:
                entries.append(Entry(key, "prop", props[name]))
            elif name in REL_FIELDS[label]:
                conn, below = self.connection(REL_FIELDS[label][name], f)
                entries.append(Entry(key, "conn", below=below, child=len(children)))
                children.append(conn)
            else:
                raise NotPlanned
        return tuple(entries)

    def connection(self, spec: RelField, f: FieldNode) -> tuple[Connection, tuple[Entry, ...]]:
        children: list[Connection] = []
        entries, names = [], set()
        for g in _fields(f.selection_set):
            name, key = g.name.value, _key(g)
            if name == "nodes":
                below = self.node(spec.other, g.selection_set, children)
                entries.append(Entry(key, "nodes", below=below))
                names |= {_name(h) for h in _fields(g.selection_set)}
            elif name == "edges":
                below, edge_names = self.edge(spec.other, g.selection_set, children)
                entries.append(Entry(key, "edges", below=below))
                names |= edge_names
            elif name == "totalCount":
                entries.append(Entry(key, "total"))
            elif name == "pageInfo":
                entries.append(Entry(key, "page_info", below=_page_info(g.selection_set)))
            elif name == "__typename":
                entries.append(Entry(key, "typename", f"{spec.other}Connection"))
            else:
                raise NotPlanned
        temporal = asks_temporal(spec.other, names)
        definition = self.schema.get_type(spec.owner).fields[f.name.value]  # type: ignore[union-attr]
        return Connection(spec, f, definition, temporal, tuple(children)), tuple(entries)

    def edge(self, label: str, selection: SelectionSetNode | None,
             children: list[Connection]) -> tuple[tuple[Entry, ...], set[str]]:
        entries, names = [], set()
        for g in _fields(selection):
            name, key = g.name.value, _key(g)
            if name == "node":
                entries.append(Entry(key, "node", below=self.node(label, g.selection_set, children)))
                names |= {_name(h) for h in _fields(g.selection_set)}
            elif name == "cursor":
                entries.append(Entry(key, "cursor"))
            elif name == "properties":
                entries.append(Entry(key, "edge_properties"))
            elif name == "__typename":
                entries.append(Entry(key, "typename", f"{label}Edge"))
            else:
                raise NotPlanned
        return tuple(entries), names


PAGE_INFO = {"hasNextPage": "has_next_page", "hasPreviousPage": "has_previous_page",
             "startCursor": "start_cursor", "endCursor": "end_cursor"}
"""The fields of `PageInfo` and the attributes of `api.types.page_info` holding them."""


def _page_info(selection: SelectionSetNode | None) -> tuple[Entry, ...]:
    entries = []
    for g in _fields(selection):
        name = g.name.value
        if name == "__typename":
            entries.append(Entry(_key(g), "typename", "PageInfo"))
        elif name in PAGE_INFO:
            entries.append(Entry(_key(g), "page_info_field", PAGE_INFO[name]))
        else:
            raise NotPlanned
    return tuple(entries)


# --- compiling: objects made by a resolver (network, search) -------------------------


OBJECT_FIELDS: dict[str, dict[str, str | Callable[[Any], Any]]] = {
    "SearchHit": {"id": "id", "label": "label", "key": "key", "displayName": "display_name",
                  "score": "score"},
    "GraphNode": {"id": "id", "label": "label", "key": "key", "caption": "caption",
                  "degree": "degree", "hub": "hub", "seed": "seed",
                  "properties": neighbourhood.node_properties},
    "GraphEdge": {"id": "id", "type": "type", "source": "source", "target": "target",
                  "properties": neighbourhood.edge_properties},
    "Graph": {"truncated": "truncated"},
}
"""The scalar fields of the objects `network` and `search` return: the attribute holding
each, or the function computing it."""
OBJECT_LISTS: dict[str, dict[str, str]] = {"Graph": {"nodes": "GraphNode", "edges": "GraphEdge"}}
"""Their lists of objects: the field and the type of its items."""


def _object(type_name: str, selection: SelectionSetNode | None) -> Callable[[Any], dict[str, Any]]:
    """What makes the answer of an object of `type_name` for this selection."""
    entries = []
    for f in _fields(selection):
        name, key = f.name.value, _key(f)
        how = OBJECT_FIELDS[type_name].get(name)
        if name == "__typename":
            entries.append(Entry(key, "typename", type_name))
        elif isinstance(how, str) and not f.selection_set:
            entries.append(Entry(key, "get", get=attrgetter(how)))
        elif callable(how) and not f.selection_set:
            entries.append(Entry(key, "get", get=how))
        elif name in OBJECT_LISTS.get(type_name, {}):
            make = _object(OBJECT_LISTS[type_name][name], f.selection_set)
            entries.append(Entry(key, "get", get=_each(attrgetter(name), make)))
        else:
            raise NotPlanned
    attributes = [OBJECT_FIELDS[type_name].get(_name(f)) for f in _fields(selection)]
    if all(isinstance(a, str) for a in attributes):
        return _attributes(tuple(e.key for e in entries), cast(list[str], attributes))
    return lambda obj: _object_out(obj, tuple(entries))


def _each(items: Callable[[Any], Any], make: Callable[[Any], dict[str, Any]]
          ) -> Callable[[Any], list[dict[str, Any]]]:
    return lambda obj: [make(item) for item in items(obj)]


def _attributes(keys: tuple[str, ...], names: list[str]) -> Callable[[Any], dict[str, Any]]:
    """Answers made of attributes only, read in one call."""
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: {keys[0]: one(obj)}
    many = attrgetter(*names)
    return lambda obj: dict(zip(keys, many(obj), strict=True))


def _asks_for(selection: SelectionSetNode | None, name: str) -> bool:
    return any(f.name.value == name or _asks_for(f.selection_set, name)
               for f in _fields(selection))


# --- answering ----------------------------------------------------------------------


def _node_out(label: str, row: Mapping[str, Any], entries: tuple[Entry, ...],
              plans: tuple[Plan, ...]) -> dict[str, Any]:
    props, fields = row["props"], NODE_FIELDS[label]
    out: dict[str, Any] = {}
    for e in entries:
        if e.kind == "prop":
            value = props.get(e.name)
            out[e.key] = None if value is None else field_value(value, fields[e.name])
        elif e.kind == "conn":
            found = row[f"c{e.child}"]
            out[e.key] = _connection_out(plans[e.child], Page(found["total"], found["page"]),
                                         e.below)
        elif e.kind == "id":
            key = NODES_BY_LABEL[label].key
            out[e.key] = f"{label}:{field_value(props.get(key), fields[key])}"
        else:
            out[e.key] = e.name
    return out


def _connection_out(plan: Plan, page: Page, entries: tuple[Entry, ...]) -> dict[str, Any]:
    label, skip, rows = plan.spec.other, plan.skip, page.rows
    out: dict[str, Any] = {}
    for e in entries:
        if e.kind == "nodes":
            out[e.key] = [_node_out(label, row, e.below, plan.children) for row in rows]
        elif e.kind == "edges":
            out[e.key] = [_edge_out(label, row, skip + i, e.below, plan.children)
                          for i, row in enumerate(rows)]
        elif e.kind == "total":
            out[e.key] = page.total
        elif e.kind == "page_info":
            out[e.key] = _page_info_out(skip, len(rows), page.total, e.below)
        else:
            out[e.key] = e.name
    return out


def _edge_out(label: str, row: Mapping[str, Any], offset: int, entries: tuple[Entry, ...],
              plans: tuple[Plan, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for e in entries:
        if e.kind == "node":
            out[e.key] = _node_out(label, row, e.below, plans)
        elif e.kind == "cursor":
            out[e.key] = cursor(offset)
        elif e.kind == "edge_properties":
            out[e.key] = edge_properties(row)
        else:
            out[e.key] = e.name
    return out


def _page_info_out(skip: int, count: int, total: int, entries: tuple[Entry, ...]) -> dict[str, Any]:
    info = page_info(skip, count, total)
    return {e.key: (e.name if e.kind == "typename" else getattr(info, e.name)) for e in entries}


def _object_out(obj: Any, entries: tuple[Entry, ...]) -> dict[str, Any]:
    return {e.key: (e.get(obj) if e.get is not None else e.name) for e in entries}


def _plans(connections: tuple[Connection, ...], variables: Any) -> tuple[Plan, ...]:
    """The pages to fetch, as `api.types.child_plans` makes them; NotPlanned when an
    argument is one the page's own resolver would refuse."""
    plans = []
    for c in connections:
        args = get_argument_values(c.definition, c.node, variables)
        first = args.get("first")
        if not isinstance(first, int) or isinstance(first, bool):
            raise NotPlanned
        try:
            skip = offset_after(args.get("after"))
            check_first(first)
        except UserError:
            raise NotPlanned from None
        plans.append(Plan(c.spec, skip, first, c.temporal, _plans(c.children, variables)))
    return tuple(plans)


# --- operations ---------------------------------------------------------------------


Run = Callable[[Context, Any], Any]
"""Answers the root field for a context and the coerced variables (a coroutine)."""

LOOKUPS = {"seller": "Seller", "shop": "Shop", "listing": "Listing", "brand": "Brand",
           "site": "Site", "person": "Person", "address": "Address", "phone": "Phone",
           "agency": "Agency"}
"""Root fields looking up one node by its key (`api.entities`), and their labels."""
PLANNED = (*LOOKUPS, "network", "search")


def _lookup(label: str, root: FieldNode, definition: GraphQLField,
            schema: GraphQLSchema) -> Run:
    children: list[Connection] = []
    entries = _NodeCompiler(schema).node(label, root.selection_set, children)
    connections = tuple(children)
    (argument,) = definition.args
    temporal = asks_temporal(label, {_name(f) for f in _fields(root.selection_set)})

    async def run(ctx: Context, variables: Any) -> Any:
        key = get_argument_values(definition, root, variables)[argument]
        plans = _plans(connections, variables)
        records = await read_nodes(ctx, label, plans, [str(key)], temporal=temporal)
        await pace()
        return _node_out(label, records[0], entries, plans) if records else None

    return run


def _network(root: FieldNode, definition: GraphQLField) -> Run:
    make = _object("Graph", root.selection_set)
    full = _asks_for(root.selection_set, "properties")

    async def run(ctx: Context, variables: Any) -> Any:
        args = get_argument_values(definition, root, variables)
        try:
            graph = await neighbourhood.network_graph(
                ctx, [str(s) for s in args["seedIds"]], args["hops"], args.get("relTypes"),
                args["limit"], args["hubDegree"], full=full)
        except UserError:
            raise NotPlanned from None
        return make(graph)

    return run


def _search(root: FieldNode, definition: GraphQLField) -> Run:
    make = _object("SearchHit", root.selection_set)

    async def run(ctx: Context, variables: Any) -> Any:
        args = get_argument_values(definition, root, variables)
        try:
            hits = await search.search_hits(ctx, args["text"], args.get("labels"), args["first"])
        except UserError:
            raise NotPlanned from None
        return [make(h) for h in hits]

    return run


@dataclass(frozen=True)
class Compiled:
    """One operation, ready to answer."""

    document: Any
    operation: OperationDefinitionNode
    operation_name: str | None
    root_key: str
    run: Run
    sizes: tuple[str, ...]
    """The variables given to `first`, `limit` or `maxSize`: all the cost depends on."""
    costs: dict[tuple[Any, ...], int] = field(default_factory=dict)

    async def answer(self, schema: GraphQLSchema, context: Context,
                     variables: dict[str, Any] | None) -> dict[str, Any]:
        """The response's data as the usual path gives it; NotPlanned to go that way."""
        coerced = get_variable_values(schema, self.operation.variable_definitions or (),
                                      variables or {})
        if isinstance(coerced, list):
            raise NotPlanned
        cap = context.max_cost
        if cap is not None and self.cost(schema, variables or {}) > cap:
            raise NotPlanned
        return {"data": {self.root_key: await self.run(context, coerced)}}

    def cost(self, schema: GraphQLSchema, variables: dict[str, Any]) -> int:
        """`api.cost.query_cost`, kept by the values of the size variables."""
        key = tuple(repr(variables.get(name, MISSING)) for name in self.sizes)
        if key not in self.costs:
            if len(self.costs) >= MAX_COSTS:
                self.costs.clear()
            self.costs[key] = query_cost(schema, self.document, self.operation_name, variables)
        return self.costs[key]


MISSING = object()
MAX_COSTS = 64
"""Costs kept per operation (by the values of its size variables)."""


def _size_variables(node: Any) -> tuple[str, ...]:
    """The variables given to a size argument anywhere in the operation."""
    found: list[str] = []
    for f in _fields(getattr(node, "selection_set", None)):
        found += [a.value.name.value for a in f.arguments or ()
                  if a.name.value in SIZE_ARGUMENTS and isinstance(a.value, VariableNode)]
        found += _size_variables(f)
    return tuple(dict.fromkeys(found))


def compile_operation(schema: GraphQLSchema, query: str, operation_name: str | None
                      ) -> Compiled | None:
    """The plan of an operation, or None when it is not one a plan knows."""
    try:
        document = parse(query)
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != 1 or len(document.definitions) != 1:
            return None
        op = operations[0]
        if op.operation != OperationType.QUERY or op.directives or (
                operation_name is not None and (op.name is None or op.name.value != operation_name)):
            return None
        (root,) = _fields(op.selection_set)
        return Compiled(document, op, operation_name, _key(root), _root(schema, root),
                        _size_variables(op))
    except (NotPlanned, ValueError, GraphQLError):
        return None


def _root(schema: GraphQLSchema, root: FieldNode) -> Run:
    name = root.name.value
    if name not in PLANNED:
        raise NotPlanned
    definition = schema.query_type.fields[name]  # type: ignore[union-attr]
    if name in LOOKUPS:
        return _lookup(LOOKUPS[name], root, definition, schema)
    if name == "network":
        return _network(root, definition)
    return _search(root, definition)


class Plans:
    """The compiled operations of a process, by query text and operation name."""

    def __init__(self, schema: GraphQLSchema, size: int = MAX_PLANS) -> None:
        self.schema = schema
        self.size = size
        self.known: dict[tuple[str, str | None], Compiled | None] = {}

    def get(self, query: str, operation_name: str | None) -> Compiled | None:
        return self.known.get((query, operation_name))

    def learn(self, query: str, operation_name: str | None) -> None:
        """Called when the usual path answered the operation without an error."""
        key = (query, operation_name)
        if key not in self.known and len(self.known) < self.size:
            self.known[key] = compile_operation(self.schema, query, operation_name)

    async def answer(self, query: str, operation_name: str | None, context: Context,
                     variables: dict[str, Any] | None) -> dict[str, Any] | None:
        """The response's data, or None when the usual path must answer."""
        compiled = self.get(query, operation_name)
        if compiled is None:
            return None
        try:
            return await compiled.answer(self.schema, context, variables)
        except Exception:  # noqa: BLE001 - the usual path answers it, errors and all
            return None
