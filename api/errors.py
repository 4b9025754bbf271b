"""What an error means to an HTTP client and in a GraphQL error, decided in one place.

Every error raised on purpose is a `core.errors.AllianceError` with a `code`. `STATUS`
maps each code to the HTTP status a REST route answers with; `rest_body` shapes such an
error into the JSON of that answer (`{"detail": ..., "requestId": ...}`), and the app's
one handler for `AllianceError` (`api.main`) answers every REST route through both.
A code whose status is 500 is the server's own fault (settings, the local server): over
REST its message is logged and masked like any unexpected failure. An error whose code
is set per instance and is not in the table (a saved query's failure carries the code
Neo4j gave) is reported with the code of its family (`public_code`), over REST and
GraphQL alike.

Over GraphQL, `UserError` (bad arguments, limits), `DatabaseUnavailable`, `QueryTooSlow`
and every other `AllianceError` keep their message, and so do graphql-core's own errors
about the request (syntax, validation, variables of the wrong type). Anything else is
logged with the request id and reaches the client as "internal error, request id ...".
Every GraphQL error gets the request id and a code in its `extensions`
(`graphql_extensions`).
"""

from __future__ import annotations

import logging
from typing import Any

from graphql.error import GraphQLError
from starlette.responses import JSONResponse
from strawberry.extensions import MaskErrors

from api import metrics
from core.errors import AllianceError

log = logging.getLogger("api.errors")

STATUS: dict[str, int] = {
    "BAD_REQUEST": 400,
    "BAD_QUERY_FILE": 400,
    "QUERY_TOO_COSTLY": 400,
    "OUT_OF_JURISDICTION": 400,
    "UNUSABLE_INPUT": 400,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "CONFLICT": 409,
    "QUERY_UNAVAILABLE": 409,
    "ILLEGAL_TRANSITION": 409,
    "BODY_TOO_LARGE": 413,
    "BAD_WEBHOOK_URL": 400,
    "TOO_MANY_WEBHOOKS": 409,
    "ERROR": 500,
    "SETTINGS": 500,
    "LOCAL_SERVER": 500,
    "DATABASE_UNAVAILABLE": 503,
    "SCHEMA_MISSING": 503,
    "TIMEOUT": 504,
}
"""The HTTP status of every error code. A new `AllianceError` code needs an entry
(tests/test_error_codes.py walks every subclass in the project)."""

INTERNAL = 500
HEADERS: dict[str, dict[str, str]] = {"UNAUTHENTICATED": {"WWW-Authenticate": "Bearer"}}
"""Headers an answer with that code carries."""


def public_code(error: AllianceError) -> str:
    """The code clients see: `error.code` when the table has it, else the code of the
    nearest class of `error` that the table has (at worst AllianceError's own)."""
    if error.code in STATUS:
        return error.code
    for kind in type(error).__mro__:
        code = vars(kind).get("code")
        if isinstance(code, str) and code in STATUS:
            return code
    return AllianceError.code


def http_status(error: AllianceError) -> int:
    """The HTTP status of `error`'s code."""
    return STATUS[public_code(error)]


def rest_body(error: AllianceError, request_id: str) -> dict[str, Any]:
    """The JSON of a REST answer to `error`: its message, or "internal error" for an
    error whose status is 500 (logged here with the request id)."""
    if http_status(error) == INTERNAL:
        log.error("unexpected error: %s", error, exc_info=error, extra={"request_id": request_id})
        return {"detail": f"internal error, request id {request_id}", "requestId": request_id}
    return {"detail": str(error), "requestId": request_id}


def rest_response(error: AllianceError, request_id: str) -> JSONResponse:
    """The REST answer to `error`: `rest_body` with the status and headers of its code."""
    return JSONResponse(rest_body(error, request_id), status_code=http_status(error),
                        headers=HEADERS.get(public_code(error)))


# ---------------------------------------------------------------- GraphQL


def error_code(error: GraphQLError) -> str | None:
    """The code of an error shown as is, or None when it must be masked."""
    original = error.original_error
    if original is None:
        return "GRAPHQL_VALIDATION"  # parse/validation errors (depth, tokens, aliases, types)
    if isinstance(original, AllianceError):
        return public_code(original)
    if isinstance(original, GraphQLError) and not error.path:
        return "BAD_REQUEST"  # a variable's value does not fit its type (before execution)
    return None


def graphql_extensions(error: GraphQLError, code: str, request_id: str) -> dict[str, Any]:
    """The extensions of a GraphQL error: its own, those its `AllianceError` adds (such as
    a cost and its cap), the code and the request id."""
    own = error.original_error if isinstance(error.original_error, AllianceError) else None
    return {**(error.extensions or {}), **((own.extensions if own else None) or {}),
            "code": code, "requestId": request_id}


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
    return GraphQLError(message, nodes=error.nodes, source=error.source,
                        positions=error.positions, path=error.path,
                        original_error=None, extensions=graphql_extensions(error, code, request_id))
