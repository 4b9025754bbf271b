"""Browser sessions and one-time sign-in codes.

A session is a random value in an HttpOnly cookie; the server keeps only its SHA-256,
the caller it stands for and when it ends. A one-time code (what `alliance demo` puts in
the workbench address it prints) is kept the same way: hashed, single use, valid
`CODE_TTL` seconds; redeeming it opens a session.

Both live in a small SQLite file under ALLIANCE_HOME (`web/sessions.sqlite3`, 0600): every
worker process of `alliance serve` sees the same sessions, a code printed by the demo
before the server starts is there when the browser arrives, sign-out ends a session for
every worker at once, and sessions survive a restart of the API. Expired rows are removed
whenever a session or code is written.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from api.auth import AuthError, check_claims
from core.settings import get_settings
from graph.caller import Caller

COOKIE = "alliance_session"
CODE_TTL = 600
"""Seconds a one-time sign-in code is valid."""
CODE_SESSION_SECONDS = 8 * 3600
"""How long a session opened with a one-time code lasts (as long as a demo token)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
  id_hash TEXT PRIMARY KEY, sub TEXT NOT NULL, role TEXT NOT NULL, agency_id TEXT,
  brand_id TEXT, created_at REAL NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS codes (
  code_hash TEXT PRIMARY KEY, sub TEXT NOT NULL, role TEXT NOT NULL, agency_id TEXT,
  brand_id TEXT, expires_at REAL NOT NULL, session_seconds REAL NOT NULL);
"""


class CodeRefused(AuthError):
    """A one-time sign-in code that is unknown, used already or expired."""


@dataclass(frozen=True)
class Session:
    """An open session: the cookie value (only the browser has it), who, until when."""

    value: str
    caller: Caller
    expires_at: float


def now() -> float:
    """Seconds since the epoch (one place, so that tests can move the clock)."""
    return time.time()


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def store_path() -> Path:
    return get_settings().alliance_home / "web" / "sessions.sqlite3"


_READY: set[Path] = set()
"""Store files known to exist with their tables, in this process."""


@contextmanager
def _db(path: Path | None = None) -> Iterator[sqlite3.Connection]:
    """A connection to the store (created 0600 on first use), in autocommit mode; callers
    that read then write open `BEGIN IMMEDIATE` themselves."""
    path = path or store_path()
    existed = path.exists()
    if not existed:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None)
    try:
        if not existed or path not in _READY:
            conn.executescript(_SCHEMA)
            _READY.add(path)
        yield conn
    finally:
        conn.close()


def _purge(conn: sqlite3.Connection, now: float) -> None:
    conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
    conn.execute("DELETE FROM codes WHERE expires_at <= ?", (now,))


def _caller_row(caller: Caller) -> tuple[str, str, str | None, str | None]:
    return caller.sub, caller.role, caller.agency_id, caller.brand_id


def open_session(caller: Caller, expires_at: float) -> Session:
    """A new session for `caller`, ending at `expires_at` (seconds since the epoch)."""
    at = now()
    if expires_at <= at:
        raise ValueError("a session must end in the future")
    value = secrets.token_urlsafe(32)
    with _db() as conn:
        _purge(conn, at)
        conn.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (_digest(value), *_caller_row(caller), at, expires_at))
    return Session(value=value, caller=caller, expires_at=expires_at)


def find_session(value: str) -> Session | None:
    """The open session a cookie value names, or None (unknown, ended or expired)."""
    if not value or len(value) > 200:
        return None
    with _db() as conn:
        row = conn.execute(
            "SELECT sub, role, agency_id, brand_id, expires_at FROM sessions "
            "WHERE id_hash = ? AND expires_at > ?", (_digest(value), now())).fetchone()
    if row is None:
        return None
    sub, role, agency_id, brand_id, expires_at = row
    return Session(value=value, caller=_caller(sub, role, agency_id, brand_id), expires_at=expires_at)


def end_session(value: str) -> bool:
    """End a session on the server; True when there was one."""
    with _db() as conn:
        done = conn.execute("DELETE FROM sessions WHERE id_hash = ?", (_digest(value),))
        return done.rowcount > 0


def issue_code(caller: Caller, *, ttl: float = CODE_TTL,
               session_seconds: float = CODE_SESSION_SECONDS) -> str:
    """A one-time code that signs `caller` in once, within `ttl` seconds, for a session of
    `session_seconds`. Only its SHA-256 is stored."""
    code = secrets.token_urlsafe(24)
    at = now()
    with _db() as conn:
        _purge(conn, at)
        conn.execute("INSERT INTO codes VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (_digest(code), *_caller_row(caller), at + ttl, session_seconds))
    return code


def redeem_code(code: str) -> Session:
    """Open the session a one-time code stands for, and use the code up; CodeRefused
    when it is unknown, used or expired."""
    at = now()
    with _db() as conn:
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute(
            "DELETE FROM codes WHERE code_hash = ? RETURNING sub, role, agency_id, brand_id, "
            "expires_at, session_seconds", (_digest(code),)).fetchone()
        conn.execute("COMMIT")
    if row is None or row[4] <= at:
        raise CodeRefused("this sign-in link is unknown, was used already or has expired "
                          f"(links are valid once, for {CODE_TTL // 60} minutes); sign in with a "
                          "token instead, or run `alliance demo` again for a new link.")
    sub, role, agency_id, brand_id, _, seconds = row
    return open_session(_caller(sub, role, agency_id, brand_id), at + seconds)


def _caller(sub: str, role: str, agency_id: str | None, brand_id: str | None) -> Caller:
    return Caller(sub=sub, role=check_claims(role, agency_id, brand_id), agency_id=agency_id,
                  brand_id=brand_id)
