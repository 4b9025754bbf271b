"""`alliance demo`: the whole service on the local Neo4j in one command.

Starts the local Neo4j (unless `NEO4J_URI` names another server), applies the schema,
generates the demo bundle (fixed scale and seed) unless it is there, loads it unless a
previous run loaded the same bundle, computes the seller networks, then serves the API
and prints where GraphiQL is with an investigator token for its headers pane, three
queries and a curl line, a police liaison's token with a lead dossier to fetch, and last
the one address to open in a browser: the workbench, with a one-time sign-in code in it
(single use, valid ten minutes, stored hashed; the browser gets a session cookie, never
a token in the URL), and the dossier's address, which opens in that browser.
Everything meant to be pasted is printed on a line of its own, as it is: no borders, no
wrapping. Running it again reuses all of that; while the local Neo4j runs, it is ready
in seconds. When the demo ends, it says that Neo4j keeps running and how to stop it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer
from neo4j import Driver
from rich.console import Console
from rich.progress import Progress

from alliance import local_neo4j
from core.local_server import local_home
from core.settings import get_settings
from graph import access
from graph.caller import Caller
from graph.drivers import connection, open_driver

DEMO_SCALE = 2000
DEMO_SEED = 20181
DEMO_SOURCE = "demo"
out = Console(soft_wrap=True)

EXAMPLES = (
    ("Search names, titles and addresses (Chinese or Latin)",
     '{ search(text: "加工点", first: 5) { label key displayName score } }'),
    ("Trace a listing to the factory behind it",
     '{ traceToSource(listingId: "LISTING_ID") { score site { siteId kind label } '
     "paths { weight hops { from { label key } type to { label key } } } } }"),
    ("The seller network around a seller",
     '{ sellerNetwork(sellerId: "SELLER_ID") { riskScore stats { sellers shops sites } '
     "links { a b via { kind value } } } }"),
)

DOSSIER_QUERY = '{ lead(leadId: "LEAD_ID") { dossier { leadId manifest { sha256 } } } }'
"""Planned before the dossier address is printed, so that it opens at once in a browser."""
LIAISON_QUERY = "{ leads(first: 10) { totalCount nodes { leadId status estimatedValueCny } } }"


def bundle_digest(bundle: Path) -> str:
    """A digest of the bundle's files, to tell whether this very bundle is loaded."""
    digest = hashlib.sha256()
    for path in sorted(bundle.iterdir()):
        if path.suffix in (".csv", ".jsonl"):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def demo_bundle(home: Path) -> Path:
    from alliance.generate import generate_bundle

    bundle = home / "demo" / f"bundle-{DEMO_SCALE}-{DEMO_SEED}"
    if (bundle / "truth.json").exists():
        out.print(f"demo bundle: {bundle} (already generated)")
        return bundle
    with out.status(f"Generating the demo bundle ({DEMO_SCALE} sellers)..."):
        generate_bundle(bundle, scale=DEMO_SCALE, seed=DEMO_SEED)
    out.print(f"demo bundle: {bundle}")
    return bundle


def already_loaded(driver: Driver, database: str, source: str) -> bool:
    records = access.read(driver, database,
                          "MATCH (r:IngestRun {source: $source}) WHERE r.finished_at IS NOT NULL "
                          "RETURN count(r) AS runs", {"source": source}, name="demo:loaded")
    return bool(records[0]["runs"])


def load_demo(driver: Driver, database: str, bundle: Path, home: Path) -> bool:
    """Load the bundle unless this very bundle was loaded; True when it loaded now."""
    from loaders import load_paths
    from loaders.load_cli import file_bars

    source = f"{DEMO_SOURCE}-{bundle_digest(bundle)}"
    if already_loaded(driver, database, source):
        out.print(f"demo data: already loaded (source {source})")
        return False
    with Progress(console=out) as bars:
        report = load_paths(driver, database, [bundle], source=source, progress=file_bars(bars),
                            rejects_path=home / "demo" / "rejects.jsonl")
    loaded = sum(f.loaded for f in report.files)
    out.print(f"demo data: {loaded} rows loaded, {report.rejected} planted bad rows rejected "
              f"(listed in {report.rejects_path})")
    return True


def compute_networks(driver: Driver, database: str) -> None:
    from graph.seller_networks import analyze_networks

    with out.status("Computing seller networks..."):
        components, stored = analyze_networks(driver, database)
    out.print(f"seller networks: {stored} stored")


def example_ids(driver: Driver, database: str) -> tuple[str, str]:
    records = access.read(
        driver, database,
        "MATCH (s:Seller)-[:IN_NETWORK]->(n:Network) WITH s, n ORDER BY n.risk_score DESC, "
        "s.seller_id LIMIT 1 OPTIONAL MATCH (s)-[:OPERATES]->(:Shop)-[:OFFERS]->(l:Listing) "
        "RETURN s.seller_id AS seller, min(l.listing_id) AS listing", name="demo:example")
    if not records:
        return "S000001", "L000001"
    return records[0]["seller"], records[0]["listing"] or "L000001"


