"""The vendored browser libraries match their manifest (SHA-256, licence), every local
address a page names exists, and the app serves them with the right cache headers."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.web import assets


def test_every_vendored_file_matches_its_sha256_and_licence() -> None:
    manifest = assets.read_manifest()
    assert {a.name for a in manifest} >= {"cytoscape", "graphiql", "react", "react-dom"}
    assert assets.problems(manifest) == []
    for asset in manifest:
        assert asset.licence in assets.PERMISSIVE
        assert asset.integrity.startswith("sha512-")


def test_a_changed_missing_or_unlisted_file_is_named(tmp_path: Path) -> None:
    static = tmp_path / "static"
    shutil.copytree(assets.STATIC / "vendor", static / "vendor")
    manifest = assets.read_manifest()
    changed = static / manifest[0].files[0].path
    changed.write_bytes(changed.read_bytes() + b"\n")
    (static / manifest[1].files[0].path).unlink()
    (static / "vendor" / "stray.js").write_text("alert(1)")
    found = assets.problems(manifest, static)
    assert any("does not have the SHA-256" in p and manifest[0].files[0].path in p for p in found)
    assert any("is missing" in p and manifest[1].files[0].path in p for p in found)
    assert any("vendor/stray.js is vendored but not in the manifest" in p for p in found)


def test_a_licence_that_is_not_permissive_or_not_shipped_is_named() -> None:
    manifest = assets.read_manifest()
    first = manifest[0]
    copyleft = type(first)(**{**first.__dict__, "licence": "GPL-3.0"})
    unshipped = type(first)(**{**first.__dict__, "files": first.files[:1]})
    found = assets.problems([copyleft, unshipped])
    assert any("GPL-3.0" in p for p in found)
    assert any("licence file" in p for p in found)


def local_addresses() -> list[tuple[Path, str]]:
    pages = [*assets.WEB.glob("templates/*.html"), *assets.STATIC.glob("*.html"),
             *assets.STATIC.glob("*.css")]
    found = []
    for page in pages:
        for address in re.findall(r"""(?:src|href)=["'](/static/[^"'?#]+)""", page.read_text("utf-8")):
            found.append((page, address))
    return found


@pytest.mark.parametrize(("page", "address"), local_addresses(),
                         ids=lambda v: v.name if isinstance(v, Path) else v)
def test_every_static_address_a_page_names_exists(page: Path, address: str) -> None:
    assert (assets.STATIC / address.removeprefix("/static/")).is_file(), f"{page.name}: {address}"


def test_graphiql_page_names_the_vendored_versions() -> None:
    from api.web.pages import graphiql_page

    html = graphiql_page()
    for name in ("react", "react-dom", "graphiql"):
        asset = assets.assets()[name]
        assert f"/static/vendor/{asset.package}-{asset.version}/" in html
    assert "{{" not in html and "cdn" not in html.lower()


def test_vendored_files_are_cached_for_a_year_and_our_own_revalidated() -> None:
    client = TestClient(create_app())  # no lifespan: static files need no database
    cytoscape = assets.assets()["cytoscape"].url("dist/cytoscape.min.js")
    vendored = client.get(cytoscape)
    assert vendored.status_code == 200 and "immutable" in vendored.headers["cache-control"]
    assert "javascript" in vendored.headers["content-type"]
    own = client.get("/static/site.css")
    assert own.status_code == 200 and own.headers["cache-control"] == "no-cache"
    assert client.get("/static/../assets.json").status_code == 404
    assert client.get("/static/vendor/nothing.js").status_code == 404
    assert client.get("/favicon.ico").status_code == 204  # asked for by every browser
