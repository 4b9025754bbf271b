"""The matching model on a generated bundle without Neo4j: where true pairs are lost, and
the model's time and memory at scales too big to load on this machine.

`rows(bundle)` reads `sellers.csv` and `persons.csv` and gives, per seller, what the
export of `graph.matching.EXPORT` gives for it once loaded (addresses placed by the
loader's own resolver, phones and e-mails normalised by the loader's functions, exact
identifiers as `kind:key`). The loader's validation is not run: the rows `truth.json`
lists as planted bad rows (which the loader rejects) are skipped.

    .venv/bin/python bench/matching_offline.py BUNDLE [--threshold 0.99] [--save rows.parquet]
    .venv/bin/python bench/matching_offline.py --rows rows.parquet   # a saved export
    .venv/bin/python bench/matching_offline.py --rows rows.parquet --copies 10   # 10x bigger

It prints, per kind of evasion of a member (which of its signals it carries, how its name
is written), the share of true pairs the blocking rules propose and score at or above
the threshold, the pairwise precision and recall of the networks the links make (with
the hub rule of seller networks not applied: every link joins), the honest sellers
pulled into rings, and the time and peak memory of `records` and `train_and_score`.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.matching import member_recall  # noqa: E402
from graph import match_model  # noqa: E402
from loaders import normalise  # noqa: E402
from loaders.address import AddressResolver  # noqa: E402

KEY = b"bench-key"


def _split(value: str) -> list[str]:
    return [normalise.text(v) for v in (value or "").split(";") if v.strip()]


def _phones(values: list[str]) -> list[str]:
    out = []
    for value in values:
        try:
            out.append(normalise.phone(value)[0])
        except ValueError:
            continue
    return out


def _emails(values: list[str]) -> list[str]:
    out = []
    for value in values:
        try:
            out.append(normalise.email(value))
        except ValueError:
            continue
    return out


def holders(bundle: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    path = bundle / "persons.csv"
    if path.exists():
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                for account in _split(row.get("owns_accounts", "")):
                    found[account].append(row["name"])
    return found


def bad_lines(bundle: Path) -> set[int]:
    truth = bundle / "truth.json"
    if not truth.exists():
        return set()
    bad = json.loads(truth.read_text(encoding="utf-8")).get("bad_rows", {}).get("sellers", [])
    return {r["line"] for r in bad}


def rows(bundle: Path, batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Every seller of the bundle as the export gives it."""
    owners = holders(bundle)
    resolver = AddressResolver()
    skip = bad_lines(bundle)
    with (bundle / "sellers.csv").open(encoding="utf-8") as handle:
        pending: list[dict[str, str]] = []
        reader = csv.DictReader(handle)
        for row in reader:
            if reader.line_num in skip:
                continue
            pending.append(row)
            if len(pending) == batch:
                yield from _rows(pending, resolver, owners)
                pending = []
        yield from _rows(pending, resolver, owners)


def _rows(batch: list[dict[str, str]], resolver: AddressResolver,
          owners: dict[str, list[str]]) -> Iterator[dict[str, Any]]:
    addresses = [r.get("registered_address") or "" for r in batch]
    placed = resolver.resolve_many([a for a in addresses if a.strip()])
    where = iter(placed)
    for row, address in zip(batch, addresses, strict=True):
        place = next(where) if address.strip() else None
        phones = _phones(_split(row.get("phones", "")))
        emails = _emails(_split(row.get("emails", "")))
        accounts = _split(row.get("payout_accounts", ""))
        id_hash = (normalise.identity_hash(row["id_number"], KEY) if row.get("id_number")
                   else row.get("id_hash") or None)
        ids = ([f"account:{a}" for a in accounts] + ([f"identity:{id_hash}"] if id_hash else [])
               + [f"phone:{p}" for p in phones] + [f"email:{e}" for e in emails]
               + [f"device:{d}" for d in _split(row.get("devices", "")) if d.startswith("fp:")])
        yield {"id": row["seller_id"], "name": row.get("legal_name") or None,
               "address": place.normalized if place else None,
               "adcode": place.adcode if place else None,
               "province": place.province if place else None,
               "city": place.city if place else None,
               "district": place.district if place else None,
               "phones": phones, "emails": emails,
               "holders": [h for a in accounts for h in owners.get(a, [])], "ids": ids}


# --- where true pairs are lost -------------------------------------------------------------


def member_kind(r: dict[str, Any], boss_key: str | None) -> dict[str, bool]:
    """Which signals a ring member's row carries, read from its comparison keys."""
    return {"name_key_equal": r["name_key"] is not None and r["name_key"] == boss_key}


def quality(groups: list[list[str]], truth: dict[str, Any], sellers: int) -> dict[str, Any]:
    ring_of = {s: i for i, r in enumerate(truth["rings"]) for s in r["sellers"]}
    planted = {(a, b) for r in truth["rings"] for a, b in combinations(sorted(r["sellers"]), 2)}
    found = {(a, b) for g in groups for a, b in combinations(sorted(g), 2)}
    hit = len(found & planted)
    pulled = sum(1 for g in groups if any(s in ring_of for s in g) for s in g if s not in ring_of)
    honest = sellers - len(ring_of)
    whole = sum(1 for r in truth["rings"] if any(set(r["sellers"]) <= set(g) for g in groups))
    held = member_recall(groups, truth)
    return {"precision": round(hit / len(found), 4) if found else 1.0,
            "recall": round(hit / len(planted), 4) if planted else 1.0,
            "member_recall": round(held, 4),
            "rings_whole": f"{whole}/{len(truth['rings'])}", "pulled": pulled,
            "pulled_per_1000": round(1000 * pulled / max(honest, 1), 3)}


