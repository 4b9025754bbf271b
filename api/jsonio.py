"""JSON in and out of the API: orjson (UTF-8, no spaces), about ten times json's speed on
the lists of nodes a network or a page of leads returns.

Requests are read strictly: a body that is not UTF-8 or holds a lone surrogate
(`"\\ud800"`) is refused with 400 and where it went wrong, like any other bad JSON. The
`/graphql` router's own HTTP errors are raised as Starlette's, so they are answered in
JSON with the request id like every other error of the app (`api.main`).
"""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import HTTPException as GraphQLHTTPException
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from api.errors import shape


def dumps(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)


def loads(data: str | bytes) -> Any:
    """JSON from a request; HTTPException 400 saying what and where when it is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise HTTPException(
            400, f"the request is not valid JSON (UTF-8 without lone surrogates): {exc}") from None


class FastJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps(content)


class GraphQLApp(GraphQLRouter[Any, Any]):
    """The `/graphql` router: strict JSON in, `dumps` out, errors with codes."""

    def encode_json(self, data: object) -> bytes:
        return dumps(data)

    def parse_json(self, data: str | bytes) -> Any:
        return loads(data)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context=context, root_value=root_value)
        except GraphQLHTTPException as exc:
            raise HTTPException(exc.status_code, exc.reason) from None

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """The answer, every error with a code and the request id: errors that escaped
        the schema's error shaping (raised around an extension) are shaped here."""
        if result.errors:
            request_id = str(getattr(request.state, "request_id", "unknown"))
            result.errors = [error if (error.extensions or {}).get("code") else shape(error, request_id)
                             for error in result.errors]
        return await super().process_result(request, result)

