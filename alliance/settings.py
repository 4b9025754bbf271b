"""Settings from the environment, one object for the whole service.

In development, missing secrets are generated once and kept under `ALLIANCE_HOME`
(mode 0600); in production a missing or placeholder secret stops the service with a
message naming the variable.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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
    """Write `text` to `path` readable by the owner only (0600), atomically: a reader sees
    the old file or the new one, whole (a temporary file of its own, then os.replace)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock (flock) on the file `path`, created 0600 if missing."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _stored_secrets(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        stored = json.loads(text)
    except json.JSONDecodeError:
        stored = None
    if not isinstance(stored, dict) or not all(isinstance(v, str) for v in stored.values()):
        raise SettingsError(
            f"{path} is not a JSON object of secrets; repair it, or remove it to generate "
            "new development secrets (identity hashes and tokens made with the old ones "
            "will no longer match)."
        )
    return stored


def generated_secret(home: Path, name: str) -> str:
    """A development secret, generated on first use and kept in `home/secrets.json`.
    Processes starting together agree: the file is read again under a lock before a
    secret is added, and replaced whole."""
    path = home / "secrets.json"
    stored = _stored_secrets(path)
    if name not in stored:
        with locked(home / "secrets.json.lock"):
            stored = _stored_secrets(path)
            if name not in stored:
                stored[name] = secrets.token_urlsafe(48)
                write_private(path, json.dumps(stored, indent=2))
    return stored[name]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
