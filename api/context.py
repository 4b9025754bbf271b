"""The GraphQL context: one per request, built by `api.main.get_context`.

It carries the process's driver, the database name, the verified caller and the
request id, plus the request's DataLoaders (created here, so they never outlive it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import neo4j
from strawberry.fastapi import BaseContext

from api import scope
from api.scope import Kind
from graph.access import DEFAULT_TIMEOUT
from graph.caller import Caller


class Context(BaseContext):
    def __init__(
        self,
        *,
        driver: neo4j.AsyncDriver,
        database: str,
        caller: Caller,
        request_id: str,
        timeout: float = DEFAULT_TIMEOUT,
        max_cost: int | None = None,
        row_cap: Callable[[str], int] | None = None,
    ) -> None:
        super().__init__()
        self.driver = driver
        self.database = database
        self.caller = caller
        self.request_id = request_id
        self.timeout = timeout
        """Seconds each transaction of this request may run."""
        self.max_cost = max_cost
        """The most a GraphQL operation of this request may cost (`api.cost`); None: no cap."""
        self.row_cap = row_cap
        """A saved query's row cap by name, for its cost; None: the default cap."""
        self._loaders: dict[Any, Any] = {}

    @property
    def scope(self) -> dict[str, Any]:
        """The caller's rights as Cypher parameters (see `api.scope`)."""
        return scope.params(self.caller)

    @property
    def kind(self) -> Kind:
        """The kind of caller, whose rule alone goes into query text (`api.scope.visible_as`)."""
        return scope.kind(self.caller)

    def loader(self, key: Any, factory: Any) -> Any:
        """The request's DataLoader for `key`, made by `factory()` on first use."""
        if key not in self._loaders:
            self._loaders[key] = factory()
        return self._loaders[key]
