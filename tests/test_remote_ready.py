"""Once NEO4J_URI names a server (a cluster, a managed Neo4j), nothing needs the local
server's files: only the local runner and the commands that run it reach them, and the
bulk load (the one exception) refuses with a sentence that says why."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core.settings import get_settings
from graph import drivers
from loaders import bulk

ROOT = Path(__file__).resolve().parent.parent
LOCAL_MODULES = {"core.local_server", "alliance.local_neo4j"}
MAY_REACH_LOCAL = {
    "graph/drivers.py",  # the local server's URI and password, only without NEO4J_URI
    "alliance/db_cli.py",  # alliance db ..., and the local store of alliance load --bulk
    "alliance/demo.py",  # starts the local server unless NEO4J_URI is set
    "alliance/local_neo4j.py",
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for item in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(item, ast.ImportFrom) and item.module:
            found.add(item.module)
            found.update(f"{item.module}.{alias.name}" for alias in item.names)
        elif isinstance(item, ast.Import):
            found.update(alias.name for alias in item.names)
    return found


def test_only_the_local_runner_reaches_the_local_server_files() -> None:
    reaching = set()
    for package in ("core", "graph", "loaders", "api", "alliance"):
        for path in (ROOT / package).rglob("*.py"):
            if _imports(path) & LOCAL_MODULES:
                reaching.add(str(path.relative_to(ROOT)))
    assert reaching == MAY_REACH_LOCAL


def test_a_remote_uri_needs_no_local_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ALLIANCE_HOME", str(tmp_path / "nothing-here"))
    monkeypatch.setenv("NEO4J_URI", "neo4j://graph.example.org:7687")
    monkeypatch.setenv("NEO4J_PASSWORD", "secret")
    get_settings.cache_clear()
    try:
        conn = drivers.connection()
    finally:
        get_settings.cache_clear()
    assert (conn.uri, conn.local) == ("neo4j://graph.example.org:7687", False)
    assert not (tmp_path / "nothing-here").exists()


def test_the_bulk_load_is_the_exception_and_says_so() -> None:
    with pytest.raises(bulk.BulkNeedsLocalServer, match="offline importer.*NEO4J_URI is set"):
        bulk.local_store("neo4j+s://abc.databases.neo4j.io")
