"""CSV cells for people: formulas typed by sellers are quoted, numbers stay numbers."""

from __future__ import annotations

import csv
import io

import pytest

from graph import csvsafe


@pytest.mark.parametrize(("text", "cell"), [
    ("=1+1", "'=1+1"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("+86 138", "'+86 138"),
    ("-2+3", "'-2+3"),
    ("-3", "'-3"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("\n=1+1", "'\n=1+1"),
    ("  =HYPERLINK(\"http://x\")", "'  =HYPERLINK(\"http://x\")"),
    ("\u3000=1+1", "'\u3000=1+1"),
    ("＝1+1", "'＝1+1"),
    ("一号店主", "一号店主"),
    ("a=1", "a=1"),
    ("2024-01-25", "2024-01-25"),
    ("", ""),
    ("   ", "   "),
])
def test_text_that_a_spreadsheet_would_run_gets_a_quote(text: str, cell: str) -> None:
    assert csvsafe.safe_text(text) == cell


@pytest.mark.parametrize(("value", "cell"), [
    (-3, "-3"), (-2.5, "-2.5"), (0, "0"), (7, "7"), (None, ""), (True, "true"),
    (False, "false"), ("-3", "'-3"),
])
def test_numbers_stay_numbers_and_text_does_not(value: csvsafe.Cell, cell: str) -> None:
    assert csvsafe.safe_cell(value) == cell


def test_lines_quote_per_rfc_4180_and_read_back() -> None:
    rows = [["name", "n"], ["=1+1", -1], ['say "hi", =2', 2.5], ["@SUM(A1)", None]]
    text = "".join(csvsafe.lines(rows))
    assert text.split("\r\n")[:2] == ["name,n", "'=1+1,-1"]
    assert list(csv.reader(io.StringIO(text))) == [
        ["name", "n"], ["'=1+1", "-1"], ['say "hi", =2', "2.5"], ["'@SUM(A1)", ""]]
