"""In Chromium: the dossier opens with the workbench's session, prints to A4 PDF with
Chromium's own print, and the printed text holds the timeline in order, the manifest on
the last page, and, in Chinese, no English label.

The PDFs are kept in tests/browser/screenshots/ (gitignored) to be looked at.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest

from api.dossier_text import EN, ZH, date_text
from tests.browser.harness import SCREENSHOTS, Web, outside, sign_in_with_link

pypdf = pytest.importorskip("pypdf")

LEAD = "LD-GZ"
A4_MM = (210, 297)
DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2} UTC)?")
UNITS = {"CNY", "UTC", "SHA", "JSON", "json"}
"""Units and formats the Chinese page names as they are."""


def open_dossier(web: Web, new_page: Callable[[], Any], lang: str) -> tuple[Any, dict[str, Any]]:
    """A liaison's browser signed in with a one-time link (the session cookie alone), on the
    dossier page in `lang`; and the dossier's JSON read with the same cookie."""
    page = new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in_with_link(page, web, "police_liaison")
    # planning a dossier's queries the first time is slow on a busy machine
    response = page.goto(f"{web.base}/leads/{LEAD}/dossier.html?lang={lang}", timeout=180_000)
    assert response is not None and response.status == 200, page.inner_text("body")[:300]
    assert violations == [] and outside(page, web.base) == []
    d = page.evaluate(f"fetch('/leads/{LEAD}/dossier.json').then(r => r.json())")
    return page, d


def printed(page: Any, name: str) -> Any:
    """The page printed by Chromium to A4, kept as a file, read back with pypdf."""
    pdf = page.pdf(format="A4", print_background=True)
    SCREENSHOTS.mkdir(exist_ok=True)
    (SCREENSHOTS / f"{name}.pdf").write_bytes(pdf)
    return pypdf.PdfReader(io.BytesIO(pdf))


def texts(reader: Any) -> list[str]:
    """Each page's text, NFKC-normalised: the CJK fonts map some glyphs to compatibility
    characters (a Kangxi radical for 日); compare with `nfkc` of what is expected."""
    return [nfkc(p.extract_text() or "") for p in reader.pages]


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def mm(points: Any) -> int:
    return round(float(points) * 25.4 / 72)


def between(text: str, start: str, end: str) -> str:
    assert start in text and end in text, (start, end)
    return text.split(start, 1)[1].split(end, 1)[0]


def test_the_dossier_prints_on_a4_with_the_timeline_in_order_and_the_manifest_last(
    web: Web, new_page: Callable[[], Any],
) -> None:
    page, d = open_dossier(web, new_page, "en")
    assert page.inner_text("h1").startswith(f"Dossier {LEAD}")
    reader = printed(page, "dossier-en")
    pages = texts(reader)
    assert all((mm(p.mediabox.width), mm(p.mediabox.height)) == A4_MM for p in reader.pages)
    whole = "\n".join(pages)

    timeline = between(whole, EN["section.timeline"], EN["section.subjects"])
    assert DATE.findall(timeline) == [date_text(e["at"]) for e in d["timeline"]]
    assert {"lead_created", "lead_pushed", "test_purchase", "verdict", "complaint_filed", "shipment",
            "site_first_seen"} <= {e["kind"] for e in d["timeline"]}
    assert "120,000 CNY" in whole and "120000.0" not in whole
    assert "PeakStride (B1)" in whole and "广州市公安局 (AG-GZ)" in whole

    # each part starts a page; the manifest is the last part and ends on the last page
    starts = [next(n for n, text in enumerate(pages) if EN[key] in text)
              for key in ("section.lead", "section.timeline", "section.subjects", "section.evidence",
                          "section.conflicts", "section.manifest")]
    assert starts == sorted(set(starts)), starts
    assert d["manifest"]["sha256"] in pages[-1]
    assert d["manifest"]["sha256"] not in "\n".join(pages[:-1])


def test_the_chinese_dossier_prints_with_no_english_label(web: Web, new_page: Callable[[], Any]) -> None:
    page, d = open_dossier(web, new_page, "zh-CN")
    assert page.inner_text("h1").startswith(f"{ZH['title']} {LEAD}")
    whole = "\n".join(texts(printed(page, "dossier-zh-CN")))

    timeline = between(whole, nfkc(ZH["section.timeline"]), nfkc(ZH["section.subjects"]))
    assert DATE.findall(timeline) == [date_text(e["at"]) for e in d["timeline"]]
    assert nfkc(ZH["event.lead_created"]) in timeline and nfkc(ZH["level.above_filing_threshold"]) in whole

    # the manifest's item kinds and ids are the file's own (`subject Shop:SH1`): checked apart
    body, manifest = whole.split(nfkc(ZH["section.manifest"]), 1)
    labels = sorted({text for key, text in EN.items()
                     if len(text) > 3 and not key.startswith("error.") and text not in UNITS})
    assert [text for text in labels if nfkc(text) in body] == []
    assert nfkc(ZH["manifest.total"]) in manifest and EN["manifest.total"] not in manifest
    assert EN["col.item"] not in manifest and EN["section.manifest"] not in whole
    # any other Latin word before the manifest is data of the dossier (names, ids, who read it)
    shown_data = " ".join(str(v) for v in values(d))
    words = set(re.findall(r"[A-Za-z]{4,}", body)) - UNITS
    assert sorted(w for w in words if w not in shown_data) == []


def test_the_dossier_follows_the_browsers_language_and_says_errors_in_it(
    web: Web, new_page: Callable[[], Any],
) -> None:
    page = new_page()  # a Chinese browser (the harness's locale), not signed in
    response = page.goto(f"{web.base}/leads/{LEAD}/dossier.html")
    assert response is not None and response.status == 401
    assert page.inner_text("h1") == ZH["error.title"]
    assert ZH["error.UNAUTHENTICATED"] in page.inner_text("body")
    sign_in_with_link(page, web, "police_liaison")
    missing = page.goto(f"{web.base}/leads/LD-NONE/dossier.html")
    assert missing is not None and missing.status == 404
    assert ZH["error.NOT_FOUND"] in page.inner_text("body")
    page.goto(f"{web.base}/leads/{LEAD}/dossier.html", timeout=180_000)
    assert page.inner_text("h1").startswith(f"{ZH['title']} {LEAD}")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"


def values(value: Any) -> list[Any]:
    """Every scalar inside a JSON value."""
    if isinstance(value, dict):
        return [x for v in value.values() for x in values(v)]
    if isinstance(value, list):
        return [x for v in value for x in values(v)]
    return [value]
