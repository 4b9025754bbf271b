"""`alliance export {network,lead,query} ID --format ftm|graphml|gexf|gephi-csv --out FILE`.

The same export as `GET /exports/...` (`api.exports.export`): scoped to a caller and
audited. The caller is the local operator (an admin) unless `--role` (with `--agency`
for a police liaison, `--brand` for a brand member) names one, as `alliance token issue`
does; a liaison's jurisdiction is read from the graph as the API reads it. A saved query
takes its parameters as `--param name=value`, like `alliance query run`.
"""

from __future__ import annotations

import asyncio
import uuid
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from alliance.query_cli import parse_params
from api.auth import check_claims
from api.context import Context
from api.deps import with_jurisdiction
from api.exports import Export, export
from core import errors
from graph.caller import LOCAL_OPERATOR, ROLES, Caller
from graph.drivers import connection, open_async_driver

err = Console(stderr=True, soft_wrap=True)


class What(StrEnum):
    network = "network"
    lead = "lead"
    query = "query"


class Format(StrEnum):
    ftm = "ftm"
    graphml = "graphml"
    gexf = "gexf"
    gephi_csv = "gephi-csv"


SUFFIX = {Format.ftm: "ftm.jsonl", Format.graphml: "graphml", Format.gexf: "gexf",
          Format.gephi_csv: "gephi.csv"}
"""Each CLI format by the API's suffix (`api.exports.FORMATS`)."""


def caller_of(role: str | None, agency: str | None, brand: str | None, sub: str) -> Caller:
    """The local operator, or the caller `--role` names (checked as a token's claims)."""
    if role is None:
        if agency or brand:
            raise typer.BadParameter("--agency and --brand go with --role")
        return LOCAL_OPERATOR
    try:
        checked = check_claims(role, agency, brand)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return Caller(sub=sub, role=checked, agency_id=agency, brand_id=brand)


async def run_export(caller: Caller, what: str, key: str, fmt: str,
                     params: dict[str, object] | None) -> Export:
    conn = connection()
    driver = open_async_driver(conn)
    try:
        full = await with_jurisdiction(caller, driver, conn.database)
        ctx = Context(driver=driver, database=conn.database, caller=full,
                      request_id=f"cli-{uuid.uuid4().hex}")
        return await export(ctx, what, key, fmt, params)
    finally:
        await driver.close()


def export_command(
    what: Annotated[What, typer.Argument(help="What to export.")],
    key: Annotated[str, typer.Argument(metavar="ID", help="Network id, lead id or saved query name.")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="File format.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")],
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", help="name=value for a saved query; repeat for more.")] = None,
    role: Annotated[str | None, typer.Option(help=f"Act as this role: {', '.join(ROLES)}.")] = None,
    agency: Annotated[str | None, typer.Option(help="Agency id (police_liaison).")] = None,
    brand: Annotated[str | None, typer.Option(help="Brand id (brand_member).")] = None,
    sub: Annotated[str, typer.Option(help="Who the export is for (audit trail).")] = "local-operator",
) -> None:
    """Export a network, a lead or a saved query's result for Aleph (FollowTheMoney) or
    Gephi (GraphML, GEXF, CSV edge table), scoped to a caller and audited."""
    caller = caller_of(role, agency, brand, sub)
    if param and what is not What.query:
        raise typer.BadParameter("--param goes with `export query`")
    params = parse_params(param) if param else None
    try:
        done = asyncio.run(run_export(caller, what.value, key, SUFFIX[fmt], params))
    except errors.AllianceError as exc:
        err.print(f"[red]error:[/red] {exc.code}: {exc}", highlight=False)
        raise typer.Exit(2) from None
    out.write_bytes(done.body)
    err.print(f"{done.nodes} nodes, {done.edges} edges written to {out}"
              + (" (truncated)" if done.truncated else ""), highlight=False)
