"""A driver that counts the sessions opened through it: `graph.access` opens one per
query or attempt, so a test can say how many round trips a request took."""

from __future__ import annotations

from typing import Any


class CountingDriver:
    """Wraps a driver; `sessions` holds the keyword arguments of every session opened.
    Everything but `session` goes to the wrapped driver."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.sessions: list[dict[str, Any]] = []

    def session(self, **kwargs: Any) -> Any:
        self.sessions.append(kwargs)
        return self.inner.session(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
