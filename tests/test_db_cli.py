"""`alliance db status` when Neo4j does not run: what is known, nothing that reads like an
error, and JSON a program can read (no server needed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from alliance import local_neo4j


def status(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env.update(ALLIANCE_HOME=str(home), COLUMNS="80")
    return subprocess.run([sys.executable, "-m", "alliance.cli", "db", "status", *args],
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def test_stopped_says_what_a_start_will_use(tmp_path: Path) -> None:
    result = status(tmp_path)
    assert result.returncode == 1 and result.stderr == ""
    text = result.stdout
    assert "None" not in text and "null" not in text, text
    assert "stopped" in text.splitlines()[0]
    assert "port: 7687" in text
    assert f"data: {(tmp_path / 'neo4j' / 'data').resolve()}" in text
    assert "alliance db start" in text
    assert all(len(line) <= 80 for line in text.splitlines()), text


def test_stopped_as_json(tmp_path: Path) -> None:
    result = status(tmp_path, "--json")
    assert result.returncode == 1
    facts = json.loads(result.stdout)
    assert facts["state"] == "stopped"
    assert facts["uri"] is None and facts["pid"] is None
    assert facts["port"] == 7687
    assert facts["data_dir"] == str((tmp_path / "neo4j" / "data").resolve())
    assert facts["version"] == local_neo4j.NEO4J_VERSION


def test_stale_names_the_pid_left_behind(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    home = tmp_path / "neo4j"
    home.mkdir()
    local_neo4j.ServerState(dead.pid, 7999, "bolt://127.0.0.1:7999", "/elsewhere/data",
                       local_neo4j.NEO4J_VERSION, True, 0.0).save(home)
    text = status(tmp_path).stdout
    assert "stale" in text and f"pid:  {dead.pid}" in text and "None" not in text, text
    assert "port: 7999" in text and "data: /elsewhere/data" in text
    facts = json.loads(status(tmp_path, "--json").stdout)
    assert facts["state"] == "stale" and facts["port"] == 7999
