"""Streaming readers for bundle files: CSV and JSON Lines, one record at a time.

Each record comes with the 1-based physical line where it starts (CSV header is
line 1, so the first data row is line 2; the first JSONL record is line 1).
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SNIFF_BYTES = 1 << 16
ENCODINGS = ("auto", "utf-8", "gb18030")


class UnusableInput(Exception):
    """The file cannot be read at all (unknown kind, bad encoding, bad header)."""


@dataclass(frozen=True)
class Record:
    line: int
    row: dict[str, Any]


def file_kind(path: Path) -> tuple[str, str]:
    """(bundle file name such as 'sellers', format 'csv' or 'jsonl')."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ("csv", "jsonl"):
        raise UnusableInput(f"{path}: not a .csv or .jsonl file")
    return path.stem.lower(), suffix


def detect_encoding(path: Path) -> str:
    """utf-8-sig for a BOM, utf-8 if the first 64 KiB decode as UTF-8, else gb18030."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _encoding(path: Path, encoding: str) -> str:
    if encoding not in ENCODINGS:
        raise UnusableInput(f"unknown encoding {encoding!r}; use one of {', '.join(ENCODINGS)}")
    if encoding == "auto":
        return detect_encoding(path)
    return "utf-8-sig" if encoding == "utf-8" else encoding


def read_records(path: Path, encoding: str = "auto") -> Iterator[Record]:
    """Yield the records of one file; raises UnusableInput for an unreadable file."""
    _, kind = file_kind(path)
    chosen = _encoding(path, encoding)
    try:
        if kind == "csv":
            yield from _read_csv(path, chosen)
        else:
            yield from _read_jsonl(path, chosen)
    except UnicodeDecodeError as error:
        raise UnusableInput(f"{path.name}: cannot be decoded as {chosen} ({error.reason})") from error


def csv_header(path: Path, encoding: str = "auto") -> list[str]:
    """The column names of a CSV file (its header row)."""
    chosen = _encoding(path, encoding)
    try:
        with path.open(encoding=chosen, newline="") as handle:
            return _header(path, csv.reader(handle))
    except UnicodeDecodeError as error:
        raise UnusableInput(f"{path.name}: cannot be decoded as {chosen} ({error.reason})") from error


def _header(path: Path, reader: Iterator[list[str]]) -> list[str]:
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise UnusableInput(f"{path.name}: no header row")
    return [h.strip().lstrip("\ufeff") for h in header]


def _read_csv(path: Path, encoding: str) -> Iterator[Record]:
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle)
        names = _header(path, reader)
        width = len(names)
        start = reader.line_num + 1
        for cells in reader:
            if "".join(cells).strip():
                if len(cells) < width:
                    cells += [""] * (width - len(cells))
                yield Record(start, dict(zip(names, cells, strict=False)))
            start = reader.line_num + 1


def _read_jsonl(path: Path, encoding: str) -> Iterator[Record]:
    with path.open(encoding=encoding) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                value = {"_unparsed": line.rstrip("\n")}
            if not isinstance(value, dict):
                value = {"_unparsed": line.rstrip("\n")}
            yield Record(number, value)
