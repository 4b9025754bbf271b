"""Probable matches between sellers that share no exact identifier: `PROBABLY_SAME` links.

`analyze_matches` (`alliance analyze matches`) reads every seller's name, registered
address, phones, e-mails, payout account holders' names and exact identifiers from
Neo4j (`EXPORT`), turns them into comparison keys (`graph.match_features`), trains and
runs the linkage model (`graph.match_model`), and writes a `PROBABLY_SAME` relationship
from the smaller to the larger seller id for each pair whose match probability is at
least the threshold (`ALLIANCE_MATCH_THRESHOLD`), with `probability`, `reasons` (the
comparisons that spoke for the match, strongest first: "name pinyin equal", "same
street", "phone prefix equal") and `run_id` (a digest of the trained model). A second
pass joins a seller in no group of linked sellers to a group whose name its account
holder or e-mail carries while its own name is another ("joins a linked group of 12",
"account holder is the group's name"), with one link at the threshold. Nodes are
never merged. Pairs that share an exact identifier are not written: the seller networks
link them already.

Investigators decide (`decide`): a decision is kept on the relationship (`decision`
`confirmed` or `rejected`, `decided_by`, `decided_at`, `note`) and wins over every later
run: a confirmed pair stays with probability 1, a rejected pair keeps probability 0 and
never links again. Confirmed pairs are the labelled pairs of the next training.

A run is idempotent: the same graph gives the same model and the same links, and a link
whose probability and reasons did not change is not written; links the model no longer
gives (and nobody decided) are removed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from queue import Queue
from threading import Thread
from typing import Any, Literal, LiteralString, TypeVar

import neo4j
import pyarrow as pa

from graph import access
from graph.model import check_rel_type

T = TypeVar("T")
REL = check_rel_type("PROBABLY_SAME")
Decision = Literal["confirmed", "rejected"]
DECISIONS: tuple[str, ...] = ("confirmed", "rejected")
WRITE_BATCH = 2000
TIMEOUT: float | None = None
"""Whole-graph work of the command line: the server's own limit applies."""

EXPORT: LiteralString = """
MATCH (s:Seller)
CALL (s) {
  OPTIONAL MATCH (s)-[:REGISTERED_AT]->(a:Address)
  RETURN a ORDER BY a.address_key LIMIT 1
}
RETURN s.seller_id AS id, s.legal_name AS name, a.normalized AS address, a.adcode AS adcode,
       a.province AS province, a.city AS city, a.district AS district,
       [(s)-[:HAS_PHONE]->(p:Phone) | p.e164] AS phones,
       [(s)-[:HAS_EMAIL]->(e:Email) | e.email] AS emails,
       [(s)-[:PAID_TO]->(:PaymentAccount)<-[:OWNS]-(h:Person) | h.name] AS holders,
       [(s)-[:PAID_TO]->(x:PaymentAccount) | 'account:' + x.account]
       + [(s)-[:VERIFIED_AS]->(x:Identity) | 'identity:' + x.id_hash]
       + [(s)-[:HAS_PHONE]->(x:Phone) | 'phone:' + x.e164]
       + [(s)-[:HAS_EMAIL]->(x:Email) | 'email:' + x.email]
       + [(s)-[:USED_DEVICE]->(x:Device {kind: 'fp'}) | 'device:' + x.device] AS ids
"""
"""Every seller with what the model compares (a pattern comprehension per list: no
aggregation over the whole graph, so it streams)."""

LINKS: LiteralString = """
MATCH (a:Seller)-[r:PROBABLY_SAME]->(b:Seller)
RETURN a.seller_id AS a, b.seller_id AS b, r.decision AS decision
"""

WRITE_LINKS: LiteralString = """
UNWIND $rows AS row
MATCH (a:Seller {seller_id: row.a})
MATCH (b:Seller {seller_id: row.b})
MERGE (a)-[r:PROBABLY_SAME]->(b)
WITH r, row
WHERE r.decision IS NULL
  AND (r.probability IS NULL OR r.probability <> row.p OR r.reasons <> row.reasons)
SET r.probability = row.p, r.reasons = row.reasons, r.run_id = $run_id
RETURN count(r) AS written
"""

DROP_LINKS: LiteralString = """
UNWIND $rows AS row
MATCH (:Seller {seller_id: row.a})-[r:PROBABLY_SAME]->(:Seller {seller_id: row.b})
WHERE r.decision IS NULL
DELETE r
RETURN count(*) AS dropped
"""

DECIDE: LiteralString = """
MATCH (a:Seller {seller_id: $a})
MATCH (b:Seller {seller_id: $b})
MERGE (a)-[r:PROBABLY_SAME]->(b)
ON CREATE SET r.reasons = [], r.run_id = null
SET r.decision = $decision, r.decided_by = $who, r.decided_at = $at, r.note = $note,
    r.probability = CASE $decision WHEN 'confirmed' THEN 1.0 ELSE 0.0 END
RETURN r.probability AS probability, r.reasons AS reasons, r.run_id AS run_id
"""


