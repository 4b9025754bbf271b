"""Settings from the environment, one object for the whole service.

In development, missing secrets are generated once and kept under `ALLIANCE_HOME`
(mode 0600); in production a missing or placeholder secret stops the service with a
message naming the variable.
"""

from __future__ import annotations

import json
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDERS = {"", "changethis", "change-me", "changeme", "secret", "password", "neo4j", "test"}
MIN_SECRET_LENGTH = 32


class SettingsError(RuntimeError):
    """A setting is missing or unusable; the message says which and what to do."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: str | None = None
    neo4j_database: str = "neo4j"
    alliance_pii_key: str | None = None
    alliance_jwt_secret: str | None = None
    alliance_home: Path = Path("~/.alliance")
    alliance_env: Literal["development", "production"] = "development"
    alliance_threshold_filing_cny: float = 50_000.0
    """Estimated value at which a counterfeit-goods lead meets the criminal filing threshold."""
    alliance_threshold_serious_cny: float = 250_000.0
    """Estimated value at which a lead counts as especially serious."""

    @field_validator("alliance_home")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def is_production(self) -> bool:
        return self.alliance_env == "production"

    @property
    def uses_local_server(self) -> bool:
        """True when no NEO4J_URI is set: the server `alliance db start` runs is used."""
        return not self.neo4j_uri

    def pii_key(self) -> bytes:
        return self._secret("alliance_pii_key", "ALLIANCE_PII_KEY").encode()

    def jwt_secret(self) -> str:
        return self._secret("alliance_jwt_secret", "ALLIANCE_JWT_SECRET")

    def _secret(self, field: str, env_name: str) -> str:
        value = getattr(self, field)
        if value is not None and value.strip().lower() not in PLACEHOLDERS:
            if self.is_production and len(value) < MIN_SECRET_LENGTH:
                raise SettingsError(
                    f"{env_name} is shorter than {MIN_SECRET_LENGTH} characters; "
                    "set a long random value in production."
                )
            return str(value)
        if self.is_production:
            raise SettingsError(
                f"{env_name} is missing or a placeholder; production needs a real secret "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
            )
        return generated_secret(self.alliance_home, env_name)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by the owner only (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def generated_secret(home: Path, name: str) -> str:
    """A development secret, generated on first use and kept in `home/secrets.json`."""
    path = home / "secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    if name not in stored:
        stored[name] = secrets.token_urlsafe(48)
        write_private(path, json.dumps(stored, indent=2))
    return stored[name]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
