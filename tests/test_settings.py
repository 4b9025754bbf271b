"""Settings: secrets are generated in development (once, whatever the processes) and refused
when weak in production."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings, SettingsError


def test_development_generates_each_secret_once_and_keeps_it_private(tmp_path: Path) -> None:
    settings = Settings(alliance_home=tmp_path, alliance_env="development")
    first = settings.jwt_secret()
    assert len(first) >= 32
    assert Settings(alliance_home=tmp_path).jwt_secret() == first
    assert settings.pii_key() != first.encode()
    mode = stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode)
    assert mode == 0o600


@pytest.mark.parametrize("value", [None, "changethis", "secret", ""])
def test_production_refuses_missing_or_placeholder_secrets(tmp_path: Path, value: str | None) -> None:
    settings = Settings(alliance_home=tmp_path, alliance_env="production",
                        alliance_jwt_secret=value)
    with pytest.raises(SettingsError, match="ALLIANCE_JWT_SECRET"):
        settings.jwt_secret()
    assert not (tmp_path / "secrets.json").exists()


def test_production_refuses_short_secret_and_takes_a_long_one(tmp_path: Path) -> None:
    short = Settings(alliance_home=tmp_path, alliance_env="production", alliance_pii_key="abc123")
    with pytest.raises(SettingsError, match="shorter"):
        short.pii_key()
    good = "k" * 40
    settings = Settings(alliance_home=tmp_path, alliance_env="production", alliance_pii_key=good)
    assert settings.pii_key() == good.encode()


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEO4J_URI", "neo4j+s://example.databases.neo4j.io")
    monkeypatch.setenv("NEO4J_DATABASE", "alliance")
    monkeypatch.setenv("ALLIANCE_HOME", str(tmp_path))
    settings = Settings()
    assert settings.neo4j_uri == "neo4j+s://example.databases.neo4j.io"
    assert settings.neo4j_database == "alliance"
    assert settings.alliance_home == tmp_path.resolve()
    assert not settings.uses_local_server


WORKERS = 6
ROUNDS = 6


def _read_secrets(homes: list[str], barrier: Any, results: Any, worker: int) -> None:
    """One process: at each home, wait for the others, then read both secrets (half the
    processes in the other order)."""
    out: list[tuple[str, str] | str] = []
    for home in homes:
        barrier.wait()
        settings = Settings(alliance_home=Path(home), alliance_env="development",
                            alliance_pii_key=None, alliance_jwt_secret=None)
        try:
            if worker % 2:
                jwt = settings.jwt_secret()
                pii = settings.pii_key().decode()
            else:
                pii = settings.pii_key().decode()
                jwt = settings.jwt_secret()
            out.append((pii, jwt))
        except Exception as error:  # reported to the test, which fails on it
            out.append(repr(error))
    results.put(out)


def test_processes_starting_together_on_a_fresh_home_agree_on_the_secrets(tmp_path: Path) -> None:
    homes = [str(tmp_path / f"home{n}") for n in range(ROUNDS)]
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(WORKERS), context.Queue()
    workers = [context.Process(target=_read_secrets, args=(homes, barrier, results, n))
               for n in range(WORKERS)]
    for worker in workers:
        worker.start()
    seen = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    for round_, home in enumerate(homes):
        answers = {process[round_] for process in seen}
        assert len(answers) == 1, f"{home}: the processes read {answers}"
        stored = json.loads((Path(home) / "secrets.json").read_text(encoding="utf-8"))
        pii, jwt = answers.pop()
        assert stored == {"ALLIANCE_PII_KEY": pii, "ALLIANCE_JWT_SECRET": jwt}
        assert stat.S_IMODE((Path(home) / "secrets.json").stat().st_mode) == 0o600
        assert [p.name for p in Path(home).iterdir() if p.name.endswith(".tmp")] == []


def test_an_unreadable_secrets_file_is_refused_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text('{"ALLIANCE_PII_KEY": "abc', encoding="utf-8")
    with pytest.raises(SettingsError, match="secrets.json"):
        Settings(alliance_home=tmp_path, alliance_pii_key=None).pii_key()
    assert (tmp_path / "secrets.json").read_text(encoding="utf-8") == '{"ALLIANCE_PII_KEY": "abc'


# --- API limits ----------------------------------------------------------------------------

DEFAULTS = {"investigator": 50_000, "analyst": 5_000}


def test_query_cost_caps_are_json_merged_over_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().query_cost_caps(DEFAULTS) == DEFAULTS
    monkeypatch.setenv("ALLIANCE_QUERY_COST_CAPS", '{"investigator": 80000}')
    assert Settings().query_cost_caps(DEFAULTS) == {"investigator": 80_000, "analyst": 5_000}
    monkeypatch.setenv("ALLIANCE_QUERY_COST_CAPS", " ")
    assert Settings().query_cost_caps(DEFAULTS) == DEFAULTS


@pytest.mark.parametrize(("text", "expected"), [
    ("{investigator: 80000}", "is not valid JSON"),
    ("[80000]", "must be a JSON object"),
    ('{"investigator": "80000"}', "must be a whole number of 1 or more, not '80000'"),
    ('{"investigator": 0}', "must be a whole number of 1 or more, not 0"),
    ('{"investigator": 1.5}', "not 1.5"),
    ('{"investigator": true}', "not True"),
])
def test_unusable_cost_caps_name_the_variable(monkeypatch: pytest.MonkeyPatch, text: str,
                                              expected: str) -> None:
    monkeypatch.setenv("ALLIANCE_QUERY_COST_CAPS", text)
    with pytest.raises(SettingsError, match="ALLIANCE_QUERY_COST_CAPS") as caught:
        Settings()
    assert expected in str(caught.value)


def test_a_cost_cap_for_an_unknown_role_names_the_variable_and_the_roles() -> None:
    settings = Settings(alliance_query_cost_caps={"boss": 5, "analyst": 9})
    with pytest.raises(SettingsError, match=r"ALLIANCE_QUERY_COST_CAPS: unknown role 'boss'; "
                                            r"the roles are investigator, analyst"):
        settings.query_cost_caps(DEFAULTS)


def test_max_body_bytes_default_and_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().alliance_max_body_bytes == 1_000_000
    monkeypatch.setenv("ALLIANCE_MAX_BODY_BYTES", "2048")
    assert Settings().alliance_max_body_bytes == 2048
    for bad in ("lots", "0", "-5", "1.5", ""):
        monkeypatch.setenv("ALLIANCE_MAX_BODY_BYTES", bad)
        with pytest.raises(SettingsError, match="ALLIANCE_MAX_BODY_BYTES must be a whole number"):
            Settings()


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("ALLIANCE_QUERY_COST_CAPS", '{"boss": 5}', "unknown role 'boss'"),
    ("ALLIANCE_QUERY_COST_CAPS", "{", "is not valid JSON"),
    ("ALLIANCE_MAX_BODY_BYTES", "big", "ALLIANCE_MAX_BODY_BYTES must be"),
])
def test_serve_refuses_an_unusable_limit_before_it_starts(tmp_path: Path, name: str, value: str,
                                                          expected: str) -> None:
    env = {**os.environ, "ALLIANCE_HOME": str(tmp_path), name: value}
    result = subprocess.run([str(Path(sys.executable).parent / "alliance"), "serve"], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2, result.stderr
    assert name in result.stderr and expected in result.stderr
    assert "Traceback" not in result.stderr and "serving on" not in result.stderr
