"""What every response says to a browser, and the cross-site rule for the session cookie.

`SecurityHeaders` adds a Content-Security-Policy (only the app's own scripts, styles,
fonts and connections; no inline script; no plugins; never framed; no <base>), and
`X-Content-Type-Options`, `Referrer-Policy` and `X-Frame-Options`, to every response.

`SameOrigin` refuses, with 403, a state-changing request (any method but GET, HEAD,
OPTIONS) that carries the session cookie and no Authorization header unless its
`Origin` (or, when a browser sent none, its `Referer`) is the app's own origin: the
scheme and `Host` the request came to. `POST /signin` and `POST /signout` are checked
even without the cookie. A request with a Bearer header is resolved from the header
alone and is not checked: another site cannot make a browser send one.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.dossier_http import STYLE
from api.session import COOKIE

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ALWAYS_CHECKED = frozenset({"/signin", "/signout"})


def _style_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    # the printable dossier carries its one <style> element; allowed by its hash
    f"style-src 'self' {_style_hash(STYLE)}",
    # GraphiQL's fonts are embedded as data: URLs; exports are data: and blob: images
    "font-src 'self' data:",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
])
HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """Adds `HEADERS` to every HTTP response (plain ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def own_origin(scope: Scope, headers: Headers) -> str:
    """The origin the request was sent to: its scheme and Host header."""
    host = headers.get("host") or "{}:{}".format(*scope.get("server") or ("localhost", 80))
    return f"{scope.get('scheme', 'http')}://{host}".lower()


def sender_origin(headers: Headers) -> str | None:
    """Where the browser says the request comes from: Origin, else Referer's origin."""
    origin = headers.get("origin")
    if origin is not None:
        return origin.lower()
    referer = headers.get("referer")
    if not referer:
        return None
    parts = urlsplit(referer)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else None


def needs_check(scope: Scope, headers: Headers) -> bool:
    if scope["method"] in SAFE_METHODS:
        return False
    if scope["path"] in ALWAYS_CHECKED:
        return True
    return carries_cookie(headers) and "authorization" not in headers


def carries_cookie(headers: Headers) -> bool:
    return any(part.strip().startswith(COOKIE + "=")
               for value in headers.getlist("cookie") for part in value.split(";"))


def refusal(scope: Scope, sender: str | None, own: str) -> JSONResponse:
    said = f"comes from {sender}" if sender else "names no Origin or Referer"
    detail = (f"cross-site request refused: a request that signs in, signs out or changes "
              f"something with the session cookie must come from this site's own pages "
              f"({own}); this one {said}.")
    request_id = str(scope.get("state", {}).get("request_id", "unknown"))
    return JSONResponse({"detail": detail, "requestId": request_id}, status_code=403)


class SameOrigin:
    """Refuses cross-site state-changing requests that would ride on the session cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            if needs_check(scope, headers):
                own, sender = own_origin(scope, headers), sender_origin(headers)
                if sender != own:
                    await refusal(scope, sender, own)(scope, receive, send)
                    return
        await self.app(scope, receive, send)
