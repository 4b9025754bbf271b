"""`alliance db ...`, `alliance schema ...` and `alliance demo`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from neo4j import Driver
from rich.console import Console
from rich.table import Table

from alliance import local_neo4j
from core.errors import AllianceError
from core.local_server import local_home
from core.settings import get_settings
from graph import schema
from graph.drivers import Connection, connection, open_driver
from loaders import bulk

db_app = typer.Typer(help="Run the local Neo4j server (no Docker needed).", no_args_is_help=True)
schema_app = typer.Typer(help="Constraints and indexes from the graph model.",
                         no_args_is_help=True)
out = Console(soft_wrap=True)


def _home() -> Path:
    return local_home(get_settings().alliance_home)


def _remote_note() -> None:
    settings = get_settings()
    if settings.neo4j_uri:
        out.print(f"[yellow]note:[/yellow] NEO4J_URI is set ({settings.neo4j_uri}); the other "
                  "commands use that server, not the local one.")


def sized_config(port: int = 7687, data: Path | None = None, *, heap: str | None = None,
                 pagecache: str | None = None) -> tuple[local_neo4j.ServerConfig,
                                                        local_neo4j.Sizing]:
    """The local server's configuration, its memory sized from the machine and the store
    (`--heap` / `--pagecache`, else ALLIANCE_NEO4J_HEAP / ALLIANCE_NEO4J_PAGECACHE, win)."""
    settings = get_settings()
    config = local_neo4j.ServerConfig(home=_home(), port=port, data_dir=data)
    sizing = local_neo4j.size_memory(
        local_neo4j.machine_memory(), local_neo4j.store_size(config.data),
        heap=heap or settings.alliance_neo4j_heap,
        pagecache=pagecache or settings.alliance_neo4j_pagecache)
    return replace(config, memory=sizing.memory), sizing


@db_app.command("start")
def db_start(
    port: Annotated[int, typer.Option(help="Bolt port on 127.0.0.1.")] = 7687,
    data: Annotated[Path | None, typer.Option(help="Data folder (default: ALLIANCE_HOME/neo4j/data)")] = None,
    heap: Annotated[str | None, typer.Option(
        help="Heap (e.g. 4g); default: sized from the machine and the store.")] = None,
    pagecache: Annotated[str | None, typer.Option(
        help="Page cache (e.g. 8g); default: the store and its growth, if it fits.")] = None,
) -> None:
    """Start Neo4j in the background and wait until it answers. Heap and page cache
    are sized from the machine's memory and the store's size, and printed."""
    _remote_note()
    config, sizing = sized_config(port, data, heap=heap, pagecache=pagecache)
    with out.status(f"Starting Neo4j {local_neo4j.NEO4J_VERSION} (first run downloads it)..."):
        state, started = local_neo4j.start(config)
    verb = "started" if started else "already running"
    out.print(f"Neo4j {state.version} {verb}: [bold]{state.uri}[/bold] (pid {state.pid}, data "
              f"{state.data_dir})")
    if started:
        out.print(f"memory: {sizing.describe()}", highlight=False)


class LocalStore:
    """The local server as `alliance load --bulk` uses it (`loaders.bulk.LocalStore`):
    the port and data folder of the running server, or the defaults."""

    def __init__(self, port: int = 7687) -> None:
        self.port = port

    def _config(self) -> local_neo4j.ServerConfig:
        state = local_neo4j.status(_home())
        port = int(state.uri.rsplit(":", 1)[1]) if state.uri else self.port
        data = Path(state.data_dir) if state.data_dir else None
        return sized_config(port, data)[0]

    def ensure_running(self) -> None:
        local_neo4j.start(self._config())

    def import_files(self, database: str, arguments: list[str]) -> None:
        config = self._config()
        local_neo4j.stop(_home())
        try:
            local_neo4j.import_full(config, database, arguments)
        finally:
            config, sizing = sized_config(config.port, config.data)
            local_neo4j.start(config)
        out.print(f"memory: {sizing.describe()}", highlight=False)


bulk.use_local_store(LocalStore())


@db_app.command("stop")
def db_stop() -> None:
    """Stop the local Neo4j cleanly."""
    result = local_neo4j.stop(_home())
    messages = {
        "stopped": "Neo4j is stopped.",
        "stale": "Neo4j was not running (removed a stale pid file).",
        "killed": "Neo4j did not stop in time and was killed; the next start recovers the store.",
    }
    out.print(messages[result])


def status_facts(status: local_neo4j.Status, home: Path) -> dict[str, object]:
    """What `db status` knows: the running server's URI, pid, port and data folder; when
    it does not run, the port and data folder `alliance db start` uses by default."""
    config = local_neo4j.ServerConfig(home=home)
    facts: dict[str, object] = {**status.as_dict(), "port": config.port}
    if status.uri:
        facts["port"] = int(status.uri.rsplit(":", 1)[1])
    if status.data_dir is None:
        facts["data_dir"] = str(config.data)
    return facts


def status_lines(status: local_neo4j.Status, facts: dict[str, object]) -> list[str]:
    """`db status` for a person: every line says something known, none reads as an error."""
    lines = [f"Neo4j {status.version}: [bold]{status.state}[/bold]"]
    if status.state == "running":
        lines += [f"  uri:  {status.uri}", f"  pid:  {status.pid}"]
    elif status.state == "stale":
        lines += [f"  pid:  {status.pid} (left by its last start; no longer Neo4j)"]
    lines += [f"  port: {facts['port']}", f"  data: {facts['data_dir']}",
              f"  home: {status.home}"]
    if status.state != "running":
        lines += ["  start it: alliance db start [--port N] [--data DIR]"]
    return lines


@db_app.command("status")
def db_status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Running, stopped or stale, with port, data folder, and URI and pid when running.
    Exit code 0 when running, 1 otherwise."""
    status = local_neo4j.status(_home())
    facts = status_facts(status, _home())
    if as_json:
        print(json.dumps(facts))
    else:
        for line in status_lines(status, facts):
            out.print(line)
    raise typer.Exit(0 if status.state == "running" else 1)


