"""`alliance query ...`: list, show, run and check the saved queries in `queries/`.

Commands run as the local operator (`graph.caller.LOCAL_OPERATOR`); every run is
audited like a run through the API. A CSV file or CSV on stdout has text that a
spreadsheet would run as a formula quoted (`graph.csvsafe`). When Neo4j does not
answer, `run` and `check` stop within seconds with DATABASE_UNAVAILABLE (exit code 2).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import neo4j
import typer
from rich.console import Console
from rich.table import Table

from core import errors
from graph import query_library
from graph.caller import LOCAL_OPERATOR
from graph.drivers import connection, open_driver

query_app = typer.Typer(help="Saved Cypher queries: list, show, run and check them.",
                        no_args_is_help=True)
out = Console()
err = Console(stderr=True, soft_wrap=True)

DirOption = Annotated[Path, typer.Option("--dir", help="Folder of saved queries.")]


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    return typer.Exit(code)


def _load(directory: Path) -> query_library.Library:
    try:
        return query_library.load(directory)
    except query_library.SavedQueryError as exc:
        raise fail(str(exc)) from None


@contextmanager
def _driver() -> Iterator[tuple[neo4j.Driver, str]]:
    """A driver for the configured Neo4j; a server that does not answer ends the
    command with DATABASE_UNAVAILABLE and where it was looked for."""
    conn = connection()
    try:
        with open_driver(conn) as driver:
            yield driver, conn.database
    except errors.DatabaseUnavailable as exc:  # the library's, or the audit write's
        raise fail(f"{exc.code}: {exc} ({conn.describe()})") from None


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """`k=v` pairs; a name given twice collects its values into a list."""
    items = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise query_library.ParamError(f"--param {pair!r}: write it as name=value")
        items.append((name.strip(), value))
    return query_library.collect_params(items)


@query_app.command("list")
def list_queries(
    directory: DirOption = query_library.QUERIES_DIR,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every saved query with its parameters and who may run it (header checks only)."""
    library = _load(directory)
    if as_json:
        listed = [query_library.describe(q) for q in library.queries.values()]
        problems = [{"name": n, "problem": p} for n, p in library.problems.items()]
        print(json.dumps({"queries": listed, "problems": problems}, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"saved queries in {directory}")
    table.add_column("name", no_wrap=True)
    for column in ("title", "params", "roles"):
        table.add_column(column)
    for name in library.names():
        query = library.queries.get(name)
        if query is None:
            table.add_row(name, f"[red]{library.problems[name]}[/red]", "", "")
            continue
        params = ", ".join(p.name + ("" if p.required else "?") for p in query.params)
        table.add_row(name, query.title, params, ", ".join(query.roles))
    out.print(table)


@query_app.command("show")
def show_query(name: str, directory: DirOption = query_library.QUERIES_DIR) -> None:
    """A query's header, parameters and Cypher."""
    library = _load(directory)
    try:
        query = library.get(name)
    except query_library.SavedQueryError as exc:
        raise fail(str(exc)) from None
    out.print(f"[bold]{query.name}[/bold]: {query.title}")
    if query.description:
        out.print(query.description)
    out.print(f"roles: {', '.join(query.roles)}; max rows: {query.max_rows}; "
              f"timeout: {query.timeout:g} s")
    for kind in query_library.COLUMN_KINDS:
        columns = [c for c, k in query.columns.items() if k == kind]
        if columns:
            out.print(f"{kind} columns: {', '.join(columns)}", markup=False, highlight=False)
    for param in query.params:
        default = "required" if param.required else f"default {param.describe()['default']!r}"
        out.print(f"  ${param.name} ({param.type}, {default}) {param.description}")
    out.print()
    out.print(query.cypher, markup=False, highlight=False, soft_wrap=True)


def _print_table(result: query_library.QueryResult) -> None:
    table = Table(*result.columns, title=f"{result.name}: {len(result.rows)} rows"
                  + (" (truncated)" if result.truncated else "")
                  + f" in {result.elapsed_ms:g} ms")
    for row in result.rows:
        table.add_row(*(query_library.csv_cell(row[c]) for c in result.columns))
    out.print(table)


def _write(result: query_library.QueryResult, fmt: Format, output: Path | None) -> None:
    if fmt is Format.table:
        _print_table(result)
        return
    if fmt is Format.json:
        text = json.dumps({"query": result.name, "columns": result.columns, "rows": result.rows,
                           "truncated": result.truncated, "elapsed_ms": result.elapsed_ms},
                          ensure_ascii=False, indent=2) + "\n"
    else:
        text = "".join(query_library.csv_lines(result.columns, result.rows))
    if output is None:
        sys.stdout.write(text)
    else:
        # A file is for spreadsheets: CSV gets a BOM so Excel reads Chinese text as UTF-8.
        output.write_text(text, encoding="utf-8-sig" if fmt is Format.csv else "utf-8",
                          newline="")
        err.print(f"{len(result.rows)} rows written to {output}"
                  + (" (truncated)" if result.truncated else ""))


@query_app.command("run")
def run_query(
    name: str,
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", help="name=value; repeat for more (a list takes a,b or repeats).")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
    directory: DirOption = query_library.QUERIES_DIR,
) -> None:
    """Run a saved query in read mode and print the rows."""
    library = _load(directory)
    try:
        query = library.get(name)
        raw = parse_params(param or [])
        query_library.coerce_params(query, raw)
        with _driver() as (driver, database):
            single = query_library.Library(directory, {name: query})
            query_library.check(single, driver, database)
            result = query_library.run(driver, database, single.get(name), raw, LOCAL_OPERATOR)
    except errors.AllianceError as exc:  # the library's errors, or a bad value Neo4j refused
        raise fail(str(exc)) from None
    _write(result, fmt, output)


@query_app.command("check")
def check_queries(directory: DirOption = query_library.QUERIES_DIR) -> None:
    """Check every saved query against the database: header, parameters, EXPLAIN
    read-only, and a classification (open, entity, identifier) for every column."""
    library = _load(directory)
    with _driver() as (driver, database):
        query_library.check(library, driver, database)
    for name in library.names():
        if name in library.queries:
            out.print(f"[green]ok[/green]      {name}")
        else:
            out.print(f"[red]failed[/red]  {name}: {library.problems[name]}", highlight=False,
                      soft_wrap=True)
    out.print(f"{len(library.queries)} ok, {len(library.problems)} failed.")
    raise typer.Exit(1 if library.problems else 0)
