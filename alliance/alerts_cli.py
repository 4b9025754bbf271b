"""`alliance alerts ...`: run the watchlist alerts (saved queries with an `alert:` block)
by hand, and list the alerts they raised.

`run` runs every alert (or the one named) for each of its receivers, with a progress
bar, and says how many new alerts each raised (`graph.alerts`). `alliance load` runs
them too after a load that loaded rows (`loaders/load_cli.py`), and `alliance serve` on
each alert's schedule.

`deliver` empties the webhook outbox once by hand (what `alliance serve` does all the
time, `graph.outbox`); `deliveries` shows what is pending, delivered and failed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from core.settings import get_settings
from graph import access, alerts, outbox
from graph.drivers import Connection, connection, open_async_driver, open_driver
from graph.query_files import QUERIES_DIR

alerts_app = typer.Typer(help="Watchlist alerts: run them, list what they raised, deliver "
                              "them to webhooks.", no_args_is_help=True)
out = Console()
err = Console(stderr=True, soft_wrap=True)

def summary(report: alerts.AlertRun) -> Table:
    """One line per alert and receiver: matches and new alerts."""
    table = Table(title=f"alerts: {report.raised} new, {report.queued} webhook deliveries "
                        f"queued ({report.elapsed_ms:g} ms)")
    for column in ("alert", "receiver", "matches", "new", "queued", "truncated"):
        table.add_column(column)
    for r in report.results:
        table.add_row(r.alert, r.receiver, str(r.matches), str(len(r.raised)), str(r.queued),
                      "yes" if r.truncated else "")
    return table


@alerts_app.command("run")
def run(
    name: Annotated[str | None, typer.Argument(help="One alert (default: all).")] = None,
    directory: Annotated[Path, typer.Option("--dir", help="Folder of saved queries.")] = QUERIES_DIR,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Run the alerts now; exit 0, or 1 when an alert failed (the others still ran)."""
    conn = connection()
    with open_driver(conn) as driver, Progress(console=err, transient=True) as bars:
        task = bars.add_task("alerts", total=None)

        def progress(alert: str, done: int, total: int) -> None:
            bars.update(task, description=alert, completed=done, total=total)

        report = alerts.run_all(driver, conn.database, name, progress=progress,
                                directory=directory)
    if as_json:
        out.print_json(json.dumps(report.as_dict()))
    else:
        out.print(summary(report))
    for alert, reason in report.failures.items():
        err.print(f"[red]{escape(alert)} failed:[/red] {escape(reason)}", highlight=False)
    raise typer.Exit(1 if report.failures else 0)


@alerts_app.command("list")
def list_alerts(
    status: Annotated[str | None, typer.Option(help="new, confirmed or dismissed.")] = None,
    receiver: Annotated[str | None, typer.Option(
        help="investigator, police_liaison:AGENCY, brand_member:BRAND, ...")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
) -> None:
    """The alerts raised, newest first."""
    conn = connection()
    with open_driver(conn) as driver:
        rows = access.read(driver, conn.database, alerts.LIST_ALL,
                           {"status": status, "receiver": receiver, "limit": limit},
                           timeout=alerts.READ_TIMEOUT, name="alerts:list")
    table = Table(title=f"{len(rows)} alerts")
    for column in ("id", "alert", "receiver", "status", "raised_at", "keys"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(escape(str(row[c])) for c in
                        ("id", "alert", "receiver", "status", "raised_at", "keys")))
    out.print(table)


async def _deliver_once(conn: Connection) -> outbox.Pass:
    driver = open_async_driver(conn)
    try:
        return await outbox.worker_for(driver, conn.database, get_settings()).run_once()
    finally:
        await driver.close()


@alerts_app.command("deliver")
def deliver(
    as_json: Annotated[bool, typer.Option("--json", help="Print the pass as JSON.")] = False,
) -> None:
    """Try every webhook delivery that is due, once (`alliance serve` does it all the
    time); those to try again later stay pending."""
    done = asyncio.run(_deliver_once(connection()))
    if as_json:
        out.print_json(json.dumps(dataclasses.asdict(done)))
        return
    out.print(f"{done.claimed} due: {done.delivered} delivered, {done.retrying} to retry, "
              f"{done.failed} failed")


def _short(value: object, width: int = 60) -> str:
    text = "" if value is None else str(value)
    return escape(text if len(text) <= width else text[: width - 1] + "…")


@alerts_app.command("deliveries")
def deliveries(
    status: Annotated[str | None, typer.Option(
        help="pending, delivered or failed (default: all, failed first).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 50,
) -> None:
    """The webhook outbox: counts by status, then the deliveries (failed, then pending,
    then delivered)."""
    if status is not None and status not in outbox.STATUSES:
        raise typer.BadParameter(f"one of {', '.join(outbox.STATUSES)}", param_hint="--status")
    conn = connection()
    with open_driver(conn) as driver:
        counts = outbox.counts(driver, conn.database)
        rows = access.read(driver, conn.database, outbox.LIST, {"status": status, "limit": limit},
                           timeout=outbox.READ_TIMEOUT, name="outbox:list")
    title = ", ".join(f"{n} {s}" for s, n in counts.items())
    table = Table(title=f"deliveries: {title}")
    columns = ("id", "alert", "receiver", "url", "status", "attempts", "next_at",
               "delivered_at", "last_status", "last_error")
    for column in columns:
        table.add_column(column)
    colour = {"failed": "red", "pending": "yellow", "delivered": "green"}
    for row in rows:
        cells = [_short(row[c], 80 if c == "id" else 60) for c in columns]
        cells[4] = f"[{colour.get(row['status'], 'white')}]{cells[4]}[/]"
        table.add_row(*cells)
    out.print(table)
