"""Reading bundle files (no database)."""

from pathlib import Path

import pytest

from loaders.read import UnusableInput, detect_encoding, read_records


def test_csv_line_numbers_with_multiline_cell(tmp_path: Path) -> None:
    path = tmp_path / "brands.csv"
    path.write_text('brand_id,name\nb1,"two\nlines"\n\nb2,x\n', encoding="utf-8")
    records = list(read_records(path))
    assert [(r.line, r.row["brand_id"]) for r in records] == [(2, "b1"), (5, "b2")]


def test_bom_and_gb18030_detected(tmp_path: Path) -> None:
    bom = tmp_path / "brands.csv"
    bom.write_bytes("brand_id,name\nb1,品牌\n".encode("utf-8-sig"))
    gbk = tmp_path / "agencies.csv"
    gbk.write_bytes("agency_id,name\na1,广州市公安局\n".encode("gb18030"))
    assert detect_encoding(bom) == "utf-8-sig"
    assert detect_encoding(gbk) == "gb18030"
    assert list(read_records(bom))[0].row == {"brand_id": "b1", "name": "品牌"}
    assert list(read_records(gbk))[0].row["name"] == "广州市公安局"


def test_jsonl_lines(tmp_path: Path) -> None:
    path = tmp_path / "brands.jsonl"
    path.write_text('{"brand_id": "b1"}\n\n{"brand_id": "b2"}\nnot json\n', encoding="utf-8")
    records = list(read_records(path))
    assert [r.line for r in records] == [1, 3, 4]
    assert "_unparsed" in records[2].row


def test_wrong_encoding_is_unusable(tmp_path: Path) -> None:
    path = tmp_path / "brands.csv"
    path.write_bytes("brand_id,name\nb1,广州\n".encode("gb18030"))
    with pytest.raises(UnusableInput, match="brands.csv"):
        list(read_records(path, "utf-8"))
