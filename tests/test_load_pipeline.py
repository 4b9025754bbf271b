"""The loader's pure steps (no database): batches to operations, caches, the collector."""

from __future__ import annotations

import gc
import io
import weakref
from pathlib import Path

import pytest

from loaders import mapping
from loaders.mapping import Mapper
from loaders.pipeline import GC_THRESHOLD, FileReport, file_batches, gc_relaxed, map_batch
from loaders.validate import validate
from loaders.write import pack

BUNDLE = Path(__file__).parent / "fixtures" / "loader" / "bundle"
KEY = b"test-pii-key"


def test_gc_relaxed_restores_the_collector() -> None:
    before = gc.get_threshold()
    with gc_relaxed():
        assert gc.isenabled()
        assert gc.get_threshold()[0] == GC_THRESHOLD
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_map_batch_counts_and_rejects() -> None:
    path = BUNDLE / "sellers.csv"
    report, rejects = FileReport(path.name), io.StringIO()
    columns, batches = file_batches(path, "auto", 2)
    ops = [op for batch in batches for op in map_batch(path, batch, Mapper(KEY), report, rejects,
                                                          columns)]
    assert report.read == report.loaded + report.rejected == 3
    assert len(ops) == report.loaded == 2
    assert rejects.getvalue().count("\n") == 1
    statements, new = pack(ops, set())
    assert statements and ("Division", "440000") in new


def _address_ops(mapper: Mapper, raw: str) -> mapping.Ops:
    clean, reasons = validate("sites", {"site_id": "X1", "kind": "den", "address": raw})
    assert reasons == []
    mapper.prepare([clean])
    return mapper.map("sites", clean)


def test_address_operations_kept_per_text() -> None:
    mapper = Mapper(KEY)
    first = _address_ops(mapper, "广东省广州市白云区机场路1号")
    again = _address_ops(mapper, "广东省广州市白云区机场路1号")
    assert first == again
    assert first.nodes[1] is again.nodes[1]  # the Address node, made once
    assert [n.label for n in first.nodes] == ["Site", "Address", "Division", "Division",
                                              "Division"]
    assert [r.type for r in first.rels] == ["LOCATED_AT", "PART_OF", "PART_OF", "IN_DIVISION"]


def test_address_operations_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mapping, "PLACES_KEPT", 2)
    mapper = Mapper(KEY)
    for number in range(5):
        _address_ops(mapper, f"广州市白云区机场路{number}号")
        assert len(mapper.places) <= 2
    fresh = Mapper(KEY)
    assert _address_ops(mapper, "广州市白云区机场路0号") == _address_ops(fresh, "广州市白云区机场路0号")


def test_pipeline_makes_no_reference_cycles() -> None:
    """The loader runs the cyclic collector rarely: mapping a file, rejects included, and
    dropping the mapper must leave nothing that only the collector could free."""
    mapper = Mapper(KEY)
    mapper_ref = weakref.ref(mapper)
    gc.collect()
    with gc_relaxed():
        for name in ("sellers.csv", "shops.csv", "listings.csv"):
            path = BUNDLE / name
            columns, batches = file_batches(path, "auto", 2)
            for batch in batches:
                pack(map_batch(path, batch, mapper, FileReport(name), io.StringIO(), columns),
                     set())
        del mapper
        assert mapper_ref() is None
        assert gc.collect() == 0
