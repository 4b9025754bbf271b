"""A throwaway local Neo4j (auth off, small memory, a free port) for tests that need a
server of their own: the session's server, and drills that stop or kill theirs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alliance import local_neo4j


@contextmanager
def throwaway_server(home: Path) -> Iterator[local_neo4j.ServerConfig]:
    """Start a server whose files live under `home`; stop it on the way out."""
    config = local_neo4j.ServerConfig(home=home, port=local_neo4j.free_port(), auth=False,
                                      memory=local_neo4j.SMALL_MEMORY)
    local_neo4j.start(config)
    try:
        yield config
    finally:
        local_neo4j.stop(home)
