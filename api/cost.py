"""The cost of a GraphQL query, computed before it runs, and the cap per role.

The cost bounds how many objects a query may return. Every field that returns an object
(or a list of objects) costs 1, plus its size times the cost of what is selected below
it. The size is 1, except for a field taking `first`, `limit` or `maxSize`, whose size is
that argument's value (its default when it is not given): a connection with `first: 500`
multiplies by 500 everything selected under it, and a connection asked without `first`
by its default page size (20). Aliases and fragments add up; fields returning scalars
cost nothing. A few fields that do much more work than the objects they return carry a
fixed extra cost (`FIELD_COSTS`), and `runSavedQuery` costs the row cap of the query
it names (`max_rows` in the query's header, 1,000 by default).

A query costing more than its caller's cap is refused before it runs with the error code
`QUERY_TOO_COSTLY`, its cost and the cap in the error's extensions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.type.definition import GraphQLNamedType
from strawberry.extensions import SchemaExtension

from core.errors import UserError
from graph.query_files import DEFAULT_MAX_ROWS

DEFAULT_CAPS: dict[str, int] = {
    "admin": 50_000,
    "investigator": 50_000,
    "police_liaison": 20_000,
    "brand_member": 20_000,
    "analyst": 5_000,
    "platform": 2_000,
}
"""The most a query may cost, per role."""
SIZE_ARGUMENTS = ("first", "limit", "maxSize")
"""Arguments that say how many objects a field returns."""
FIELD_COSTS: dict[tuple[str, str], int] = {
    ("Lead", "dossier"): 1_000,
    ("Lead", "conflicts"): 100,
}
"""Extra cost of fields doing much more than their objects show: a dossier runs several
queries and traces."""
ROW_CAPPED: dict[tuple[str, str], str] = {("Query", "runSavedQuery"): "name"}
"""Fields returning up to the row cap of the saved query their argument names, as JSON."""
RowCap = Callable[[str], int]
"""The row cap of a saved query, by name."""
LIST_SIZES: dict[tuple[str, str], int] = {("Graph", "edges"): 4}
"""Lists without a size argument that hold several objects per object of their parent's
size: a network has up to four edges per node of its `limit`."""


def default_row_cap(name: str) -> int:
    """A saved query's default row cap, whatever its name (no library at hand)."""
    return DEFAULT_MAX_ROWS


class QueryTooCostly(UserError):
    code = "QUERY_TOO_COSTLY"

    def __init__(self, cost: int, cap: int, role: str) -> None:
        super().__init__(
            f"query cost {cost} is above the limit of {cap} for the role {role}: each "
            "connection's `first` (20 when not given) multiplies the cost of everything "
            "selected below it, and aliases add up; ask for smaller pages, fewer nested "
            "connections or fewer aliases")
        self.extensions = {"cost": cost, "maxCost": cap}


def caps(overrides: Mapping[str, int] | None = None) -> dict[str, int]:
    """The caps per role: the defaults with `overrides` applied."""
    merged = dict(DEFAULT_CAPS)
    for role, cap in (overrides or {}).items():
        if role not in DEFAULT_CAPS:
            raise ValueError(f"cost caps: unknown role {role!r}; roles are {', '.join(DEFAULT_CAPS)}")
        if cap < 1:
            raise ValueError(f"cost caps: the cap of {role} must be 1 or more, not {cap}")
        merged[role] = cap
    return merged


def query_cost(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None,
               variables: Mapping[str, Any] | None, row_cap: RowCap = default_row_cap) -> int:
    """The cost of the operation a request would run (the costliest when it names none
    and the document holds several); `row_cap` gives a saved query's row cap by name."""
    walker = _Walker(schema, document, variables or {}, row_cap)
    costs = [walker.operation(op) for op in _operations(document, operation_name)]
    return max(costs, default=0)


def _operations(document: DocumentNode, name: str | None) -> Iterator[OperationDefinitionNode]:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
                name is None or (definition.name and definition.name.value == name)):
            yield definition


