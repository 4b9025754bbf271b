"""Loading bundles into a real Neo4j."""

from __future__ import annotations

import csv
import json
import shutil
import time
from pathlib import Path
from threading import Event

import pytest
from neo4j import Driver

from alliance.generate import generate_bundle
from loaders import load_paths, write
from loaders.write import BatchTooBig, Statement, Turn, Writer

BUNDLE = Path(__file__).parent / "fixtures" / "loader" / "bundle"
KEY = b"test-pii-key"
CLEAR_ID = "11010519491231002X"
EXPECTED_REJECTS = {("sellers.csv", 4), ("listings.csv", 3), ("complaints.csv", 3)}


def counts(driver: Driver, database: str) -> tuple[int, int]:
    records, _, _ = driver.execute_query(
        "MATCH (n) WITH count(n) AS n OPTIONAL MATCH ()-[r]->() RETURN n, count(r) AS r",
        database_=database)
    return records[0]["n"], records[0]["r"]


def one(driver: Driver, database: str, query: str, **params: object) -> object:
    records, _, _ = driver.execute_query(query, params, database_=database)
    return records[0][0]


def to_jsonl(src: Path, dest: Path) -> None:
    dest.mkdir()
    for path in src.glob("*.csv"):
        with path.open(encoding="utf-8") as handle, (dest / (path.stem + ".jsonl")).open(
                "w", encoding="utf-8") as out:
            for row in csv.DictReader(handle):
                out.write(json.dumps(row, ensure_ascii=False) + "\n")


