"""Watchlist alerts: saved queries with an `alert:` block (`graph.query_files.AlertSpec`),
run for each of their receivers, their new matches kept as `Alert` nodes.

A receiver is a role; a police liaison is one receiver per agency (with its
jurisdiction) and a brand member one per brand, resolved from the graph at each run.
The query runs AS the receiver, through `graph.query_library.run`: the same parameters
(`$_agency_adcodes`, `$_brand_id`), the same column masking (`may_see`) and the same audit
as any saved-query run, so a receiver only ever gets what it may see.

A match is identified by its key columns: `match_hash` is the SHA-256 of the canonical
JSON of those columns (sorted keys, no spaces, UTF-8), and the `Alert` node's key
`alert_id` hashes the alert's name, the receiver and `match_hash`. A run raises an
`Alert` (status `new`) only for a match whose `alert_id` is not in the graph yet, so a
match seen before raises nothing and a dismissed alert stays dismissed. Each new alert is
linked (`ABOUT`) to the entities of the key columns that name a label. Everything goes
through `graph.access`. The same transaction queues a delivery of each new alert to
each webhook of its receiver (`graph.outbox.ENQUEUE`).

Statuses: `new` -> `confirmed` or `dismissed` (and back between those two), each change
stamped with who and when (`update_statement`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, LiteralString, cast

import neo4j
import neo4j.exceptions

from core import errors
from graph import access, outbox, query_library
from graph.access import Statement
from graph.caller import Caller
from graph.model import ALERT_SUBJECTS, check_label, check_rel_type, node
from graph.query_files import QUERIES_DIR, SavedQuery

log = logging.getLogger(__name__)

STATUSES = ("new", "confirmed", "dismissed")
MOVES: dict[str, tuple[str, ...]] = {
    "new": ("confirmed", "dismissed"),
    "confirmed": ("dismissed",),
    "dismissed": ("confirmed",),
}
"""The status changes a receiver may make."""
READ_TIMEOUT = 15.0
MAX_NOTE = 2000


class AlertNotFound(errors.NotFound):
    """No alert of that id for this receiver."""


class BadAlertStatus(errors.UserError):
    code = "ILLEGAL_TRANSITION"


# ---------------------------------------------------------------- receivers


@dataclass(frozen=True)
class Receiver:
    role: str
    agency_id: str | None = None
    brand_id: str | None = None
    adcodes: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """`investigator`, `police_liaison:AG1`, `brand_member:B1`."""
        scope = self.agency_id or self.brand_id
        return f"{self.role}:{scope}" if scope else self.role

    def caller(self) -> Caller:
        return Caller(sub=f"alerts:{self.id}", role=self.role,  # type: ignore[arg-type]
                      agency_id=self.agency_id, brand_id=self.brand_id,
                      agency_adcodes=self.adcodes)


def receiver_id(caller: Caller) -> str:
    """The receiver whose alerts `caller` reads."""
    if caller.role == "police_liaison":
        return f"police_liaison:{caller.agency_id}"
    if caller.role == "brand_member":
        return f"brand_member:{caller.brand_id}"
    return caller.role


AGENCIES: LiteralString = """
MATCH (a:Agency)
CALL (a) {
  MATCH (a)-[:IN_DIVISION]->(d:Division) RETURN d
  UNION
  MATCH (d:Division) WHERE d.adcode = a.adcode RETURN d
}
MATCH (below:Division)-[:PART_OF*0..]->(d)
WITH a, collect(DISTINCT below.adcode) AS adcodes
RETURN a.agency_id AS agency_id, adcodes ORDER BY agency_id
"""

BRANDS: LiteralString = """
MATCH (b:Brand) WHERE coalesce(b.alliance_member, true)
RETURN b.brand_id AS brand_id ORDER BY brand_id
"""


def receivers(driver: neo4j.Driver, database: str, roles: Iterable[str]) -> list[Receiver]:
    """The receivers of `roles` as the graph has them now: one per agency (with its
    jurisdiction) for police liaisons, one per alliance brand for brand members."""
    found: list[Receiver] = []
    for role in roles:
        if role == "police_liaison":
            rows = access.read(driver, database, AGENCIES, {}, timeout=READ_TIMEOUT,
                               name="alerts:agencies")
            found += [Receiver(role, agency_id=r["agency_id"], adcodes=tuple(sorted(r["adcodes"])))
                      for r in rows]
        elif role == "brand_member":
            rows = access.read(driver, database, BRANDS, {}, timeout=READ_TIMEOUT,
                               name="alerts:brands")
            found += [Receiver(role, brand_id=r["brand_id"]) for r in rows]
        else:
            found.append(Receiver(role))
    return found


# ---------------------------------------------------------------- matches


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def match_hash(query: SavedQuery, row: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the key columns of `row`."""
    assert query.alert is not None
    keys = {column: row.get(column) for column in query.alert.keys}
    return hashlib.sha256(canonical(keys).encode("utf-8")).hexdigest()