def saved_rows(path: Path) -> Iterator[dict[str, Any]]:
    """The rows of a saved export, read a batch at a time."""
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=10_000):
        yield from batch.to_pylist()


ROW_SCHEMA_TEXT = ("id", "name", "address", "adcode", "province", "city", "district")
ROW_SCHEMA_LISTS = ("phones", "emails", "holders", "ids")


def saving(source: Iterator[dict[str, Any]], path: Path, batch: int = 10_000
           ) -> Iterator[dict[str, Any]]:
    """The rows of `source`, written to a parquet file at `path` as they pass, a batch at
    a time (never all of them in memory)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(c, pa.string()) for c in ROW_SCHEMA_TEXT]
                       + [(c, pa.list_(pa.string())) for c in ROW_SCHEMA_LISTS])
    with pq.ParquetWriter(path, schema) as writer:
        pending: list[dict[str, Any]] = []
        for row in source:
            pending.append(row)
            if len(pending) == batch:
                writer.write_table(pa.Table.from_pylist(pending, schema=schema))
                yield from pending
                pending = []
        if pending:
            writer.write_table(pa.Table.from_pylist(pending, schema=schema))
            yield from pending


def copies(rows: list[dict[str, Any]], count: int) -> Iterator[dict[str, Any]]:
    """`count` copies of an export, each with its own ids, phones (another number block),
    e-mails and identifiers, names and addresses kept: namesakes and neighbours grow as in
    a population `count` times bigger, and no exact identifier crosses copies."""
    for c in range(count):
        for r in rows:
            yield {**r, "id": f"{r['id']}c{c}",
                   "phones": [_other_block(p, c) for p in r.get("phones") or []],
                   "emails": [e.replace("@", f"c{c}@") for e in r.get("emails") or []],
                   "ids": [f"{i}c{c}" for i in r.get("ids") or []]}


def _other_block(phone: str, copy: int) -> str:
    if not phone.startswith("+86") or len(phone) < 9:
        return phone
    return phone[:5] + str((int(phone[5]) + copy) % 10) + phone[6:]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", nargs="?")
    parser.add_argument("--rows", help="A saved export (parquet) instead of the bundle's CSV.")
    parser.add_argument("--truth", help="truth.json (default: the bundle's).")
    parser.add_argument("--save", help="Save the export rows as parquet here.")
    parser.add_argument("--threshold", type=float, default=0.99)
    parser.add_argument("--pairs", help="Write the scored true and false pairs (JSON lines).")
    parser.add_argument("--copies", type=int, default=1,
                        help="Score this many copies of the export (a bigger population; "
                             "no truth then).")
    args = parser.parse_args()
    began = time.perf_counter()
    if args.rows:
        source: Iterator[dict[str, Any]] = saved_rows(Path(args.rows))
    else:
        source = rows(Path(args.bundle))
    if args.save:
        source = saving(source, Path(args.save))
    if args.copies > 1:
        source = copies(list(source), args.copies)
        args.truth = args.bundle = None
    table = match_model.records(source)
    built = time.perf_counter() - began
    print(f"records: {table.num_rows} sellers in {built:.1f} s, peak RSS {peak_mib():.0f} MiB",
          flush=True)
    began = time.perf_counter()
    scored = match_model.train_and_score(table, threshold=args.threshold, confirmed=[])
    print(f"model: {len(scored.pairs)} pairs in {time.perf_counter() - began:.1f} s "
          f"({match_model.score_parts(table.num_rows)} parts), peak RSS {peak_mib():.0f} MiB",
          flush=True)
    truth_path = Path(args.truth or Path(args.bundle or ".") / "truth.json")
    if not truth_path.exists():
        return 0
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    ring_of = {s: i for i, r in enumerate(truth["rings"]) for s in r["sellers"]}
    true = sum(1 for p in scored.pairs if ring_of.get(p["a"], -1) == ring_of.get(p["b"], -2))
    print(f"links: {len(scored.pairs)}, true {true}")
    ids = table.column("id").to_pylist()
    groups = [g for g in match_model.components(ids, [(p["a"], p["b"]) for p in scored.pairs])
              if len(g) > 1]
    print("networks:", quality(groups, truth, len(ids)))
    wrong = Counter("ring-ring" if p["a"] in ring_of and p["b"] in ring_of else
                    "ring-honest" if p["a"] in ring_of or p["b"] in ring_of else "honest-honest"
                    for p in scored.pairs if ring_of.get(p["a"], -1) != ring_of.get(p["b"], -2))
    print("false links:", dict(wrong))
    if args.pairs:
        with open(args.pairs, "w", encoding="utf-8") as out:
            for p in scored.pairs:
                p["true"] = ring_of.get(p["a"], -1) == ring_of.get(p["b"], -2)
                out.write(json.dumps(p, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
