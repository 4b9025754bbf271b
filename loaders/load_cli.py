"""`alliance load`: load bundle files into the graph with progress and a summary.

Exit codes: 0 all rows loaded, 3 some rejected (listed in the rejects file), 2 unusable
input (nothing written), 4 the database stopped answering (run the same load again).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from neo4j import Driver
from neo4j.exceptions import DatabaseUnavailable, ServiceUnavailable, SessionExpired
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, TaskID
from rich.table import Table

from core.settings import get_settings
from graph import alerts, drivers, schema
from loaders import bulk
from loaders.pipeline import BATCH_SIZE, RunReport, load_paths
from loaders.pipeline import Progress as ProgressCallback
from loaders.read import UnusableInput

console = Console(stderr=True)

EXIT_ALL_LOADED, EXIT_UNUSABLE, EXIT_SOME_REJECTED, EXIT_DATABASE_UNAVAILABLE = 0, 2, 3, 4
DATABASE_GONE = (ServiceUnavailable, SessionExpired, DatabaseUnavailable)
"""The server stopped answering (or is shutting down), after the driver's own retries."""


def file_bars(bars: Progress) -> ProgressCallback:
    """A `load_paths` progress callback that shows one bar (rows, rows/s) per file."""
    tasks: dict[str, TaskID] = {}

    def progress(name: str, done: int) -> None:
        if name not in tasks:
            tasks[name] = bars.add_task(name, total=None)
        bars.update(tasks[name], completed=done)

    return progress


def load(
    paths: Annotated[list[Path], typer.Argument(help="Bundle folders or files (.csv/.jsonl).")],
    source: Annotated[str, typer.Option(help="Who sent the data (provenance label).")],
    report: Annotated[Path | None, typer.Option(help="Write the run report as JSON.")] = None,
    rejects: Annotated[Path | None, typer.Option(
        help="Write rejected rows as JSON Lines here (default: ALLIANCE_HOME/rejects/"
             "RUN_ID.jsonl, when a row is rejected).")] = None,
    encoding: Annotated[str, typer.Option(help="auto, utf-8 or gb18030.")] = "auto",
    batch_size: Annotated[int, typer.Option(help="Rows per write transaction.")] = BATCH_SIZE,
    strict: Annotated[bool, typer.Option(help="Load nothing if any row is bad.")] = False,
    run_alerts: Annotated[bool, typer.Option(
        "--alerts/--no-alerts", help="Run the watchlist alerts after a load that loaded rows.")
    ] = True,
    bulk_load: Annotated[bool, typer.Option(
        "--bulk", help="First load into an empty local database, through Neo4j's offline "
                       "importer (stops and restarts the local server).")] = False,
    workers: Annotated[int | None, typer.Option(
        help="--bulk: worker processes (default: one per core).")] = None,
) -> None:
    """Load bundles. Exit 0 if all rows loaded, 3 if some were rejected, 2 if the input
    is unusable (nothing written), 4 if the database stopped answering."""
    if bulk_load:
        result, figures = _bulk(paths, source=source, rejects=rejects, encoding=encoding,
                                strict=strict, workers=workers)
        raised = _bulk_alerts(result) if run_alerts else None
        _finish(result, raised, report, {"bulk": figures})
    conn = drivers.connection()
    try:
        with drivers.open_driver(conn) as driver, Progress(console=console) as bars, \
                _driver_retries_quiet():
            schema.apply(driver, conn.database)
            result = load_paths(driver, conn.database, paths, source=source,
                                batch_size=batch_size, strict=strict, encoding=encoding,
                                rejects_path=rejects, progress=file_bars(bars))
            raised = _run_alerts(driver, conn.database, result) if run_alerts else None
    except UnusableInput as error:
        console.print(f"[red]Unusable input:[/red] {escape(str(error))} (nothing loaded)",
                      soft_wrap=True)
        raise typer.Exit(EXIT_UNUSABLE) from error
    except DATABASE_GONE as error:
        console.print(f"[red]Database unavailable:[/red] Neo4j at {escape(conn.describe())} "
                      f"is not answering ({escape(_first_line(error))}); the run is not "
                      "recorded. Start it and run the same load again: that writes the rest "
                      "and changes nothing else.", soft_wrap=True, highlight=False)
        raise typer.Exit(EXIT_DATABASE_UNAVAILABLE) from error
    _finish(result, raised, report)