@dataclass
class MatchRun:
    sellers: int = 0
    pairs: int = 0
    written: int = 0
    dropped: int = 0
    kept_decided: int = 0
    run_id: str = ""
    timings: dict[str, float] = field(default_factory=dict)


def export(driver: neo4j.Driver, database: str) -> Iterator[dict[str, Any]]:
    """Every seller's comparison inputs, streamed."""
    for record in access.stream(driver, database, EXPORT, timeout=TIMEOUT, name="matches:export"):
        yield dict(zip(record.keys(), record.values(), strict=True))


READ_AHEAD = 2
"""Batches of exported sellers read from Neo4j ahead of the one being turned into keys."""


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(items: Iterator[T], depth: int = READ_AHEAD) -> Iterator[T]:
    """The items of `items`, produced in a thread of their own up to `depth` ahead: the
    server and the driver read the next batch while this thread makes keys of the last."""
    done = object()
    queue: Queue[Any] = Queue(maxsize=depth)

    def produce() -> None:
        try:
            for item in items:
                queue.put(item)
        except BaseException as error:  # noqa: BLE001 - handed to the consumer
            queue.put(_Failed(error))
        finally:
            queue.put(done)

    thread = Thread(target=produce, name="matches-export", daemon=True)
    thread.start()
    while (item := queue.get()) is not done:
        if isinstance(item, _Failed):
            raise item.error
        yield item
    thread.join()


def keys_table(driver: neo4j.Driver, database: str) -> pa.Table:
    """Every seller's comparison keys, exported in batches straight into Arrow: the rows
    never sit in memory as Python objects all at once."""
    from graph import match_model  # Splink and DuckDB: loaded only by the commands that match

    batches = read_ahead(match_model.chunked(export(driver, database)))
    return match_model.keys_table(match_model.key_batch(batch) for batch in batches)


def existing_links(driver: neo4j.Driver, database: str) -> dict[tuple[str, str], str | None]:
    """Every PROBABLY_SAME pair with its decision (None when nobody decided)."""
    return {(r["a"], r["b"]): r["decision"]
            for r in access.stream(driver, database, LINKS, timeout=TIMEOUT, name="matches:links")}


def _chunks(items: list[Any], size: int = WRITE_BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def analyze_matches(driver: neo4j.Driver, database: str, *, threshold: float) -> MatchRun:
    """Score every pair the blocking rules generate and bring the PROBABLY_SAME links in
    line with the pairs at or above `threshold`, decisions kept."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"the match threshold must be above 0 and at most 1, not {threshold}")
    run = MatchRun()
    began = time.perf_counter()
    table = keys_table(driver, database)
    run.sellers = table.num_rows
    old = existing_links(driver, database)
    run.timings["export"] = time.perf_counter() - began
    if run.sellers < 2:
        return run
    confirmed = sorted(pair for pair, decision in old.items() if decision == "confirmed")
    from graph import match_model

    scored = match_model.train_and_score(table, threshold=threshold, confirmed=confirmed)
    run.timings["model"] = time.perf_counter() - began - run.timings["export"]
    run.run_id, run.pairs = scored.run_id, len(scored.pairs)
    wanted = [p for p in scored.pairs if old.get((p["a"], p["b"])) is None]
    run.kept_decided = sum(1 for d in old.values() if d is not None)
    for chunk in _chunks(wanted):
        rows = access.write(driver, database, [access.Statement(
            WRITE_LINKS, {"rows": chunk, "run_id": run.run_id})], timeout=TIMEOUT,
            name="matches:write")[0]
        run.written += rows[0]["written"]
    keep = {(p["a"], p["b"]) for p in scored.pairs}
    stale = [{"a": a, "b": b} for (a, b), d in old.items() if d is None and (a, b) not in keep]
    for chunk in _chunks(stale):
        rows = access.write(driver, database, [access.Statement(DROP_LINKS, {"rows": chunk})],
                            timeout=TIMEOUT, name="matches:drop")[0]
        run.dropped += rows[0]["dropped"]
    run.timings["write"] = time.perf_counter() - began - run.timings["export"] - run.timings["model"]
    return run


def pair(a: str, b: str) -> tuple[str, str]:
    """The stored direction of a pair: from the smaller seller id to the larger."""
    if a == b:
        raise ValueError("a seller is not a probable match of itself")
    return (a, b) if a < b else (b, a)


def decide_params(a: str, b: str, decision: str, who: str, note: str | None) -> dict[str, Any]:
    """The parameters of `DECIDE` for one investigator's decision on a pair."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}, not {decision!r}")
    first, second = pair(a, b)
    return {"a": first, "b": second, "decision": decision, "who": who, "note": note,
            "at": datetime.now(UTC)}
