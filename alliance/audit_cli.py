"""`alliance audit tail`: the newest entries of the audit trail, one line each.

Reads `AuditEvent` nodes (written by the API and the saved-query runner; never edited).
`--follow` keeps printing new events until interrupted.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.console import Console

from alliance.db_cli import database
from graph import audit
from graph.drivers import connection

audit_app = typer.Typer(help="The audit trail of reads and changes.", no_args_is_help=True)
out = Console()
err = Console(stderr=True, soft_wrap=True)

COLUMNS = ("at", "who", "role", "agency_id", "brand_id", "action", "ids", "request_id")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value.iso_format() if hasattr(value, "iso_format") else value)


def line(e: dict[str, Any]) -> str:
    """One event as one line, tab-separated in the order of COLUMNS (easy to grep and cut)."""
    return "\t".join(_cell(e.get(c)) for c in COLUMNS)


def show(events: list[dict[str, Any]]) -> None:
    for e in events:
        out.print(line(e), markup=False, highlight=False, soft_wrap=True)


@audit_app.command("tail")
def tail(
    lines: Annotated[int, typer.Option("-n", "--lines", min=1, max=10_000,
                                       help="How many of the newest events.")] = 20,
    action: Annotated[str | None, typer.Option(
        "--action", help="Only this action (dossier.read, lead.create, saved_query.run, ...).")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new events.")] = False,
    interval: Annotated[float, typer.Option("--interval", min=0.5, help="Seconds between polls.")] = 2.0,
) -> None:
    """Print the newest audit events (oldest of them first)."""
    conn = connection()
    with database(conn) as driver:
        events = list(reversed(audit.recent(driver, conn.database, limit=lines, action=action)))
        out.print("\t".join(COLUMNS), style="bold", soft_wrap=True)
        show(events)
        seen = {e["event_id"] for e in events}
        while follow:
            time.sleep(interval)
            fresh = [e for e in reversed(audit.recent(driver, conn.database, limit=lines, action=action))
                     if e["event_id"] not in seen]
            show(fresh)
            seen.update(e["event_id"] for e in fresh)
