"""The root of every error the project raises on purpose, and its common families.

Every error has a `code` (a short upper-case word that programs may test); what a code
means to an HTTP client or in a GraphQL error's extensions is decided in one place,
`api/errors.py`. Errors that are not an `AllianceError` are bugs: the API masks them and
logs them with the request id.
"""

from __future__ import annotations

from typing import Any


class AllianceError(Exception):
    """An error the project raises on purpose, with a message meant for whoever asked.
    `extensions` (optional) adds fields to a GraphQL error's extensions."""

    code = "ERROR"
    extensions: dict[str, Any] | None = None


class UserError(AllianceError):
    """The caller asked for something wrong; the message says what and where."""

    code = "BAD_REQUEST"


class NotFound(UserError):
    """No such object, or one the caller may not see (the two are not told apart)."""

    code = "NOT_FOUND"


class Forbidden(UserError):
    """The caller's role may not do this at all (not a question of which object)."""

    code = "FORBIDDEN"


class Conflict(UserError):
    """The object is not in a state that allows this (it changed, or is unavailable)."""

    code = "CONFLICT"


class QueryTooSlow(UserError):
    code = "TIMEOUT"


class DatabaseUnavailable(AllianceError):
    """The graph database does not answer; trying again later may work."""

    code = "DATABASE_UNAVAILABLE"


class SchemaMissing(AllianceError):
    """The database lacks the constraints or indexes the project needs."""

    code = "SCHEMA_MISSING"


class SettingsError(AllianceError):
    """A setting is missing or unusable; the message says which and what to do."""

    code = "SETTINGS"
