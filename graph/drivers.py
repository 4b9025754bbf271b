"""Neo4j access: which server to talk to, and drivers for it.

`NEO4J_URI` set = that server (bolt://, neo4j://, neo4j+s://; a cluster or a managed
instance the same). Otherwise the local server that `alliance db start` runs, with the
port and password it keeps under `ALLIANCE_HOME/neo4j`. Callers own the driver they
get and pass it down with the database name; nothing else builds one.
"""

from __future__ import annotations

from dataclasses import dataclass

from neo4j import AsyncDriver, AsyncGraphDatabase, Driver, GraphDatabase

from core.local_server import ServerError, ServerState, local_home, local_password
from core.settings import Settings, get_settings


@dataclass(frozen=True)
class Connection:
    uri: str
    auth: tuple[str, str] | None
    database: str
    local: bool

    def describe(self) -> str:
        return f"{self.uri} (database {self.database})"


def connection(settings: Settings | None = None) -> Connection:
    settings = settings or get_settings()
    if settings.neo4j_uri:
        auth = (settings.neo4j_user, settings.neo4j_password or "") \
            if settings.neo4j_password is not None else None
        return Connection(settings.neo4j_uri, auth, settings.neo4j_database, local=False)
    home = local_home(settings.alliance_home)
    state = ServerState.load(home)
    if state is None:
        raise ServerError(
            "no Neo4j to talk to: run `alliance db start`, or set NEO4J_URI to a server."
        )
    auth = ("neo4j", local_password(home)) if state.auth else None
    return Connection(state.uri, auth, settings.neo4j_database, local=True)


def open_driver(conn: Connection | None = None) -> Driver:
    conn = conn or connection()
    return GraphDatabase.driver(conn.uri, auth=conn.auth, user_agent="alliance-graph",
                                notifications_min_severity="OFF")


def open_async_driver(conn: Connection | None = None) -> AsyncDriver:
    conn = conn or connection()
    return AsyncGraphDatabase.driver(conn.uri, auth=conn.auth, user_agent="alliance-graph",
                                     notifications_min_severity="OFF")
