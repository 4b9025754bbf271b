"""Loader throughput: ours, Neo4j's own LOAD CSV and a naive per-row loader, one bundle.

    .venv/bin/python bench/load.py --scale 10000        # a bundle from `alliance generate`
    .venv/bin/python bench/load.py --bundle DIR          # any CSV bundle folder

Uses NEO4J_URI if set (then pass --import-dir, the server's import folder, for the LOAD
CSV peer), else starts a throwaway local server. The three loaders write the same bundle
into the same database, which is emptied before each (the schema stays):

1. ours: `load_paths` (validate, normalise, map, write in batches);
2. LOAD CSV: `LOAD CSV WITH HEADERS ... CALL (row) { ... } IN TRANSACTIONS OF 10000 ROWS`,
   one auto-commit query per file with the same MERGE statements on the raw columns
   (no validation, no normalisation: phones and addresses are keyed by their raw text,
   addresses get no divisions);
3. naive: ours with one transaction per row, on a sample of at most --naive-rows rows
   per file; its rate is extrapolated (labelled so).

A warm-up pass (the naive sample, then LOAD CSV on the same sample) runs first so that
neither measured loader pays for the server's query compilation. With --rounds N, ours
and LOAD CSV each run N times (alternating) and the fastest round of each is reported. Prints rows/s, the
ratios, the CPU seconds of the server process (when the bench started it) and the Python
process peak RSS.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psutil
from neo4j import Driver

from alliance import local_neo4j
from graph import drivers, schema
from graph.model import check_label, check_rel_type, node
from loaders import load_paths
from loaders.validate import FILES

KEY = b"bench-key"
MEMORY = local_neo4j.Memory(heap_initial="2g", heap_max="4g", pagecache="2g",
                       transaction_total_max="3g", transaction_max="2g")
"""The local server's default sizes, with room for LOAD CSV's 10,000-row transactions."""
PROVENANCE = "{v}.source = $source, {v}.run_id = $run_id, {v}.last_seen_at = $now"


@dataclass(frozen=True)
class Link:
    """A relationship from the file's node to nodes named by a column (expression)."""

    rel_type: str
    label: str
    value: str
    many: bool = False
    inbound: bool = False
    props: tuple[str, ...] = ()


@dataclass(frozen=True)
class PeerFile:
    label: str
    key: str
    observed: str | None = None
    links: tuple[Link, ...] = ()
    dated: bool = True
    """False when `observed` dates only the relationships (transfers)."""


SHIPMENT = "row.carrier + ':' + row.waybill_no"
IDENTITY = "coalesce(row.id_hash, row.id_number)"
CONTACTS = (Link("HAS_PHONE", "Phone", "phones", many=True),
            Link("HAS_EMAIL", "Email", "emails", many=True))
