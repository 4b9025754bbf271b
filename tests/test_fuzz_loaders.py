"""Generated hostile rows through the loader: huge fields, control characters, bad
encodings, spreadsheet formulas, bogus ids, injection strings. Every row is loaded or
rejected with a reason (field, code, message); a file that cannot be read at all is
refused with one sentence (UnusableInput); nothing else escapes.

The pure pipeline (read -> validate -> map -> prepare) runs many examples; a few go
through a real load on the session's Neo4j. Example counts come from the hypothesis
profile (`ci` by default, `long` in bench/fuzz.py; tests/conftest.py).
"""

from __future__ import annotations

import csv
import io
import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neo4j import Driver

from loaders import load_paths
from loaders.mapping import Mapper
from loaders.pipeline import FileReport, file_batches, map_batch
from loaders.read import UnusableInput
from loaders.validate import FILES, REASON_CODES
from loaders.write import pack
from tests.hostile import count_example

KEY = b"fuzz-pii-key"

HOSTILE = st.sampled_from([
    "", " ", "\x00", "\x1b[31mred", "\r\n", "\u2028", "\ufeff", "\ud7ff", "\U0010ffff",
    "=cmd|' /C calc'!A0", "+1+1", "-1", "@SUM(A1)", "<script>x</script>", "' OR 1=1 --",
    "'}) DETACH DELETE n //", "${jndi:ldap://x}", "../../etc/passwd", "NaN", "Infinity", "1e309",
    "-0", "9" * 40, "2024-02-30", "0000-00-00", "true", "yes", "null", "None", "[]", "{}",
    "S1;S2;;S3", "+86 138 0013 8000", "alipay:", ":", "fp:", "ip:999.1.1.1", "x@", "@x",
    "11010519491231002X", "440000", "广东省广州市白云区", "店" * 2000, "a" * 100_000,
])
ODD_CHARACTERS = st.characters(codec="utf-8", categories=("Cc", "Cf", "Zs", "Lo"))
TEXT = st.one_of(HOSTILE, st.text(max_size=60), st.text(alphabet=ODD_CHARACTERS, max_size=30))
FILE_NAMES = sorted(FILES)


def rows_for(name: str) -> st.SearchStrategy[list[dict[str, str]]]:
    fields = list(FILES[name])
    row = st.fixed_dictionaries({f: TEXT for f in fields},
                                optional={"extra_column": TEXT})
    return st.lists(row, min_size=1, max_size=8)


@st.composite
def bundle_file(draw: st.DrawFn) -> tuple[str, str, list[dict[str, str]]]:
    name = draw(st.sampled_from(FILE_NAMES))
    return name, draw(st.sampled_from(["csv", "jsonl"])), draw(rows_for(name))


def write_file(folder: Path, name: str, kind: str, rows: list[dict[str, str]]) -> Path:
    path = folder / f"{name}.{kind}"
    if kind == "csv":
        columns = list(dict.fromkeys(k for row in rows for k in row))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
        path.write_bytes(out.getvalue().encode("utf-8", "surrogatepass"))
    else:
        path.write_bytes("".join(json.dumps(row, ensure_ascii=True) + "\n" for row in rows).encode())
    return path


def run_pipeline(path: Path) -> tuple[FileReport, list[dict[str, Any]]]:
    """The loader's steps without a database; the report and the reject lines."""
    report, rejects, mapper = FileReport(path.name), io.StringIO(), Mapper(KEY)
    columns, batches = file_batches(path, "auto", 3)
    for batch in batches:
        pack(map_batch(path, batch, mapper, report, rejects, columns), set())
    return report, [json.loads(line) for line in rejects.getvalue().split("\n") if line]


def check_rejects(report: FileReport, rejects: list[dict[str, Any]]) -> None:
    assert report.read == report.loaded + report.rejected
    assert len(rejects) == report.rejected
    for reject in rejects:
        assert reject["line"] >= 1 and reject["reasons"], reject
        for reason in reject["reasons"]:
            assert reason["code"] in REASON_CODES, reason
            assert reason["field"] and reason["message"], reason


