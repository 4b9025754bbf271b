"""A shorter way through the app for the common GraphQL request: `POST /graphql` with a
JSON body and a bearer token.

FastAPI's routing and dependency solving and strawberry's HTTP view cost about as much
as executing a small query. For a request of the common form this ASGI layer (inside
the app's own middleware, so request ids, limits, logs, metrics and security headers
are as for any request) does what they would do, with the same pieces: the caller from
`api.deps`, the context of `api.main.get_context`, `schema.execute` with the operation
types a POST allows, the view's own `process_result` and `create_response`. The answer
is the same, byte for byte (`tests/test_fastpath.py` compares them over a corpus of
queries and failures).

Anything else goes the usual way, untouched: another path or method, another content
type, a streaming or multipart `Accept`, a session cookie, a batch, a body that is not a
JSON object with a string `query` (and at most `variables` and `operationName`), a
caller who cannot be verified (the usual way answers with the same error), and an
operation strawberry refuses before running it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from fastapi import BackgroundTasks
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from api import metrics
from api.compiled import Plans
from api.jsonio import GraphQLApp
from core.errors import AllianceError

PATH = "/graphql"
FIELDS = frozenset({"query", "variables", "operationName"})
STREAMING = (b"multipart/mixed", b"text/event-stream")
POST_OPERATIONS = OperationType.from_http("POST")

ContextMaker = Callable[[Request], Any]
"""Builds the GraphQL context of a request (`api.main.fast_context`); raises
`AllianceError` when the caller cannot be verified."""


class FastGraphQL:
    def __init__(self, app: ASGIApp, view: GraphQLApp, context: ContextMaker,
                 enabled: bool = True) -> None:
        self.app = app
        self.view = view
        self.context = context
        self.enabled = enabled
        self.plans = Plans(view.schema._schema)  # type: ignore[attr-defined]  # noqa: SLF001

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (self.enabled and scope["type"] == "http" and scope["method"] == "POST"
                and scope["path"] == PATH and _plain(scope["headers"])):
            await self.app(scope, receive, send)
            return
        body, more = await _read(receive)
        replay = _replaying(body, more, receive)
        data = _request_data(body) if not more else None
        if data is None:
            await self.app(scope, replay, send)
            return
        request = Request(scope, replay)
        try:
            context = await self.context(request)
        except AllianceError:
            await self.app(scope, replay, send)
            return
        response = await self.answer(request, context, data)
        if response is None:
            await self.app(scope, replay, send)
            return
        await response(scope, replay, send)

    async def answer(self, request: Request, context: Any,
                     data: dict[str, Any]) -> Response | None:
        """The response the router would give, or None when strawberry refuses the
        operation before running it (the router then answers)."""
        sub_response = Response()
        del sub_response.headers["content-length"]
        sub_response.status_code = None  # type: ignore[assignment]
        tasks = BackgroundTasks()
        context.request, context.background_tasks, context.response = request, tasks, sub_response
        planned = await self.plans.answer(data["query"], data.get("operationName"), context,
                                          data.get("variables"))
        if planned is not None:
            metrics.GRAPHQL_FAST.inc()
            metrics.GRAPHQL_COMPILED.inc()
            return self.view.create_response(response_data=planned,  # type: ignore[arg-type]
                                             sub_response=sub_response)
        try:
            result = await self.view.schema.execute(
                data["query"], root_value=None, variable_values=data.get("variables"),
                context_value=context, operation_name=data.get("operationName"),
                allowed_operation_types=POST_OPERATIONS, operation_extensions=None)
        except (CannotGetOperationTypeError, InvalidOperationTypeError, MissingQueryError):
            return None
        response_data = await self.view.process_result(request, result)
        if result.errors:
            self.view._handle_errors(result.errors, response_data)  # noqa: SLF001
        else:
            self.plans.learn(data["query"], data.get("operationName"))
        response = self.view.create_response(response_data=response_data,
                                             sub_response=sub_response)
        if tasks.tasks:
            response.background = tasks
        metrics.GRAPHQL_FAST.inc()
        return response


def _plain(headers: list[tuple[bytes, bytes]]) -> bool:
    """A JSON body, a bearer token, no session cookie, no streaming answer wanted."""
    found = dict(headers)
    accept = found.get(b"accept", b"")
    return (b"application/json" in found.get(b"content-type", b"")
            and b"authorization" in found and b"cookie" not in found
            and not any(kind in accept for kind in STREAMING))


async def _read(receive: Receive) -> tuple[bytes, bool]:
    """The body, and whether the client hung up before its end."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), True
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replaying(body: bytes, cut: bool, receive: Receive) -> Receive:
    """A `receive` that gives the body read already, then waits on the client."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            if cut:
                return {"type": "http.disconnect"}
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _request_data(body: bytes) -> dict[str, Any] | None:
    """The request as the fast path takes it, or None for anything else."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not FIELDS.issuperset(data) \
            or not isinstance(data.get("query"), str):
        return None
    if not isinstance(data.get("variables"), dict | None) \
            or not isinstance(data.get("operationName"), str | None):
        return None
    return data
