"""docs/data-contract.md says what the code does: files, fields, formats, required fields,
enum values, reason codes, labels, keys, properties and relationship types (pure)."""

from __future__ import annotations

import csv
import inspect
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from graph.model import NODES, PROVENANCE, RELATIONSHIPS
from loaders import pipeline
from loaders.mapping import MAIN, OBSERVED_ON
from loaders.validate import ENUMS, FILES, REASON_CODES, validate

DOC = Path(__file__).resolve().parents[1] / "docs" / "data-contract.md"

DOC_FORMAT = {"str": "text", "bool": "boolean", "float": "number", "int": "integer"}
"""The name of a field type of loaders/validate.py in the document (others: the same)."""

PIPELINE_CODES = set(re.findall(r'"code": "(\w+)"', inspect.getsource(pipeline)))
"""Reason codes the pipeline gives besides the field checks' (too_long, columns)."""

MAIN_OF_FILE = {**MAIN, "transfers": "TRANSFERRED_TO"}


# -- reading Markdown ------------------------------------------------------------------


@dataclass
class Section:
    level: int
    title: str
    lines: list[str]


def sections(text: str) -> list[Section]:
    """The document cut at its ATX headings (not those inside fenced code)."""
    found = [Section(0, "", [])]
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        heading = None if fenced else re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if heading:
            found.append(Section(len(heading.group(1)), heading.group(2).strip(), []))
        else:
            found[-1].lines.append(line)
    return found


def section(text: str, title: str) -> Section:
    matches = [s for s in sections(text) if s.title.lower() == title.lower()]
    assert len(matches) == 1, f"expected one section {title!r}, found {len(matches)}"
    return matches[0]


def subsections(text: str, title: str) -> list[Section]:
    """The sections nested under the one titled `title`."""
    all_sections = sections(text)
    start = next(i for i, s in enumerate(all_sections) if s.title.lower() == title.lower())
    level = all_sections[start].level
    nested = []
    for s in all_sections[start + 1:]:
        if s.level <= level:
            break
        nested.append(s)
    return nested


def cells(line: str) -> list[str]:
    """The cells of a table row: outer pipes optional, `\\|` is a pipe inside a cell."""
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", body)]


def is_separator(row: list[str]) -> bool:
    return bool(row) and all(re.fullmatch(r":?-{3,}:?", cell.replace(" ", "")) for cell in row)


def tables(lines: list[str]) -> list[list[dict[str, str]]]:
    """Every pipe table in `lines` (outside fenced code), rows keyed by lower-case header."""
    found: list[list[dict[str, str]]] = []
    block: list[list[str]] = []
    fenced = False
    for line in [*lines, ""]:
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if not fenced and "|" in line and line.strip():
            block.append(cells(line))
            continue
        if len(block) >= 2 and is_separator(block[1]):
            header = [h.lower() for h in block[0]]
            found.append([dict(zip(header, row + [""] * (len(header) - len(row)), strict=False))
                          for row in block[2:]])
        block = []
    return found


def table_with(lines: list[str], column: str) -> list[dict[str, str]]:
    """The one table of `lines` whose first column is `column`."""
    matches = [t for t in tables(lines) if t and next(iter(t[0])) == column]
    assert len(matches) == 1, f"expected one table starting with {column!r}, found {len(matches)}"
    return matches[0]


def ticked(cell: str) -> list[str]:
    """The `code spans` of a cell."""
    return re.findall(r"`([^`]+)`", cell)


def plain(cell: str) -> str:
    return cell.replace("`", "").replace("*", "").strip()


def code_blocks(lines: list[str], language: str) -> list[str]:
    blocks: list[str] = []
    current: list[str] = []
    inside = False
    for line in lines:
        if line.strip().startswith("```"):
            if inside:
                blocks.append("\n".join(current))
                current, inside = [], False
            elif line.strip()[3:].strip() == language:
                inside = True
            continue
        if inside:
            current.append(line)
    return blocks


# -- what the document says against the code -------------------------------------------


def doc_format(kind: str) -> str:
    return "one of" if kind.startswith("enum:") else DOC_FORMAT.get(kind, kind)


def file_problems(text: str) -> list[str]:
    problems: list[str] = []
    documented = {s.title: s for s in subsections(text, "The thirteen files")}
    for name in sorted(set(documented) - set(FILES)):
        problems.append(f"{name}: documented, but not a bundle file of loaders/validate.py")
    for name in sorted(set(FILES) - set(documented)):
        problems.append(f"{name}: a bundle file that is not documented")
    for name in sorted(set(FILES) & set(documented)):
        problems += field_problems(name, documented[name].lines)
    return problems


