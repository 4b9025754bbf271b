"""One generation run: reference data, rings, honest sellers, then `truth.json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alliance.generate import evasion as hiding
from alliance.generate import rows
from alliance.generate.bundle import RING_SHARE, Bundle, Summary
from alliance.generate.uploads import write_uploads


def generate_bundle(out_dir: Path | str, *, scale: int, seed: int, fmt: str = "csv",
                    dirty: float = 0.005, evasion: int = 0) -> Summary:
    """Write a bundle of about `scale` sellers into `out_dir` (created), with truth.json
    and the new uploads to screen (`uploads.jsonl`); `evasion` above 0 plants rings that
    share no exact identifier (`evasion.py`)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    bundle = Bundle(out, scale, seed, fmt, dirty, hiding.check_level(evasion))
    write_ring = hiding.write_ring if evasion else rows.write_ring
    dress = hiding.dress_honest if evasion else None
    try:
        rows.write_reference(bundle)
        ring_sellers = 0
        while ring_sellers < max(2, int(scale * RING_SHARE)):
            ring_sellers += write_ring(bundle, min(200, max(2, int(bundle.rng.paretovariate(1.3) * 2))))
        for _ in range(max(0, scale - ring_sellers)):
            rows.write_honest(bundle, dress)
    finally:
        for writer in bundle.out.values():
            writer.close()
    return write_truth(bundle, seed, write_uploads(bundle, seed))


def write_truth(bundle: Bundle, seed: int, uploads: list[dict[str, Any]]) -> Summary:
    summary = Summary(bundle.out_dir)
    counts = {}
    for name, writer in bundle.out.items():
        rejected = len(bundle.bad_rows[name])
        summary.rows[name], summary.rejected[name] = writer.rows, rejected
        counts[name] = {"rows": writer.rows, "loaded": writer.rows - rejected, "rejected": rejected}
    head = {
        "seed": seed, "scale": bundle.scale, "counts": counts,
        "hub_addresses": [f"{d.province}{d.city}{d.name}{s}" for d, s in bundle.hubs],
        "bad_rows": {k: v for k, v in bundle.bad_rows.items() if v},
        "uploads": uploads,
    }
    if bundle.evasion:
        head["evasion"] = bundle.evasion
    with (bundle.out_dir / "truth.json").open("w", encoding="utf-8") as out:
        out.write("{\n")
        for key, value in sorted(head.items()):
            out.write(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False, sort_keys=True)},\n")
        out.write(' "honest_sellers": {"id_prefix": "H", "traps": ')
        bundle.traps.write_array(out)
        out.write('},\n "rings": ')
        bundle.rings.write_array(out)
        out.write("\n}\n")
    return summary
