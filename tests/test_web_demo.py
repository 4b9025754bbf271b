"""What `alliance demo` prints for a browser: one workbench address that signs in once
(no token in it), and a dossier address that opens with the session it gives."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from alliance import demo
from api import session
from api.main import create_app
from graph.caller import Caller
from graph.drivers import Connection

JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")


def test_the_printed_workbench_address_signs_in_once_and_opens_the_dossier(
    neo4j_connection: Connection, capsys: pytest.CaptureFixture[str],
) -> None:
    investigator = Caller(sub="demo-investigator", role="investigator")
    demo.print_browser("0.0.0.0", 8000, demo.workbench_link("0.0.0.0", 8000, investigator), "LD-NONE")
    printed = capsys.readouterr().out
    addresses = [line for line in printed.splitlines() if line.startswith("http")]
    assert len(addresses) == 2, printed
    workbench, dossier = (urlsplit(a) for a in addresses)
    assert workbench.netloc == "127.0.0.1:8000" and workbench.path.startswith("/signin/code/")
    assert not JWT.search(printed)  # a code, never a token, in what is printed
    assert dossier.path == "/leads/LD-NONE/dossier.html"

    with TestClient(create_app(connection=neo4j_connection)) as browser:
        opened = browser.get(workbench.path, follow_redirects=False)
        assert opened.status_code == 303 and opened.headers["location"] == "/"
        assert session.COOKIE in browser.cookies
        assert browser.get("/").status_code == 200
        # past the sign-in: the dossier route looks the lead up (there is none by that id)
        assert browser.get(dossier.path).status_code == 404
        browser.cookies.clear()
        assert browser.get(workbench.path, follow_redirects=False).status_code == 401


@pytest.mark.parametrize(("host", "seen"), [
    ("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "127.0.0.1"), ("::", "[::1]"), ("::1", "[::1]"),
    ("example.org", "example.org"),
])
def test_the_address_is_one_a_browser_on_this_machine_reaches(host: str, seen: str) -> None:
    assert demo.browser_host(host) == seen
