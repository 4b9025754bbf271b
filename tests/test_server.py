"""`alliance db start | stop | status` run a real Neo4j, through the console command."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from neo4j import Driver, GraphDatabase

from alliance import local_neo4j


def alliance(*args: str, env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alliance.cli", *args], env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env.update(ALLIANCE_HOME=str(home), COLUMNS="200", **extra)
    return env


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "alliance-home"


def _fake_bin(tmp_path: Path, **scripts: str) -> Path:
    """A folder with the given executables (name -> shell body) and nothing else."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name, body in scripts.items():
        path = folder / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
    return folder


@pytest.mark.neo4j
def test_start_status_stop_and_data_survives_a_restart(home: Path) -> None:
    port = local_neo4j.free_port()
    env = _env(home)
    started = alliance("db", "start", "--port", str(port), env=env)
    assert started.returncode == 0, started.stderr + started.stdout
    assert f"bolt://127.0.0.1:{port}" in started.stdout
    try:
        again = alliance("db", "start", "--port", str(port), env=env)
        assert again.returncode == 0 and "already running" in again.stdout

        status = json.loads(alliance("db", "status", "--json", env=env).stdout)
        assert status["state"] == "running"
        assert status["uri"] == f"bolt://127.0.0.1:{port}"
        assert status["version"] == local_neo4j.NEO4J_VERSION
        assert status["data_dir"] == str((home / "neo4j" / "data").resolve())
        assert isinstance(status["pid"], int) and status["port"] == port
        shown = alliance("db", "status", env=env)
        assert shown.returncode == 0 and f"uri:  bolt://127.0.0.1:{port}" in shown.stdout

        password_file = home / "neo4j" / "neo4j-password"
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        password = password_file.read_text().strip()
        with GraphDatabase.driver(status["uri"], auth=("neo4j", "wrong-password")) as driver:
            assert not driver.verify_authentication()

        applied = alliance("schema", "apply", env=env)
        assert applied.returncode == 0, applied.stderr
        with GraphDatabase.driver(status["uri"], auth=("neo4j", password)) as driver:
            driver.execute_query("CREATE (:Brand {brand_id: 'B-keep', name: 'Kept'})")
            assert_no_timer_on_reads(driver)

        stopped = alliance("db", "stop", env=env)
        assert stopped.returncode == 0 and "stopped" in stopped.stdout
        after = alliance("db", "status", "--json", env=env)
        assert after.returncode == 1 and json.loads(after.stdout)["state"] == "stopped"
        assert json.loads(after.stdout)["data_dir"] == status["data_dir"]
        assert "None" not in alliance("db", "status", env=env).stdout

        assert alliance("db", "start", "--port", str(port), env=env).returncode == 0
        with GraphDatabase.driver(status["uri"], auth=("neo4j", password)) as driver:
            records, _, _ = driver.execute_query("MATCH (b:Brand {brand_id: 'B-keep'}) RETURN b.name AS name")
        assert [r["name"] for r in records] == ["Kept"]
        shown = alliance("schema", "show", env=env)
        assert shown.returncode == 0 and "missing" not in shown.stdout
    finally:
        alliance("db", "stop", env=env)


@pytest.mark.neo4j
def test_password_from_environment_is_used_on_first_start(home: Path) -> None:
    env = _env(home, NEO4J_PASSWORD="chosen-by-the-team-42")
    port = local_neo4j.free_port()
    try:
        assert alliance("db", "start", "--port", str(port), env=env).returncode == 0
        uri = f"bolt://127.0.0.1:{port}"
        with GraphDatabase.driver(uri, auth=("neo4j", "chosen-by-the-team-42")) as driver:
            assert driver.verify_authentication()
    finally:
        alliance("db", "stop", env=env)


