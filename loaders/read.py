"""Streaming readers for bundle files: CSV and JSON Lines, one record at a time.

Each record comes with the 1-based physical line where it starts (CSV header is
line 1, so the first data row is line 2; the first JSONL record is line 1), and the
names of its fields longer than FIELD_LIMIT (the row is rejected, the file goes on). A
CSV row whose cells do not match the header one for one is rejected too, with the counts.
`check_file` reads a whole file once before anything is written and chooses its
encoding: a file that cannot be decoded (at any line), mixes encodings or has no header
is unusable, and nothing of the run is loaded.
"""

from __future__ import annotations

import codecs
import csv
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import AllianceError

ENCODINGS = ("auto", "utf-8", "gb18030")
CODECS = ("utf-8-sig", "utf-8", "gb18030")
MIXED_EVIDENCE = 16
"""Bytes of several-byte UTF-8 characters (about 8 Chinese characters) before the first
byte that is not UTF-8, from which a file is taken to mix encodings. GB18030 text almost
never decodes as that much UTF-8."""
FIELD_LIMIT = 1 << 20
"""Longest field, in characters (1,048,576), in CSV and JSON Lines alike (a list counts
as its `;`-joined text). A row with a longer field is rejected, with the field named."""
CHECK_CHUNK_BYTES = 1 << 24

# No csv-module limit of its own (131,072 characters by default, an error past it):
# FIELD_LIMIT is checked per row instead, so a long field rejects its row, as in JSON
# Lines. The limit is the process's; raising it harms no other reader.
csv.field_size_limit(sys.maxsize)


class UnusableInput(AllianceError):
    """The file cannot be read at all (unknown kind, bad encoding, bad header)."""

    code = "UNUSABLE_INPUT"


@dataclass(frozen=True)
class Record:
    line: int
    row: dict[str, Any]
    too_long: tuple[str, ...] = ()
    """The fields longer than FIELD_LIMIT."""
    columns: str = ""
    """Why a CSV row's cells do not match the header (more or fewer of them), or ''."""


