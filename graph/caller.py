"""Who is asking: the caller every read and write is scoped to.

Built by the API from a verified token (or by the CLI for a local operator) and passed
down to the Cypher as parameters, so access rules live in the queries themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

Role = Literal["investigator", "police_liaison", "brand_member", "analyst", "admin", "platform"]
ROLES: tuple[str, ...] = get_args(Role)


@dataclass(frozen=True)
class Caller:
    sub: str
    role: Role
    agency_id: str | None = None
    """The agency of a police liaison."""
    brand_id: str | None = None
    """The brand of a brand member."""
    agency_adcodes: tuple[str, ...] = field(default=())
    """Division codes of the liaison's jurisdiction (its agency's division and below);
    filled from the graph when the caller is built."""

    @property
    def sees_everything(self) -> bool:
        return self.role in ("investigator", "admin")


SCREENERS: tuple[str, ...] = ("platform", "investigator", "admin")
"""Roles that may screen new uploads (`graph.screening`); `platform` (the e-commerce
platform's service token) may do nothing else."""

LOCAL_OPERATOR = Caller(sub="local-operator", role="admin")
"""The caller for commands run on the machine itself (`alliance query run`, ...)."""
