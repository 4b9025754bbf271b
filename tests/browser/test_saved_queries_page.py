"""In Chromium: an analyst's saved queries. The catalogue is what GET /queries gives the
role; a query's form comes from its header (a required parameter is asked for); run with
a parameter, its rows are those of the API, sortable, charted as SVG bars, and the CSV
downloaded holds the same rows; its description and Cypher are shown; the export links
carry the query's parameters."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.browser.harness import Web, outside

QUERY = "cases-per-province-year"
SLOW = 120_000
"""Milliseconds to wait for a page's first answers: first query plans on a busy machine."""


def rest(web: Web, role: str, path: str) -> Any:
    response = httpx.get(f"{web.base}{path}", headers={"Authorization": f"Bearer {web.token(role)}"},
                         timeout=120)
    assert response.status_code == 200, response.text
    return response.json()


def download(page: Any, selector: str) -> Path:
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path())


def cells(row: dict[str, Any], columns: list[str]) -> list[str]:
    """A row as the CSV writes it."""
    return ["" if row[c] is None else str(row[c]) for c in columns]


def shown(row: dict[str, Any], columns: list[str]) -> list[str]:
    """A row as the page shows it (a number as JavaScript writes it: 800000, not 800000.0)."""
    return ["" if row[c] is None else str(int(row[c])) if isinstance(row[c], float) and row[c].is_integer()
            else str(row[c]) for c in columns]


def test_an_analyst_runs_a_query_with_a_parameter_and_downloads_the_csv(
    web: Web, page_for: Callable[..., Any],
) -> None:
    page = page_for("analyst", "en-US")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{web.base}/saved-queries")
    page.wait_for_selector("body[data-ready='true']", state="attached", timeout=SLOW)
    given = rest(web, "analyst", "/queries")["queries"]
    listed = page.eval_on_selector_all("#query-list li[data-name]", "els => els.map(e => e.dataset.name)")
    assert listed == [q["name"] for q in given] and QUERY in listed

    # a required parameter is asked for before anything runs
    page.click("#query-list li[data-name='sites-in-division'] a")
    page.wait_for_selector("#query[data-name='sites-in-division']", state="attached", timeout=SLOW)
    assert page.get_attribute("#p-adcode", "required") is not None
    page.click("#q-run")
    assert page.inner_text("#q-result") == "Give adcode: it is required."

    page.click(f"#query-list li[data-name='{QUERY}'] a")
    page.wait_for_selector(f"#query[data-name='{QUERY}']", state="attached", timeout=SLOW)
    header = next(q for q in given if q["name"] == QUERY)
    assert page.inner_text("#q-title") == header["title"]
    assert page.inner_text("#q-description").split() == header["description"].split()
    assert page.get_attribute("#p-year", "type") == "number"  # an int parameter
    page.click("#q-cypher-box summary")
    page.wait_for_function("() => document.getElementById('q-cypher').textContent.includes('MATCH')")
    assert "$year" in page.inner_text("#q-cypher")

    page.fill("#p-year", "2024")
    page.click("#q-run")
    page.wait_for_selector("#q-result[data-state='done']", state="attached", timeout=SLOW)
    answer = rest(web, "analyst", f"/queries/{QUERY}.json?year=2024")
    columns, rows = answer["columns"], answer["rows"]
    assert rows and all(r["year"] == 2024 for r in rows)
    table = page.eval_on_selector_all("#q-table tbody tr",
                                      "trs => trs.map(tr => [...tr.cells].map(c => c.textContent))")
    assert table == [shown(r, columns) for r in rows]
    assert "year=2024" in page.url  # the run is kept in the address

    page.click("#q-table button.sort[data-column='value_cny']")
    values = page.eval_on_selector_all(f"#q-table tbody tr td:nth-child({columns.index('value_cny') + 1})",
                                       "tds => tds.map(td => Number(td.textContent))")
    assert values == sorted(values)
    page.click("#q-table button.sort[data-column='value_cny']")
    values = page.eval_on_selector_all(f"#q-table tbody tr td:nth-child({columns.index('value_cny') + 1})",
                                       "tds => tds.map(td => Number(td.textContent))")
    assert values == sorted(values, reverse=True)

    # a category and numbers: bars, one per province, the tallest for the most cases
    assert page.input_value("#chart-x") == "province" and page.input_value("#chart-y") == "cases"
    assert page.get_attribute("#chart svg", "data-kind") == "bar"
    assert page.locator("#chart svg rect.bar").count() == len({r["province"] for r in rows})

    text = download(page, "#q-csv").read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == columns
    assert lines[1:] == [cells(r, columns) for r in rows]
    assert json.loads(download(page, "#q-json").read_text(encoding="utf-8"))["rows"] == rows

    exports = page.eval_on_selector_all("#q-result .exports a", "els => els.map(e => e.getAttribute('href'))")
    assert exports == [f"/exports/query/{QUERY}.{fmt}?year=2024"
                       for fmt in ("ftm.jsonl", "graphml", "gexf", "gephi.csv")]
    assert errors == []
    assert outside(page, web.base) == []


def test_a_query_the_role_may_not_run_shows_no_cypher(web: Web, page_for: Callable[..., Any]) -> None:
    page = page_for("brand_member", "en-US")
    status = page.evaluate("fetch('/saved-queries/sites-in-division.cypher').then(r => r.status)")
    assert status == 404
    assert page.evaluate(f"fetch('/saved-queries/{QUERY}.cypher').then(r => r.status)") == 404
    own = "alert-counterfeit-purchase-for-brand"
    text = page.evaluate(f"fetch('/saved-queries/{own}.cypher').then(r => r.text())")
    assert "MATCH" in text
