"""Errors the API reports as they are, and how the rest is masked.

`UserError` (bad arguments, limits) and `DatabaseUnavailable` / `QueryTooSlow` carry a
message meant for the caller, and so do graphql-core's own errors about the request
(syntax, validation, variables of the wrong type). Anything else is logged with the
request id and reaches the client as "internal error, request id ...". Every error gets
the request id and a code in its `extensions`.
"""

from __future__ import annotations

import logging

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from api import metrics
from core.errors import (  # noqa: F401  (the families, importable from here too)
    AllianceError,
    DatabaseUnavailable,
    Forbidden,
    NotFound,
    QueryTooSlow,
    SchemaMissing,
    UserError,
)

log = logging.getLogger("api.errors")


def error_code(error: GraphQLError) -> str | None:
    """The code of an error shown as is, or None when it must be masked."""
    original = error.original_error
    if original is None:
        return "GRAPHQL_VALIDATION"  # parse/validation errors (depth, tokens, aliases, types)
    if isinstance(original, AllianceError):
        return original.code
    if isinstance(original, GraphQLError) and not error.path:
        return "BAD_REQUEST"  # a variable's value does not fit its type (before execution)
    return None


class ErrorShaping(MaskErrors):
    """MaskErrors that keeps user errors as they are, masks the rest with the request id,
    and puts the request id and an error code into every error's extensions."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: error_code(error) is None)

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        context = self.execution_context.context
        request_id = str(getattr(context, "request_id", "unknown"))
        return [shape(error, request_id) for error in errors]


def shape(error: GraphQLError, request_id: str) -> GraphQLError:
    code = error_code(error)
    message = error.message
    if code is None:
        log.error("unexpected error: %s", error.message, exc_info=error.original_error,
                  extra={"request_id": request_id, "path": error.path})
        code, message = "INTERNAL", f"internal error, request id {request_id}"
    metrics.GRAPHQL_ERRORS.labels(code=code).inc()
    own = error.original_error if isinstance(error.original_error, AllianceError) else None
    extensions = {**(error.extensions or {}), **(getattr(own, "extensions", None) or {}),
                  "code": code, "requestId": request_id}
    return GraphQLError(message, nodes=error.nodes, source=error.source,
                        positions=error.positions, path=error.path,
                        original_error=None, extensions=extensions)