@db_app.command("logs")
def db_logs(
    lines: Annotated[int, typer.Option("-n", "--lines")] = 50,
    debug: Annotated[bool, typer.Option(help="Show debug.log instead of the console log.")] = False,
) -> None:
    """The last lines of the local Neo4j's log."""
    for line in local_neo4j.log_tail(_home(), lines, debug=debug):
        print(line)


@db_app.command("fetch")
def db_fetch() -> None:
    """Download and check the Neo4j jars without starting the server."""
    local_neo4j.check_java()
    with out.status(f"Fetching Neo4j {local_neo4j.NEO4J_VERSION} from Maven Central..."):
        jars = local_neo4j.ensure_jars()
    out.print(f"Neo4j {local_neo4j.NEO4J_VERSION}: {len(jars)} jars checked against the lock file.")


@db_app.command("lock", hidden=True)
def db_lock() -> None:
    """Rewrite alliance/neo4j/neo4j.lock from what Maven resolves now."""
    count = local_neo4j.write_lock()
    out.print(f"pinned {count} jars in {local_neo4j.LOCK}")


@schema_app.command("apply")
def schema_apply() -> None:
    """Create the missing constraints and indexes (safe to run again)."""
    conn = connection()
    with open_driver(conn) as driver:
        created = schema.apply(driver, conn.database)
    total = len(schema.planned())
    out.print(f"schema on {conn.describe()}: {len(created)} created, "
              f"{total - len(created)} already there, {total} in all.")


@schema_app.command("show")
def schema_show() -> None:
    """What the model asks for and whether the database has it."""
    conn = connection()
    with open_driver(conn) as driver:
        rows = schema.show(driver, conn.database)
    table = Table("kind", "name", "state", title=f"schema on {conn.describe()}")
    for item, present in rows:
        table.add_row(item.kind, item.name, "applied" if present else "[red]missing[/red]")
    out.print(table)
    missing = sum(1 for _, present in rows if not present)
    raise typer.Exit(1 if missing else 0)


def ensure_database(port: int = 7687) -> None:
    """Start the local server (on `port`) unless NEO4J_URI names another one or it runs
    already, then apply the schema."""
    if get_settings().uses_local_server:
        db_start(port=port, data=None)
    schema_apply()


@contextmanager
def database(conn: Connection) -> Iterator[Driver]:
    """A driver for `conn`; an error of the project's own (the server does not answer, a
    query over its timeout) ends the command with one line and exit code 2."""
    try:
        with open_driver(conn) as driver:
            yield driver
    except AllianceError as exc:
        Console(stderr=True, soft_wrap=True).print(
            f"[red]error:[/red] {exc} ({conn.describe()})", highlight=False)
        raise typer.Exit(2) from None