def field_problems(file: str, lines: list[str]) -> list[str]:
    problems: list[str] = []
    rows = {plain(row["field"]): row for row in table_with(lines, "field")}
    for field in sorted(set(rows) - set(FILES[file])):
        problems.append(f"{file}.{field}: documented, but the loaders do not know it")
    for field, (kind, required) in FILES[file].items():
        row = rows.get(field)
        if row is None:
            problems.append(f"{file}.{field}: not documented")
            continue
        if (plain(row["required"]).lower() == "yes") != required:
            problems.append(f"{file}.{field}: required is {required} in the loaders")
        shown = row["format"]
        if not plain(shown).lower().startswith(doc_format(kind)):
            problems.append(f"{file}.{field}: format is {doc_format(kind)!r}, not {shown!r}")
        elif kind.startswith("enum:") and ticked(shown) != list(ENUMS[kind[5:]]):
            problems.append(f"{file}.{field}: values are {ENUMS[kind[5:]]}, not {ticked(shown)}")
    if f"`{MAIN_OF_FILE[file]}`" not in "\n".join(lines):
        problems.append(f"{file}: does not say it writes `{MAIN_OF_FILE[file]}`")
    return problems


def example_problems(text: str) -> list[str]:
    """Each file's CSV example has every field, in order, and loads without a reason."""
    problems: list[str] = []
    for s in subsections(text, "The thirteen files"):
        examples = code_blocks(s.lines, "csv")
        if s.title not in FILES or not examples:
            problems.append(f"{s.title}: no CSV example")
            continue
        for example in examples:
            reader = csv.DictReader(io.StringIO(example))
            if list(reader.fieldnames or []) != list(FILES[s.title]):
                problems.append(f"{s.title}: the example's header is not the file's fields")
            for row in reader:
                _, reasons = validate(s.title, row)
                problems += [f"{s.title} example: {r['message']}" for r in reasons]
    return problems


def format_problems(text: str) -> list[str]:
    documented = {plain(row["format"]) for row in table_with(section(text, "Field formats").lines,
                                                               "format")}
    used = {doc_format(kind) for fields in FILES.values() for kind, _ in fields.values()}
    return ([f"format {f!r} is documented but no field has it" for f in sorted(documented - used)]
            + [f"format {f!r} is used but not documented" for f in sorted(used - documented)])


def reason_problems(text: str) -> list[str]:
    rows = table_with(section(text, "What happens to a bad row").lines, "code")
    documented = {plain(row["code"]) for row in rows}
    known = set(REASON_CODES)
    return ([f"reason code {c!r} is documented but never given" for c in sorted(documented - known)]
            + [f"reason code {c!r} is not documented" for c in sorted(known - documented)])


def label_problems(rows: list[dict[str, str]], contract: bool) -> list[str]:
    problems: list[str] = []
    model = {n.label: n for n in NODES if n.contract == contract}
    documented = {plain(row["label"]): row for row in rows}
    problems += [f"label {label} is documented but not in graph/model.py (contract={contract})"
                 for label in sorted(set(documented) - set(model))]
    for label, n in model.items():
        row = documented.get(label)
        if row is None:
            problems.append(f"label {label} is not documented")
            continue
        if ticked(row["key"])[:1] != [n.key]:
            problems.append(f"{label}: the key is {n.key}, not {row['key']}")
        if set(ticked(row["properties"])) != set(n.properties):
            problems.append(f"{label}: the properties are {sorted(n.properties)}, "
                            f"not {sorted(ticked(row['properties']))}")
    return problems


def rel_problems(rows: list[dict[str, str]], contract: bool) -> list[str]:
    problems: list[str] = []
    model = {r.type: r for r in RELATIONSHIPS if r.contract == contract}
    documented = {plain(row["relationship"]): row for row in rows}
    problems += [f"relationship {t} is documented but not in graph/model.py (contract={contract})"
                 for t in sorted(set(documented) - set(model))]
    for rel_type, r in model.items():
        row = documented.get(rel_type)
        if row is None:
            problems.append(f"relationship {rel_type} is not documented")
            continue
        for column, expected in (("from", r.sources), ("to", r.targets),
                                 ("properties", tuple(r.properties))):
            if set(ticked(row[column])) != set(expected):
                problems.append(f"{rel_type}: {column} is {sorted(expected)}, not {row[column]!r}")
    return problems