def busiest_agency(driver: Driver, database: str) -> tuple[str, str] | None:
    """The agency with the most leads pushed to it, and its newest lead."""
    records = access.read(
        driver, database,
        "MATCH (l:Lead)-[:PUSHED_TO]->(a:Agency) WITH a, l ORDER BY l.created_on DESC, l.lead_id "
        "WITH a, collect(l.lead_id) AS leads ORDER BY size(leads) DESC, a.agency_id LIMIT 1 "
        "RETURN a.agency_id AS agency, leads[0] AS lead", name="demo:agency")
    return (records[0]["agency"], records[0]["lead"]) if records else None


def liaison_caller(agency: str) -> Caller:
    return Caller(sub="demo-liaison", role="police_liaison", agency_id=agency)


def header_line(token: str) -> str:
    """The JSON GraphiQL's headers pane takes, with the token."""
    return json.dumps({"Authorization": f"Bearer {token}"})


def curl_line(url: str, token: str, *, query: str | None = None,
              save_as: str | None = None) -> str:
    """A curl command line, quoted for a POSIX shell: a GraphQL POST of `query`, or a GET
    saved to the file `save_as`."""
    parts = ["curl", "-sS", "-H", f"Authorization: Bearer {token}"]
    if save_as is not None:
        parts += ["-o", save_as]
    if query is not None:
        parts += ["-H", "Content-Type: application/json",
                  "--data", json.dumps({"query": query}, ensure_ascii=False)]
    return " ".join(shlex.quote(part) for part in [*parts, url])


def paste(line: str) -> None:
    """A line meant to be copied: printed as it is, never wrapped or styled."""
    print(line, flush=True)


def say(text: str) -> None:
    out.print(text, soft_wrap=True, highlight=False)


