"""New uploads after a bundle's cut-off, for screening: `uploads.jsonl`, labelled in truth.json.

Each upload (data contract, "Uploads to screen") is one of these kinds, in these shares:

- `ring_reuse` (30%): a ring member's new account and shop reusing some of what the graph
  knows of its ring, in realistic mixes: the payout account, a phone, a device
  fingerprint, the ring site's address to ship from or take returns at, an e-mail, the
  identity number (each with its own chance, at least one); the rest is new. Expected BLOCK.
- `ring_fresh` (5%): a ring member reusing nothing the graph knows but a fulfilment
  warehouse or a carrier IP (hubs). Nothing to find: expected ALLOW.
- `new_bad` (5%): a new bad actor, everything new. Expected ALLOW (the graph cannot know).
- `honest_new` (35%): a new honest seller, everything new.
- `honest_existing` (10%): a known honest seller opening a new shop with its own identifiers.
- `honest_hub` (7%): a new honest seller shipping from and taking returns at a fulfilment
  warehouse that ring shops use too.
- `honest_carrier_ip` (5%): a new honest seller logging in through a carrier IP that ring
  sellers use too.
- `honest_park` (3%): a new honest shop in the same business park as a raided site (a
  confirmed or suspected one when no site was raided), at another unit: the same street
  number, a unit after it.

A bundle whose rings all hide (`--evasion` 1 to 3) gets no ring uploads and no
`honest_park`: the uploads are made from the identifiers the plain rings keep.

The uploads come from their own random generator (seeded from the bundle's seed), so
adding them changes nothing else of the bundle. Fresh identifiers are new to the bundle
(phones from 199, e-mails at 126.com, `alipay:u...`, `fp:u...`). truth.json's `uploads`
lists each upload's id, kind, `expected` decision (BLOCK for `ring_reuse`, else ALLOW),
and `reused` (the kinds of known identifiers it carries: the ones that can block) with
its `ring_id` or `site_id` where there is one.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

from alliance.generate.bundle import EPOCH, PLATFORMS, Bundle, id_number, phone_spelling
from alliance.generate.geography import District, spelling, street_address
from alliance.generate.rows import PRODUCTS

SHARES: tuple[tuple[str, float], ...] = (
    ("ring_reuse", 0.30), ("ring_fresh", 0.05), ("new_bad", 0.05), ("honest_new", 0.35),
    ("honest_existing", 0.10), ("honest_hub", 0.07), ("honest_carrier_ip", 0.05),
    ("honest_park", 0.03),
)
REUSE: tuple[tuple[str, float], ...] = (
    ("payment_account", 0.45), ("phone", 0.35), ("device_fp", 0.35), ("ship_from", 0.35),
    ("email", 0.25), ("return_address", 0.2), ("identity", 0.2),
)
"""The chance a ring member's new account reuses each known identifier of its ring."""
UPLOADS_PER_SELLER = 0.1
CUT_OFF_DAYS = 700
"""The bundle's dates run over 700 days from its epoch: uploads come after."""


def upload_count(scale: int) -> int:
    return max(40, int(scale * UPLOADS_PER_SELLER))


class Uploads:
    """The state of one run of uploads."""

    def __init__(self, b: Bundle, seed: int) -> None:
        self.b = b
        self.rng = random.Random(f"uploads-{seed}")
        self.count = 0

    def next_ids(self) -> dict[str, str]:
        self.count += 1
        n = self.count
        return {"upload_id": f"U{n:07d}", "seller_id": f"N{n:07d}", "shop_id": f"NSH{n:07d}",
                "listing_id": f"NL{n:07d}"}

    def fresh(self) -> dict[str, Any]:
        """A new seller's identifiers and address, none of them known to the bundle."""
        n = self.count
        district = self.rng.choice(self.b.geo)
        home = (district, street_address(self.rng, district)[1])
        return {"phones": [phone_spelling(self.rng, f"199{n:08d}")],
                "emails": [f"u{n}@126.com"], "payout_accounts": [f"alipay:u{n:08d}"],
                "devices": [f"fp:u{hashlib.sha1(f'u{n}'.encode()).hexdigest()[:15]}"],
                "id_number": id_number(self.rng, district),
                "ship_from_address": self.spell(home), "return_address": self.spell(home)}

    def spell(self, place: tuple[District, str]) -> str:
        return spelling(self.rng, place[0], place[1])

    def listing(self, brands: list[str]) -> dict[str, Any]:
        brand = self.rng.choice(brands)
        day = EPOCH + timedelta(days=CUT_OFF_DAYS + self.rng.randrange(30))
        return {"platform": self.rng.choice(PLATFORMS), "brand_id": brand,
                "title": f"{brand} {self.rng.choice(PRODUCTS)}",
                "price": round(self.rng.uniform(30, 900), 2), "uploaded_on": day.isoformat()}