def model_problems(text: str) -> list[str]:
    added = section(text, "What the service adds").lines
    provenance = section(text, "Provenance").lines
    observed = {plain(row["file"]): plain(row["observed_on from"])
                for row in table_with(provenance, "file")}
    problems = (label_problems(table_with(section(text, "Labels").lines, "label"), True)
                + rel_problems(table_with(section(text, "Relationships").lines, "relationship"),
                               True)
                + label_problems(table_with(added, "label"), False)
                + rel_problems(table_with(added, "relationship"), False))
    if [plain(row["property"]) for row in table_with(provenance, "property")] != list(PROVENANCE):
        problems.append(f"the provenance properties are {PROVENANCE}")
    if observed != OBSERVED_ON:
        problems.append(f"observed_on comes from {OBSERVED_ON}, not {observed}")
    return problems


def contract_problems(text: str) -> list[str]:
    return (file_problems(text) + example_problems(text) + format_problems(text)
            + reason_problems(text) + model_problems(text))


# -- tests -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def test_the_document_matches_the_loaders_and_the_model(doc: str) -> None:
    assert contract_problems(doc) == []


def test_every_file_field_label_and_type_is_checked(doc: str) -> None:
    """The checks above see the whole contract, not an empty parse."""
    files = subsections(doc, "The thirteen files")
    assert [s.title for s in files] == list(FILES)
    assert sum(len(table_with(s.lines, "field")) for s in files) == \
        sum(len(fields) for fields in FILES.values())
    assert len(table_with(section(doc, "Labels").lines, "label")) == \
        sum(1 for n in NODES if n.contract)
    assert len(table_with(section(doc, "Relationships").lines, "relationship")) == \
        sum(1 for r in RELATIONSHIPS if r.contract)


def test_every_code_the_pipeline_gives_is_a_listed_reason_code() -> None:
    assert {"too_long", "columns"} <= PIPELINE_CODES <= set(REASON_CODES)


@pytest.mark.parametrize(("before", "after", "expected"), [
    ("| agency_id | yes | text | key |\n| name | yes | text | |\n",
     "| agency_id | yes | text | key |\n", "agencies.name: not documented"),
    ("| filed_on | yes | date | |", "| filed_on | | date | |",
     "complaints.filed_on: required is True"),
    ("| kind | | one of `person`, `company` |", "| kind | | one of `person`, `firm` |",
     "sellers.kind: values are"),
    ("| price | | number | |", "| price | | integer | |", "listings.price: format is 'number'"),
    ("| unit | | text | e.g. 经侦 |", "| unit | | text | e.g. 经侦 |\n| rank | | text | |",
     "agencies.rank: documented, but the loaders do not know it"),
    ("| Person | `person_id` | `name` | |", "| Person | `person_id` | `name`, `age` | |",
     "Person: the properties are"),
    ("| RUNS | `Person` | `Site` | | persons.operates_sites |\n", "",
     "relationship RUNS is not documented"),
    ("| BECAME |", "| TURNED_INTO |", "relationship TURNED_INTO is documented but not"),
    ("| reference | a complaint", "| dangling | a complaint", "reason code 'dangling'"),
    ("| columns | the CSV row", "| cells | the CSV row", "reason code 'columns' is not"),
    ("#### transfers", "#### transfer", "transfer: documented, but not a bundle file"),
    ("P000002,李某,", "P000002,李某,12345", "persons example: id_number"),
])
def test_a_drift_is_reported(doc: str, before: str, after: str, expected: str) -> None:
    assert before in doc
    problems = contract_problems(doc.replace(before, after, 1))
    assert any(expected in problem for problem in problems), problems


def test_tables_are_read_with_escaped_pipes_alignment_and_without_outer_pipes() -> None:
    lines = ["text before", "",
             "label | key | notes", ":--- | :---: | ---:",
             "Address | `address_key` | sha1 of `adcode\\|street`",
             "| Phone | `e164` |", "", "| a | b |", "|---|---|", "| 1 | 2 |"]
    first, second = tables(lines)
    assert first == [{"label": "Address", "key": "`address_key`",
                      "notes": "sha1 of `adcode|street`"},
                     {"label": "Phone", "key": "`e164`", "notes": ""}]
    assert second == [{"a": "1", "b": "2"}]


def test_headings_inside_code_blocks_are_not_sections() -> None:
    text = "# A\n```sh\n# not a heading\n```\n## B\nbody\n"
    assert [(s.level, s.title) for s in sections(text)][1:] == [(1, "A"), (2, "B")]
