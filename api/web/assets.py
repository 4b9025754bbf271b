"""The vendored browser libraries: their manifest (`api/web/assets.json`) and its check.

Every script, style sheet and font a page of the app loads is a file under
`api/web/static/`, served by the app itself: nothing is fetched from the internet. The
third-party ones sit in `static/vendor/<package>-<version>/`, each listed in the manifest
with its npm package, version, licence, the npm tarball's integrity and the SHA-256 of
every file taken from it (its licence text among them). `scripts/refresh_assets.py` is
the one way to fetch or upgrade them; `problems()` says what does not match.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

WEB = Path(__file__).parent
STATIC = WEB / "static"
VENDOR = STATIC / "vendor"
MANIFEST = WEB / "assets.json"
PERMISSIVE = frozenset({"MIT", "ISC", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0"})
"""Licences a vendored file may have: they let the app ship it with its licence text."""
LICENCE_WORDS = {
    "MIT": "Permission is hereby granted, free of charge",
    "ISC": "Permission to use, copy, modify, and/or distribute",
    "BSD-2-Clause": "Redistribution and use in source and binary forms",
    "BSD-3-Clause": "Redistribution and use in source and binary forms",
    "Apache-2.0": "Apache License",
}
"""Words the licence text of each licence contains."""


@dataclass(frozen=True)
class VendoredFile:
    source: str
    """Its path inside the npm package."""
    path: str
    """Its path under `api/web/static/`."""
    sha256: str


@dataclass(frozen=True)
class Asset:
    name: str
    package: str
    version: str
    licence: str
    integrity: str
    """The npm tarball's `dist.integrity` (sha512), checked when it is fetched."""
    files: tuple[VendoredFile, ...]
    licence_file: str
    """The `path` of the file that holds its licence text."""

    def url(self, source: str) -> str:
        """The address the app serves the file taken from `source` at."""
        for f in self.files:
            if f.source == source:
                return "/static/" + f.path
        raise KeyError(f"{self.name} vendors no {source}")


def read_manifest(path: Path = MANIFEST) -> list[Asset]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [Asset(name=a["name"], package=a["package"], version=a["version"], licence=a["licence"],
                  integrity=a["integrity"], licence_file=a["licence_file"],
                  files=tuple(VendoredFile(**f) for f in a["files"]))
            for a in data["assets"]]


@cache
def assets() -> dict[str, Asset]:
    """The manifest's assets by name."""
    return {a.name: a for a in read_manifest()}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def problems(manifest: list[Asset] | None = None, static: Path = STATIC) -> list[str]:
    """What differs between the manifest and the files: a missing or changed file, a
    licence that is not permissive or whose text is not shipped, a vendored file the
    manifest does not list. Empty when everything matches."""
    manifest = read_manifest() if manifest is None else manifest
    found: list[str] = []
    listed: set[Path] = set()
    for asset in manifest:
        found += _asset_problems(asset, static)
        listed |= {(static / f.path).resolve() for f in asset.files}
    vendor = static / "vendor"
    if vendor.is_dir():
        found += [f"{p.relative_to(static)} is vendored but not in the manifest"
                  for p in sorted(vendor.rglob("*")) if p.is_file() and p.resolve() not in listed]
    return found


def _asset_problems(asset: Asset, static: Path) -> list[str]:
    found = []
    if asset.licence not in PERMISSIVE:
        found.append(f"{asset.name}: licence {asset.licence!r} is not one of {sorted(PERMISSIVE)}")
    for f in asset.files:
        path = static / f.path
        if not f.path.startswith(f"vendor/{asset.package}-{asset.version}/"):
            found.append(f"{asset.name}: {f.path} is not under vendor/{asset.package}-{asset.version}/")
        if not path.is_file():
            found.append(f"{asset.name}: {f.path} is missing (run scripts/refresh_assets.py)")
        elif sha256_of(path) != f.sha256:
            found.append(f"{asset.name}: {f.path} does not have the SHA-256 of the manifest")
    licence_text = static / asset.licence_file
    words = LICENCE_WORDS.get(asset.licence, "")
    if asset.licence_file not in {f.path for f in asset.files}:
        found.append(f"{asset.name}: its licence file {asset.licence_file} is not one of its files")
    elif licence_text.is_file() and words not in licence_text.read_text(encoding="utf-8", errors="replace"):
        found.append(f"{asset.name}: {asset.licence_file} is not the text of the {asset.licence} licence")
    return found
