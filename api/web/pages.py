"""The browser's routes: the workbench at `/`, its files at `/static/`, signing in and out.

`GET /` is `static/index.html` for a signed-in browser, else a redirect to the sign-in
page. `GET /signin` is the sign-in page; `POST /signin` exchanges a token (form field
`token`) for a session cookie; `GET /signin/code/{code}` does the same with a one-time
code (`alliance demo` prints the address); `POST /signout` ends the session on the
server and clears the cookie; `GET /session` says who the browser is signed in as.
`GET /leads` (the inbox), `GET /leads/{lead_id}` (a lead) and `GET /saved-queries` are
the workbench's other pages, for a signed-in browser; `GET /saved-queries/{name}.cypher`
is the Cypher of a saved query the caller may run. The
cookie is HttpOnly, SameSite=Strict, Path=/, Secure when the request came over https,
and expires with the session, never after the token it came from.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import cache
from html import escape
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
)
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from api import saved_queries, session
from api.auth import AuthError, verify_token_until
from api.deps import CallerDep, DatabaseDep, DriverDep, session_caller
from api.web.assets import STATIC, assets

TEMPLATES = Path(__file__).parent / "templates"
VENDOR_CACHE = "public, max-age=31536000, immutable"
"""Vendored files live under a folder named with their version: they never change."""
OWN_CACHE = "no-cache"
"""The app's own files are checked again (ETag) on every load."""

router = APIRouter()


@cache
def template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def fill(text: str, values: dict[str, str]) -> str:
    """`text` with each `{{key}}` replaced by its value (escaped by the caller)."""
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def local_path(target: str | None) -> str:
    """`target` when it is a path of this site (no scheme, host or `//`), else `/`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def signin_page(request: Request, *, message: str = "", error: bool = False,
                status_code: int = 200, next_path: str | None = None) -> HTMLResponse:
    found = _session(request)
    who = ""
    if found is not None:
        until = datetime.fromtimestamp(found.expires_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        who = fill(template("signed_in.html"), {
            "sub": escape(found.caller.sub), "role": escape(found.caller.role),
            "until": escape(until)})
    page = fill(template("signin.html"), {
        "who": who, "message": escape(message), "message_kind": "error" if error else "",
        "next": escape(local_path(next_path or request.query_params.get("next")))})
    return HTMLResponse(page, status_code=status_code, headers={"Cache-Control": "no-store"})


def _session(request: Request) -> session.Session | None:
    value = request.cookies.get(session.COOKIE)
    return session.find_session(value) if value else None


def set_session_cookie(response: Response, request: Request, opened: session.Session) -> None:
    seconds = int(opened.expires_at - time.time())
    response.set_cookie(
        session.COOKIE, opened.value, max_age=seconds,
        expires=datetime.fromtimestamp(int(opened.expires_at), UTC),
        path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https")


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(session.COOKIE, path="/", httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")


@router.get("/signin", include_in_schema=False)
async def signin_form(request: Request) -> HTMLResponse:
    return signin_page(request)


@router.post("/signin", include_in_schema=False)
async def signin(request: Request, token: Annotated[str, Form()] = "",
                 next_path: Annotated[str, Form(alias="next")] = "/") -> Response:
    """Exchange a token for a session cookie; the sign-in page again, saying why, if not."""
    token = token.strip().removeprefix("Bearer ").strip()
    if not token:
        return signin_page(request, message="Paste a token to sign in.", error=True,
                           status_code=400, next_path=next_path)
    try:
        caller, expires_at = verify_token_until(token)
    except AuthError as exc:
        return signin_page(request, message=f"Not signed in: {exc}", error=True,
                           status_code=401, next_path=next_path)
    response = RedirectResponse(local_path(next_path), status_code=303)
    set_session_cookie(response, request, session.open_session(caller, expires_at))
    return response


@router.get("/signin/code/{code}", include_in_schema=False)
async def signin_with_code(request: Request, code: str) -> Response:
    """A one-time sign-in address: the session cookie, then the workbench."""
    try:
        opened = session.redeem_code(code)
    except session.CodeRefused as exc:
        return signin_page(request, message=str(exc), error=True, status_code=401)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, request, opened)
    return response


@router.post("/signout", include_in_schema=False)
async def signout(request: Request) -> Response:
    value = request.cookies.get(session.COOKIE)
    if value:
        session.end_session(value)
    response = RedirectResponse("/signin?signed-out", status_code=303)
    clear_session_cookie(response, request)
    return response


@router.get("/session", include_in_schema=False)
async def whoami(request: Request) -> JSONResponse:
    """Who this browser is signed in as, and until when (401 when it is not)."""
    found = _session(request)
    if found is None:
        return JSONResponse({"detail": "not signed in: sign in at /signin."}, status_code=401)
    c = found.caller
    return JSONResponse({"sub": c.sub, "role": c.role, "agencyId": c.agency_id,
                         "brandId": c.brand_id, "expiresAt": int(found.expires_at)},
                        headers={"Cache-Control": "no-store"})


def page(request: Request, name: str) -> Response:
    """A page of `static/` for a signed-in browser, else the sign-in page, back here after."""
    if session_caller(request) is None:
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(back, safe='/')}", status_code=303)
    return FileResponse(STATIC / name, media_type="text/html", headers={"Cache-Control": "no-store"})


@router.get("/", include_in_schema=False)
async def workbench(request: Request) -> Response:
    return page(request, "index.html")


@router.get("/leads", include_in_schema=False)
async def leads_inbox(request: Request) -> Response:
    return page(request, "leads.html")


@router.get("/leads/{lead_id}", include_in_schema=False)
async def lead_page(request: Request, lead_id: str) -> Response:
    return page(request, "lead.html")


@router.get("/saved-queries", include_in_schema=False)
async def saved_queries_page(request: Request) -> Response:
    return page(request, "queries.html")


@router.get("/saved-queries/{name}.cypher", include_in_schema=False)
async def saved_query_cypher(name: str, caller: CallerDep, driver: DriverDep,
                             database: DatabaseDep) -> Response:
    """The Cypher of a saved query the caller may run (404 for any other name)."""
    library = await saved_queries.LIBRARY.get(driver, database)
    found = next((q for q in saved_queries.visible(library, caller) if q.name == name), None)
    if found is None:
        return JSONResponse({"detail": f"no saved query {name!r} you may run"}, status_code=404)
    return PlainTextResponse(found.cypher, headers={"Cache-Control": "no-store"})


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    """No icon, and no 404 in the browser's console for the one it asks for by itself."""
    return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})


class Static(StaticFiles):
    """`api/web/static/`: vendored files cached for a year, the app's own revalidated."""

    async def get_response(self, path: str, scope: Scope) -> Any:
        response = await super().get_response(path, scope)
        vendored = path.replace("\\", "/").startswith("vendor/")
        response.headers["Cache-Control"] = VENDOR_CACHE if vendored else OWN_CACHE
        return response


def static_files() -> Static:
    return Static(directory=STATIC, follow_symlink=False)


def graphiql_page() -> str:
    """GraphiQL's page with the addresses of the vendored React and GraphiQL."""
    a = assets()
    return fill(template("graphiql.html"), {
        "graphiql.css": a["graphiql"].url("graphiql.min.css"),
        "graphiql.js": a["graphiql"].url("graphiql.min.js"),
        "react.js": a["react"].url("umd/react.production.min.js"),
        "react-dom.js": a["react-dom"].url("umd/react-dom.production.min.js"),
    })
