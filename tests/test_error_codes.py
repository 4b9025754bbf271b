"""Every error code has an HTTP status, and a REST route's error is answered through it.

The codes are found by importing every module of the project and walking the subclasses
of `AllianceError`, so a new error cannot ship without a status in `api.errors.STATUS`.
The app's handler is exercised on routes added for the test (no database: the app's
lifespan does not run).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from graphql.error import GraphQLError

from api.errors import STATUS, error_code, http_status, public_code
from api.main import create_app
from core.errors import (
    AllianceError,
    Conflict,
    DatabaseUnavailable,
    NotFound,
    QueryTooSlow,
    SettingsError,
    UserError,
)
from graph import query_library
from graph.drivers import Connection

PACKAGES = ("core", "graph", "loaders", "api", "alliance")


def every_error_class() -> list[type[AllianceError]]:
    """AllianceError and all its subclasses, once every project module is imported."""
    for name in PACKAGES:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, prefix=f"{name}."):
            importlib.import_module(module.name)
    found: list[type[AllianceError]] = []
    todo: list[type[AllianceError]] = [AllianceError]
    while todo:
        kind = todo.pop()
        found.append(kind)
        todo.extend(kind.__subclasses__())
    return found


def declared_codes(kinds: list[type[AllianceError]]) -> dict[str, str]:
    """Each class's own `code` (not inherited), by class."""
    return {f"{k.__module__}.{k.__qualname__}": k.__dict__["code"] for k in kinds
            if isinstance(k.__dict__.get("code"), str)}


def test_every_code_an_error_declares_has_a_status() -> None:
    project = [k for k in every_error_class() if k.__module__.split(".")[0] in PACKAGES]
    codes = declared_codes(project)
    names = set(codes)
    for expected in ("api.auth.AuthError", "api.cost.QueryTooCostly", "api.main.BodyTooLarge",
                     "loaders.read.UnusableInput", "core.local_server.ServerError",
                     "graph.lifecycle.TransitionError", "core.errors.SchemaMissing",
                     "graph.query_files.HeaderError"):
        assert expected in names, f"{expected} not found: the walk missed modules"
    missing = {name: code for name, code in codes.items() if code not in STATUS}
    assert not missing, f"codes without an HTTP status in api.errors.STATUS: {missing}"


def test_a_new_code_without_a_status_is_found() -> None:
    class Undeclared(UserError):
        code = "NO_SUCH_CODE_IN_THE_TABLE"

    codes = declared_codes(every_error_class())
    assert codes[f"{__name__}.{Undeclared.__qualname__}"] not in STATUS


def test_the_statuses_clients_get() -> None:
    assert {code: STATUS[code] for code in (
        "BAD_REQUEST", "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "CONFLICT",
        "QUERY_UNAVAILABLE", "ILLEGAL_TRANSITION", "BODY_TOO_LARGE", "DATABASE_UNAVAILABLE",
        "TIMEOUT")} == {
        "BAD_REQUEST": 400, "UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404,
        "CONFLICT": 409, "QUERY_UNAVAILABLE": 409, "ILLEGAL_TRANSITION": 409,
        "BODY_TOO_LARGE": 413, "DATABASE_UNAVAILABLE": 503, "TIMEOUT": 504}


def test_a_code_set_on_an_instance_falls_back_to_its_family() -> None:
    unknown = Conflict("it moved")
    unknown.code = "SOMETHING_ELSE"
    assert (public_code(unknown), http_status(unknown)) == ("CONFLICT", 409)
    timed_out = UserError("stopped")
    timed_out.code = "TIMEOUT"
    assert (public_code(timed_out), http_status(timed_out)) == ("TIMEOUT", 504)
    assert http_status(AllianceError("what")) == 500


@pytest.mark.parametrize(("error", "code", "status"), [
    (query_library.QueryTimedOut("q: stopped", "Neo.ClientError.Transaction.TransactionTimedOut"),
     "TIMEOUT", 504),
    (query_library.QueryFailed("q: refused", "Neo.ClientError.Statement.AccessMode"),
     "BAD_REQUEST", 400),
    (query_library.QueryUnavailable("q cannot run"), "QUERY_UNAVAILABLE", 409),
    (query_library.UnknownQuery("no q"), "NOT_FOUND", 404),
], ids=["timed out", "refused", "unavailable", "unknown"])
def test_a_saved_querys_failure_shows_the_code_of_its_family(
        error: AllianceError, code: str, status: int) -> None:
    """Its own code is Neo4j's; clients get the family's, over REST and GraphQL."""
    assert (public_code(error), http_status(error)) == (code, status)
    wrapped = GraphQLError(str(error), path=["runSavedQuery"], original_error=error)
    assert error_code(wrapped) == code


# --- the app's one handler ----------------------------------------------------------------

NOWHERE = Connection("bolt://127.0.0.1:9", None, "neo4j", local=False)
"""Never connected to: the test client does not run the app's lifespan."""


def _unauthenticated() -> AllianceError:
    from api.auth import AuthError

    return AuthError("the token has expired")


RAISED: dict[str, AllianceError] = {
    "missing": NotFound("no lead 'LD-1'"),
    "unavailable": DatabaseUnavailable("the graph database does not answer right now"),
    "slow": QueryTooSlow("query took too long"),
    "token": _unauthenticated(),
    "settings": SettingsError("ALLIANCE_JWT_SECRET is not set"),
}


def raising(error: AllianceError) -> Callable[[], None]:
    def route() -> None:
        raise error

    return route


def app_raising() -> FastAPI:
    app = create_app(connection=NOWHERE)
    for name, error in RAISED.items():
        app.add_api_route(f"/raise/{name}", raising(error))
    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(app_raising(), raise_server_exceptions=False)


def ask(client: TestClient, name: str) -> tuple[int, object, dict[str, str]]:
    response = client.get(f"/raise/{name}", headers={"X-Request-ID": f"req-{name}"})
    assert response.headers["x-request-id"] == f"req-{name}"
    return response.status_code, response.json(), dict(response.headers)


@pytest.mark.parametrize(("name", "status"), [
    ("missing", 404), ("unavailable", 503), ("slow", 504), ("token", 401)])
def test_a_routes_error_is_answered_with_its_status_message_and_request_id(
        client: TestClient, name: str, status: int) -> None:
    code, body, _ = ask(client, name)
    assert (code, body) == (status, {"detail": str(RAISED[name]), "requestId": f"req-{name}"})


def test_an_unauthenticated_answer_asks_for_a_bearer_token(client: TestClient) -> None:
    assert ask(client, "token")[2]["www-authenticate"] == "Bearer"
    assert "www-authenticate" not in ask(client, "missing")[2]


def test_the_servers_own_errors_are_masked_and_logged(
        client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="api.errors"):
        code, body, _ = ask(client, "settings")
    assert (code, body) == (500, {"detail": "internal error, request id req-settings",
                                  "requestId": "req-settings"})
    assert any("ALLIANCE_JWT_SECRET" in r.getMessage() and r.request_id == "req-settings"  # type: ignore[attr-defined]
               for r in caplog.records)
