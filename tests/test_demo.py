"""`alliance demo --no-serve` on a real Neo4j: generate, load, networks; again = reuse.
What it prints can be pasted as it is: GraphiQL's header as JSON, the queries, curl lines."""

from __future__ import annotations

import json
import re
import shlex
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from neo4j import Driver, RoutingControl
from typer.testing import CliRunner

from alliance import demo as demo_module
from alliance import local_neo4j
from alliance.cli import app
from api.main import create_app
from core.settings import get_settings
from graph.drivers import Connection

BOX = re.compile(r"[\u2500-\u257f]")
"""Box-drawing characters: a border pasted with a query or a token breaks it."""
JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")
SLOW_MACHINE_TIMEOUT = 300.0
"""The API's query timeout here: on a busy test machine, planning a dossier's queries for
the first time can take longer than the 15 s default (the printed lines are under test)."""


def test_demo_loads_once_and_prints_working_examples(
    clean_db: Driver, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    neo4j_connection: Connection,
) -> None:
    monkeypatch.setenv("ALLIANCE_HOME", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "80")
    get_settings.cache_clear()
    try:
        first = CliRunner().invoke(app, ["demo", "--no-serve"])
        assert first.exit_code == 0, first.output
        assert "planted bad rows rejected" in first.output and "Bearer ey" in first.output
        records, _, _ = clean_db.execute_query(
            "MATCH (s:Seller) WITH count(s) AS sellers "
            "MATCH (n:Network) RETURN sellers, count(n) AS networks",
            database_=database, routing_=RoutingControl.READ)
        assert records[0]["sellers"] >= 2000 and records[0]["networks"] > 0
        check_pasteable(first.output)
        with TestClient(create_app(connection=neo4j_connection,
                                   query_timeout=SLOW_MACHINE_TIMEOUT)) as client:
            check_investigator_examples(first.output, client)
            check_liaison_example(first.output, client)

        again = CliRunner().invoke(app, ["demo", "--no-serve"])
        assert again.exit_code == 0, again.output
        assert "already generated" in again.output and "already loaded" in again.output
        after, _, _ = clean_db.execute_query("MATCH (s:Seller) RETURN count(s) AS sellers",
                                             database_=database)
        assert after[0]["sellers"] == records[0]["sellers"]
    finally:
        get_settings.cache_clear()


def line_after(output: str, title: str, nth: int = 0) -> str:
    """The line printed after the `nth` line that starts with `title`."""
    lines = output.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(title)]
    assert len(starts) > nth, f"no line {nth} starting with {title!r} in:\n{output}"
    return lines[starts[nth] + 1]


def header(line: str) -> dict[str, str]:
    """The GraphiQL headers pane line: JSON with one Authorization: Bearer <JWT>."""
    parsed = json.loads(line)
    assert list(parsed) == ["Authorization"]
    scheme, token = parsed["Authorization"].split(" ")
    assert scheme == "Bearer" and JWT.fullmatch(token), line
    return dict(parsed)


def check_pasteable(output: str) -> None:
    """No borders from the welcome on (the progress bars before it are not for pasting);
    each header line is JSON; each lone token is a bare JWT, the one its header carries."""
    welcome = output[output.index("Alliance Graph demo"):]
    assert not BOX.search(welcome), welcome
    headers = [line for line in output.splitlines() if line.startswith('{"Authorization"')]
    alone = [line_after(output, "The token alone", n) for n in range(len(headers))]
    assert len(headers) == 2, output
    for line, token in zip(headers, alone, strict=True):
        assert JWT.fullmatch(token), token
        assert header(line)["Authorization"] == f"Bearer {token}"


def check_investigator_examples(output: str, client: TestClient) -> None:
    """Each printed query runs with the printed header; the curl line runs as printed."""
    headers = header(line_after(output, "Its headers pane"))
    for title, _ in demo_module.EXAMPLES:
        query = line_after(output, title)
        assert query.startswith("{ ") and query.endswith(" }"), query
        answer = graphql(client, query, headers)
        assert "errors" not in answer and all(answer["data"].values()), (query, answer)
    answer = run_curl(line_after(output, "The first query with curl"), client).json()
    assert "errors" not in answer and answer["data"]["search"], answer


def graphql(client: TestClient, query: str, headers: dict[str, str]) -> dict[str, Any]:
    answer: dict[str, Any] = client.post("/graphql", json={"query": query}, headers=headers).json()
    return answer


def check_liaison_example(output: str, client: TestClient) -> None:
    """The printed liaison header reads its leads; the printed curl line fetches the dossier."""
    headers = header(line_after(output, "Its headers pane", 1))
    query = line_after(output, '{"Authorization"', 1)
    answer = graphql(client, query, headers)
    assert answer["data"]["leads"]["totalCount"] > 0, answer
    page = run_curl(line_after(output, "A lead dossier to file"), client)
    assert page.status_code == 200 and "Manifest" in page.text


def run_curl(line: str, client: TestClient) -> httpx.Response:
    """Run a printed curl command line against the app, as the shell would split it."""
    words = shlex.split(line)
    assert words[0] == "curl", line
    headers: dict[str, str] = {}
    data, url, i = None, None, 1
    while i < len(words):
        word = words[i]
        if word == "-H":
            name, _, value = words[i + 1].partition(": ")
            headers[name] = value
            i += 2
        elif word in ("--data", "-o"):
            data = words[i + 1] if word == "--data" else data
            i += 2
        elif word.startswith("-"):
            i += 1
        else:
            url, i = word, i + 1
    assert url and url.startswith("http://127.0.0.1:8000/"), line
    path = url.removeprefix("http://127.0.0.1:8000")
    if data is None:
        return client.get(path, headers=headers)
    return client.post(path, content=data.encode(), headers=headers)


def test_the_note_says_neo4j_keeps_running_and_how_to_stop_it() -> None:
    running = local_neo4j.Status("running", "bolt://127.0.0.1:7687", 4242, local_neo4j.NEO4J_VERSION,
                            "/data", "/home")
    note = demo_module.still_running_note(running)
    assert note is not None
    assert "bolt://127.0.0.1:7687" in note and "4 GiB" in note
    assert note.splitlines()[-1].endswith("alliance db stop")
    stopped = local_neo4j.Status("stopped", None, None, local_neo4j.NEO4J_VERSION, None, "/home")
    assert demo_module.still_running_note(stopped) is None


def test_a_taken_port_names_the_demo_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALLIANCE_HOME", str(tmp_path))
    monkeypatch.delenv("NEO4J_URI", raising=False)
    get_settings.cache_clear()
    try:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            result = CliRunner().invoke(app, ["demo", "--db-port", str(port)])
            assert isinstance(result.exception, local_neo4j.ServerError)
            assert f"port {port}" in str(result.exception)
            assert "--db-port" in str(result.exception)
            result = CliRunner().invoke(app, ["demo", "--db-port", str(local_neo4j.free_port()),
                                              "--port", str(port)])
            assert isinstance(result.exception, local_neo4j.ServerError)
            assert "(for the API)" in str(result.exception) and "--port" in str(result.exception)
    finally:
        get_settings.cache_clear()
