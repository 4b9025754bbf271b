"""`alliance analyze networks`: compute seller networks and store them as Network nodes.

The whole graph by default (every stored network of that strength is replaced), or only
the sellers one load touched with `--incremental --run-id ID`. Networks of a single
seller are not stored: a seller without IN_NETWORK is alone.

`alliance analyze matches`: score pairs of sellers that may be one and write their
PROBABLY_SAME links (`graph.matching`), which `networks --strength probable` then uses.
"""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console

from alliance.db_cli import database
from core.settings import get_settings
from graph import matching, seller_networks
from graph.drivers import connection

analyze_app = typer.Typer(help="Analyses over the whole graph (seller networks, probable matches).",
                          no_args_is_help=True)
out = Console()
err = Console(stderr=True, soft_wrap=True)


class StrengthOption(StrEnum):
    STRONG = "STRONG"
    WEAK = "WEAK"
    PROBABLE = "PROBABLE"


@analyze_app.command("networks")
def networks(
    strength: Annotated[StrengthOption, typer.Option(
        "--strength", case_sensitive=False, help="Which identifiers link sellers.")
    ] = StrengthOption.STRONG,
    hub_threshold: Annotated[int, typer.Option(
        "--hub-threshold", min=1,
        help="An identifier shared by more sellers than this is a hub and links nobody.")
    ] = seller_networks.HUB_THRESHOLD,
    incremental: Annotated[bool, typer.Option(
        "--incremental", help="Only the sellers one load touched (needs --run-id).")] = False,
    run_id: Annotated[str | None, typer.Option("--run-id", help="The IngestRun's run_id.")
    ] = None,
) -> None:
    """Compute the connected components of the seller link graph and store them."""
    if incremental != (run_id is not None):
        err.print("[red]error:[/red] --incremental and --run-id go together")
        raise typer.Exit(2)
    conn = connection()
    started = time.perf_counter()
    with database(conn) as driver:
        if run_id is not None:
            try:
                touched, stored = seller_networks.analyze_incremental(
                    driver, conn.database, run_id, strength=strength.value,
                    hub_threshold=hub_threshold)
            except LookupError as exc:
                err.print(f"[red]error:[/red] {exc}")
                raise typer.Exit(2) from None
            out.print(f"run {run_id}: {touched} sellers touched, {stored} networks rewritten "
                      f"({strength.value}) in {time.perf_counter() - started:.1f} s")
            return
        components, stored = seller_networks.analyze_networks(
            driver, conn.database, strength=strength.value, hub_threshold=hub_threshold)
    sellers = sum(len(g) for g in components.groups)
    out.print(f"{stored} networks ({strength.value}) of {sellers} sellers from "
              f"{components.identifiers} shared identifiers, in "
              f"{time.perf_counter() - started:.1f} s")
    for hub in sorted(components.hubs, key=lambda h: -h.sellers)[:20]:
        out.print(f"hub skipped: {hub.kind} {hub.value} shared by {hub.sellers} sellers")


@analyze_app.command("matches")
def matches(
    threshold: Annotated[float | None, typer.Option(
        "--threshold", min=0.0, max=1.0,
        help="Match probability at or above which a link is written "
             "(default: ALLIANCE_MATCH_THRESHOLD, 0.9).")] = None,
) -> None:
    """Score pairs of sellers that share no exact identifier and write PROBABLY_SAME links."""
    cut = get_settings().alliance_match_threshold if threshold is None else threshold
    conn = connection()
    started = time.perf_counter()
    with database(conn) as driver:
        try:
            run = matching.analyze_matches(driver, conn.database, threshold=cut)
        except ValueError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in run.timings.items())
    out.print(f"{run.pairs} probable pairs of {run.sellers} sellers at >= {cut} (model "
              f"{run.run_id or '-'}): {run.written} links written, {run.dropped} dropped, "
              f"{run.kept_decided} decided by investigators kept, in "
              f"{time.perf_counter() - started:.1f} s ({steps})")