def alert_id(name: str, receiver: str, digest: str) -> str:
    return hashlib.sha256(f"{name}\n{receiver}\n{digest}".encode()).hexdigest()[:32]


@dataclass
class Raised:
    """What one alert did for one receiver."""

    alert: str
    receiver: str
    matches: int = 0
    raised: list[str] = field(default_factory=list)
    truncated: bool = False
    queued: int = 0
    """Deliveries queued for the receiver's webhooks (`graph.outbox`)."""


@dataclass
class AlertRun:
    """Every alert run at once: what each raised, and the alerts that failed."""

    results: list[Raised] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    elapsed_ms: float = 0.0

    @property
    def raised(self) -> int:
        return sum(len(r.raised) for r in self.results)

    @property
    def queued(self) -> int:
        return sum(r.queued for r in self.results)

    def raised_by_alert(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.results:
            if r.raised:
                counts[r.alert] = counts.get(r.alert, 0) + len(r.raised)
        return counts

    def as_dict(self) -> dict[str, Any]:
        return {"raised": self.raised, "queued": self.queued, "by_alert": self.raised_by_alert(),
                "failures": self.failures, "elapsed_ms": self.elapsed_ms,
                "results": [dataclasses.asdict(r) for r in self.results]}


SEEN: LiteralString = """
MATCH (a:Alert) WHERE a.alert_id IN $ids RETURN a.alert_id AS id
"""

CREATE: LiteralString = """
UNWIND $alerts AS row
MERGE (a:Alert {alert_id: row.alert_id})
ON CREATE SET a += row.props, a.status = 'new', a.raised_at = datetime()
"""


def _link_statement(label: str) -> LiteralString:
    """Link alerts to the `label` nodes named by their key columns (label and key from
    the model)."""
    check_label(label)
    return cast(LiteralString, f"""
UNWIND $links AS link
MATCH (a:Alert {{alert_id: link.alert_id}})
MATCH (e:{label} {{{node(label).key}: link.value}})
MERGE (a)-[:{check_rel_type("ABOUT")}]->(e)
""")


def _props(query: SavedQuery, receiver: Receiver, row: Mapping[str, Any], digest: str,
           run_id: str) -> dict[str, Any]:
    assert query.alert is not None
    keys = {column: row.get(column) for column in query.alert.keys}
    props = {"alert": query.name, "receiver": receiver.id, "role": receiver.role,
             "agency_id": receiver.agency_id, "brand_id": receiver.brand_id,
             "match_hash": digest, "keys": canonical(keys), "row": canonical(dict(row)),
             "run_id": run_id}
    return {k: v for k, v in props.items() if v is not None}


def _links(query: SavedQuery, new: list[tuple[str, Mapping[str, Any]]]) -> list[Statement]:
    assert query.alert is not None
    by_label: dict[str, list[dict[str, Any]]] = {}
    for the_id, row in new:
        for column, label in query.alert.keys.items():
            value = row.get(column)
            if label and value is not None and value != query_library.HIDDEN:
                by_label.setdefault(label, []).append({"alert_id": the_id, "value": value})
    return [Statement(_link_statement(label), {"links": links})
            for label, links in sorted(by_label.items())]


@dataclass
class Matches:
    """One receiver's rows of one alert, by alert id."""

    receiver: Receiver
    outcome: Raised
    rows: dict[str, Mapping[str, Any]]


def matches_for(driver: neo4j.Driver, database: str, query: SavedQuery,
                receiver: Receiver) -> Matches:
    """Run `query` as `receiver`: its rows by the alert id they would raise."""
    spec = query.alert
    assert spec is not None, f"{query.name} is not an alert"
    capped = dataclasses.replace(query, max_rows=spec.max_rows, timeout=spec.timeout)
    result = query_library.run(driver, database, capped, {}, receiver.caller())
    outcome = Raised(query.name, receiver.id, len(result.rows), truncated=result.truncated)
    rows: dict[str, Mapping[str, Any]] = {}
    for row in result.rows:
        rows.setdefault(alert_id(query.name, receiver.id, match_hash(query, row)), row)
    return Matches(receiver, outcome, rows)


def keep_new(driver: neo4j.Driver, database: str, query: SavedQuery, found: list[Matches],
             run_id: str) -> None:
    """Keep the matches of every receiver of `query` not seen before as `Alert` nodes,
    with their deliveries: one read of what was seen and one write, for all receivers."""
    ids = [the_id for m in found for the_id in m.rows]
    if not ids:
        return
    seen = access.read(driver, database, SEEN, {"ids": ids}, timeout=READ_TIMEOUT,
                       name="alerts:seen")
    known = {r["id"] for r in seen}
    new = [(m, the_id, row) for m in found for the_id, row in m.rows.items()
           if the_id not in known]
    if not new:
        return
    alerts = [{"alert_id": the_id,
               "props": _props(query, m.receiver, row, match_hash(query, row), run_id)}
              for m, the_id, row in new]
    written = access.write(driver, database, [
        Statement(CREATE, {"alerts": alerts}),
        Statement(outbox.ENQUEUE, {"ids": [the_id for _, the_id, _ in new]}),
        *_links(query, [(the_id, row) for _, the_id, row in new])], name="alerts:create")
    queued = {q["receiver"]: q["n"] for q in written[1][0]["by_receiver"]}
    for m in found:
        m.outcome.raised = [the_id for n, the_id, _ in new if n is m]
        m.outcome.queued = int(queued.get(m.receiver.id, 0))


def raise_for(driver: neo4j.Driver, database: str, query: SavedQuery, receiver: Receiver,
              run_id: str) -> Raised:
    """Run `query` as `receiver` and keep its new matches as `Alert` nodes."""
    found = matches_for(driver, database, query, receiver)
    keep_new(driver, database, query, [found], run_id)
    return found.outcome


def alert_queries(library: query_library.Library, name: str | None = None) -> list[SavedQuery]:
    """The library's alerts (or the one named); `UnknownQuery` for a name that is none."""
    if name is not None:
        query = library.get(name)
        if query.alert is None:
            raise query_library.UnknownQuery(f"saved query {name!r} has no `alert:` block")
        return [query]
    return [q for q in library.queries.values() if q.alert is not None]


Progress = Callable[[str, int, int], None]
"""Called with (alert name, alerts done, alerts in all)."""


def run_alerts(driver: neo4j.Driver, database: str, queries: list[SavedQuery], *,
               run_id: str | None = None, progress: Progress | None = None) -> AlertRun:
    """Run every alert of `queries` for each of its receivers. An alert that fails is
    named in `failures`; the others still run. A database that does not answer stops
    the run (`DatabaseUnavailable`)."""
    started = time.perf_counter()
    run_id = run_id or f"alerts-{int(time.time())}"
    report = AlertRun()
    for done, query in enumerate(queries):
        assert query.alert is not None
        try:
            found = [matches_for(driver, database, query, receiver)
                     for receiver in receivers(driver, database, query.alert.receivers)]
            keep_new(driver, database, query, found, run_id)
            report.results += [m.outcome for m in found]
        except errors.DatabaseUnavailable:
            raise
        except (errors.AllianceError, neo4j.exceptions.Neo4jError) as exc:
            log.warning("alert %s failed: %s", query.name, exc)
            report.failures[query.name] = str(exc)
        if progress is not None:
            progress(query.name, done + 1, len(queries))
    report.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    return report


def run_all(driver: neo4j.Driver, database: str, name: str | None = None, *,
            run_id: str | None = None, progress: Progress | None = None,
            directory: Path = QUERIES_DIR) -> AlertRun:
    """Load and check the library, then run its alerts (or the one named)."""
    library = query_library.load_checked(driver, database, directory)
    return run_alerts(driver, database, alert_queries(library, name), run_id=run_id,
                      progress=progress)


# ---------------------------------------------------------------- reading and updating


LIST: LiteralString = """
MATCH (a:Alert) WHERE a.receiver = $receiver AND ($status IS NULL OR a.status = $status)
WITH a ORDER BY a.raised_at DESC, a.alert_id
WITH collect(a) AS found
RETURN size(found) AS total,
       [x IN found[$skip..$skip + $first] | x {
          .*, subjects: [(x)-[:ABOUT]->(e) | {label: labels(e)[0], properties: properties(e)}]
       }] AS page
"""

ONE: LiteralString = """
MATCH (a:Alert {alert_id: $id}) WHERE a.receiver = $receiver
RETURN a {.*, subjects: [(a)-[:ABOUT]->(e) | {label: labels(e)[0], properties: properties(e)}]}
       AS alert
"""

UPDATE: LiteralString = """
MATCH (a:Alert {alert_id: $id}) WHERE a.receiver = $receiver AND a.status = $from
SET a.status = $to, a.updated_at = datetime(), a.updated_by = $who,
    a.note = coalesce($note, a.note)
RETURN a.alert_id AS id
"""

LIST_ALL: LiteralString = """
MATCH (a:Alert) WHERE ($status IS NULL OR a.status = $status)
  AND ($receiver IS NULL OR a.receiver = $receiver)
RETURN a.alert_id AS id, a.alert AS alert, a.receiver AS receiver, a.status AS status,
       toString(a.raised_at) AS raised_at, a.keys AS keys
ORDER BY a.raised_at DESC, a.alert_id LIMIT $limit
"""

LINK_LEAD: LiteralString = """
MATCH (a:Alert {alert_id: $id}), (l:Lead {lead_id: $lead_id})
MERGE (a)-[:RAISED_LEAD]->(l)
RETURN a.alert_id AS id
"""


def subject_ids(alert: Mapping[str, Any]) -> dict[str, list[str]]:
    """The keys of the entities an alert is about, by label."""
    found: dict[str, list[str]] = {}
    for subject in alert.get("subjects") or []:
        label = subject["label"]
        if label in ALERT_SUBJECTS:
            value = subject["properties"].get(node(label).key)
            if value is not None:
                found.setdefault(label, []).append(str(value))
    return found


def check_move(old: str, new: str) -> None:
    if new not in STATUSES:
        raise BadAlertStatus(f"unknown alert status {new!r}; statuses: {list(STATUSES)}")
    if new not in MOVES.get(old, ()):
        raise BadAlertStatus(f"an alert that is {old} cannot become {new}; from {old}: "
                             f"{list(MOVES.get(old, ()))}")


def check_note(note: str | None) -> None:
    if note is not None and len(note) > MAX_NOTE:
        raise errors.UserError(f"a note is at most {MAX_NOTE} characters")