def file_kind(path: Path) -> tuple[str, str]:
    """(bundle file name such as 'sellers', format 'csv' or 'jsonl')."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ("csv", "jsonl"):
        raise UnusableInput(f"{path}: not a .csv or .jsonl file")
    return path.stem.lower(), suffix


@dataclass(frozen=True)
class DecodeError:
    """Where a file first fails to decode, and how much text in several-byte characters
    decoded before it (bytes beyond one per character)."""

    line: int
    reason: str
    byte: int
    wide_before: int

    def message(self, path: Path, codec: str) -> str:
        return (f"{path.name} line {self.line}: cannot be decoded as {_shown(codec)} "
                f"({self.reason} at byte 0x{self.byte:02x})")


def first_decode_error(path: Path, codec: str) -> DecodeError | None:
    """Decode the whole file (in large chunks of whole lines: UTF-8 and GB18030 never have
    a newline byte inside a character); None if it all decodes."""
    line, wide = 1, 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHECK_CHUNK_BYTES):
            chunk += handle.readline()
            try:
                text = chunk.decode(codec)
            except UnicodeDecodeError as error:
                good = chunk[:error.start]
                return DecodeError(line + good.count(b"\n"), str(error.reason),
                                   chunk[error.start], wide + len(good) - len(good.decode(codec)))
            wide += len(chunk) - len(text)
            line += chunk.count(b"\n")
    return None


def detect_encoding(path: Path) -> str:
    """The codec of a whole file: utf-8-sig for a BOM, utf-8 if it all decodes as UTF-8,
    else gb18030 if it all decodes as that. A file that turns from UTF-8 text (at least
    MIXED_EVIDENCE bytes of it in several-byte characters) to bytes that are not UTF-8 is
    unusable: one file has one encoding, and the rest would be misread."""
    with path.open("rb") as handle:
        if handle.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8:
            return _checked(path, "utf-8-sig")
    error = first_decode_error(path, "utf-8")
    if error is None:
        return "utf-8"
    if error.wide_before >= MIXED_EVIDENCE:
        raise UnusableInput(error.message(path, "utf-8") + ", though the lines before it are "
                            "UTF-8: a file must be in one encoding")
    return _checked(path, "gb18030")


def _checked(path: Path, codec: str) -> str:
    error = first_decode_error(path, codec)
    if error is not None:
        raise UnusableInput(error.message(path, codec))
    return codec


def _shown(codec: str) -> str:
    return "utf-8" if codec == "utf-8-sig" else codec


def codec_for(path: Path, encoding: str) -> str:
    """The codec for `encoding`: an option (auto, utf-8, gb18030), or a codec that
    `check_file` chose."""
    if encoding == "auto":
        return detect_encoding(path)
    if encoding == "utf-8":
        return "utf-8-sig"
    if encoding in CODECS:
        return encoding
    raise UnusableInput(f"unknown encoding {encoding!r}; use one of {', '.join(ENCODINGS)}")


def check_file(path: Path, encoding: str = "auto") -> str:
    """Read the whole file once; return its codec, for `read_records`. Raises UnusableInput
    if any line does not decode, or a CSV file has no header: `load_paths` checks every
    file this way before it writes anything."""
    _, kind = file_kind(path)
    codec = detect_encoding(path) if encoding == "auto" else _checked(path, codec_for(path, encoding))
    if kind == "csv":
        csv_header(path, codec)
    return codec


def read_records(path: Path, encoding: str = "auto") -> Iterator[Record]:
    """Yield the records of one file; raises UnusableInput for an unreadable file."""
    _, kind = file_kind(path)
    chosen = codec_for(path, encoding)
    try:
        if kind == "csv":
            yield from _read_csv(path, chosen)
        else:
            yield from _read_jsonl(path, chosen)
    except UnicodeDecodeError as error:
        raise UnusableInput(f"{path.name}: cannot be decoded as {chosen} ({error.reason})") from error
    except csv.Error as error:
        raise UnusableInput(f"{path.name}: not readable as CSV ({error})") from error


def csv_header(path: Path, encoding: str = "auto") -> list[str]:
    """The column names of a CSV file (its header row)."""
    chosen = codec_for(path, encoding)
    try:
        with path.open(encoding=chosen, newline="") as handle:
            return _header(path, csv.reader(handle))
    except UnicodeDecodeError as error:
        raise UnusableInput(f"{path.name}: cannot be decoded as {chosen} ({error.reason})") from error
    except csv.Error as error:
        raise UnusableInput(f"{path.name}: not readable as CSV ({error})") from error


def _header(path: Path, reader: Iterator[list[str]]) -> list[str]:
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise UnusableInput(f"{path.name}: no header row")
    return [h.strip().lstrip("\ufeff") for h in header]


def _read_csv(path: Path, encoding: str) -> Iterator[Record]:
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle)
        names = _header(path, reader)
        start = reader.line_num + 1
        for cells in reader:
            if "".join(cells).strip():
                yield _csv_record(start, names, cells)
            start = reader.line_num + 1


def _csv_record(line: int, names: list[str], cells: list[str]) -> Record:
    """One CSV row as a record. A row with more or fewer cells than the header (an
    unquoted comma, a lost one) would load values under the wrong names: it is rejected,
    its cells kept in the reject (the ones past the header under `_extra`)."""
    row: dict[str, Any] = dict(zip(names, cells, strict=False))
    if len(cells) != len(names):
        if len(cells) > len(names):
            row["_extra"] = cells[len(names):]
        plural = "" if len(cells) == 1 else "s"
        return Record(line, row, columns=f"row has {len(cells)} cell{plural}, "
                                          f"the header has {len(names)}")
    if max(map(len, cells)) > FIELD_LIMIT:
        return Record(line, row, _too_long(row))
    return Record(line, row)


def field_size(value: Any) -> int:
    """The length of a field as its CSV cell would have it (a list `;`-joined)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        return sum(field_size(item) for item in value) + max(len(value) - 1, 0)
    return len(json.dumps(value, ensure_ascii=False, default=str))


def _too_long(row: dict[str, Any]) -> tuple[str, ...]:
    return tuple(name for name, value in row.items() if field_size(value) > FIELD_LIMIT)


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
            yield Record(number, value, _too_long(value) if len(line) > FIELD_LIMIT else ())
