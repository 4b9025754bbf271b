"""Bearer tokens: HS256 JWTs with the caller's sub, role, agency and brand.

`issue_token` is what `alliance token issue` prints; `verify_token` turns a token back
into a `graph.caller.Caller` or raises `AuthError` with one sentence that says why not
(`verify_token_until` also says when the token expires: a browser session made from it
ends no later).
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any, cast

import jwt

from core.errors import AllianceError
from core.settings import get_settings
from graph.caller import ROLES, Caller, Role

ALGORITHM = "HS256"
DEFAULT_TTL = timedelta(hours=8)
_TTL_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class AuthError(AllianceError):
    """The request carries no usable token; the message says why in one sentence."""

    code = "UNAUTHENTICATED"


def parse_ttl(text: str) -> timedelta:
    """`90s`, `30m`, `8h`, `7d` -> a timedelta; ValueError names the bad value."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"ttl {text!r} is not a positive duration like 90s, 30m, 8h or 7d")
    return timedelta(seconds=int(match.group(1)) * _TTL_UNITS[match.group(2)])


def check_claims(role: str, agency_id: str | None, brand_id: str | None) -> Role:
    """The role, if it is known and comes with what it needs; ValueError says what is wrong."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; the roles are {', '.join(ROLES)}")
    if role == "police_liaison" and not agency_id:
        raise ValueError("a police_liaison token needs an agency id")
    if role == "brand_member" and not brand_id:
        raise ValueError("a brand_member token needs a brand id")
    return cast(Role, role)


def issue_token(
    caller: Caller, *, ttl_seconds: float = DEFAULT_TTL.total_seconds(), secret: str | None = None
) -> str:
    """A signed token naming `caller` (sub, role, agency_id, brand_id), valid `ttl_seconds`."""
    check_claims(caller.role, caller.agency_id, caller.brand_id)
    if ttl_seconds <= 0:
        raise ValueError(f"ttl_seconds must be positive, not {ttl_seconds}")
    now = int(time.time())
    claims: dict[str, Any] = {"sub": caller.sub, "role": caller.role, "iat": now,
                              "exp": now + int(ttl_seconds)}
    if caller.agency_id:
        claims["agency_id"] = caller.agency_id
    if caller.brand_id:
        claims["brand_id"] = caller.brand_id
    return jwt.encode(claims, secret or get_settings().jwt_secret(), algorithm=ALGORITHM)


def verify_token(token: str, *, secret: str | None = None) -> Caller:
    """The caller a token names; AuthError when it is expired, forged or incomplete."""
    return verify_token_until(token, secret=secret)[0]


def verify_token_until(token: str, *, secret: str | None = None) -> tuple[Caller, float]:
    """The caller a token names and when the token expires (seconds since the epoch);
    AuthError when it is expired, forged or incomplete."""
    try:
        claims = jwt.decode(
            token, secret or get_settings().jwt_secret(), algorithms=[ALGORITHM],
            options={"require": ["exp", "sub", "role"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("the token has expired; issue a new one with `alliance token issue`.") from None
    except jwt.InvalidSignatureError:
        raise AuthError("the token's signature does not match this server's secret.") from None
    except jwt.MissingRequiredClaimError as exc:
        raise AuthError(f"the token lacks the {exc.claim!r} claim.") from None
    except jwt.InvalidTokenError:
        raise AuthError("the bearer token is not a valid JWT signed with HS256.") from None
    agency_id, brand_id = claims.get("agency_id"), claims.get("brand_id")
    try:
        role = check_claims(str(claims["role"]), agency_id, brand_id)
    except ValueError as exc:
        raise AuthError(f"the token is refused: {exc}.") from None
    caller = Caller(sub=str(claims["sub"]), role=role, agency_id=agency_id, brand_id=brand_id)
    return caller, float(claims["exp"])