PEER: dict[str, PeerFile] = {
    "brands": PeerFile("Brand", "row.brand_id", "joined_on"),
    "agencies": PeerFile("Agency", "row.agency_id", None,
                         (Link("IN_DIVISION", "Division", "row.adcode"),)),
    "sellers": PeerFile("Seller", "row.seller_id", "registered_on", (
        *CONTACTS, Link("VERIFIED_AS", "Identity", IDENTITY),
        Link("PAID_TO", "PaymentAccount", "payout_accounts", many=True),
        Link("USED_DEVICE", "Device", "devices", many=True),
        Link("REGISTERED_AT", "Address", "row.registered_address"))),
    "shops": PeerFile("Shop", "row.shop_id", "opened_on", (
        Link("OPERATES", "Seller", "row.seller_id", inbound=True),
        Link("SHIPS_FROM", "Address", "row.ship_from_address"),
        Link("RETURNS_TO", "Address", "row.return_address"))),
    "listings": PeerFile("Listing", "row.listing_id", "first_seen", (
        Link("OFFERS", "Shop", "row.shop_id", inbound=True),
        Link("CLAIMS_BRAND", "Brand", "row.brand_id"))),
    "complaints": PeerFile("Complaint", "row.complaint_id", "filed_on", (
        Link("FILED", "Brand", "row.brand_id", inbound=True),
        Link("AGAINST", "Listing", "row.listing_id"), Link("AGAINST", "Shop", "row.shop_id"))),
    "shipments": PeerFile("Shipment", SHIPMENT, "shipped_on", (
        Link("SENT_BY", "Shop", "row.shop_id"), Link("HAS_PHONE", "Phone", "row.sender_phone"),
        Link("ORIGINATES_AT", "Address", "row.origin_address"))),
    "test_purchases": PeerFile("TestPurchase", "row.purchase_id", "ordered_on", (
        Link("BOUGHT", "Listing", "row.listing_id"), Link("DELIVERED_BY", "Shipment", SHIPMENT),
        Link("AUTHENTICATED_BY", "Brand", "row.authenticated_by"))),
    "persons": PeerFile("Person", "row.person_id", None, (
        *CONTACTS, Link("HOLDS", "Identity", IDENTITY),
        Link("CONTROLS", "Seller", "controls_sellers", many=True),
        Link("RUNS", "Site", "operates_sites", many=True),
        Link("OWNS", "PaymentAccount", "owns_accounts", many=True))),
    "sites": PeerFile("Site", "row.site_id", "first_seen",
                      (Link("LOCATED_AT", "Address", "row.address"),)),
    "transfers": PeerFile("PaymentAccount", "row.from_account", "last_on", (
        Link("TRANSFERRED_TO", "PaymentAccount", "row.to_account",
             props=("total_cny", "count", "first_on", "last_on")),), dated=False),
    "leads": PeerFile("Lead", "row.lead_id", "created_on", (
        Link("PUSHED_TO", "Agency", "row.agency_id", props=("pushed_on",)),
        Link("ON_BEHALF_OF", "Brand", "brand_ids", many=True),
        *(Link("CONCERNS", label, f"concerns_{name}", many=True) for name, label in (
            ("sellers", "Seller"), ("shops", "Shop"), ("sites", "Site"), ("persons", "Person"))),
        Link("EVIDENCED_BY", "TestPurchase", "evidence_purchases", many=True),
        Link("EVIDENCED_BY", "Complaint", "evidence_complaints", many=True))),
    "cases": PeerFile("Case", "row.case_id", "opened_on", (
        Link("HANDLED_BY", "Agency", "row.agency_id"),
        Link("BECAME", "Lead", "row.lead_id", inbound=True),
        Link("RAIDED", "Site", "raided_sites", many=True),
        Link("NAMES_SUSPECT", "Person", "suspects", many=True),
        Link("CONCERNS_BRAND", "Brand", "brand_ids", many=True))),
}


def _merge(var: str, label: str, key: str) -> str:
    label = check_label(label)
    return (f"MERGE ({var}:`{label}` {{`{node(label).key}`: {key}}}) "
            f"ON CREATE SET {var}.first_seen_at = $now, {PROVENANCE.format(v=var)}\n")


def _sets(var: str, pairs: list[tuple[str, str]]) -> str:
    sets = [PROVENANCE.format(v=var)]
    sets += [f"{var}.`{prop}` = coalesce({expr}, {var}.`{prop}`)" for prop, expr in pairs]
    return "SET " + ", ".join(sets) + "\n"


def _link(link: Link, observed: str | None) -> str:
    if link.many:
        values = f"[x IN split(coalesce(row.`{link.value}`, ''), ';') WHERE x <> '']"
    else:
        values = f"CASE WHEN {link.value} IS NULL THEN [] ELSE [{link.value}] END"
    arrow = "(m)-[r:`{t}`]->(n)" if link.inbound else "(n)-[r:`{t}`]->(m)"
    pairs = [(p, f"row.`{p}`") for p in link.props]
    pairs += [("observed_on", f"row.`{observed}`")] if observed else []
    return ("CALL (n, row) {\n"
            f"UNWIND {values} AS v\n" + _merge("m", link.label, "v")
            + f"MERGE {arrow.format(t=check_rel_type(link.rel_type))} "
            "ON CREATE SET r.first_seen_at = $now\n" + _sets("r", pairs) + "}\n")