def ring_reuse(u: Uploads, upload: dict[str, Any]) -> dict[str, Any]:
    ring = u.rng.choice(u.b.known_rings)
    group = u.rng.choice(ring["groups"])
    site = u.rng.choice(ring["sites"])
    reused = [kind for kind, chance in REUSE if u.rng.random() < chance]
    reused = reused or [u.rng.choices([k for k, _ in REUSE], [c for _, c in REUSE])[0]]
    known = {"payment_account": ("payout_accounts", [group["payout"]]),
             "phone": ("phones", [phone_spelling(u.rng, group["phone"])]),
             "device_fp": ("devices", [group["device"]]),
             "email": ("emails", [group["email"].upper() if u.rng.random() < 0.3 else group["email"]]),
             "identity": ("id_number", group["id_number"]),
             "ship_from": ("ship_from_address", u.spell(site["place"])),
             "return_address": ("return_address", u.spell(site["place"]))}
    for kind in reused:
        field, value = known[kind]
        upload[field] = value
    upload.update(u.listing(ring["brands"]))
    return {"ring_id": ring["ring_id"], "reused": sorted(reused)}


def ring_fresh(u: Uploads, upload: dict[str, Any]) -> dict[str, Any]:
    ring = u.rng.choice(u.b.known_rings)
    if u.rng.random() < 0.5:
        upload["return_address"] = u.spell(u.rng.choice(u.b.hubs))
    else:
        upload["devices"] = [*upload["devices"], u.rng.choice(u.b.carrier_ips)]
    upload.update(u.listing(ring["brands"]))
    return {"ring_id": ring["ring_id"]}


def honest_existing(u: Uploads, upload: dict[str, Any]) -> dict[str, Any]:
    if not u.b.known_honest:  # a bundle too small to keep one
        return plain(u, upload)
    known = u.rng.choice(u.b.known_honest)
    for field in ("phones", "emails", "payout_accounts", "devices"):
        upload[field] = list(known.get(field, []))
    upload.pop("id_number")
    if known.get("id_number"):
        upload["id_number"] = known["id_number"]
    elif known.get("id_hash"):
        upload["id_hash"] = known["id_hash"]
    upload["seller_id"] = known["seller_id"]
    upload["ship_from_address"] = upload["return_address"] = u.spell(known["home"])
    upload.update(u.listing(u.b.brands))
    upload["platform"] = known["platform"]
    return {}


def honest_hub(u: Uploads, upload: dict[str, Any]) -> dict[str, Any]:
    hub = u.rng.choice(u.b.hubs)
    upload["ship_from_address"] = u.spell(hub)
    upload["return_address"] = u.spell(hub)
    upload.update(u.listing(u.b.brands))
    return {}


def honest_carrier_ip(u: Uploads, upload: dict[str, Any]) -> dict[str, Any]:
    upload["devices"] = [*upload["devices"], u.rng.choice(u.b.carrier_ips)]
    upload.update(u.listing(u.b.brands))
    return {}


def honest_park(u: Uploads, upload: dict[str, Any]) -> dict[str, Any]:
    raided = [s for r in u.b.known_rings if r["raided"] for s in r["sites"]]
    site = u.rng.choice(raided or [s for r in u.b.known_rings for s in r["sites"]])
    district, street = site["place"]
    unit = f"{u.rng.randint(1, 12)}栋{u.rng.randint(1, 6)}0{u.rng.randint(1, 9)}室"
    upload["ship_from_address"] = u.spell((district, street + unit))
    upload.update(u.listing(u.b.brands))
    return {"site_id": site["site_id"]}


def plain(u: Uploads, upload: dict[str, Any]) -> dict[str, Any]:
    upload.update(u.listing(u.b.brands))
    return {}


MAKERS = {"ring_reuse": ring_reuse, "ring_fresh": ring_fresh, "new_bad": plain,
          "honest_new": plain, "honest_existing": honest_existing, "honest_hub": honest_hub,
          "honest_carrier_ip": honest_carrier_ip, "honest_park": honest_park}


NEED_RINGS = ("ring_reuse", "ring_fresh", "honest_park")
"""Kinds made from what the run kept of its rings: none when every ring hides
(`alliance generate --evasion`, whose rings `evasion.py` writes)."""


def kinds_in_order(u: Uploads, count: int) -> list[str]:
    """Each kind its share of `count` (at least one each), shuffled."""
    kinds = [kind for kind, share in SHARES for _ in range(max(1, round(share * count)))
             if u.b.known_rings or kind not in NEED_RINGS]
    u.rng.shuffle(kinds)
    return kinds


def write_uploads(b: Bundle, seed: int) -> list[dict[str, Any]]:
    """Write `uploads.jsonl` into the bundle's folder; returns the truth of each upload."""
    u = Uploads(b, seed)
    truth = []
    path: Path = b.out_dir / "uploads.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for kind in kinds_in_order(u, upload_count(b.scale)):
            upload: dict[str, Any] = u.next_ids()
            upload.update(u.fresh())
            label = MAKERS[kind](u, upload)
            out.write(json.dumps(upload, ensure_ascii=False) + "\n")
            truth.append({"upload_id": upload["upload_id"], "kind": kind,
                          "expected": "BLOCK" if kind == "ring_reuse" else "ALLOW",
                          "reused": label.pop("reused", []), **label})
    return truth
