"""Settings: secrets are generated in development (once, whatever the processes) and refused
when weak in production."""

from __future__ import annotations

import json
import multiprocessing
import stat
from pathlib import Path
from typing import Any

import pytest

from alliance.settings import Settings, SettingsError


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
