"""`alliance generate`: a synthetic bundle with known answers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from alliance.generate.run import generate_bundle

out = Console()


def generate(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the bundle into.")],
    scale: Annotated[int, typer.Option(min=2, help="Number of sellers.")] = 2000,
    seed: Annotated[int, typer.Option(help="Same seed, same bytes.")] = 1,
    fmt: Annotated[Literal["csv", "jsonl"], typer.Option("--format")] = "csv",
    dirty: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of planted bad rows.")] = 0.005,
    evasion: Annotated[int, typer.Option(
        min=0, max=3, help="0: today's rings; 1-3: rings that share no exact identifier.")] = 0,
) -> None:
    """Write a synthetic alliance bundle (the thirteen contract files), the new uploads to
    screen (uploads.jsonl) and truth.json."""
    with out.status(f"Generating {scale} sellers..."):
        summary = generate_bundle(out_dir, scale=scale, seed=seed, fmt=fmt, dirty=dirty,
                                 evasion=evasion)
    table = Table("file", "rows", "planted bad rows", title=f"bundle in {out_dir}")
    for name, rows in summary.rows.items():
        table.add_row(name, str(rows), str(summary.rejected[name]))
    out.print(table)