def test_bundle_loads_with_rejects(clean_db: Driver, database: str, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.jsonl"
    report = load_paths(clean_db, database, [BUNDLE], source="t", rejects_path=rejects,
                        pii_key=KEY)
    assert len(report.files) == 13
    for f in report.files:
        assert f.read == f.loaded + f.rejected
    lines = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert {(r["file"], r["line"]) for r in lines} == EXPECTED_REJECTS
    s3 = next(r for r in lines if r["file"] == "sellers.csv")
    codes = {(x["field"], x["code"]) for x in s3["reasons"]}
    assert codes == {("kind", "enum"), ("id_number", "id_number"), ("registered_on", "date"),
                     ("phones", "phone"), ("emails", "email"), ("payout_accounts", "format"),
                     ("devices", "format")}
    assert s3["row"]["id_number"] == "***"
    sellers = next(f for f in report.files if f.file == "sellers.csv")
    assert sellers.ignored_columns == ["favourite_colour"]
    assert one(clean_db, database, "MATCH (s:Seller {seller_id: 'S1'})-[:HAS_PHONE]->(p:Phone) "
               "RETURN collect(p.e164)") is not None
    shared = one(clean_db, database,
                 "MATCH (:Seller {seller_id:'S1'})-[:HAS_PHONE]->(p)<-[:HAS_PHONE]-"
                 "(:Seller {seller_id:'S2'}) RETURN p.e164")
    assert shared == "+8613800138000"
    same_address = one(clean_db, database,
                       "MATCH (:Seller {seller_id:'S1'})-[:REGISTERED_AT]->(a)<-[:REGISTERED_AT]-"
                       "(:Seller {seller_id:'S2'}) MATCH (a)-[:IN_DIVISION]->(d)-[:PART_OF]->"
                       "(c)-[:PART_OF]->(p) RETURN [a.adcode, d.name, c.name, p.name]")
    assert same_address == ["440111", "白云区", "广州市", "广东省"]
    run = one(clean_db, database, "MATCH (r:IngestRun {run_id: $id}) RETURN r.counts",
              id=report.run_id)
    assert json.loads(str(run))["sellers.csv"] == {"read": 3, "loaded": 2, "rejected": 1}
    no_provenance = one(clean_db, database,
                        "MATCH (n) WHERE n.source IS NULL OR n.first_seen_at IS NULL "
                        "RETURN count(n)")
    assert no_provenance == 0
    assert one(clean_db, database, "MATCH ()-[r]->() WHERE r.run_id IS NULL RETURN count(r)") == 0


def test_loading_twice_changes_no_counts(clean_db: Driver, database: str) -> None:
    load_paths(clean_db, database, [BUNDLE], source="t", pii_key=KEY)
    first = counts(clean_db, database)
    load_paths(clean_db, database, [BUNDLE], source="t", pii_key=KEY)
    nodes, rels = counts(clean_db, database)
    assert (nodes - 1, rels) == first  # one more IngestRun node only


def test_jsonl_bundle_gives_same_graph(clean_db: Driver, database: str, tmp_path: Path) -> None:
    load_paths(clean_db, database, [BUNDLE], source="t", pii_key=KEY)
    from_csv = counts(clean_db, database)
    clean_db.execute_query("MATCH (n) DETACH DELETE n", database_=database)
    to_jsonl(BUNDLE, tmp_path / "j")
    report = load_paths(clean_db, database, [tmp_path / "j"], source="t", pii_key=KEY)
    assert len(report.files) == 13 and report.rejected == 3
    assert counts(clean_db, database) == from_csv


def test_placeholders_filled_in_any_order(clean_db: Driver, database: str) -> None:
    load_paths(clean_db, database, [BUNDLE / "cases.csv"], source="t", pii_key=KEY)
    assert one(clean_db, database, "MATCH (a:Agency {agency_id:'A1'}) RETURN a.name") is None
    load_paths(clean_db, database, [BUNDLE / "agencies.csv"], source="t", pii_key=KEY)
    assert one(clean_db, database, "MATCH (a:Agency) RETURN count(a)") == 1
    assert one(clean_db, database, "MATCH (:Case)-[:HANDLED_BY]->(a:Agency) RETURN a.name") \
        == "广州市公安局"


def test_clear_id_number_nowhere(clean_db: Driver, database: str, tmp_path: Path) -> None:
    rejects = tmp_path / "r.jsonl"
    load_paths(clean_db, database, [BUNDLE], source="t", pii_key=KEY, rejects_path=rejects)
    records, _, _ = clean_db.execute_query(
        "MATCH (n) OPTIONAL MATCH (n)-[r]->() RETURN properties(n) AS n, properties(r) AS r",
        database_=database)
    everything = repr([(rec["n"], rec["r"]) for rec in records])
    assert "王小明" in everything  # the dump holds the data ...
    assert CLEAR_ID not in everything and CLEAR_ID.lower() not in everything  # ... not the number
    assert CLEAR_ID not in rejects.read_text(encoding="utf-8")
    assert one(clean_db, database, "MATCH (:Person)-[:HOLDS]->(i:Identity)<-[:VERIFIED_AS]-"
               "(:Seller {seller_id:'S1'}) RETURN i.kind") == "id_card"


def test_gb18030_file(clean_db: Driver, database: str, tmp_path: Path) -> None:
    path = tmp_path / "agencies.csv"
    path.write_bytes((BUNDLE / "agencies.csv").read_text(encoding="utf-8").encode("gb18030"))
    report = load_paths(clean_db, database, [path], source="t", pii_key=KEY)
    assert report.files[0].loaded == 1
    assert one(clean_db, database, "MATCH (a:Agency) RETURN a.unit") == "经侦支队"
    shutil.rmtree(tmp_path)


def test_observed_on_kept_when_a_later_row_lacks_it(clean_db: Driver, database: str,
                                                     tmp_path: Path) -> None:
    first, later = tmp_path / "a" / "brands.csv", tmp_path / "b" / "brands.csv"
    first.parent.mkdir()
    later.parent.mkdir()
    first.write_text("brand_id,name,joined_on\nB9,Nine,2020-05-01\n", encoding="utf-8")
    later.write_text("brand_id,name,joined_on\nB9,Nine Ltd,\n", encoding="utf-8")
    load_paths(clean_db, database, [first], source="t", pii_key=KEY)
    load_paths(clean_db, database, [later], source="t", pii_key=KEY)
    name, observed = one(clean_db, database, "MATCH (b:Brand {brand_id: 'B9'}) "
                         "RETURN [b.name, toString(b.observed_on)]")  # type: ignore[misc]
    assert (name, observed) == ("Nine Ltd", "2020-05-01")


def test_ignored_columns_from_every_jsonl_row(clean_db: Driver, database: str,
                                              tmp_path: Path) -> None:
    path = tmp_path / "brands.jsonl"
    path.write_text('{"brand_id": "B1", "name": "One"}\n'
                    '{"brand_id": "B2", "name": "Two", "mascot": "owl"}\n', encoding="utf-8")
    report = load_paths(clean_db, database, [path], source="t", pii_key=KEY)
    assert report.files[0].ignored_columns == ["mascot"]
    assert report.files[0].loaded == 2


PROVENANCE = ("run_id", "first_seen_at", "last_seen_at")


def graph_dump(driver: Driver, database: str) -> list[str]:
    """Every node and relationship with its properties (less the run's provenance), sorted."""
    records, _, _ = driver.execute_query(
        "MATCH (n) WHERE NOT n:IngestRun OPTIONAL MATCH (n)-[r]->(m) "
        "RETURN labels(n) AS labels, properties(n) AS n, type(r) AS type, "
        "properties(m) AS m, properties(r) AS r", database_=database)

    def clean(props: dict[str, object] | None) -> list[tuple[str, str]]:
        return sorted((k, repr(v)) for k, v in (props or {}).items() if k not in PROVENANCE)
    return sorted(repr((rec["labels"], clean(rec["n"]), rec["type"], clean(rec["m"]),
                        clean(rec["r"]))) for rec in records)


def test_a_batch_too_big_for_the_server_is_written_in_halves(
        clean_db: Driver, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generate_bundle(tmp_path / "b", scale=300, seed=3)
    load_paths(clean_db, database, [tmp_path / "b"], source="t", pii_key=KEY)
    whole = graph_dump(clean_db, database)  # addresses keep the raw text of their first row
    clean_db.execute_query("MATCH (n) DETACH DELETE n", database_=database)
    send, refused = Writer._send, []

    def refuse_big(self: Writer, statements: list[Statement], *turns: Turn | None) -> None:
        rows = max((len(p["rows"]) for q, p in statements
                    if "rows" in p and "(n:`Division`" not in q), default=0)
        if rows > 16:  # what the server's transaction memory would refuse
            refused.append(rows)
            raise BatchTooBig(f"{rows} rows")
        send(self, statements, *turns)

    monkeypatch.setattr(Writer, "_send", refuse_big)
    load_paths(clean_db, database, [tmp_path / "b"], source="t", pii_key=KEY, batch_size=64)
    assert len(refused) > 10
    assert graph_dump(clean_db, database) == whole


def test_batches_written_two_at_once_give_the_graph_of_one_batch_per_file(
        clean_db: Driver, database: str, tmp_path: Path) -> None:
    generate_bundle(tmp_path / "b", scale=300, seed=5)
    load_paths(clean_db, database, [tmp_path / "b"], source="t", pii_key=KEY,
               batch_size=1_000_000)
    whole = graph_dump(clean_db, database)
    clean_db.execute_query("MATCH (n) DETACH DELETE n", database_=database)
    load_paths(clean_db, database, [tmp_path / "b"], source="t", pii_key=KEY, batch_size=5)
    assert graph_dump(clean_db, database) == whole


def _sellers(tmp_path: Path, nicknames: list[str]) -> Path:
    path = tmp_path / "sellers.csv"
    path.write_text("seller_id,platform,nickname\n" + "".join(
        f"S{n % 2},shopx,{name}\n" for n, name in enumerate(nicknames)), encoding="utf-8")
    return path


class SlowCommit(Event):
    """The `ran` event of a batch that is slow to commit, or refused at commit: `set` is
    called inside the transaction, after its statements, just before the commit."""

    def __init__(self, refuse: bool) -> None:
        super().__init__()
        self.refuse = refuse

    def set(self) -> None:
        first = not self.is_set()
        super().set()
        if first:
            time.sleep(0.5)
            if self.refuse:
                raise RuntimeError("commit refused")


def _slow_turn(monkeypatch: pytest.MonkeyPatch, number: int, refuse: bool) -> None:
    """Batch `number` (from 1) commits 0.5 s after its statements ran, or fails there."""
    made: list[Turn] = []

    def turn() -> Turn:
        made.append(Turn(ran=SlowCommit(refuse)) if len(made) + 1 == number else Turn())
        return made[-1]
    monkeypatch.setattr(write, "Turn", turn)


def test_a_later_row_wins_when_the_batch_before_it_is_slow_to_commit(
        clean_db: Driver, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _slow_turn(monkeypatch, 1, refuse=False)
    path = _sellers(tmp_path, ["first", "second", "third", "fourth"])
    load_paths(clean_db, database, [path], source="t", pii_key=KEY, batch_size=2)
    assert one(clean_db, database, "MATCH (s:Seller {seller_id: 'S0'}) RETURN s.nickname") \
        == "third"
    assert one(clean_db, database, "MATCH (s:Seller {seller_id: 'S1'}) RETURN s.nickname") \
        == "fourth"


def test_a_batch_refused_at_commit_stops_the_load_and_the_next_is_rolled_back(
        clean_db: Driver, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batch 2 fails after its statements ran: batch 3 has run its own meanwhile (other
    sellers) and must not commit."""
    _slow_turn(monkeypatch, 2, refuse=True)
    path = _sellers(tmp_path, ["n0", "n1", "n2", "n3", "n4", "n5"])
    with pytest.raises(RuntimeError, match="commit refused"):
        load_paths(clean_db, database, [path], source="t", pii_key=KEY, batch_size=1)
    assert one(clean_db, database, "MATCH (s:Seller) RETURN collect(s.nickname)") == ["n0"]


def test_a_batch_waiting_on_one_that_needs_its_locks_rolls_back_and_runs_again(
        clean_db: Driver, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batch 1 is let through before it runs (as if it needed a lock at commit that batch
    2 holds): batch 2 writes the same seller, then waits for batch 1, which waits for
    batch 2's lock. Batch 2 gives up after its wait, rolls back and runs again after."""
    send, calls = Writer._send, []

    def early(self: Writer, statements: list[Statement], turn: Turn,
              previous: Turn | None) -> None:
        calls.append(previous)
        if len(calls) == 1:
            turn.ran.set()
            time.sleep(0.2)
        send(self, statements, turn, previous)

    monkeypatch.setattr(Writer, "_send", early)
    monkeypatch.setattr(write, "COMMIT_WAIT_SECONDS", 1.0)
    path = _sellers(tmp_path, ["first", "second", "third", "fourth"])
    load_paths(clean_db, database, [path], source="t", pii_key=KEY, batch_size=2)
    assert one(clean_db, database, "MATCH (s:Seller {seller_id: 'S0'}) RETURN s.nickname") \
        == "third"
    assert len(calls) == 3 and calls[2] is None  # batch 2 ran again after batch 1 ended


def test_a_failed_batch_stops_the_load_with_its_own_error(
        clean_db: Driver, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    send, calls = Writer._send, []

    def fail_second(self: Writer, statements: list[Statement], *turns: Turn | None) -> None:
        calls.append(len(calls))
        if len(calls) == 2:
            raise RuntimeError("the server went away")
        send(self, statements, *turns)

    monkeypatch.setattr(Writer, "_send", fail_second)
    path = _sellers(tmp_path, [f"n{n}" for n in range(12)])
    with pytest.raises(RuntimeError, match="the server went away"):
        load_paths(clean_db, database, [path], source="t", pii_key=KEY, batch_size=1)
    assert len(calls) == 2  # the batch after the failed one was not written
    assert one(clean_db, database, "MATCH (s:Seller) RETURN collect(s.nickname)") == ["n0"]
