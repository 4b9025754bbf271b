"""`alliance serve`, `alliance token issue` and `alliance token link`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from typing import Annotated

import typer
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.auth import check_claims, issue_token, parse_ttl
from graph.caller import ROLES, Caller


class NoDelayHttp(HttpToolsProtocol):
    """uvicorn's HTTP protocol with Nagle's algorithm off on every connection. With more
    than one worker the listening socket is made by the parent and the workers' sockets
    were left with it on: a kept-alive request then waited for the client's delayed ACK
    (56 ms a request, measured with `--workers 2`)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


WORKER_HEALTHCHECK_SECONDS = 60
"""How long uvicorn's supervisor waits for a worker to answer its ping. Its default of 5 s
is shorter than a worker's start-up (imports, the schema) on a busy machine, and the
supervisor then kills and restarts workers without end."""


token_app = typer.Typer(help="Bearer tokens for the API.", no_args_is_help=True)

Role = Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")]
Agency = Annotated[str | None, typer.Option(help="Agency id (police_liaison).")]
Brand = Annotated[str | None, typer.Option(help="Brand id (brand_member).")]
"""The options `alliance token issue` and `alliance token link` share: whose claims."""


def checked_caller(sub: str, role: str, agency: str | None, brand: str | None) -> Caller:
    """The caller the options name, or a usage error when the claims do not fit the role."""
    try:
        checked = check_claims(role, agency, brand)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return Caller(sub=sub, role=checked, agency_id=agency, brand_id=brand)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (each holds one driver).")] = 1,
    warm: Annotated[bool, typer.Option(
        "--warm/--no-warm", help="Warm each worker at start (Neo4j's plans, the driver's "
                                 "pool) in the background; /readyz says when it is done.")] = True,
) -> None:
    """Run the GraphQL API (GraphiQL at /graphql in a browser). Query cost caps and the
    largest request body come from ALLIANCE_QUERY_COST_CAPS and ALLIANCE_MAX_BODY_BYTES."""
    import uvicorn

    from api.cost import DEFAULT_CAPS
    from api.logs import LOG_CONFIG
    from core.settings import get_settings
    from graph.drivers import connection

    os.environ["ALLIANCE_WARM_AT_START"] = "true" if warm else "false"  # read by every worker
    os.environ.setdefault("ALLIANCE_WEBHOOK_DELIVERY", "true")
    get_settings.cache_clear()

    # a clear error now, rather than in every worker, for a bad setting or no Neo4j
    caps = get_settings().query_cost_caps(DEFAULT_CAPS)
    connection()
    typer.echo("query cost caps: " + ", ".join(f"{role} {cap}" for role, cap in caps.items())
               + f"; request bodies up to {get_settings().alliance_max_body_bytes} bytes", err=True)
    typer.echo(f"serving on http://{host}:{port}/graphql", err=True)
    typer.echo(f"workbench at http://{host}:{port}/", err=True)
    uvicorn.run("alliance.api_app:create_app", factory=True, host=host, port=port, workers=workers,
                log_config=LOG_CONFIG, http=NoDelayHttp,
                timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS)


@token_app.command("issue")
def issue(
    role: Role,
    agency: Agency = None,
    brand: Brand = None,
    sub: Annotated[str, typer.Option(help="Who the token is for.")] = "local-user",
    ttl: Annotated[str, typer.Option(help="How long it is valid: 90s, 30m, 8h, 7d.")] = "8h",
) -> None:
    """Print a signed token (HS256, ALLIANCE_JWT_SECRET) for `Authorization: Bearer`."""
    caller = checked_caller(sub, role, agency, brand)
    try:
        seconds = parse_ttl(ttl).total_seconds()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    typer.echo(issue_token(caller, ttl_seconds=seconds))


@token_app.command("link")
def link(
    role: Role,
    agency: Agency = None,
    brand: Brand = None,
    sub: Annotated[str, typer.Option(help="Who the address is for.")] = "local-user",
    host: Annotated[str, typer.Option(help="The host the API serves on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port the API serves on.")] = 8000,
) -> None:
    """Print a one-time sign-in address for the workbench (single use, 10 minutes)."""
    from api.session import issue_code

    caller = checked_caller(sub, role, agency, brand)
    typer.echo(f"http://{host}:{port}/signin/code/{issue_code(caller)}")