def peer_query(file: str) -> str:
    """The LOAD CSV statement for one file: $url names the file in the import folder.
    It sets the model properties that are fields of the file, as ours does."""
    spec = PEER[file]
    pairs = [(p, f"row.`{p}`") for p in node(spec.label).properties if p in FILES[file]]
    pairs += [("observed_on", f"row.`{spec.observed}`")] if spec.observed and spec.dated else []
    return ("LOAD CSV WITH HEADERS FROM $url AS row\nCALL (row) {\n"
            f"WITH row WHERE {spec.key} IS NOT NULL\n" + _merge("n", spec.label, spec.key)
            + _sets("n", pairs) + ("WITH n, row\n" if spec.links else "")
            + "".join(_link(link, spec.observed) for link in spec.links)
            + "} IN TRANSACTIONS OF 10000 ROWS")


def load_csv_peer(driver: Driver, database: str, bundle: Path, import_dir: Path) -> None:
    now = datetime.now().astimezone()
    for path in sorted(bundle.glob("*.csv")):
        if path.stem not in PEER:
            continue
        shutil.copyfile(path, import_dir / path.name)
        params = {"url": f"file:///{path.name}", "source": "bench-load-csv",
                  "run_id": "load-csv", "now": now}
        with driver.session(database=database) as session:
            session.run(peer_query(path.stem), params).consume()
        (import_dir / path.name).unlink()


def wipe(driver: Driver, database: str) -> None:
    with driver.session(database=database) as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
                    ).consume()


def sample(bundle: Path, dest: Path, rows: int) -> Path:
    dest.mkdir()
    for path in bundle.glob("*.csv"):
        with path.open(encoding="utf-8") as src, (dest / path.name).open("w", encoding="utf-8") as out:
            for n, line in enumerate(src):
                if n > rows:
                    break
                out.write(line)
    return dest


def generate(out: Path, scale: int) -> Path:
    """A bundle from `alliance generate`, in a child process (its memory is not ours)."""
    alliance = Path(sys.executable).with_name("alliance")
    subprocess.run([str(alliance), "generate", "--scale", str(scale), "--out", str(out)],
                   check=True, stdout=subprocess.DEVNULL)
    return out


def data_rows(bundle: Path) -> int:
    """Rows in the CSV files (a multi-line cell counts as several: an estimate)."""
    total = 0
    for path in bundle.glob("*.csv"):
        if path.stem in PEER:
            with path.open("rb") as handle:
                total += sum(1 for _ in handle) - 1
    return total


class Timer:
    """Wall time and, when the server process is known, its CPU seconds."""

    def __init__(self, server_pid: int | None) -> None:
        self.process = psutil.Process(server_pid) if server_pid else None

    def _cpu(self) -> float:
        if self.process is None:
            return float("nan")
        times = self.process.cpu_times()
        return float(times.user + times.system)

    def measure(self, work: Callable[[], object]) -> tuple[float, float]:
        cpu, wall = self._cpu(), time.perf_counter()
        work()
        return time.perf_counter() - wall, self._cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=10000)
    parser.add_argument("--bundle", type=Path)
    parser.add_argument("--naive-rows", type=int, default=300)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--import-dir", type=Path, help="the server's import folder "
                        "(only with NEO4J_URI; a throwaway server has its own)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    started: local_neo4j.ServerState | None = None
    try:
        bundle = args.bundle or generate(tmp / "bundle", args.scale)
        if os.environ.get("NEO4J_URI"):
            conn, import_dir = drivers.connection(), args.import_dir
        else:
            config = local_neo4j.ServerConfig(home=tmp / "neo4j", port=local_neo4j.free_port(),
                                         auth=False, memory=MEMORY)
            started, _ = local_neo4j.start(config)
            conn = drivers.Connection(started.uri, None, "neo4j", local=False)
            import_dir = tmp / "neo4j" / "import"
        timer = Timer(started.pid if started else None)
        run(conn, bundle, tmp, args, import_dir, timer)
    finally:
        if started is not None:
            local_neo4j.stop(tmp / "neo4j")
        shutil.rmtree(tmp, ignore_errors=True)


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


