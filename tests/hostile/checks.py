"""What every answer of the API must be, whoever asks and whatever they send."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any

TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+|"
                       r"neo4j\.exceptions\.|org\.neo4j\.|CypherSyntaxError|\bat [\w.$]+\([\w]+\.java:\d+\)")
"""Signs of an internal error shown to the caller: a Python or Java stack, driver classes."""
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


@dataclass
class Answer:
    """One request of the sweep and what came back."""

    role: str
    entry: str
    what: str
    status: int
    text: str
    content_type: str = ""
    seconds: float = 0.0

    def json(self) -> Any:
        import json

        try:
            return json.loads(self.text)
        except ValueError:
            return None

    def __str__(self) -> str:
        return f"{self.role} {self.entry} {self.what} -> {self.status}"


def server_error(answer: Answer) -> str | None:
    if answer.status >= 500 and answer.status != 503:
        return f"{answer}: {answer.text[:300]}"
    return None


def traceback_text(answer: Answer) -> str | None:
    found = TRACEBACK.search(answer.text)
    return f"{answer}: {found.group(0)!r} in {answer.text[:200]!r}" if found else None


def graphql_errors(answer: Answer) -> list[dict[str, Any]]:
    body = answer.json()
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return [e for e in body["errors"] if isinstance(e, dict)]
    return []


def uncoded_errors(answer: Answer) -> list[str]:
    """GraphQL errors without a code and the request id, or masked as INTERNAL."""
    problems = []
    for error in graphql_errors(answer):
        ext = error.get("extensions") or {}
        if not ext.get("code") or not ext.get("requestId"):
            problems.append(f"{answer}: error without code or request id: {error}")
        elif ext["code"] == "INTERNAL":
            problems.append(f"{answer}: INTERNAL: {error.get('message')}")
    return problems


def leaked(answer: Answer, secrets: set[str]) -> list[str]:
    """Identifier values found in the answer's text (JSON, HTML or CSV)."""
    return sorted(value for value in secrets if value and value in answer.text)


def formula_cells(text: str) -> list[str]:
    """CSV cells a spreadsheet would run as a formula (numbers such as -1.5 are fine)."""
    found = []
    for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))):
        for cell in row:
            if cell[:1] in FORMULA_START and not NUMBER.fullmatch(cell):
                found.append(cell)
    return found
