"""The printed dossier's words, formats and page, without a database: both languages have
every label, the project's own words have Chinese, figures and dates are formatted one
way, the language follows `?lang=` then `Accept-Language`, what a seller typed stays
text, and a Chinese page keeps no English label."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
import strawberry

from api import dossier_page
from api.dossier import (
    Conflict,
    Dossier,
    DossierAgency,
    DossierCase,
    DossierComplaint,
    DossierName,
    DossierPurchase,
    DossierRaid,
    DossierShipment,
    DossierSubject,
    DossierTrace,
    Manifest,
    value_assessment,
)
from api.dossier import manifest as make_manifest
from api.dossier_text import EN, VALUES, ZH, Lang, accepted, date_text, language, money, sort_key, word
from api.dossier_timeline import KINDS, TimelineEvent, event
from api.investigation import SourceTrace, TraceHop, TraceNode, TracePath, TraceSite
from api.web.security import CONTENT_SECURITY_POLICY, _style_hash
from graph.lifecycle import CASE_STATUSES, LEAD_STATUSES
from loaders.validate import ENUMS

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


# --- words --------------------------------------------------------------------------------


def test_both_languages_have_every_label() -> None:
    assert set(EN) == set(ZH)
    placeholders = re.compile(r"\{(\w+)\}")
    for key in EN:
        assert set(placeholders.findall(EN[key])) == set(placeholders.findall(ZH[key])), key


def test_every_chinese_label_is_chinese() -> None:
    for key, text in ZH.items():
        if key == "col.sha256":
            continue
        assert re.search(r"[\u4e00-\u9fff]", text), f"{key}: {text!r} has no Chinese"


def test_every_word_of_the_projects_vocabularies_has_chinese() -> None:
    vocabularies = {*LEAD_STATUSES, *CASE_STATUSES, *(v for values in ENUMS.values() for v in values)}
    missing = sorted(v for v in vocabularies if v not in VALUES)
    assert missing == []
    assert [k for k in KINDS if f"event.{k}" not in EN] == []
    assert word("zh-CN", "closed", "Shop") == "已关闭" and word("zh-CN", "closed") == "已结案"
    assert word("en", "closed", "Shop") == "closed"
    assert word("zh-CN", "白云鞋厂") == "白云鞋厂"  # data stays as it is


# --- language -----------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "header", "chosen"), [
    ("zh-CN", "en-US,en;q=0.9", "zh-CN"),
    ("en", "zh-CN,zh;q=0.9", "en"),
    (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
    (None, "zh-Hans-CN", "zh-CN"),
    (None, "zh", "zh-CN"),
    (None, "en-GB,en;q=0.8", "en"),
    (None, "fr-FR,fr;q=0.9,zh-CN;q=0.5,en;q=0.4", "zh-CN"),
    (None, "en;q=0.5,zh-CN;q=0.9", "zh-CN"),
    (None, "zh-TW,en;q=0.5", "en"),
    (None, "zh-CN;q=0,en", "en"),
    (None, None, "en"),
    (None, "de", "en"),
    ("fr", "zh-CN", "zh-CN"),  # a language the dossier has not: the browser's
])
def test_the_language_is_the_parameter_then_the_browsers(lang: str | None, header: str | None,
                                                        chosen: str) -> None:
    assert language(lang, header) == chosen


def test_accept_language_is_ranked_by_q() -> None:
    assert accepted("en;q=0.2, zh-CN, fr;q=0.5, de;q=bad") == ["zh-CN", "fr", "en"]


# --- figures and dates ----------------------------------------------------------------------


@pytest.mark.parametrize(("value", "shown"), [
    (160000.0, "160,000 CNY"), (160000, "160,000 CNY"), (1234567.5, "1,234,567.50 CNY"),
    (99.99, "99.99 CNY"), (0.0, "0 CNY"), (None, ""),
])
def test_money_has_thousands_separators_and_no_needless_decimals(value: float | None, shown: str) -> None:
    assert money(value) == shown


@pytest.mark.parametrize(("value", "shown"), [
    ("2024-05-01", "2024-05-01"),
    ("2024-05-02T03:04:05.123456789+00:00", "2024-05-02 03:04 UTC"),
    ("2024-05-02T11:04:05+08:00", "2024-05-02 03:04 UTC"),
    ("2024-05-02T03:04:05Z", "2024-05-02 03:04 UTC"),
    ("2024-05-02T03:04:05", "2024-05-02 03:04"),
    ("not a date at all", "not a date at all"),
    (None, ""),
])
def test_dates_are_shown_as_dates(value: str | None, shown: str) -> None:
    assert date_text(value) == shown


def test_events_order_by_utc_day_then_time_with_a_date_first() -> None:
    times = ["2024-05-02T01:00:00+08:00", "2024-05-01", "2024-05-01T23:30:00+00:00",
             "2024-05-01T10:00:00.5+00:00", "2024-04-30"]
    assert sorted(times, key=sort_key) == ["2024-04-30", "2024-05-01", "2024-05-01T10:00:00.5+00:00",
                                           "2024-05-02T01:00:00+08:00", "2024-05-01T23:30:00+00:00"]


def test_an_event_without_a_date_is_no_event() -> None:
    assert event("verdict", None, "TestPurchase:TP1") is None
    e = event("verdict", "2024-04-10", "TestPurchase:TP1", detail="counterfeit")
    assert e is not None and e.at == "2024-04-10" and e.who is None


# --- the page -------------------------------------------------------------------------------


def dossier(text: str = "鞋王") -> Dossier:
    """A dossier with a row in every part; `text` is what a seller typed."""
    site = TraceNode(label="Site", key="X-GZ", caption=text)
    hop = TraceHop(from_=TraceNode(label="Seller", key="S1", caption=text), type="OPERATES",
                   to=TraceNode(label="Shop", key="masked", caption="masked"), source=None, observed_on=None,
                   reversed=False)
    trace = SourceTrace(site=TraceSite(site_id=strawberry.ID("X-GZ"), kind="factory", status="suspected",
                                       label=text, raided=False),
                        score=0.9, paths=[TracePath(kind="person", weight=0.8, hops=[hop])])
    events = [e for e in (
        event("lead_created", "2024-05-01", "Lead:LD-GZ"),
        event("lead_pushed", "2024-05-02", "Lead:LD-GZ", agency_id="AG-GZ"),
        event("status", "2024-05-03T02:00:00.000000000+00:00", "Lead:LD-GZ", who="liaison-AG-GZ",
              role="police_liaison", agency_id="AG-GZ", from_status="pushed", to_status="registered",
              note=text),
        event("raid", "2024-07-01", "Case:CS-1", detail="Site:X-GZ", agency_id="AG-GZ",
              seized_value_cny=350000.0, arrests=4, dens_destroyed=1),
    ) if e is not None]
    d = Dossier(
        lead_id=strawberry.ID("LD-GZ"), title=text, status="pushed", created_on="2024-05-01",
        pushed_on="2024-05-02", note=text, brand_ids=["B1"],
        agencies=[DossierAgency(agency_id=strawberry.ID("AG-GZ"), name="广州市公安局", level="city",
                                adcode="440100", pushed_on="2024-05-02")],
        cases=[DossierCase(case_id=strawberry.ID("CS-1"), status="raided", title=text, opened_on="2024-06-01",
                           agency_id="AG-GZ", raids=[DossierRaid(site_id="X-GZ", raided_on="2024-07-01",
                                                                 seized_value_cny=350000.0, arrests=4,
                                                                 dens_destroyed=1)])],
        subjects=[DossierSubject(label="Seller", key="S1", caption=text, status="active", network_id="N1",
                                 network_size=2, network_risk=0.5, address=text, adcode="440111")],
        traces=[DossierTrace(subject=site, sites=[trace])],
        test_purchases=[DossierPurchase(purchase_id=strawberry.ID("TP1"), listing_id="L1", brand_id="B1",
                                        ordered_on="2024-04-01", verdict="counterfeit",
                                        verdict_on="2024-04-10", report_no=text, shipment_id="SF100")],
        complaints=[DossierComplaint(complaint_id=strawberry.ID("C1"), brand_id="B1", kind="counterfeit",
                                     outcome="upheld", filed_on="2024-03-01", resolved_on=None,
                                     target="Listing:L1")],
        shipments=[DossierShipment(shipment_id=strawberry.ID("SF100"), carrier="SF", waybill_no=text,
                                   shipped_on="2024-04-02", origin=text, origin_adcode="440111",
                                   shop_id="SH1")],
        timeline=events,
        names=[DossierName(label="Brand", key="B1", name="PeakStride", name_zh="峰步"),
               DossierName(label="Agency", key="AG-GZ", name="广州市公安局", name_zh=None)],
        value=value_assessment(160000.0),
        conflicts=[Conflict(kind="lead", id=strawberry.ID("LD-GZ2"), status="investigating", brand_ids=["B1"],
                            agency_id="AG-GZ", via=["Seller:S1"])],
        manifest=Manifest(algorithm="SHA-256", items=[], sha256=""),
        generated_at="2024-08-01T00:00:00+00:00", generated_for=f"{text} (investigator)",
    )
    d.manifest = make_manifest(d)
    return d


class Text(HTMLParser):
    """The text of a page and every element's tag, as a browser would build them."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.open and self.open[-1] == tag:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if not self.open or self.open[-1] != "style":  # the style sheet is no text of the page
            self.text.append(data)


