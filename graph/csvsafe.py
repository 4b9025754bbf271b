"""CSV for people: cells a spreadsheet shows as text and never runs as a formula.

Text typed by sellers reaches exported files (a nickname `=1+1`, `@SUM(A1)`,
`=HYPERLINK(...)`). Excel, LibreOffice and Google Sheets run a cell that starts with
`=`, `+`, `-` or `@` (and some read a leading tab, carriage return, line feed or NUL
the same way), so such a text cell gets a single quote in front, as OWASP advises; the
quote shows the cell as text. Leading spaces do not hide the sign: ` =1+1` is quoted
too. The full-width signs `＝＋－＠` are treated like their ASCII forms.

Numbers given as numbers (`int`, `float`) are written as they are, so `-3` stays a
number a spreadsheet can add up; the same text `'-3'` from a seller gets the quote.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

FORMULA_SIGNS = frozenset("=+-@\t\r\n\0＝＋－＠")
"""First characters that make a spreadsheet read a cell as a formula."""
QUOTE = "'"
_BLANKS = " \u3000"

Cell = str | int | float | None


def is_risky(text: str) -> bool:
    """True when a spreadsheet could read `text` as a formula."""
    stripped = text.lstrip(_BLANKS)
    return bool(stripped) and stripped[0] in FORMULA_SIGNS


def safe_text(text: str) -> str:
    """`text` as a cell a spreadsheet shows as text."""
    return QUOTE + text if is_risky(text) else text


def safe_cell(value: Cell) -> str:
    """One cell: None empty, numbers as written, text made safe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return safe_text(str(value))


def lines(rows: Iterable[Sequence[Cell]]) -> Iterator[str]:
    """Each row as one CSV line (RFC 4180 quoting, CRLF line ends), every cell safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
