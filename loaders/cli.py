"""`alliance load`: load bundle files into the graph with progress and a summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table

from graph import db, schema
from loaders.pipeline import BATCH_SIZE, RunReport, load_paths
from loaders.pipeline import Progress as ProgressCallback
from loaders.read import UnusableInput

console = Console(stderr=True)


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
    rejects: Annotated[Path | None, typer.Option(help="Write rejected rows as JSON Lines.")] = None,
    encoding: Annotated[str, typer.Option(help="auto, utf-8 or gb18030.")] = "auto",
    batch_size: Annotated[int, typer.Option(help="Rows per write transaction.")] = BATCH_SIZE,
    strict: Annotated[bool, typer.Option(help="Load nothing if any row is bad.")] = False,
) -> None:
    """Load bundles; exit 0 if all rows loaded, 3 if some were rejected, 2 if unusable."""
    conn = db.connection()
    try:
        with db.open_driver(conn) as driver, Progress(console=console) as bars:
            schema.apply(driver, conn.database)
            result = load_paths(driver, conn.database, paths, source=source,
                                batch_size=batch_size, strict=strict, encoding=encoding,
                                rejects_path=rejects, progress=file_bars(bars))
    except UnusableInput as error:
        console.print(f"[red]Unusable input:[/red] {error}")
        raise typer.Exit(2) from error
    _summary(result)
    if report is not None:
        report.write_text(json.dumps(result.as_dict(), indent=2), encoding="utf-8")
    raise typer.Exit(3 if result.rejected else 0)


def _summary(result: RunReport) -> None:
    table = Table(title=f"run {result.run_id} (source {result.source})")
    for column in ("file", "read", "loaded", "rejected", "ignored columns"):
        table.add_column(column)
    for f in result.files:
        table.add_row(f.file, str(f.read), str(f.loaded), str(f.rejected),
                      ", ".join(f.ignored_columns))
    console.print(table)
    if result.rejected and result.rejects_path:
        console.print(f"rejected rows: {result.rejects_path}")
