"""Neo4j values as JSON-friendly Python, for every module that shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


def plain(value: Any) -> Any:
    """A Neo4j value as JSON-friendly Python: temporals as ISO 8601 text."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    if hasattr(value, "iso_format"):
        return value.iso_format()
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
