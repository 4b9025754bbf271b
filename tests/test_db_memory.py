"""`alliance db start` sizes the local server's memory from the machine and the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from alliance import local_neo4j
from alliance.local_neo4j import MIB, ServerError, size_bytes, size_memory, store_size

GIB = 1 << 30


def test_a_small_store_gets_the_least_memory() -> None:
    sizing = size_memory(24 * GIB, 50 * MIB)
    assert sizing.memory.heap_max == "1036m"
    assert sizing.memory.pagecache == "512m"


def test_the_page_cache_holds_the_store_and_its_growth_when_it_fits() -> None:
    sizing = size_memory(24 * GIB, 5 * GIB)
    assert size_bytes(sizing.memory.pagecache) == int(5 * GIB * 1.2) // MIB * MIB + 256 * MIB
    assert size_bytes(sizing.memory.heap_max) == 2 * GIB + 256 * MIB


def test_neo4j_takes_at_most_half_the_machine() -> None:
    sizing = size_memory(24 * GIB, 40 * GIB)
    heap, cache = size_bytes(sizing.memory.heap_max), size_bytes(sizing.memory.pagecache)
    assert heap == 4 * GIB
    assert heap + cache == 12 * GIB
    assert "machine 24.0 GiB, store 40.00 GiB" in sizing.describe()


def test_what_is_set_wins() -> None:
    sizing = size_memory(24 * GIB, 40 * GIB, heap="3g", pagecache="6144m")
    assert (sizing.memory.heap_max, sizing.memory.pagecache) == ("3072m", "6144m")
    assert sizing.memory.transaction_total_max == "1536m"
    assert "heap, page cache as set" in sizing.describe()


def test_sizes_are_read_as_neo4j_writes_them() -> None:
    assert size_bytes("512m") == 512 * MIB
    assert size_bytes("2G") == 2 * GIB
    assert size_bytes("1048576") == MIB
    with pytest.raises(ServerError, match="not a memory size"):
        size_bytes("lots")


def test_the_store_size_counts_the_databases_not_the_transaction_logs(tmp_path: Path) -> None:
    (tmp_path / "databases" / "neo4j").mkdir(parents=True)
    (tmp_path / "transactions" / "neo4j").mkdir(parents=True)
    (tmp_path / "databases" / "neo4j" / "neostore.nodestore.db").write_bytes(b"x" * 1000)
    (tmp_path / "transactions" / "neo4j" / "neostore.transaction.db.0").write_bytes(b"x" * 5000)
    assert store_size(tmp_path) == 1000


def test_db_start_reads_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from alliance import db_cli
    from core.settings import get_settings

    monkeypatch.setenv("ALLIANCE_HOME", str(tmp_path))
    monkeypatch.setenv("ALLIANCE_NEO4J_HEAP", "1536m")
    monkeypatch.setenv("ALLIANCE_NEO4J_PAGECACHE", "3g")
    get_settings.cache_clear()
    try:
        config, sizing = db_cli.sized_config(port=7999)
    finally:
        get_settings.cache_clear()
    assert config.memory.heap_max == "1536m" and config.memory.pagecache == "3072m"
    assert "-Xmx1536m" in local_neo4j.java_command("java", [], config)
    assert "server.memory.pagecache.size=3072m" in local_neo4j.render_conf(config)


def test_the_importer_takes_neo4js_share_of_the_machine_while_the_server_is_stopped() -> None:
    assert local_neo4j.import_memory(24 * GIB) == ("3072m", "9216m")
    assert local_neo4j.import_memory(4 * GIB) == ("1024m", "1024m")
    assert local_neo4j.import_memory(64 * GIB) == ("4096m", "28672m")
    config = local_neo4j.ServerConfig(home=Path("/nowhere"), port=7701)
    command = local_neo4j.import_command("java", [], config, "neo4j", ["--nodes=x.csv"],
                                         machine_bytes=24 * GIB)
    assert "-Xmx3072m" in command and "--max-off-heap-memory=9216m" in command
