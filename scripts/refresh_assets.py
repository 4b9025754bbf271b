#!/usr/bin/env python3
"""Fetch the vendored browser libraries from the npm registry and rewrite their manifest.

    .venv/bin/python scripts/refresh_assets.py                  # fetch what assets.json pins
    .venv/bin/python scripts/refresh_assets.py --set cytoscape=3.34.5   # upgrade one

The one way the files under `api/web/static/vendor/` change. For each asset of
`api/web/assets.json` it runs `npm pack <package>@<version>` (the npm client, the
registry it is configured for), checks the tarball against the registry's
`dist.integrity`, copies the listed files and the licence text into
`vendor/<package>-<version>/`, reads the licence from the package's own package.json,
and writes the SHA-256 of every file back into the manifest. Folders of versions no
longer pinned are removed. Needs `npm` (Node.js) on the PATH; the app itself never does.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "api" / "web"
MANIFEST = WEB / "assets.json"
STATIC = WEB / "static"
VENDOR = STATIC / "vendor"
LICENCE_NAMES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "license")


def npm(*args: str, cwd: Path) -> str:
    done = subprocess.run(["npm", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"npm {' '.join(args)} failed:\n{done.stderr.strip()}")
    return done.stdout


def fetch(package: str, version: str, work: Path) -> tuple[Path, str]:
    """The unpacked package folder and the tarball's integrity, checked against the
    registry's."""
    spec = f"{package}@{version}"
    expected = json.loads(npm("view", spec, "dist.integrity", "--json", cwd=work))
    packed = json.loads(npm("pack", spec, "--json", "--pack-destination", str(work), cwd=work))
    tarball = work / packed[0]["filename"]
    algorithm, _, digest = expected.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, tarball.read_bytes()).digest()).decode()
    if actual != digest:
        sys.exit(f"{spec}: the tarball does not match the registry's integrity {expected}")
    target = work / f"{package.replace('/', '_')}-{version}"
    with tarfile.open(tarball) as archive:
        archive.extractall(target, filter="data")
    return target / "package", expected


def licence_source(unpacked: Path) -> str:
    for name in LICENCE_NAMES:
        if (unpacked / name).is_file():
            return name
    sys.exit(f"{unpacked.name}: no licence file ({', '.join(LICENCE_NAMES)}) in the package")


def refresh_asset(asset: dict[str, Any], work: Path) -> dict[str, Any]:
    """Vendor one asset's files; the asset's manifest entry, rewritten."""
    package, version = asset["package"], asset["version"]
    unpacked, integrity = fetch(package, version, work)
    licence = json.loads((unpacked / "package.json").read_text(encoding="utf-8"))["license"]
    folder = f"vendor/{package.replace('/', '_')}-{version}"
    wanted = [f["source"] for f in asset["files"] if f["source"] not in LICENCE_NAMES]
    sources = [*wanted, licence_source(unpacked)]
    files = []
    for source in sources:
        origin = unpacked / source
        if not origin.is_file():
            sys.exit(f"{package}@{version} has no file {source}")
        path = f"{folder}/{Path(source).name}"
        (STATIC / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(origin, STATIC / path)
        files.append({"source": source, "path": path,
                      "sha256": hashlib.sha256(origin.read_bytes()).hexdigest()})
    print(f"{asset['name']}: {package}@{version} ({licence}), {len(files)} files in {folder}/")
    return {**asset, "licence": licence, "integrity": integrity, "files": files,
            "licence_file": files[-1]["path"]}


def remove_stale(manifest: dict[str, Any]) -> None:
    kept = {Path(f["path"]).parts[1] for a in manifest["assets"] for f in a["files"]}
    for folder in sorted(VENDOR.iterdir()) if VENDOR.is_dir() else []:
        if folder.is_dir() and folder.name not in kept:
            shutil.rmtree(folder)
            print(f"removed {folder.relative_to(ROOT)} (no longer pinned)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VERSION",
                        help="pin an asset to another version before fetching")
    args = parser.parse_args(argv)
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    by_name = {a["name"]: a for a in manifest["assets"]}
    for pin in args.set:
        name, _, version = pin.partition("=")
        if name not in by_name or not version:
            sys.exit(f"--set {pin}: expected NAME=VERSION with NAME one of {', '.join(by_name)}")
        by_name[name]["version"] = version
    if not shutil.which("npm"):
        sys.exit("npm is not on the PATH: install Node.js (Debian: apt-get install npm)")
    with tempfile.TemporaryDirectory(prefix="alliance-assets-") as tmp:
        manifest["assets"] = [refresh_asset(a, Path(tmp)) for a in manifest["assets"]]
    remove_stale(manifest)
    MANIFEST.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {MANIFEST.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
