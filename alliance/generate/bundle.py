"""Synthetic alliance bundles with known answers.

The state of one run (`Bundle`), its writers and small value makers; `run.py` drives a
run and `rows.py` makes the rows. `generate_bundle` writes the thirteen files of the data
contract plus `truth.json`. Everything comes from one `random.Random(seed)`, so one seed
gives byte-identical files. Rows are written as they are made (ring by ring, then honest
sellers one at a time), so memory holds one ring at a time, not the bundle; the truth
about rings and honest traps is spooled to files beside the bundle and streamed into
`truth.json` at the end.

Rings share strong identifiers in groups of at most `GROUP_SIZE` sellers, each group
bridged to the previous one by a payout account, so no identifier of a ring is shared
by more sellers than the networks' hub threshold; honest sellers share only fulfilment
warehouses, carrier hubs and mobile-carrier IPs (hubs), never a strong identifier. Ring
sellers use those hubs too: every other one logs in through a carrier IP, and a third
of ring shops take returns at a fulfilment warehouse. `uploads.py` then writes the new
uploads to screen, from what the run kept of the rings and of some honest sellers.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

from alliance.generate.geography import District, districts, spelling, street_address

FILES: dict[str, tuple[str, ...]] = {
    "brands": ("brand_id", "name", "name_zh", "country", "owner", "alliance_member",
               "joined_on", "trademark_nos"),
    "agencies": ("agency_id", "name", "level", "adcode", "unit"),
    "sellers": ("seller_id", "platform", "nickname", "kind", "legal_name", "id_number", "id_hash",
                "registered_on", "status", "phones", "emails", "payout_accounts", "devices",
                "registered_address"),
    "shops": ("shop_id", "seller_id", "platform", "name", "url", "opened_on", "closed_on", "status",
              "ship_from_address", "return_address"),
    "listings": ("listing_id", "shop_id", "brand_id", "title", "price", "currency", "url",
                 "first_seen", "status", "blocked_at_upload"),
    "complaints": ("complaint_id", "brand_id", "listing_id", "shop_id", "filed_on", "kind",
                   "outcome", "resolved_on"),
    "shipments": ("carrier", "waybill_no", "shop_id", "origin_address", "sender_name",
                  "sender_phone", "shipped_on", "destination_adcode"),
    "test_purchases": ("purchase_id", "listing_id", "ordered_on", "carrier", "waybill_no",
                       "authenticated_by", "report_no", "verdict", "verdict_on"),
    "persons": ("person_id", "name", "id_number", "id_hash", "phones", "emails",
                "controls_sellers", "operates_sites", "owns_accounts"),
    "sites": ("site_id", "kind", "address", "label", "status", "first_seen"),
    "transfers": ("from_account", "to_account", "total_cny", "count", "first_on", "last_on"),
    "leads": ("lead_id", "created_on", "status", "agency_id", "brand_ids", "concerns_sellers",
              "concerns_shops", "concerns_sites", "concerns_persons", "evidence_purchases",
              "evidence_complaints", "estimated_value_cny", "pushed_on"),
    "cases": ("case_id", "agency_id", "lead_id", "title", "opened_on", "status", "charge",
              "case_value_cny", "arrests", "dens_destroyed", "raided_sites", "suspects",
              "brand_ids"),
}

GROUP_SIZE = 12
RING_SHARE = 0.03
EPOCH = date(2024, 1, 1)
PLATFORMS = ("taobao", "tmall", "1688", "pinduoduo", "jd")
CARRIERS = ("SF", "ZTO", "YTO", "STO", "YUNDA")
COUNTRIES = ("US", "FR", "IT", "DE", "GB", "JP", "KR", "CH", "ES", "SE", "NL", "DK", "CN", "AU",
             "CA", "BR", "IN", "FI")
MOBILE_PREFIXES = ("139", "138", "137", "136", "135", "158", "159", "186", "187", "188")
RING_PREFIX = "177"
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

# One planted defect per kind: (file, field, bad value, reason code the loader gives).
DEFECTS: tuple[tuple[str, str, str, str], ...] = (
    ("sellers", "phones", "12345", "phone"),
    ("sellers", "registered_on", "2021-13-45", "date"),
    ("sellers", "status", "frozen", "enum"),
    ("sellers", "platform", "", "missing"),
    ("sellers", "emails", "not-an-email", "email"),
    ("sellers", "payout_accounts", "paypal", "format"),
    ("sellers", "id_number", "12345X", "id_number"),
    ("listings", "price", "twelve", "number"),
    ("listings", "blocked_at_upload", "maybe", "bool"),
    ("complaints", "listing_id", "", "reference"),
    ("brands", "country", "Atlantis", "format"),
)


@dataclass
class Summary:
    out_dir: Path
    rows: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)


def id_number(rng: random.Random, district: District) -> str:
    """An 18-character resident ID number with a valid check digit (GB 11643)."""
    born = EPOCH - timedelta(days=rng.randint(20 * 365, 60 * 365))
    body = f"{district.adcode}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    return body + ID_CHECK[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def mobile(number: int, prefix: str) -> str:
    return f"{prefix}{number % 10**8:08d}"


def phone_spelling(rng: random.Random, digits: str) -> str:
    variant = rng.randrange(3)
    if variant == 0:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if variant == 1:
        return f"+86-{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    return digits


def day(rng: random.Random, start: int = 0, span: int = 700) -> str:
    return (EPOCH + timedelta(days=start + rng.randrange(span))).isoformat()


class Writer:
    """One output file: CSV (lists `;`-joined) or JSONL, counting physical lines."""

    def __init__(self, path: Path, fields: tuple[str, ...], fmt: str) -> None:
        self.fields, self.fmt = fields, fmt
        self.handle: IO[str] = path.open("w", encoding="utf-8", newline="")
        self.csv = csv.writer(self.handle, lineterminator="\n") if fmt == "csv" else None
        self.line = 0
        self.rows = 0
        if self.csv:
            self.csv.writerow(fields)
            self.line = 1

    def write(self, row: dict[str, Any]) -> int:
        unknown = set(row) - set(self.fields)
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}")
        if self.csv:
            self.csv.writerow([_cell(row.get(f)) for f in self.fields])
        else:
            self.handle.write(json.dumps({f: row[f] for f in self.fields if f in row},
                                         ensure_ascii=False) + "\n")
        self.line += 1
        self.rows += 1
        return self.line

    def close(self) -> None:
        self.handle.close()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Spool:
    """A list kept on disk: one JSON line per item, read back once for truth.json."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: IO[str] = path.open("w", encoding="utf-8")

    def append(self, item: dict[str, Any]) -> None:
        self.handle.write(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n")

    def write_array(self, out: IO[str]) -> None:
        """Write the items as a JSON array into `out`, then remove the spool."""
        self.handle.close()
        out.write("[")
        with self.path.open(encoding="utf-8") as spooled:
            for index, line in enumerate(spooled):
                out.write(("," if index else "") + "\n  " + line.rstrip("\n"))
        out.write("\n ]")
        self.path.unlink()


class Bundle:
    """The state of one generation run."""

    def __init__(self, out_dir: Path, scale: int, seed: int, fmt: str, dirty: float,
                 evasion: int = 0) -> None:
        self.rng = random.Random(seed)
        self.evasion = evasion
        self.scale, self.dirty, self.out_dir = scale, dirty, out_dir
        ext = "csv" if fmt == "csv" else "jsonl"
        self.out = {name: Writer(out_dir / f"{name}.{ext}", fields, fmt)
                    for name, fields in FILES.items()}
        self.geo = districts()
        self.hot = self.rng.sample(self.geo, 12)
        self.brands = [f"B{i:04d}" for i in range(max(20, scale // 1000))]
        self.counter: dict[str, int] = {}
        self.bad_rows: dict[str, list[dict[str, Any]]] = {name: [] for name in FILES}
        self.rings = Spool(out_dir / ".truth-rings.jsonl")
        self.traps = Spool(out_dir / ".truth-traps.jsonl")
        self.hubs = [self._address(self.rng.choice(self.geo)) for _ in range(10)]
        self.carrier_ips = [f"ip:117.136.{i}.{self.rng.randint(1, 254)}" for i in range(8)]
        self.known_rings: list[dict[str, Any]] = []
        """Each ring's identifiers, sites and brands, for the uploads (`uploads.py`)."""
        self.known_honest: list[dict[str, Any]] = []
        self.mails: set[str] = set()
        """Lower-cased e-mails the evasion levels have handed out (each one once)."""

    def next_id(self, prefix: str, width: int = 6) -> str:
        self.counter[prefix] = self.counter.get(prefix, 0) + 1
        return f"{prefix}{self.counter[prefix]:0{width}d}"

    def _address(self, district: District) -> tuple[District, str]:
        return district, street_address(self.rng, district)[1]

    def spell(self, place: tuple[District, str]) -> str:
        return spelling(self.rng, place[0], place[1])

    def emit(self, name: str, row: dict[str, Any]) -> None:
        self.out[name].write(row)
        if self.dirty and self.rng.random() < self.dirty:
            self.plant(name, row)

    def plant(self, name: str, row: dict[str, Any]) -> None:
        """Write a copy of `row` with a fresh id and one defect, and record it."""
        kinds = [d for d in DEFECTS if d[0] == name]
        if not kinds:
            return
        _, column, value, code = self.rng.choice(kinds)
        bad = dict(row)
        key = FILES[name][0]
        bad[key] = self.next_id(f"X{key[:2].upper()}")
        bad[column] = value if column != "listing_id" else None
        if column == "listing_id":
            bad["shop_id"] = None
        line = self.out[name].write(bad)
        self.bad_rows[name].append({"line": line, "field": column, "code": code})


def read_truth(bundle_dir: Path | str) -> dict[str, Any]:
    return dict(json.loads((Path(bundle_dir) / "truth.json").read_text(encoding="utf-8")))


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