def parsed(page: str) -> Text:
    parser = Text()
    parser.feed(page)
    return parser


def test_the_page_shows_money_names_dates_and_the_threshold() -> None:
    page = dossier_page.render(dossier(), "en")
    assert "160,000 CNY" in page and "160000.0" not in page
    assert "PeakStride (B1)" in page and "广州市公安局 (AG-GZ)" in page
    shown = page.split("id=\"manifest\"")[0]  # the manifest's ids keep the stored values
    assert "2024-05-03 02:00 UTC" in shown and "T02:00" not in shown
    assert "filing threshold reached" in page and "50,000 CNY" in page and "250,000 CNY" in page
    assert "Fa Shi [2004] No. 19" in page
    assert "seized 350,000 CNY, 4 arrests, 1 dens destroyed" in page
    assert page.index("<section class=\"part\" id=\"manifest\"") > page.index("id=\"conflicts\"")


def test_the_chinese_page_names_brands_in_chinese_and_keeps_no_english_label() -> None:
    page = dossier_page.render(dossier(), "zh-CN")
    shown = " ".join(parsed(re.sub(r"<code[^>]*>.*?</code>", "", page)).text)  # the manifest's ids are data
    assert "峰步 (B1)" in shown and "已达立案追诉标准" in shown and "时间线" in shown
    english = sorted({v for k, v in EN.items() if k not in ("col.sha256",) and not k.startswith("error.")
                      and len(v) > 3 and v in shown})
    assert english == []
    words = set(re.findall(r"[A-Za-z][A-Za-z_]{3,}", shown))
    data = {"PeakStride", "investigator", "liaison", "UTC", "JSON", "json"}  # data, units, formats
    assert words - data == set(), "English left on the Chinese page"


