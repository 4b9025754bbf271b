"""`alliance`: the one console command in front of the service.

Each area keeps its commands next to its code (`alliance/db_cli.py`, `loaders/cli.py`,
...); this module only gathers them.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from alliance import db_cli
from alliance.alerts_cli import alerts_app
from alliance.analyze_cli import analyze_app
from alliance.audit_cli import audit_app
from alliance.demo import demo
from alliance.export_cli import export_command
from alliance.generate.cli import generate
from alliance.query_cli import query_app
from alliance.screen_cli import screen
from api.serve_cli import serve, token_app
from core.errors import AllianceError
from loaders.load_cli import load

app = typer.Typer(
    name="alliance",
    help="Alliance Graph: the shared investigation graph against counterfeits.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db_cli.db_app, name="db")
app.add_typer(db_cli.schema_app, name="schema")
app.command("demo")(demo)
app.add_typer(query_app, name="query")
app.command("serve")(serve)
app.add_typer(token_app, name="token")
app.add_typer(analyze_app, name="analyze")
app.add_typer(audit_app, name="audit")
app.add_typer(alerts_app, name="alerts")
app.command("generate")(generate)
app.command("load")(load)
app.command("screen")(screen)
app.command("export")(export_command)

err = Console(stderr=True, soft_wrap=True)


def main() -> None:
    """Entry point: user-caused errors become one clear sentence and exit code 2."""
    try:
        app()
    except AllianceError as exc:
        err.print(f"[red]error:[/red] {exc}")
        sys.exit(2)


if __name__ == "__main__":
    main()