def browser_host(host: str) -> str:
    """The host a browser on this machine reaches the API at (an address that listens
    on every interface is reached on the loopback)."""
    return {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(
        host, f"[{host}]" if ":" in host else host)


def print_liaison(host: str, port: int, agency: str, lead: str) -> None:
    """A police liaison's token, a query for its leads and a dossier to fetch."""
    from api.auth import issue_token

    token = issue_token(liaison_caller(agency), ttl_seconds=8 * 3600)
    dossier = f"http://{host}:{port}/leads/{lead}/dossier.html"
    say(f"\n[bold]Police liaison of {agency}[/bold]\n")
    say("Its headers pane (8 h), then its leads:")
    paste(header_line(token))
    paste(LIAISON_QUERY)
    say(f"\nA lead dossier to file, saved as {lead}-dossier.html:")
    paste(curl_line(dossier, token, save_as=f"{lead}-dossier.html"))
    say('\nThe token alone, for tools that add "Bearer " themselves:')
    paste(token)


def example_queries(seller: str, listing: str) -> list[tuple[str, str]]:
    return [(title, query.replace("SELLER_ID", seller).replace("LISTING_ID", listing))
            for title, query in EXAMPLES]


def workbench_link(host: str, port: int, caller: Caller) -> str:
    """The workbench's address with a one-time code that signs `caller` in."""
    from api.session import issue_code

    return f"http://{browser_host(host)}:{port}/signin/code/{issue_code(caller)}"


def print_browser(host: str, port: int, workbench: str, lead: str | None) -> None:
    """The one address to open in a browser, and a dossier that opens in the same browser."""
    from api.session import CODE_TTL

    say("\n[bold]In a browser[/bold]\n")
    say(f"Open the workbench at this address (on this machine). It signs you in as an "
        f"investigator: it works once, within {CODE_TTL // 60} minutes; later, sign in at "
        f"/signin with a token.")
    paste(workbench)
    if lead is not None:
        say("A lead's dossier, in the same browser once signed in:")
        paste(f"http://{browser_host(host)}:{port}/leads/{lead}/dossier.html")


def print_welcome(host: str, port: int, token: str, seller: str, listing: str) -> None:
    """Where GraphiQL is, its headers pane, three queries and a curl line, each pasteable."""
    graphql = f"http://{browser_host(host)}:{port}/graphql"
    queries = example_queries(seller, listing)
    say("\n[bold]Alliance Graph demo[/bold]\n")
    say("GraphiQL, to open in a browser (it uses the workbench's sign-in, or this header):")
    paste(graphql)
    say("Its headers pane (an investigator's token, 8 h):")
    paste(header_line(token))
    for title, query in queries:
        say(f"\n{title}:")
        paste(query)
    say("\nThe first query with curl:")
    paste(curl_line(graphql, token, query=queries[0][1]))
    say('\nThe token alone, for tools that add "Bearer " themselves:')
    paste(token)


WARM_UP_TIMEOUT = 300.0
"""Seconds each printed query may take when the demo runs it before printing it."""


async def _run_queries(queries: list[tuple[Caller, str]]) -> list[str]:
    from api.context import Context
    from api.schema import schema
    from graph.drivers import open_async_driver

    conn = connection()
    problems = []
    async with open_async_driver(conn) as driver:
        for caller, query in queries:
            context = Context(driver=driver, database=conn.database, caller=caller,
                              request_id="demo-warm-up", timeout=WARM_UP_TIMEOUT)
            result = await schema.execute(query, context_value=context)
            problems += [str(error.message) for error in result.errors or []]
    return problems


def warm_up(queries: list[tuple[Caller, str]]) -> None:
    """Run the investigator's example queries once: the server plans them now (planning
    one can take longer than the API's query timeout on a busy machine, and a plan is
    kept), so that pasted, they answer at once."""
    import asyncio

    with out.status("Preparing the example queries..."):
        problems = asyncio.run(_run_queries(queries))
    for problem in problems:
        say(f"[yellow]note:[/yellow] an example query failed: {problem}")


def _gib(size: str) -> float:
    """A Neo4j memory setting such as `512m` or `2g`, in GiB."""
    number, unit = float(size[:-1]), size[-1].lower()
    return number / 1024 if unit == "m" else number


def stop_command() -> str:
    """How to run `alliance db stop` from anywhere: the command next to this Python."""
    beside = Path(sys.executable).parent / "alliance"
    return f"{beside if beside.exists() else 'alliance'} db stop"


def still_running_note(status: local_neo4j.Status) -> str | None:
    """What the demo leaves behind: the local Neo4j, how much memory it may take, and the
    command that stops it; None when it does not run."""
    if status.state != "running":
        return None
    memory = local_neo4j.Memory()
    most = _gib(memory.heap_max) + _gib(memory.pagecache)
    return (f"Neo4j keeps running at {status.uri} (pid {status.pid}, up to {most:g} GiB of "
            f"memory) for the next demo. Stop it with:\n{stop_command()}")


def print_still_running() -> None:
    if not get_settings().uses_local_server:
        return
    note = still_running_note(local_neo4j.status(local_home(get_settings().alliance_home)))
    if note:
        say(f"\n{note}")


def port_taken(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def check_ports(host: str, port: int, db_port: int, serve: bool) -> None:
    """Refuse now, naming the demo's option, when a port it needs is taken."""
    settings = get_settings()
    local_stopped = settings.uses_local_server and \
        local_neo4j.status(local_home(settings.alliance_home)).state != "running"
    if local_stopped and not local_neo4j.port_is_free(db_port):
        raise local_neo4j.ServerError(
            f"port {db_port} on 127.0.0.1 (for Neo4j) is taken by another program; stop it "
            "or give Neo4j another port with --db-port.")
    if serve and port_taken(host, port):
        raise local_neo4j.ServerError(
            f"port {port} on {host} (for the API) is taken by another program; stop it or "
            "serve the API on another port with --port.")


def prepare_data(home: Path) -> tuple[str, str, tuple[str, str] | None]:
    """Generate and load the demo bundle unless done; the example seller, listing and
    (agency, lead) of a police liaison."""
    bundle = demo_bundle(home)
    conn = connection()
    with open_driver(conn) as driver:
        if load_demo(driver, conn.database, bundle, home):
            compute_networks(driver, conn.database)
        seller, listing = example_ids(driver, conn.database)
        return seller, listing, busiest_agency(driver, conn.database)


def serve_api(host: str, port: int) -> None:
    import uvicorn

    from api.logs import LOG_CONFIG
    from api.serve_cli import NoDelayHttp

    say("\nServing the API; Ctrl-C stops it.")
    os.environ.setdefault("ALLIANCE_WARM_AT_START", "true")  # as `alliance serve` does
    os.environ.setdefault("ALLIANCE_WEBHOOK_DELIVERY", "true")
    get_settings.cache_clear()
    uvicorn.run("alliance.api_app:create_app", factory=True, host=host, port=port,
                log_config=LOG_CONFIG, http=NoDelayHttp)


def demo(
    host: Annotated[str, typer.Option(help="Interface for the API.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for the API.")] = 8000,
    db_port: Annotated[int, typer.Option(
        help="Bolt port of the local Neo4j, when the demo starts it.")] = 7687,
    serve: Annotated[bool, typer.Option(
        help="Serve the API at the end (--no-serve: set up, print and stop).")] = True,
) -> None:
    """Set everything up on the local Neo4j, load the demo data and serve the API.
    Ctrl-C stops the API; Neo4j keeps running until `alliance db stop`."""
    from alliance.db_cli import ensure_database
    from api.auth import issue_token

    check_ports(host, port, db_port, serve)
    try:
        ensure_database(db_port)
        seller, listing, liaison = prepare_data(get_settings().alliance_home)
        investigator = Caller(sub="demo-investigator", role="investigator")
        warm_up([(investigator, query) for _, query in example_queries(seller, listing)]
                + ([(investigator, DOSSIER_QUERY.replace("LEAD_ID", liaison[1]))] if liaison else []))
        print_welcome(host, port, issue_token(investigator, ttl_seconds=8 * 3600), seller,
                      listing)
        if liaison is not None:
            print_liaison(host, port, *liaison)
        print_browser(host, port, workbench_link(host, port, investigator),
                      liaison[1] if liaison else None)
        if serve:
            serve_api(host, port)
    finally:
        print_still_running()
