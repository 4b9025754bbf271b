"""GraphQL selections generated from the served schema, so that a new field or type is
asked for without anyone listing it."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
)

from api.schema import schema as served
from graph import model

CONNECTION_FIRST = 3
"""`first` of every nested connection: enough to show neighbours, cheap enough to stay
well under every role's cost cap."""


def graphql_schema() -> GraphQLSchema:
    return served._schema


def unwrap(kind: object) -> object:
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return kind


def _required_args(field: GraphQLField) -> list[str]:
    from graphql.pyutils import Undefined

    return [name for name, arg in field.args.items()
            if isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined]


def select(type_: GraphQLObjectType, depth: int) -> str:
    """Every scalar field of `type_`, and its object fields down to `depth` levels;
    connections with `first: CONNECTION_FIRST`."""
    parts: list[str] = []
    for name, field in type_.fields.items():
        if _required_args(field):
            continue
        inner = unwrap(field.type)
        if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
            parts.append(name)
        elif isinstance(inner, GraphQLObjectType) and depth > 0:
            args = f"(first: {CONNECTION_FIRST})" if "first" in field.args else ""
            below = select(inner, depth - 1)
            if below:
                parts.append(f"{name}{args} {{ {below} }}")
    return " ".join(parts)


def lookups() -> dict[str, tuple[str, str]]:
    """label -> (query field, argument) for each label with a lookup by key."""
    found: dict[str, tuple[str, str]] = {}
    query = graphql_schema().query_type
    assert query is not None
    for name, field in query.fields.items():
        inner = unwrap(field.type)
        required = _required_args(field)
        if (isinstance(inner, GraphQLObjectType) and inner.name in model.NODE_BY_LABEL
                and len(required) == 1 and len(field.args) == 1):
            found[inner.name] = (name, required[0])
    return found


def lookup_query(label: str, depth: int = 2) -> str:
    field, arg = lookups()[label]
    type_ = graphql_schema().get_type(label)
    assert isinstance(type_, GraphQLObjectType)
    return f"query($key: ID!) {{ {field}({arg}: $key) {{ {select(type_, depth)} }} }}"


def root_query(field: str, arguments: str, depth: int = 3) -> str:
    """`query { field(arguments) { ...everything down to depth } }`."""
    query = graphql_schema().query_type
    assert query is not None
    inner = unwrap(query.fields[field].type)
    body = f" {{ {select(inner, depth)} }}" if isinstance(inner, GraphQLObjectType) else ""
    args = f"({arguments})" if arguments else ""
    return f"{{ {field}{args}{body} }}"