class _Walker:
    """Walks one document; a fragment's cost is computed once however often it is spread."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode,
                 variables: Mapping[str, Any], row_cap: RowCap) -> None:
        self.schema = schema
        self.variables = variables
        self.row_cap = row_cap
        self.fragments = {d.name.value: d for d in document.definitions
                          if isinstance(d, FragmentDefinitionNode)}
        self.fragment_costs: dict[str, int] = {}
        self.defaults: dict[str, Any] = {}

    def operation(self, op: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(op.operation)
        if root is None:
            return 0
        self.defaults = {d.variable.name.value: d.default_value
                         for d in op.variable_definitions or ()}
        return self.selections(op.selection_set, root)

    def selections(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType) -> int:
        total = 0
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                total += self.field(sel, parent)
            elif isinstance(sel, InlineFragmentNode):
                total += self.selections(sel.selection_set, self.condition(sel, parent))
            elif isinstance(sel, FragmentSpreadNode):
                total += self.fragment(sel.name.value)
        return total

    def fragment(self, name: str) -> int:
        if name not in self.fragment_costs:
            self.fragment_costs[name] = 0  # a cycle (refused by validation) counts nothing
            fragment = self.fragments.get(name)
            if fragment is not None:
                parent = self.schema.get_type(fragment.type_condition.name.value)
                self.fragment_costs[name] = (self.selections(fragment.selection_set, parent)
                                             if parent is not None else 0)
        return self.fragment_costs[name]

    def condition(self, sel: InlineFragmentNode, parent: GraphQLNamedType) -> GraphQLNamedType:
        if sel.type_condition is None:
            return parent
        return self.schema.get_type(sel.type_condition.name.value) or parent

    def field(self, node: FieldNode, parent: GraphQLNamedType) -> int:
        definition: GraphQLField | None = getattr(parent, "fields", {}).get(node.name.value)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return 0
        key = (parent.name, node.name.value)
        size = self.size(node, definition) * LIST_SIZES.get(key, 1)
        extra = FIELD_COSTS.get(key, 0) + self.rows(node, key)
        return 1 + extra + size * self.selections(node.selection_set, named)

    def rows(self, node: FieldNode, key: tuple[str, str]) -> int:
        """The row cap of the saved query a row-capped field names; 0 for other fields."""
        if key not in ROW_CAPPED:
            return 0
        name = self.argument(node, ROW_CAPPED[key])
        return self.row_cap(name) if isinstance(name, str) else DEFAULT_MAX_ROWS

    def size(self, node: FieldNode, definition: GraphQLField) -> int:
        for name in SIZE_ARGUMENTS:
            if name in definition.args:
                value = self.argument(node, name)
                if value is None:
                    value = definition.args[name].default_value
                return max(value, 0) if _is_int(value) else 1
        return 1

    def argument(self, node: FieldNode, name: str) -> Any:
        given = next((a.value for a in node.arguments or () if a.name.value == name), None)
        if isinstance(given, VariableNode):
            var = given.name.value
            if var in self.variables:
                return self.variables[var]
            given = self.defaults.get(var)
        if isinstance(given, IntValueNode):
            return int(given.value)
        if isinstance(given, StringValueNode):
            return given.value
        return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class CostLimit(SchemaExtension):
    """Refuses, before it runs, an operation costing more than the context's `max_cost`."""

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        cap = getattr(ec.context, "max_cost", None)
        if cap is not None and ec.graphql_document is not None:
            row_cap = getattr(ec.context, "row_cap", None) or default_row_cap
            cost = query_cost(ec.schema._schema, ec.graphql_document,  # noqa: SLF001
                              ec.operation_name, ec.variables, row_cap)
            if cost > cap:
                error = QueryTooCostly(cost, cap, ec.context.caller.role)
                ec.result = GraphQLExecutionResult(data=None, errors=[
                    GraphQLError(str(error), original_error=error)])
        yield
