"""Settings from the environment, one object for the whole service.

In development, missing secrets are generated once and kept under `ALLIANCE_HOME`
(mode 0600); in production a missing or placeholder secret stops the service with a
message naming the variable. An unusable API limit (ALLIANCE_QUERY_COST_CAPS,
ALLIANCE_MAX_BODY_BYTES) stops it too, naming the variable.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.errors import SettingsError
from core.files import locked, write_private

PLACEHOLDERS = {"", "changethis", "change-me", "changeme", "secret", "password", "neo4j", "test"}
MIN_SECRET_LENGTH = 32
DEFAULT_MAX_BODY_BYTES = 1_000_000
"""Bytes an API request body may have (a GraphQL query is a few KB; its variables little more)."""
DEFAULT_MATCH_THRESHOLD = 0.9
"""Chosen with bench/matching.py at 100k sellers (figures in bench/RESULTS.md)."""
DEFAULT_SCREEN_BLOCK = 0.5
DEFAULT_SCREEN_REVIEW = 0.25
"""Screening thresholds, chosen with the quality benchmark (bench/screen.py, figures in
bench/RESULTS.md)."""


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
    alliance_query_cost_caps: Annotated[dict[str, int], NoDecode] = {}
    """The most a GraphQL operation may cost, per role, over the defaults of api/cost.py:
    JSON text such as `{"investigator": 80000}`."""
    alliance_max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    """Bytes an API request body may have; a larger one is refused with 413."""
    alliance_match_threshold: float = DEFAULT_MATCH_THRESHOLD
    """The match probability at or above which `alliance analyze matches` writes a
    PROBABLY_SAME link between two sellers."""
    alliance_screen_block: float = DEFAULT_SCREEN_BLOCK
    """Screening score at or above which a new upload is blocked (graph/screening.py)."""
    alliance_screen_review: float = DEFAULT_SCREEN_REVIEW
    """Screening score at or above which a new upload not blocked goes to review."""
    alliance_alerts_schedule: bool = False
    """Run the watchlist alerts on their schedule inside `alliance serve` (off unless set)."""
    alliance_alerts_tick_seconds: float = 60.0
    """How often the schedule looks for alerts that are due."""
    alliance_warm_at_start: bool = False
    """Warm the API process at start (Neo4j's plans, the driver's pool, imports) in the
    background; `alliance serve` turns it on (`--no-warm` leaves it off)."""
    alliance_neo4j_heap: str | None = None
    """The local Neo4j's heap (`4g`); unset: sized by `alliance db start` from the machine
    and the store."""
    alliance_neo4j_pagecache: str | None = None
    """The local Neo4j's page cache (`8g`); unset: sized from the machine and the store."""
    alliance_webhook_key: str | None = None
    """The key every webhook's signing secret is derived from (docs/alerts.md): secrets
    are never stored; changing this key changes every webhook's secret."""
    alliance_webhook_allow_private: bool = False
    """Allow webhook addresses on loopback, private, link-local or reserved networks
    (local set-ups and tests); refused otherwise, at registration and at each delivery."""
    alliance_webhook_delivery: bool = False
    """Run the webhook delivery worker inside the API process: `alliance serve` (and the
    demo) turn it on unless it is set; an app made otherwise (tests, a bare uvicorn) does
    not deliver unless asked."""
    alliance_webhook_max_attempts: int = 8
    """Attempts of one delivery before it is marked failed."""
    alliance_webhook_timeout_seconds: float = 10.0
    """How long one delivery attempt may take before it counts as failed and is retried."""

    @field_validator("alliance_query_cost_caps", mode="before")
    @classmethod
    def _cost_caps(cls, value: Any) -> dict[str, int]:
        return cost_caps_from(value)

    @field_validator("alliance_max_body_bytes", mode="before")
    @classmethod
    def _max_body(cls, value: Any) -> int:
        return max_body_from(value)

    @field_validator("alliance_match_threshold")
    @classmethod
    def _match_threshold(cls, value: float) -> float:
        if not 0.0 < value <= 1.0:
            raise SettingsError(f"ALLIANCE_MATCH_THRESHOLD must be above 0 and at most 1 "
                                f"(default {DEFAULT_MATCH_THRESHOLD}), not {value}.")
        return value

    @model_validator(mode="after")
    def _screen_thresholds(self) -> Settings:
        if not 0.0 < self.alliance_screen_review <= self.alliance_screen_block <= 1.0:
            raise SettingsError(
                "ALLIANCE_SCREEN_REVIEW and ALLIANCE_SCREEN_BLOCK must be scores with "
                f"0 < review <= block <= 1, not review {self.alliance_screen_review} and "
                f"block {self.alliance_screen_block} (defaults {DEFAULT_SCREEN_REVIEW} and "
                f"{DEFAULT_SCREEN_BLOCK}).")
        return self

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

    def query_cost_caps(self, defaults: Mapping[str, int]) -> dict[str, int]:
        """The cost caps per role: `defaults` (api/cost.py's) with ALLIANCE_QUERY_COST_CAPS
        over them; a role not among the defaults is an error."""
        unknown = sorted(set(self.alliance_query_cost_caps) - set(defaults))
        if unknown:
            raise SettingsError(
                f"ALLIANCE_QUERY_COST_CAPS: unknown role {', '.join(map(repr, unknown))}; "
                f"the roles are {', '.join(defaults)}."
            )
        return {**defaults, **self.alliance_query_cost_caps}

    def pii_key(self) -> bytes:
        return self._secret("alliance_pii_key", "ALLIANCE_PII_KEY").encode()

    def jwt_secret(self) -> str:
        return self._secret("alliance_jwt_secret", "ALLIANCE_JWT_SECRET")

    def webhook_key(self) -> bytes:
        return self._secret("alliance_webhook_key", "ALLIANCE_WEBHOOK_KEY").encode()

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


def cost_caps_from(value: Any) -> dict[str, int]:
    """ALLIANCE_QUERY_COST_CAPS as a dict: JSON text (or a dict) of role -> a whole number
    of 1 or more; empty text is no caps of its own."""
    example = 'for example {"investigator": 80000}'
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise SettingsError(f"ALLIANCE_QUERY_COST_CAPS is not valid JSON ({error}); "
                                f"give a JSON object of role to cap, {example}.") from None
    if not isinstance(value, dict):
        raise SettingsError(f"ALLIANCE_QUERY_COST_CAPS must be a JSON object of role to cap, "
                            f"{example}.")
    for role, cap in value.items():
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
            raise SettingsError(f"ALLIANCE_QUERY_COST_CAPS: the cap of {role!r} must be a "
                                f"whole number of 1 or more, not {cap!r}.")
    return dict(value)


def max_body_from(value: Any) -> int:
    """ALLIANCE_MAX_BODY_BYTES as a whole number of 1 or more."""
    try:
        number = value if isinstance(value, int) and not isinstance(value, bool) \
            else int(str(value).strip())
    except ValueError:
        number = 0
    if number < 1:
        raise SettingsError(f"ALLIANCE_MAX_BODY_BYTES must be a whole number of bytes, 1 or "
                            f"more (default {DEFAULT_MAX_BODY_BYTES}), not {value!r}.")
    return number


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