def test_stale_pid_file_is_reported_and_cleared(home: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    (home / "neo4j").mkdir(parents=True)
    local_neo4j.ServerState(dead.pid, 7999, "bolt://127.0.0.1:7999", "/nowhere", local_neo4j.NEO4J_VERSION,
                       True, 0.0).save(home / "neo4j")
    env = _env(home)
    status = alliance("db", "status", "--json", env=env)
    assert json.loads(status.stdout)["state"] == "stale"
    assert "stale" in alliance("db", "stop", env=env).stdout
    assert json.loads(alliance("db", "status", "--json", env=env).stdout)["state"] == "stopped"


def test_missing_java_is_one_clear_sentence(home: Path, tmp_path: Path) -> None:
    empty = _fake_bin(tmp_path)
    env = _env(home, PATH=str(empty))
    env.pop("JAVA_HOME", None)
    result = alliance("db", "start", "--port", str(local_neo4j.free_port()), env=env)
    assert result.returncode == 2
    assert "Java is not installed" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_old_java_is_refused_with_what_to_do(home: Path, tmp_path: Path) -> None:
    folder = _fake_bin(tmp_path, java='echo \'openjdk version "11.0.20" 2023-07-18\' >&2')
    env = _env(home, JAVA_HOME=str(folder.parent), PATH=str(folder))
    result = alliance("db", "start", "--port", str(local_neo4j.free_port()), env=env)
    assert result.returncode == 2
    assert "Java 11" in result.stderr and "JAVA_HOME" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.neo4j
def test_failed_download_is_one_clear_sentence(home: Path, tmp_path: Path) -> None:
    java = shutil.which("java")
    assert java, "these tests need Java"
    folder = _fake_bin(
        tmp_path,
        java=f'exec {java} "$@"',
        mvn='echo "[ERROR] Could not transfer artifact org.neo4j:neo4j:pom" ; exit 1',
    )
    env = _env(home, PATH=str(folder), XDG_CACHE_HOME=str(tmp_path / "empty-cache"))
    env.pop("JAVA_HOME", None)
    result = alliance("db", "start", "--port", str(local_neo4j.free_port()), env=env)
    assert result.returncode == 2
    assert "downloading Neo4j" in result.stderr and "Could not transfer" in result.stderr
    assert "Traceback" not in result.stderr


def test_taken_port_is_refused(home: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = alliance("db", "start", "--port", str(port), env=_env(home))
    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "--port" in result.stderr


def test_commands_without_a_server_say_what_to_do(home: Path) -> None:
    result = alliance("schema", "apply", env=_env(home))
    assert result.returncode == 2
    assert "alliance db start" in result.stderr and "NEO4J_URI" in result.stderr


def test_generated_conf_binds_loopback_and_sizes_memory(tmp_path: Path) -> None:
    conf = local_neo4j.render_conf(local_neo4j.ServerConfig(home=tmp_path, port=7701))
    assert "server.bolt.listen_address=127.0.0.1:7701" in conf
    assert "dbms.usage_report.enabled=false" in conf
    assert "server.memory.pagecache.size=2g" in conf
    assert "dbms.memory.transaction.total.max=1g" in conf
    assert "dbms.security.auth_enabled=true" in conf
    assert f"server.directories.data={tmp_path.resolve() / 'data'}" in conf


def test_lock_pins_the_server_entry_point_jar() -> None:
    pinned = local_neo4j.read_lock()
    assert f"neo4j-server-{local_neo4j.NEO4J_VERSION}.jar" in pinned
    assert f"neo4j-bolt-{local_neo4j.NEO4J_VERSION}.jar" in pinned
    assert all(len(digest) == 64 for digest in pinned.values())



def assert_no_timer_on_reads(driver: Driver) -> None:
    """Without keep-alive during requests the server sends no `connection.recv_timeout_seconds`
    hint, so the driver reads its sockets without a timer each time."""
    connections = [c for pool in driver._pool.connections.values() for c in pool]  # noqa: SLF001
    assert connections
    for connection in connections:
        assert "connection.recv_timeout_seconds" not in connection.connection_hints
        assert connection.socket.get_read_timeout() is None