def test_seller_typed_text_stays_text() -> None:
    langs: tuple[Lang, ...] = ("en", "zh-CN")
    for lang in langs:
        page = dossier_page.render(dossier(HOSTILE), lang)
        found = parsed(page)
        assert set(found.tags) <= {"html", "head", "meta", "title", "style", "body", "main", "header",
                                   "h1", "p", "section", "h2", "h3", "h4", "dl", "dt", "dd", "strong", "br",
                                   "table", "thead", "tbody", "tr", "th", "td", "time", "span", "div", "ul",
                                   "li", "em", "code"}
        assert "<script" not in page and "onerror=" not in page.replace("onerror=alert", "")
        assert HOSTILE in "".join(found.text)  # shown, as text


def test_the_page_carries_the_one_style_the_policy_allows() -> None:
    page = dossier_page.render(dossier(), "en")
    styles = re.findall(r"<style>(.*?)</style>", page, flags=re.S)
    assert styles == [dossier_page.STYLE]
    assert _style_hash(dossier_page.STYLE) in CONTENT_SECURITY_POLICY
    assert "<script" not in page and " style=" not in page


def test_the_print_style_sheet_sets_a4_page_breaks_and_whole_rows() -> None:
    css = re.sub(r"\s+", " ", dossier_page.STYLE)
    assert re.search(r"@page \{ size: A4; margin: \d+mm", css)
    assert ".part { break-before: page; }" in css and ".part#manifest { break-before: page; }" in css
    assert re.search(r"tr,[^{]*\{ break-inside: avoid; \}", css)
    assert "thead { display: table-header-group; }" in css


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
@pytest.mark.parametrize("code", ["UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "DATABASE_UNAVAILABLE",
                                  "TIMEOUT", "ERROR"])
def test_error_pages_speak_the_readers_language(lang: str, code: str) -> None:
    page = dossier_page.error_page(lang, code, "req-1")  # type: ignore[arg-type]
    table = ZH if lang == "zh-CN" else EN
    assert table.get(f"error.{code}", table["error.other"]) in page and "req-1" in page
    assert ("/signin" in page) == (code == "UNAUTHENTICATED")
    if lang == "zh-CN":
        assert not re.search(r"[A-Za-z]{4,}", "".join(parsed(page).text).replace("req-1", ""))


def test_timeline_event_fields_are_what_the_manifest_hashes() -> None:
    d = dossier()
    events = [i for i in d.manifest.items if i.kind == "event"]
    assert [i.id for i in events] == [f"{e.at}:{e.kind}:{e.ref}" + (f":{e.to_status}" if e.to_status else "")
                                      for e in d.timeline]
    assert all(isinstance(e, TimelineEvent) for e in d.timeline)
