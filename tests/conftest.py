"""Shared fixtures: a real Neo4j for the whole test session.

Where it comes from, in order: `NEO4J_URI` if set; else a testcontainers Neo4j if a
Docker engine answers; else a throwaway local server started by the same code as
`alliance db start`, on a free port, with its own data folder and auth off.
Tests that write use `clean_db`, which empties the database and keeps the schema.

Every test that uses one of the database fixtures (directly or through another fixture)
is marked `neo4j`, so `./dev test -m "not neo4j"` runs the rest without Java. The
folders the suite makes (ALLIANCE_HOME, pytest's temporary folders of passing tests)
are removed at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from neo4j import Driver, GraphDatabase

from alliance import local_neo4j
from core.settings import get_settings
from graph import schema
from graph.drivers import Connection
from tests.throwaway_server import throwaway_server

_TEST_HOME = Path(tempfile.mkdtemp(prefix="alliance-test-home-"))
os.environ["ALLIANCE_HOME"] = str(_TEST_HOME)
os.environ.setdefault("ALLIANCE_ENV", "development")

settings.register_profile("ci", max_examples=20, deadline=None, database=None)
settings.register_profile("long", max_examples=int(os.environ.get("ALLIANCE_FUZZ_EXAMPLES", "300")),
                          deadline=None, database=None)
settings.load_profile(os.environ.get("ALLIANCE_HYPOTHESIS_PROFILE", "ci"))
"""Property-based tests run `ci` (few examples) unless ALLIANCE_HYPOTHESIS_PROFILE says
`long` (./dev fuzz)."""

DATABASE_FIXTURES = frozenset({"neo4j_connection", "driver", "database", "clean_db", "own_server"})
"""A test that uses any of these (or a fixture that does) needs a real Neo4j; `own_server`
is the name of every fixture that starts a server of its own."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `neo4j` every test whose fixture closure reaches a database fixture (a test
    that starts a server by itself carries the mark in its own file)."""
    for item in items:
        if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.neo4j)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Remove the ALLIANCE_HOME made for the run (secrets, reject files, audit)."""
    shutil.rmtree(_TEST_HOME, ignore_errors=True)


def _docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        done = subprocess.run(["docker", "info"], capture_output=True, timeout=10, check=False)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def _from_environment() -> Connection:
    user = os.environ.get("NEO4J_USER", "neo4j")
    password = os.environ.get("NEO4J_PASSWORD")
    auth = (user, password) if password is not None else None
    return Connection(os.environ["NEO4J_URI"], auth, os.environ.get("NEO4J_DATABASE", "neo4j"),
                      local=False)


@pytest.fixture(scope="session")
def neo4j_connection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Connection]:
    if os.environ.get("NEO4J_URI"):
        yield _from_environment()
        return
    if _docker_answers():
        try:
            from testcontainers.community.neo4j import Neo4jContainer
        except ImportError:
            from testcontainers.neo4j import Neo4jContainer

        with Neo4jContainer(f"neo4j:{local_neo4j.NEO4J_VERSION}-community") as container:
            conn = Connection(container.get_connection_url(),
                              ("neo4j", container.password), "neo4j", local=False)
            yield from _exported(conn)
        return
    with throwaway_server(tmp_path_factory.mktemp("neo4j-server")) as config:
        yield from _exported(Connection(config.uri, None, "neo4j", local=False))


def _exported(conn: Connection) -> Iterator[Connection]:
    """Point every `alliance` code path (CLI, API) at the test server while it runs."""
    saved = {k: os.environ.get(k) for k in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD")}
    os.environ["NEO4J_URI"] = conn.uri
    if conn.auth:
        os.environ["NEO4J_USER"], os.environ["NEO4J_PASSWORD"] = conn.auth
    else:
        os.environ.pop("NEO4J_PASSWORD", None)
    get_settings.cache_clear()
    try:
        yield conn
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


@pytest.fixture(scope="session")
def driver(neo4j_connection: Connection) -> Iterator[Driver]:
    with GraphDatabase.driver(neo4j_connection.uri, auth=neo4j_connection.auth) as drv:
        schema.apply(drv, neo4j_connection.database)
        yield drv


@pytest.fixture(scope="session")
def database(neo4j_connection: Connection) -> str:
    return neo4j_connection.database


@pytest.fixture
def clean_db(driver: Driver, database: str) -> Driver:
    """An empty database with the schema applied; returns the session's driver."""
    with driver.session(database=database) as session:
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()
    return driver


@pytest.fixture(autouse=True, scope="module")
def _fresh_jurisdictions() -> Iterator[None]:
    """Each module loads its own agencies: the API's jurisdiction cache must not carry
    one module's agencies into the next."""
    from api.deps import forget_jurisdictions

    forget_jurisdictions()
    yield
    forget_jurisdictions()
