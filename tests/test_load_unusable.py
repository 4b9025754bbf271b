"""Unusable input writes nothing: every file is read whole before the first write, so a
file that cannot be decoded at some line, or has no header, stops the run before it
starts (exit 2, the file and line named)."""

from __future__ import annotations

from pathlib import Path

import pytest
from neo4j import Driver
from typer.testing import CliRunner

from alliance.cli import app
from loaders import UnusableInput, load_paths
from loaders.read import check_file, read_records

BUNDLE = Path(__file__).parent / "fixtures" / "loader" / "bundle"
KEY = b"test-pii-key"
runner = CliRunner()


def node_count(driver: Driver, database: str) -> int:
    records, _, _ = driver.execute_query("MATCH (n) RETURN count(n) AS n", database_=database)
    return int(records[0]["n"])


def mixed_sellers(folder: Path, good_rows: int = 2500) -> Path:
    """`good_rows` UTF-8 sellers (with Chinese text, each with a phone), then one line in
    GB18030: line good_rows + 2 cannot be decoded as UTF-8."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sellers.csv"
    rows = "".join(f"S{n},shopx,小店{n},+86 138 {n:04d} {n:04d}\n" for n in range(good_rows))
    path.write_bytes(("seller_id,platform,nickname,phones\n" + rows).encode("utf-8")
                     + "S-last,shopx,广州小店,\n".encode("gb18030"))
    return path


def test_a_file_undecodable_at_its_last_line_is_named_with_that_line(tmp_path: Path) -> None:
    path = mixed_sellers(tmp_path, good_rows=2500)
    with pytest.raises(UnusableInput, match=r"sellers\.csv line 2502: cannot be decoded as utf-8"):
        check_file(path)


def test_a_file_undecodable_late_writes_nothing(clean_db: Driver, database: str,
                                                tmp_path: Path) -> None:
    path = mixed_sellers(tmp_path / "b")
    with pytest.raises(UnusableInput, match=r"sellers\.csv line 2502"):
        load_paths(clean_db, database, [path], source="t", pii_key=KEY, batch_size=100)
    assert node_count(clean_db, database) == 0


def test_a_bad_file_after_good_ones_writes_nothing_of_the_run(clean_db: Driver, database: str,
                                                              tmp_path: Path) -> None:
    """brands.csv and agencies.csv come before sellers.csv in the run: not written either."""
    bundle = tmp_path / "b"
    mixed_sellers(bundle, good_rows=10)
    for name in ("brands.csv", "agencies.csv"):
        (bundle / name).write_bytes((BUNDLE / name).read_bytes())
    with pytest.raises(UnusableInput, match=r"sellers\.csv line 12"):
        load_paths(clean_db, database, [bundle], source="t", pii_key=KEY)
    assert node_count(clean_db, database) == 0


def test_a_file_without_header_after_good_ones_writes_nothing(clean_db: Driver, database: str,
                                                              tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    bundle.mkdir()
    (bundle / "brands.csv").write_bytes((BUNDLE / "brands.csv").read_bytes())
    (bundle / "sites.csv").write_text("\n\n", encoding="utf-8")
    with pytest.raises(UnusableInput, match=r"sites\.csv: no header row"):
        load_paths(clean_db, database, [bundle], source="t", pii_key=KEY)
    assert node_count(clean_db, database) == 0


def test_cli_exits_2_with_the_line_and_writes_nothing(clean_db: Driver, database: str,
                                                      tmp_path: Path) -> None:
    path = mixed_sellers(tmp_path / "b")
    report = tmp_path / "report.json"
    result = runner.invoke(app, ["load", str(path), "--source", "cli", "--batch-size", "100",
                                 "--report", str(report)])
    assert result.exit_code == 2, result.output
    assert "sellers.csv line 2502" in result.output and "nothing loaded" in result.output
    assert node_count(clean_db, database) == 0
    assert not report.exists()


def test_gb18030_file_checked_whole(tmp_path: Path) -> None:
    """A GB18030 file (detected from its first bytes) is checked to its end too."""
    path = tmp_path / "agencies.csv"
    good = "agency_id,name,adcode\n" + "".join(f"A{n},广州市公安局,440100\n" for n in range(3000))
    path.write_bytes(good.encode("gb18030"))
    check_file(path)
    path.write_bytes(good.encode("gb18030") + b"A-last,\x81\x20,440100\n")
    with pytest.raises(UnusableInput, match=r"agencies\.csv line 3002: cannot be decoded as gb18030"):
        check_file(path)


def test_unknown_encoding_is_unusable_before_anything(clean_db: Driver, database: str) -> None:
    with pytest.raises(UnusableInput, match="unknown encoding"):
        load_paths(clean_db, database, [BUNDLE], source="t", pii_key=KEY, encoding="latin-1")
    assert node_count(clean_db, database) == 0


def test_a_gb18030_file_with_a_long_plain_head_is_read_as_gb18030(tmp_path: Path) -> None:
    """The encoding is chosen from the whole file, not its first 64 KiB."""
    path = tmp_path / "agencies.csv"
    head = "agency_id,name,adcode\n" + "".join(f"A{n},Police {n},440100\n" for n in range(5000))
    path.write_bytes((head + "A-last,广州市公安局,440100\n").encode("gb18030"))
    assert check_file(path) == "gb18030"
    assert list(read_records(path))[-1].row["name"] == "广州市公安局"