def expected_rows(kind: str, rows: list[dict[str, str]]) -> int | None:
    """Rows the reader must see (CSV skips blank lines; a CSV cell with a lone CR can
    split a row for the csv module, so then only consistency is checked)."""
    if kind == "jsonl":
        return len(rows)
    if any("\r" in v or "\x00" in v for row in rows for v in row.values()):
        return None
    return sum(1 for row in rows if "".join(row.values()).strip())


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(case=bundle_file())
def test_every_generated_row_is_loaded_or_rejected_with_a_reason(
        tmp_path: Path, case: tuple[str, str, list[dict[str, str]]]) -> None:
    name, kind, rows = case
    count_example("loader rows")
    path = write_file(tmp_path, name, kind, rows)
    try:
        report, rejects = run_pipeline(path)
    except UnusableInput as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return
    check_rejects(report, rejects)
    wanted = expected_rows(kind, rows)
    if wanted is not None:
        assert report.read == wanted


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(FILE_NAMES), junk=st.binary(min_size=1, max_size=400),
       header_ok=st.booleans())
def test_bytes_in_any_encoding_are_read_or_refused_in_one_sentence(tmp_path: Path, name: str, junk: bytes,
                                                                   header_ok: bool) -> None:
    count_example("loader bytes")
    header = ",".join(FILES[name]).encode() + b"\n" if header_ok else b""
    path = tmp_path / f"{name}.csv"
    path.write_bytes(header + junk)
    try:
        report, rejects = run_pipeline(path)
    except UnusableInput as exc:
        assert str(exc).startswith(path.name) or "encoding" in str(exc), exc
        return
    check_rejects(report, rejects)


SELLER_ID = st.text(alphabet=string.ascii_letters + string.digits + "-_:./'\" ", min_size=1, max_size=12)


@pytest.mark.neo4j
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
          max_examples=max(3, settings().max_examples // 5))
@given(rows=st.lists(st.fixed_dictionaries(
    {"seller_id": st.one_of(SELLER_ID, HOSTILE), "platform": st.one_of(st.just("taobao"), HOSTILE),
     "nickname": TEXT, "phones": TEXT, "emails": TEXT, "payout_accounts": TEXT, "devices": TEXT,
     "registered_address": TEXT, "id_number": TEXT}), min_size=1, max_size=6))
def test_a_real_load_of_hostile_sellers_keeps_every_row_or_its_reason_and_twice_changes_nothing(
        clean_db: Driver, database: str, tmp_path_factory: pytest.TempPathFactory,
        rows: list[dict[str, str]]) -> None:
    count_example("real load")
    folder = tmp_path_factory.mktemp("fuzz-load")
    path = write_file(folder, "sellers", "csv", rows)
    clean_db.execute_query("MATCH (n) DETACH DELETE n", database_=database)
    rejects = folder / "rejects.jsonl"
    try:
        report = load_paths(clean_db, database, [path], source="fuzz", pii_key=KEY, rejects_path=rejects)
    except UnusableInput as exc:
        assert str(exc)
        return
    lines = [json.loads(x) for x in rejects.read_text(encoding="utf-8").split("\n") if x]
    check_rejects(report.files[0], lines)
    records, _, _ = clean_db.execute_query(
        "MATCH (s:Seller) RETURN count(s) AS sellers", database_=database)
    loaded_ids = {r["seller_id"].strip() for r in rows} - {""}
    assert records[0]["sellers"] <= len(loaded_ids)
    first, _, _ = clean_db.execute_query("MATCH (n) WHERE NOT n:IngestRun RETURN count(n) AS n",
                                         database_=database)
    load_paths(clean_db, database, [path], source="fuzz", pii_key=KEY)
    again, _, _ = clean_db.execute_query("MATCH (n) WHERE NOT n:IngestRun RETURN count(n) AS n",
                                         database_=database)
    assert again[0]["n"] == first[0]["n"]
