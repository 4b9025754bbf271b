"""Settings: secrets are generated in development and refused when weak in production."""

from __future__ import annotations

import stat
from pathlib import Path

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
