"""`alliance screen`: screen a backlog of uploads against the graph, with a progress bar.

The uploads file is JSON Lines (or CSV with `;`-separated lists), read like a bundle
file (`loaders.read`: encodings, line numbers, the field limit). Each upload gets the
decision the API gives it (`loaders.uploads` checks it, `graph.screening.screen_batch`
decides, records with `--record` and audits every BLOCK), written to `--out` as one JSON
line in the platform's view: kinds and masked keys, no seller ids. An invalid upload goes
to the rejects file with its line and every reason, never its content (an identity
number must not be copied anywhere).

Exit codes: 0 every upload screened, 3 some rejected, 2 unusable input (nothing
screened), 4 the database stopped answering.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from neo4j import Driver
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from core.settings import get_settings
from graph import drivers, screening
from graph.caller import LOCAL_OPERATOR
from graph.screening import MAX_BATCH, Thresholds
from loaders.load_cli import DATABASE_GONE, EXIT_DATABASE_UNAVAILABLE, EXIT_UNUSABLE
from loaders.read import Record, UnusableInput, check_file, read_records
from loaders.uploads import UploadChecker

console = Console(stderr=True)
EXIT_ALL_SCREENED, EXIT_SOME_REJECTED = 0, 3
TIMEOUT = 60.0
"""Seconds each transaction of a batch (its match, its writes) may take."""
SHOWN_REJECTS = 10
"""Rejects printed on the terminal (all of them are in the rejects file)."""


def screen(
    uploads: Annotated[Path, typer.Argument(help="Uploads to screen (.jsonl or .csv).")],
    out: Annotated[Path, typer.Option("--out", help="Write the decisions here (JSON Lines).")],
    rejects: Annotated[Path | None, typer.Option(
        help="Write invalid uploads (line and reasons) here, when there are any; default "
             "OUT with the suffix .rejects.jsonl.")] = None,
    record: Annotated[bool, typer.Option(help="Store each decision as a Screening node.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=MAX_BATCH,
                                            help="Uploads per query.")] = MAX_BATCH,
    encoding: Annotated[str, typer.Option(help="auto, utf-8 or gb18030.")] = "auto",
) -> None:
    """Screen uploads: BLOCK, REVIEW or ALLOW with the reasons, the API's decisions.
    Exit 0 if every upload was screened, 3 if some were rejected, 2 if the input is
    unusable, 4 if the database stopped answering."""
    rejects = rejects or out.with_name(out.name.removesuffix(".jsonl") + ".rejects.jsonl")
    settings = get_settings()
    checker = UploadChecker(settings.pii_key())
    conn = drivers.connection()
    try:
        codec = check_file(uploads, encoding)
        total = sum(1 for _ in read_records(uploads, codec))
        with drivers.open_driver(conn) as driver, out.open("w", encoding="utf-8") as decided, \
                rejects.open("w", encoding="utf-8") as rejects_file, _bar() as bar:
            task = bar.add_task("screening", total=total)
            counts: Counter[str] = Counter()
            rejected = Rejects(rejects_file)
            for batch in _batches(read_records(uploads, codec), batch_size):
                counts += screen_records(driver, conn.database, batch, checker,
                                         screening.thresholds(settings), record=record,
                                         decided=decided, rejected=rejected)
                bar.advance(task, len(batch))
            counts["rejected"] = rejected.count
    except UnusableInput as error:
        console.print(f"[red]Unusable input:[/red] {escape(str(error))} (nothing screened)",
                      soft_wrap=True)
        raise typer.Exit(EXIT_UNUSABLE) from error
    except DATABASE_GONE as error:
        console.print(f"[red]Database unavailable:[/red] Neo4j at {escape(conn.describe())} "
                      f"is not answering; the decisions so far are in {escape(str(out))}.",
                      soft_wrap=True, highlight=False)
        raise typer.Exit(EXIT_DATABASE_UNAVAILABLE) from error
    if not counts["rejected"]:
        rejects.unlink()
    _summary(counts, out, rejects)
    raise typer.Exit(EXIT_SOME_REJECTED if counts["rejected"] else EXIT_ALL_SCREENED)


def _bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console)


def _batches(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    batch: list[Record] = []
    for item in records:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _unreadable(item: Record) -> list[dict[str, str]]:
    """Why a record cannot even be checked: a CSV row's cells off its header, a field
    over the field limit."""
    if item.columns:
        return [{"field": "_row", "code": "columns", "message": item.columns}]
    return [{"field": f, "code": "too_long", "message": f"{f}: longer than the field limit"}
            for f in item.too_long]


def screen_records(driver: Driver, database: str, batch: list[Record], checker: UploadChecker,
                   limits: Thresholds, *, record: bool, decided: IO[str],
                   rejected: Rejects) -> Counter[str]:
    """Screen one batch of records: decisions to `decided`, rejects to `rejected`;
    returns the count of each decision."""
    counts: Counter[str] = Counter()
    readable = []
    for item in batch:
        reasons = _unreadable(item)
        if reasons:
            rejected.add(item, reasons)
        else:
            readable.append(item)
    good, invalid = checker.check([item.row for item in readable])
    for bad in invalid:
        rejected.add(readable[bad.index], bad.reasons)
    decisions = screening.screen(driver, database, [upload for _, upload in good],
                                 LOCAL_OPERATOR, limits, record=record, timeout=TIMEOUT)
    for decision in decisions:
        decided.write(json.dumps(screening.as_dict(decision), ensure_ascii=False) + "\n")
        counts[decision.decision] += 1
    return counts


class Rejects:
    """The rejects file: a line and every reason per invalid upload; the first
    SHOWN_REJECTS are printed too."""

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle
        self.count = 0

    def add(self, item: Record, reasons: list[dict[str, str]]) -> None:
        line: dict[str, Any] = {"line": item.line, "reasons": reasons}
        upload_id = item.row.get("upload_id")
        if isinstance(upload_id, str):
            line["upload_id"] = upload_id[:100]
        self.handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        self.count += 1
        if self.count <= SHOWN_REJECTS:
            console.print(f"[yellow]line {item.line}:[/yellow] "
                          + escape("; ".join(r["message"] for r in reasons)), soft_wrap=True)


def _summary(counts: Counter[str], out: Path, rejects: Path) -> None:
    table = Table(title="screened")
    for column in ("BLOCK", "REVIEW", "ALLOW", "rejected"):
        table.add_column(column)
    table.add_row(*(str(counts[c]) for c in ("BLOCK", "REVIEW", "ALLOW", "rejected")))
    console.print(table)
    console.print(f"decisions: {escape(str(out))}", soft_wrap=True, highlight=False)
    if counts["rejected"]:
        console.print(f"rejected uploads: {escape(str(rejects))}", soft_wrap=True,
                      highlight=False)
