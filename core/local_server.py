"""What the local Neo4j server (`alliance db start`) leaves under `ALLIANCE_HOME/neo4j`
for its clients: where it listens (`server.json`) and its password (`neo4j-password`).
The runner that writes them is `alliance/local_neo4j.py`; `graph/drivers.py` reads them.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from core.errors import AllianceError
from core.files import write_private


class ServerError(AllianceError):
    """The local server cannot be found, started or stopped; the message says why."""

    code = "LOCAL_SERVER"


def local_home(alliance_home: Path) -> Path:
    """The folder of the local server under ALLIANCE_HOME."""
    return alliance_home / "neo4j"


@dataclass
class ServerState:
    """What `start` leaves in `home/server.json` for `status`, `stop` and the drivers."""

    pid: int
    port: int
    uri: str
    data_dir: str
    version: str
    auth: bool
    started_at: float

    @classmethod
    def load(cls, home: Path) -> ServerState | None:
        path = home / "server.json"
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text()))

    def save(self, home: Path) -> None:
        (home / "server.json").write_text(json.dumps(asdict(self), indent=2))


def password_file(home: Path) -> Path:
    return home / "neo4j-password"


def local_password(home: Path) -> str:
    """The local server's password: generated (or taken from NEO4J_PASSWORD) once."""
    path = password_file(home)
    if path.exists():
        return path.read_text().strip()
    chosen = os.environ.get("NEO4J_PASSWORD") or secrets.token_urlsafe(24)
    write_private(path, chosen)
    return chosen
