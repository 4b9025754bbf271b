"""FastAPI dependencies, as short `Annotated` aliases.

`CallerDep` is the verified caller (`AuthError` with one sentence otherwise, 401
through `api.errors.STATUS`), from the `Authorization: Bearer` header when the request
has one (programs), else from the browser's session cookie (`api.session`);
`DriverDep` the process's async driver (from the lifespan); `DatabaseDep` the database
name; `RequestIdDep` the id the request-id middleware gave this request.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from typing import Annotated

import neo4j
from fastapi import Depends, Request

from api import session
from api.auth import AuthError, verify_token_until
from core.errors import DatabaseUnavailable
from core.settings import get_settings
from graph import access
from graph.caller import Caller

LOOKUP_TIMEOUT = 10.0

JURISDICTION = """
MATCH (a:Agency {agency_id: $agency_id})
CALL (a) {
  MATCH (a)-[:IN_DIVISION]->(d:Division) RETURN d
  UNION
  MATCH (d:Division) WHERE d.adcode = a.adcode RETURN d
}
MATCH (below:Division)-[:PART_OF*0..]->(d)
RETURN collect(DISTINCT below.adcode) AS adcodes
"""


async def get_driver(request: Request) -> neo4j.AsyncDriver:
    driver: neo4j.AsyncDriver | None = getattr(request.app.state, "driver", None)
    if driver is None:
        raise DatabaseUnavailable("the database driver is not open.")
    return driver


async def get_database(request: Request) -> str:
    return str(request.app.state.database)


async def get_request_id(request: Request) -> str:
    rid = getattr(request.state, "request_id", None)
    if rid is None:
        rid = uuid.uuid4().hex
        request.state.request_id = rid
    return str(rid)


DriverDep = Annotated[neo4j.AsyncDriver, Depends(get_driver)]
DatabaseDep = Annotated[str, Depends(get_database)]
RequestIdDep = Annotated[str, Depends(get_request_id)]


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise AuthError("no bearer token: send `Authorization: Bearer <token>` "
                        "(make one with `alliance token issue`), or sign in at /signin.")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("the Authorization header must be `Bearer <token>`.")
    token = token.strip()
    if token.split()[0].lower() == "bearer":
        raise AuthError("the token starts with `Bearer` again: send `Bearer <token>` once "
                        "(a tool that adds `Bearer ` itself wants the token alone).")
    return token


JURISDICTION_TTL = 60.0
"""Seconds an agency's jurisdiction is kept in memory: divisions and agencies change
rarely, and a liaison's every request needs them."""
_jurisdictions: dict[tuple[str, str], tuple[float, tuple[str, ...]]] = {}


async def jurisdiction(driver: neo4j.AsyncDriver, database: str, agency_id: str) -> tuple[str, ...]:
    """The adcodes of an agency's division and of every division below it (PART_OF),
    from a cache of at most JURISDICTION_TTL seconds."""
    key = (database, agency_id)
    cached = _jurisdictions.get(key)
    if cached is not None and time.monotonic() - cached[0] < JURISDICTION_TTL:
        return cached[1]
    records = await access.read_async(driver, database, JURISDICTION, {"agency_id": agency_id},
                                      timeout=LOOKUP_TIMEOUT, name="jurisdiction")
    adcodes = tuple(sorted(records[0]["adcodes"])) if records else ()
    if adcodes:
        _jurisdictions[key] = (time.monotonic(), adcodes)
    return adcodes


def forget_jurisdictions() -> None:
    _jurisdictions.clear()


VERIFIED_TOKENS = 1024
"""Tokens whose callers are kept once verified (a client sends the same token with each
request; checking an HS256 signature and its claims costs more than a small query's
GraphQL execution)."""
_verified: OrderedDict[tuple[str, str], tuple[Caller, float]] = OrderedDict()


def verified_caller(token: str) -> Caller:
    """The caller `token` names, verified once and kept until the token expires (by the
    token and the secret, so a new secret verifies again); AuthError as
    `api.auth.verify_token` raises it."""
    key = (token, get_settings().jwt_secret())
    found = _verified.get(key)
    if found is not None and time.time() < found[1]:
        _verified.move_to_end(key)
        return found[0]
    caller, expires = verify_token_until(token, secret=key[1])
    _verified[key] = (caller, expires)
    while len(_verified) > VERIFIED_TOKENS:
        _verified.popitem(last=False)
    return caller


async def caller_from_token(
    token: str, driver: neo4j.AsyncDriver, database: str
) -> Caller:
    caller = verified_caller(token)
    return await with_jurisdiction(caller, driver, database)


async def with_jurisdiction(caller: Caller, driver: neo4j.AsyncDriver, database: str) -> Caller:
    """A police liaison with its jurisdiction's adcodes; anyone else as given."""
    if caller.role == "police_liaison" and caller.agency_id:
        adcodes = await jurisdiction(driver, database, caller.agency_id)
        caller = Caller(sub=caller.sub, role=caller.role, agency_id=caller.agency_id,
                        brand_id=caller.brand_id, agency_adcodes=adcodes)
    return caller


def session_caller(request: Request) -> Caller | None:
    """The caller of the session the request's cookie names, or None."""
    value = request.cookies.get(session.COOKIE)
    found = session.find_session(value) if value else None
    return found.caller if found else None


async def caller_from_request(request: Request, driver: neo4j.AsyncDriver, database: str) -> Caller:
    """The caller of a Bearer header, else of the session cookie; 401 saying both ways."""
    if request.headers.get("authorization") is None and session.COOKIE in request.cookies:
        caller = session_caller(request)
        if caller is None:
            raise AuthError("the session has ended or expired: sign in again at /signin.")
        return await with_jurisdiction(caller, driver, database)
    return await caller_from_token(bearer_token(request), driver, database)


async def get_caller(request: Request, driver: DriverDep, database: DatabaseDep) -> Caller:
    return await caller_from_request(request, driver, database)


CallerDep = Annotated[Caller, Depends(get_caller)]
