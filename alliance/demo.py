"""`alliance demo`: the whole service on the local Neo4j in one command.

Starts the local Neo4j (unless `NEO4J_URI` names another server), applies the schema,
generates the demo bundle (fixed scale and seed) unless it is there, loads it unless a
previous run loaded the same bundle, computes the seller networks, then serves the API
and prints where to open it, an investigator token and three queries to paste, and a
police liaison's token with the address of a lead dossier to file.
Running it again reuses all of that and is ready in seconds.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

import typer
from neo4j import Driver, RoutingControl
from rich.console import Console
from rich.panel import Panel
from rich.progress import Progress

from alliance.settings import get_settings
from graph.db import connection, open_driver

DEMO_SCALE = 2000
DEMO_SEED = 20181
DEMO_SOURCE = "demo"
out = Console()

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
    records, _, _ = driver.execute_query(
        "MATCH (r:IngestRun {source: $source}) WHERE r.finished_at IS NOT NULL "
        "RETURN count(r) AS runs",
        source=source, database_=database, routing_=RoutingControl.READ,
    )
    return bool(records[0]["runs"])


def load_demo(driver: Driver, database: str, bundle: Path, home: Path) -> bool:
    """Load the bundle unless this very bundle was loaded; True when it loaded now."""
    from loaders import load_paths
    from loaders.cli import file_bars

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
    from graph.network import analyze_networks

    with out.status("Computing seller networks..."):
        components, stored = analyze_networks(driver, database)
    out.print(f"seller networks: {stored} stored")


def example_ids(driver: Driver, database: str) -> tuple[str, str]:
    records, _, _ = driver.execute_query(
        "MATCH (s:Seller)-[:IN_NETWORK]->(n:Network) WITH s, n ORDER BY n.risk_score DESC, "
        "s.seller_id LIMIT 1 OPTIONAL MATCH (s)-[:OPERATES]->(:Shop)-[:OFFERS]->(l:Listing) "
        "RETURN s.seller_id AS seller, min(l.listing_id) AS listing",
        database_=database, routing_=RoutingControl.READ,
    )
    if not records:
        return "S000001", "L000001"
    return records[0]["seller"], records[0]["listing"] or "L000001"


def busiest_agency(driver: Driver, database: str) -> tuple[str, str] | None:
    """The agency with the most leads pushed to it, and its newest lead."""
    records, _, _ = driver.execute_query(
        "MATCH (l:Lead)-[:PUSHED_TO]->(a:Agency) WITH a, l ORDER BY l.created_on DESC, l.lead_id "
        "WITH a, collect(l.lead_id) AS leads ORDER BY size(leads) DESC, a.agency_id LIMIT 1 "
        "RETURN a.agency_id AS agency, leads[0] AS lead",
        database_=database, routing_=RoutingControl.READ,
    )
    return (records[0]["agency"], records[0]["lead"]) if records else None


def print_liaison(host: str, port: int, agency: str, lead: str) -> None:
    """A police liaison's token and where its leads and one dossier are."""
    from api.auth import issue_token
    from graph.caller import Caller

    token = issue_token(Caller(sub="demo-liaison", role="police_liaison", agency_id=agency),
                        ttl_seconds=8 * 3600)
    out.print(f"\n[bold]Police liaison of {agency}[/bold]: "
              "{ leads(first: 10) { totalCount nodes { leadId status estimatedValueCny } } }")
    out.print(f"Dossier to file: http://{host}:{port}/leads/{lead}/dossier.html", soft_wrap=True)
    print(f"Liaison token (8 h):\nBearer {token}")


def print_welcome(host: str, port: int, token: str, seller: str, listing: str) -> None:
    lines = [f"GraphiQL: [bold]http://{host}:{port}/graphql[/bold]",
             "Header:   Authorization: Bearer <the token printed below this box>", ""]
    for title, query in EXAMPLES:
        lines += [f"[bold]{title}[/bold]",
                  query.replace("SELLER_ID", seller).replace("LISTING_ID", listing), ""]
    out.print(Panel("\n".join(lines), title="Alliance Graph demo", expand=False))
    print(f"Investigator token (8 h):\nBearer {token}")


def demo(
    host: Annotated[str, typer.Option(help="Interface for the API.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for the API.")] = 8000,
    serve: Annotated[bool, typer.Option(help="Serve the API at the end.")] = True,
) -> None:
    """Set everything up on the local Neo4j, load the demo data and serve the API."""
    from alliance.db_cli import ensure_database
    from api.auth import issue_token
    from graph.caller import Caller

    settings = get_settings()
    ensure_database()
    bundle = demo_bundle(settings.alliance_home)
    conn = connection()
    with open_driver(conn) as driver:
        if load_demo(driver, conn.database, bundle, settings.alliance_home):
            compute_networks(driver, conn.database)
        seller, listing = example_ids(driver, conn.database)
        liaison = busiest_agency(driver, conn.database)
    token = issue_token(Caller(sub="demo-investigator", role="investigator"), ttl_seconds=8 * 3600)
    print_welcome(host, port, token, seller, listing)
    if liaison is not None:
        print_liaison(host, port, *liaison)
    if serve:
        import uvicorn

        uvicorn.run("api.main:create_app", factory=True, host=host, port=port)
