"""Screening new uploads against the graph: a decision and its reasons for each.

An upload is a new listing with its shop and the seller's registration, validated and
normalised the loaders' way (`loaders/uploads.py` makes an `Upload`: E.164 phones,
lower-cased e-mails, `provider:account`, `fp:`/`ip:` devices, address keys, the identity
number only as its keyed hash). One query per batch (`MATCH`, the batch unwound) finds
what the graph knows of each upload's identifiers:

- the known sellers holding it (its own account excluded), and of those sellers their
  stored STRONG `Network` with its `risk_score`, their suspensions (`status` suspended)
  and the sites they reach (a person who controls them runs it; a ship-from or return
  address of theirs, not a hub, is its address);
- the sites it leads to directly: a site at the upload's ship-from or return address, a
  site run by a person holding the identity number, phone, e-mail or payout account.

The hub rule is the seller networks' (`graph.seller_networks.HUB_THRESHOLD`): an
identifier held by more sellers than that (a fulfilment warehouse, a carrier's IP
range) is reported with `hub` set and counts for nothing, so it never blocks.

Score. Each matched identifier is a reason with a weight (noisy-or, as in `graph.risk`:
independent evidence combined, `1 - prod(1 - w)`):

    threat  = noisy-or(the holders' networks' highest risk, SUSPENDED if one of the
                       holders is suspended, the highest SITE of the sites they reach)
    weight  = noisy-or(link * threat, at_site * the highest SITE of the sites the
                       identifier leads to directly)
    score   = noisy-or(the weights of all the upload's identifiers)

`link` is how strongly one shared identifier says two sellers are run together
(`LINK_WEIGHTS`, the seller networks' weights; the uploading account itself 1.0);
`at_site` is AT_SITE for an address where a site is (shipping from a known den), and
`link` for the identifier of a person who runs a site. SITE is 0.9 for a raided site,
0.8 confirmed, 0.5 suspected; SUSPENDED is 0.5 (a platform suspends for other reasons
too). A score at or above `Thresholds.block` is BLOCK, at or above `review` REVIEW, else
ALLOW (ALLIANCE_SCREEN_BLOCK, ALLIANCE_SCREEN_REVIEW). Reasons show identifiers as kinds
and masked keys only (`mask`), never another seller's data.

Screening reads only, unless asked to record: `RECORD` stores each decision as a
`Screening` node with `MATCHED` relationships to the identifiers, sellers, networks and
sites it matched. `block_event` is the audit event of a batch's BLOCK decisions.
`screen_batch` is the whole of it, written once as steps of `graph.access`; `screen`
and `screen_async` run it with the sync driver (`alliance screen`) and the async one
(the API), so both decide, record and audit alike.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, LiteralString, Protocol, cast

import neo4j

from core.settings import Settings
from graph import access
from graph.audit import CREATE_EVENT, AuditEvent, event
from graph.caller import Caller
from graph.model import node
from graph.risk import noisy_or
from graph.seller_networks import HUB_THRESHOLD, LINK_WEIGHTS

Verdict = Literal["BLOCK", "REVIEW", "ALLOW"]
MAX_BATCH = 500
"""Uploads one call may screen."""

LINKS: dict[str, float] = {"seller": 1.0, **LINK_WEIGHTS}
"""Link weight of each kind of identifier (the seller networks' weights)."""
SITE_THREAT = {"raided": 0.9, "confirmed": 0.8, "suspected": 0.5}
SUSPENDED = 0.5
AT_SITE = 0.9
FIELDS = {"seller": "seller_id", "identity": "id_number", "phone": "phones", "email": "emails",
          "payment_account": "payout_accounts", "device_fp": "devices", "device_ip": "devices"}
"""The upload field each kind comes from (addresses name their own field)."""
ADDRESS_FIELDS = ("ship_from_address", "return_address")


@dataclass(frozen=True)
class Upload:
    """One upload, validated and normalised."""

    upload_id: str
    seller_id: str
    platform: str
    shop_id: str | None = None
    listing_id: str | None = None
    id_hash: str | None = None
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    addresses: tuple[tuple[str, str], ...] = ()
    """(field, address_key) of the ship-from and return addresses."""
    brand_id: str | None = None
    title: str | None = None
    price: float | None = None


@dataclass(frozen=True)
class Invalid:
    """An upload that cannot be screened: its place (0-based index in the batch, or the
    line of a file) and every reason (`field`, `code`, `message`)."""

    index: int
    reasons: list[dict[str, str]]


class Checker(Protocol):
    """Checks and normalises a batch of raw uploads (`loaders.uploads.UploadChecker`)."""

    def check(self, raws: Sequence[Any]) -> tuple[list[tuple[int, Upload]], list[Invalid]]:
        """(index, upload) for each good upload, in order, and the invalid ones."""
        ...


@dataclass(frozen=True)
class Thresholds:
    block: float
    review: float


def thresholds(settings: Settings) -> Thresholds:
    return Thresholds(settings.alliance_screen_block, settings.alliance_screen_review)


@dataclass(frozen=True)
class SiteHit:
    site_id: str
    status: str | None
    raided: bool
    how: str
    """`here` (the identifier leads to it directly) or `reached` (a holder reaches it)."""


@dataclass(frozen=True)
class NetworkHit:
    network_id: str
    risk: float


@dataclass(frozen=True)
class Reason:
    kind: str
    field: str
    key: str
    """Masked."""
    weight: float
    sellers: int
    """Known sellers holding it (beyond HUB_THRESHOLD: HUB_THRESHOLD + 1)."""
    hub: bool
    suspended: int
    networks: tuple[NetworkHit, ...]
    sites: tuple[SiteHit, ...]
    seller_ids: tuple[str, ...] = ()
    """For the roles that see every seller; never shown to the platform."""
    matched: str = ""
    """The unmasked key, kept in memory to record the match; never shown."""


@dataclass(frozen=True)
class Decision:
    index: int
    upload_id: str
    decision: Verdict
    score: float
    reasons: tuple[Reason, ...]
    screening_id: str | None = None


def _holders(rel: str) -> str:
    """The sellers holding `x` through `rel`, the upload's own account left out, at most
    one more than the hub threshold (enough to know it is a hub)."""
    return (f"CALL (x, u) {{ MATCH (x)<-[:{rel}]-(s:Seller) WHERE s.seller_id <> u.seller_id "
            "WITH DISTINCT s LIMIT $cap RETURN collect(s) AS holders } ")


_PERSON_SITES = "[(x)<-[:{rel}]-(:Person)-[:RUNS]->(site:Site) | site] AS here"
_SITE = ("{site_id: site.site_id, status: site.status, "
         "raided: site.status = 'raided' OR EXISTS { (site)<-[:RAIDED]-(:Case) }}")

MATCH: LiteralString = cast(LiteralString, (
    "UNWIND $uploads AS u CALL (u) { "
    "MATCH (x:Seller {seller_id: u.seller_id}) "
    "RETURN 'seller' AS kind, 'seller_id' AS field, x.seller_id AS key, [x] AS holders, "
    "[] AS here "
    "UNION ALL MATCH (x:Identity {id_hash: u.id_hash}) " + _holders("VERIFIED_AS")
    + "RETURN 'identity' AS kind, u.id_field AS field, x.id_hash AS key, holders, "
    + _PERSON_SITES.format(rel="HOLDS")
    + " UNION ALL UNWIND u.phones AS k MATCH (x:Phone {e164: k}) " + _holders("HAS_PHONE")
    + "RETURN 'phone' AS kind, 'phones' AS field, k AS key, holders, "
    + _PERSON_SITES.format(rel="HAS_PHONE")
    + " UNION ALL UNWIND u.emails AS k MATCH (x:Email {email: k}) " + _holders("HAS_EMAIL")
    + "RETURN 'email' AS kind, 'emails' AS field, k AS key, holders, "
    + _PERSON_SITES.format(rel="HAS_EMAIL")
    + " UNION ALL UNWIND u.accounts AS k MATCH (x:PaymentAccount {account: k}) "
    + _holders("PAID_TO")
    + "RETURN 'payment_account' AS kind, 'payout_accounts' AS field, k AS key, holders, "
    + _PERSON_SITES.format(rel="OWNS")
    + " UNION ALL UNWIND u.devices AS k MATCH (x:Device {device: k}) " + _holders("USED_DEVICE")
    + "RETURN 'device_' + coalesce(x.kind, 'fp') AS kind, 'devices' AS field, k AS key, "
      "holders, [] AS here "
    "UNION ALL UNWIND u.addresses AS a MATCH (x:Address {address_key: a.key}) "
    "CALL (x, u) { MATCH (x)<-[:SHIPS_FROM|RETURNS_TO]-(:Shop)<-[:OPERATES]-(s:Seller) "
    "WHERE s.seller_id <> u.seller_id WITH DISTINCT s LIMIT $cap RETURN collect(s) AS holders } "
    "RETURN 'address' AS kind, a.field AS field, a.key AS key, holders, "
    "[(x)<-[:LOCATED_AT]-(site:Site) | site] AS here "
    "} "
    "WITH u, kind, field, key, holders, here, size(holders) > $hub AS hub "
    "WHERE size(holders) > 0 OR size(here) > 0 "
    "CALL (holders, hub) { "
    "UNWIND CASE WHEN hub THEN [] ELSE holders END AS s "
    "OPTIONAL MATCH (s)-[:IN_NETWORK]->(n:Network {strength: 'STRONG'}) "
    "RETURN collect(DISTINCT n) AS networks, "
    "count(DISTINCT CASE WHEN s.status = 'suspended' THEN s END) AS suspended } "
    "CALL (holders, hub) { "
    "UNWIND CASE WHEN hub THEN [] ELSE holders END AS s "
    "CALL (s) { MATCH (s)<-[:CONTROLS]-(:Person)-[:RUNS]->(site:Site) RETURN site "
    "UNION MATCH (s)-[:OPERATES]->(:Shop)-[:SHIPS_FROM|RETURNS_TO]->(a:Address)"
    "<-[:LOCATED_AT]-(site:Site) WHERE COUNT { (a)<-[:SHIPS_FROM|RETURNS_TO]-() } <= $hub "
    "RETURN site } "
    "RETURN collect(DISTINCT site) AS reached } "
    "RETURN u.i AS i, kind, field, key, size(holders) AS sellers, hub, "
    "CASE WHEN hub THEN [] ELSE [s IN holders | s.seller_id] END AS seller_ids, "
    "[n IN networks | {network_id: n.network_id, risk: n.risk_score}] AS networks, suspended, "
    "[site IN here | " + _SITE + "] AS here, [site IN reached | " + _SITE + "] AS reached"
))
"""What the graph knows of every identifier of a batch of uploads: one row per identifier
that some known seller holds or that leads to a site."""


def match_params(uploads: list[Upload], hub_threshold: int = HUB_THRESHOLD) -> dict[str, Any]:
    return {"uploads": [_as_param(i, u) for i, u in enumerate(uploads)],
            "hub": hub_threshold, "cap": hub_threshold + 1}


def _as_param(i: int, u: Upload) -> dict[str, Any]:
    return {"i": i, "seller_id": u.seller_id, "id_hash": u.id_hash, "id_field": "id_number",
            "phones": list(u.phones), "emails": list(u.emails), "accounts": list(u.accounts),
            "devices": list(u.devices),
            "addresses": [{"field": f, "key": k} for f, k in u.addresses]}


# --- deciding -------------------------------------------------------------------------


def site_threat(site: dict[str, Any]) -> float:
    status = "raided" if site["raided"] else site["status"]
    return SITE_THREAT.get(status or "", 0.0)


def threat(row: dict[str, Any]) -> float:
    """How bad the sellers holding the identifier are known to be: three independent
    kinds of evidence, combined by noisy-or (their network's risk, the platform's own
    suspensions, the sites they reach)."""
    return noisy_or([
        max((float(n["risk"] or 0.0) for n in row["networks"]), default=0.0),
        SUSPENDED if row["suspended"] else 0.0,
        max((site_threat(s) for s in row["reached"]), default=0.0),
    ])


def weight(row: dict[str, Any]) -> float:
    """What one matched identifier says: through the sellers holding it, and through the
    sites it leads to directly (noisy-or of the two); a hub says nothing."""
    if row["hub"]:
        return 0.0
    link = LINKS[row["kind"]]
    at_site = AT_SITE if row["kind"] == "address" else link
    direct = max((site_threat(s) for s in row["here"]), default=0.0)
    return noisy_or([link * threat(row), at_site * direct])


def reason(row: dict[str, Any]) -> Reason:
    here = {s["site_id"]: SiteHit(s["site_id"], s["status"], s["raided"], "here")
            for s in row["here"]}
    reached = [SiteHit(s["site_id"], s["status"], s["raided"], "reached")
               for s in row["reached"] if s["site_id"] not in here]
    networks = sorted((NetworkHit(n["network_id"], round(float(n["risk"] or 0.0), 4))
                       for n in row["networks"]), key=lambda n: n.network_id)
    return Reason(
        kind=row["kind"], field=row["field"], key=mask(row["kind"], str(row["key"])),
        weight=round(weight(row), 4), sellers=row["sellers"], hub=row["hub"],
        suspended=row["suspended"], networks=tuple(networks),
        sites=tuple(sorted([*here.values(), *reached], key=lambda s: (s.how, s.site_id))),
        seller_ids=tuple(sorted(row["seller_ids"])), matched=str(row["key"]))


def verdict(score: float, limits: Thresholds) -> Verdict:
    if score >= limits.block:
        return "BLOCK"
    return "REVIEW" if score >= limits.review else "ALLOW"


def decide(index: int, upload: Upload, rows: Iterable[dict[str, Any]],
           limits: Thresholds) -> Decision:
    """The decision for one upload from its rows of `MATCH`: reasons that weigh something
    or are hubs, strongest first."""
    found = [reason(r) for r in rows]
    kept = sorted((r for r in found if r.weight > 0 or r.hub),
                  key=lambda r: (-r.weight, r.kind, r.field, r.key))
    score = round(noisy_or([r.weight for r in kept]), 4)
    return Decision(index, upload.upload_id, verdict(score, limits), score, tuple(kept))


def decide_all(uploads: list[Upload], rows: Iterable[dict[str, Any]],
               limits: Thresholds) -> list[Decision]:
    by_upload: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_upload.setdefault(row["i"], []).append(row)
    return [decide(i, u, by_upload.get(i, []), limits) for i, u in enumerate(uploads)]


# --- masking and showing ------------------------------------------------------------------


def mask(kind: str, key: str) -> str:
    """An identifier as the platform may see it: enough to tell which of its own fields
    matched, never another seller's value."""
    if kind == "seller":
        return key
    if kind == "identity":
        return "***"
    if kind == "phone":
        return key[:6] + "*" * max(len(key) - 8, 1) + key[-2:]
    if kind == "email":
        local, _, domain = key.partition("@")
        return f"{local[:1]}***@{domain}"
    if kind == "payment_account":
        provider, _, account = key.partition(":")
        return f"{provider}:{account[:2]}***{account[-2:]}" if len(account) > 6 else f"{provider}:***"
    if kind == "device_ip":
        parts = key.removeprefix("ip:").split(".")
        return "ip:" + ".".join(parts[:2] + ["*"] * (len(parts) - 2)) if len(parts) == 4 else "ip:***"
    if kind == "device_fp":
        value = key.removeprefix("fp:")
        return f"fp:{value[:4]}***" if len(value) > 8 else "fp:***"
    return f"{key[:6]}***"


def as_dict(d: Decision, *, with_sellers: bool = False) -> dict[str, Any]:
    """A decision as JSON (REST and `alliance screen`); seller ids only `with_sellers`."""
    out: dict[str, Any] = {"upload_id": d.upload_id, "decision": d.decision, "score": d.score,
                           "reasons": [reason_dict(r, with_sellers) for r in d.reasons]}
    if d.screening_id:
        out["screening_id"] = d.screening_id
    return out


def reason_dict(r: Reason, with_sellers: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": r.kind, "field": r.field, "key": r.key, "weight": r.weight,
        "sellers": r.sellers, "hub": r.hub, "suspended": r.suspended,
        "networks": [{"network_id": n.network_id, "risk": n.risk} for n in r.networks],
        "sites": [{"site_id": s.site_id, "status": s.status, "raided": s.raided, "how": s.how}
                  for s in r.sites],
    }
    if with_sellers:
        out["seller_ids"] = list(r.seller_ids)
    return out


# --- recording and auditing -----------------------------------------------------------------

LINKED = ("Seller", "Identity", "Phone", "Email", "PaymentAccount", "Device", "Address",
          "Network", "Site")
_LABEL_OF_KIND = {"seller": "Seller", "identity": "Identity", "phone": "Phone", "email": "Email",
                  "payment_account": "PaymentAccount", "device_fp": "Device",
                  "device_ip": "Device", "address": "Address"}


def _link_clause(label: str) -> str:
    n = node(label)
    return (f"CALL (sc, row) {{ UNWIND row.links.{n.label} AS link "
            f"MATCH (x:{n.label} {{{n.key}: link.key}}) "
            "MERGE (sc)-[m:MATCHED]->(x) SET m.kind = link.kind } ")


RECORD: LiteralString = cast(LiteralString, (
    "UNWIND $rows AS row CREATE (sc:Screening) SET sc = row.props WITH sc, row "
    + "".join(_link_clause(label) for label in LINKED)
    + "RETURN count(sc) AS recorded"))
"""Store decisions as `Screening` nodes linked (`MATCHED`, with the reason's kind) to
what they matched: the identifiers and sellers (hubs left out), networks and sites."""


def with_ids(decisions: list[Decision]) -> list[Decision]:
    """The decisions with a new screening id each (for `RECORD`)."""
    return [Decision(d.index, d.upload_id, d.decision, d.score, d.reasons, uuid.uuid4().hex)
            for d in decisions]


def record_params(decisions: list[Decision], uploads: list[Upload], caller: Caller,
                  at: datetime | None = None) -> dict[str, Any]:
    at = at or datetime.now(UTC)
    return {"rows": [_record_row(d, uploads[d.index], caller, at) for d in decisions]}


def _record_row(d: Decision, u: Upload, caller: Caller, at: datetime) -> dict[str, Any]:
    props = {"screening_id": d.screening_id, "at": at, "who": caller.sub,
             "upload_id": u.upload_id, "seller_id": u.seller_id, "shop_id": u.shop_id,
             "listing_id": u.listing_id, "platform": u.platform, "brand_id": u.brand_id,
             "decision": d.decision, "score": d.score,
             "reasons": json.dumps([reason_dict(r) for r in d.reasons], ensure_ascii=False)}
    return {"props": {k: v for k, v in props.items() if v is not None}, "links": _links(d)}


def _links(d: Decision) -> dict[str, list[dict[str, str]]]:
    links: dict[str, dict[str, dict[str, str]]] = {label: {} for label in LINKED}

    def add(label: str, key: str, kind: str) -> None:
        links[label].setdefault(key, {"key": key, "kind": kind})

    for r in d.reasons:
        if r.hub:
            continue
        add(_LABEL_OF_KIND[r.kind], r.matched, r.kind)
        for seller_id in r.seller_ids:
            add("Seller", seller_id, r.kind)
        for n in r.networks:
            add("Network", n.network_id, r.kind)
        for s in r.sites:
            add("Site", s.site_id, r.kind)
    return {label: list(found.values()) for label, found in links.items()}


def block_event(decisions: list[Decision], uploads: list[Upload], caller: Caller,
                request_id: str | None = None) -> AuditEvent | None:
    """The audit event of a batch's BLOCK decisions (None when there is none): the
    blocked uploads' ids, and for each its seller, score, reason kinds and networks."""
    blocked = [d for d in decisions if d.decision == "BLOCK"]
    if not blocked:
        return None
    details = {d.upload_id: {"seller_id": uploads[d.index].seller_id, "score": d.score,
                             "kinds": sorted({r.kind for r in d.reasons if r.weight > 0}),
                             "networks": sorted({n.network_id for r in d.reasons
                                                 for n in r.networks}),
                             "screening_id": d.screening_id}
               for d in blocked}
    return event(caller, "screen.block", ids=[d.upload_id for d in blocked],
                 request_id=request_id, details=details)



@dataclass(frozen=True)
class Outcome:
    decisions: list[Decision]
    writes: list[access.Statement]
    """To run in one write transaction: the decisions with `record`, the BLOCKs' audit event."""


def screen_batch(uploads: list[Upload], caller: Caller, limits: Thresholds, *,
                 record: bool = False, request_id: str | None = None,
                 hub_threshold: int = HUB_THRESHOLD
                 ) -> Generator[access.Query, list[dict[str, Any]], Outcome]:
    """Screen a batch (steps for `graph.access`): one read, then the decisions and what
    to write for them."""
    if not uploads:
        return Outcome([], [])
    rows = yield MATCH, match_params(uploads, hub_threshold)
    decisions = decide_all(uploads, rows, limits)
    writes = []
    if record:
        decisions = with_ids(decisions)
        writes.append(access.Statement(RECORD, record_params(decisions, uploads, caller)))
    blocked = block_event(decisions, uploads, caller, request_id)
    if blocked is not None:
        writes.append(access.Statement(cast(LiteralString, CREATE_EVENT),
                                       {"event": blocked.properties()}))
    return Outcome(decisions, writes)


def screen(driver: neo4j.Driver, database: str, uploads: list[Upload], caller: Caller,
           limits: Thresholds, *, record: bool = False, request_id: str | None = None,
           timeout: float | None = access.DEFAULT_TIMEOUT) -> list[Decision]:
    """Screen a batch with the sync driver: one read, at most one write transaction."""
    outcome: Outcome = access.steps(driver, database, screen_batch(
        uploads, caller, limits, record=record, request_id=request_id),
        timeout=timeout, name="screen")
    if outcome.writes:
        access.write(driver, database, outcome.writes, timeout=timeout, name="screen.write")
    return outcome.decisions


async def screen_async(driver: neo4j.AsyncDriver, database: str, uploads: list[Upload],
                       caller: Caller, limits: Thresholds, *, record: bool = False,
                       request_id: str | None = None,
                       timeout: float | None = access.DEFAULT_TIMEOUT) -> list[Decision]:
    """The same with the async driver."""
    outcome: Outcome = await access.steps_async(driver, database, screen_batch(
        uploads, caller, limits, record=record, request_id=request_id),
        timeout=timeout, name="screen")
    if outcome.writes:
        await access.write_async(driver, database, outcome.writes, timeout=timeout,
                                 name="screen.write")
    return outcome.decisions