def _finish(result: RunReport, raised: alerts.AlertRun | None, report: Path | None,
            extra: dict[str, Any] | None = None) -> None:
    _summary(result)
    _alerts_summary(raised)
    if report is not None:
        body = {**result.as_dict(), **({"alerts": raised.as_dict()} if raised else {}),
                **(extra or {})}
        report.write_text(json.dumps(body, indent=2), encoding="utf-8")
    raise typer.Exit(EXIT_SOME_REJECTED if result.rejected else EXIT_ALL_LOADED)


def _bulk(paths: list[Path], *, source: str, rejects: Path | None, encoding: str,
          strict: bool, workers: int | None) -> tuple[RunReport, dict[str, Any]]:
    """`--bulk` (loaders/bulk.py): refused unless the local server's database is empty;
    the bundle becomes import files, the importer builds the store, the server starts
    again with the schema and the run recorded. Returns the report and the seconds of
    each step (in the JSON report under `bulk`)."""
    settings = get_settings()
    store = bulk.local_store(settings.neo4j_uri)
    store.ensure_running()
    conn = drivers.connection()
    with drivers.open_driver(conn) as driver:
        bulk.check_empty(driver, conn.database)
    began = time.perf_counter()
    try:
        with Progress(console=console) as bars:
            prepared = bulk.prepare(paths, source=source, home=settings.alliance_home,
                                    pii_key=settings.pii_key(), workers=workers,
                                    strict=strict, encoding=encoding, rejects_path=rejects,
                                    progress=file_bars(bars))
    except UnusableInput as error:
        console.print(f"[red]Unusable input:[/red] {escape(str(error))} (nothing loaded)",
                      soft_wrap=True)
        raise typer.Exit(EXIT_UNUSABLE) from error
    figures: dict[str, Any] = {"nodes": prepared.node_count,
                               "relationships": prepared.rel_count,
                               "prepare_seconds": round(time.perf_counter() - began, 1),
                               "import_files_mib": round(prepared.files_size() / 2**20, 1)}
    try:
        began = time.perf_counter()
        with console.status(f"importing {prepared.node_count:,} nodes and "
                            f"{prepared.rel_count:,} relationships (server stopped)..."):
            store.import_files(conn.database, prepared.import_arguments())
        figures["import_seconds"] = round(time.perf_counter() - began, 1)
        began = time.perf_counter()
        conn = drivers.connection()
        with drivers.open_driver(conn) as driver:
            schema.apply(driver, conn.database)
            bulk.record_run(driver, conn.database, prepared)
        figures["schema_seconds"] = round(time.perf_counter() - began, 1)
    finally:
        prepared.remove_files()
    return prepared.report, figures


def _bulk_alerts(result: RunReport) -> alerts.AlertRun | None:
    conn = drivers.connection()
    with drivers.open_driver(conn) as driver:
        return _run_alerts(driver, conn.database, result)


def _run_alerts(driver: Driver, database: str, result: RunReport) -> alerts.AlertRun | None:
    """The watchlist alerts after a load that loaded rows (`graph.alerts`); an alert that
    fails is named in the report and does not fail the load."""
    if not sum(f.loaded for f in result.files):
        return None
    return alerts.run_all(driver, database, run_id=result.run_id)


def _alerts_summary(raised: alerts.AlertRun | None) -> None:
    if raised is None:
        return
    by_alert = raised.raised_by_alert()
    named = ", ".join(f"{name} ({count})" for name, count in sorted(by_alert.items()))
    queued = f"; webhook deliveries queued: {raised.queued}" if raised.raised else ""
    console.print(f"alerts raised: {raised.raised}" + (f": {escape(named)}" if named else "") + queued,
                  soft_wrap=True, highlight=False)
    for name, reason in raised.failures.items():
        console.print(f"[yellow]alert {escape(name)} failed:[/yellow] {escape(reason)}",
                      soft_wrap=True, highlight=False)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:200]


@contextmanager
def _driver_retries_quiet() -> Iterator[None]:
    """The driver logs a warning at each retry of a transaction while the server is away:
    keep them off the terminal; the load ends with one line if the server stays away."""
    logger = logging.getLogger("neo4j")
    handler, propagate = logging.NullHandler(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _summary(result: RunReport) -> None:
    table = Table(title=f"run {result.run_id} (source {result.source})")
    for column in ("file", "read", "loaded", "rejected", "ignored columns"):
        table.add_column(column)
    for f in result.files:
        table.add_row(f.file, str(f.read), str(f.loaded), str(f.rejected),
                      ", ".join(f.ignored_columns))
    console.print(table)
    if result.rejected and result.rejects_path:
        console.print(f"rejected rows: {escape(result.rejects_path)}", soft_wrap=True,
                      highlight=False)