Measure = tuple[float, float]


def measure_rounds(driver: Driver, database: str, bundle: Path, tmp: Path,
                   args: argparse.Namespace, import_dir: Path | None,
                   timer: Timer) -> tuple[Measure, Measure | None]:
    """Ours then LOAD CSV, --rounds times, each into an emptied database; the fastest
    round of each (other work on the machine slows rounds at random)."""
    batch = {"batch_size": args.batch_size} if args.batch_size else {}
    ours: list[Measure] = []
    peer: list[Measure] = []
    for round_no in range(1, args.rounds + 1):
        say(f"round {round_no}: ours")
        ours.append(timer.measure(lambda: load_paths(
            driver, database, [bundle], source="bench", pii_key=KEY,
            rejects_path=tmp / "rejects.jsonl", **batch)))
        say(f"round {round_no}: ours took {ours[-1][0]:.1f} s; wipe")
        wipe(driver, database)
        if import_dir is not None:
            say(f"round {round_no}: LOAD CSV")
            peer.append(timer.measure(lambda: load_csv_peer(driver, database, bundle, import_dir)))
            say(f"round {round_no}: LOAD CSV took {peer[-1][0]:.1f} s; wipe")
            wipe(driver, database)
    return min(ours), (min(peer) if peer else None)


def run(conn: drivers.Connection, bundle: Path, tmp: Path, args: argparse.Namespace,
        import_dir: Path | None, timer: Timer) -> None:
    small = sample(bundle, tmp / "sample", args.naive_rows)
    with drivers.open_driver(conn) as driver:
        schema.apply(driver, conn.database)
        wipe(driver, conn.database)
        say("naive loader on the sample")
        naive_s, _ = timer.measure(lambda: load_paths(
            driver, conn.database, [small], source="bench", pii_key=KEY, batch_size=1))
        naive_rows = data_rows(small)
        if import_dir is not None:
            say("LOAD CSV on the sample (warm-up)")
            load_csv_peer(driver, conn.database, small, import_dir)
        wipe(driver, conn.database)
        ours, peer = measure_rounds(driver, conn.database, bundle, tmp, args, import_dir, timer)
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report(data_rows(bundle), ours, peer, naive_rows / naive_s, naive_rows, peak_rss)


def report(rows: int, ours: Measure, peer: Measure | None,
           naive_rate: float, naive_rows: int, peak_rss: float) -> None:
    ours_rate = rows / ours[0]
    print(f"rows: {rows}")
    print(f"ours (validate, normalise, batched): {ours_rate:8.0f} rows/s  ({ours[0]:.1f} s, "
          f"server CPU {ours[1]:.1f} s)")
    if peer is not None:
        peer_rate = rows / peer[0]
        print(f"LOAD CSV ... IN TRANSACTIONS:        {peer_rate:8.0f} rows/s  ({peer[0]:.1f} s, "
              f"server CPU {peer[1]:.1f} s)")
    print(f"naive per-row (sample of {naive_rows}, extrapolated): {naive_rate:8.0f} rows/s")
    if peer is not None:
        print(f"ratio ours / LOAD CSV: {ours_rate / peer_rate:.2f}x")
    else:
        print("LOAD CSV: skipped (set --import-dir with NEO4J_URI)")
    print(f"ratio ours / naive: {ours_rate / naive_rate:.1f}x")
    print(f"Python peak RSS: {peak_rss:.0f} MiB")


if __name__ == "__main__":
    main()
