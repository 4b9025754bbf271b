"""In Chromium: a lead's week in the browser. A brand member selects its shop on the graph
and creates a lead with the evidence it may attach (a refusal is said in words); an
investigator verifies it; the brand member pushes it to an agency chosen through the
division tree (Shenzhen's, so the Guangzhou liaison other tests sign in as sees nothing
new); the liaison of that jurisdiction finds it in the inbox, registers it, opens a case
and records a raid (a raid outside the jurisdiction is refused in words); a liaison of
another province neither lists nor opens it. Only the moves `leadLifecycle` allows the
caller are offered; the dossier and export links are well formed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from graph.caller import Caller
from tests.browser.harness import Web, outside, until

EVENTS = "query ($id: ID!) { lead(leadId: $id) { hasEvent(first: 100) { nodes { at } } } }"
ZONE = "Asia/Kolkata"
"""Half an hour off UTC's minutes, so a time left in UTC cannot pass for local."""
CASE = "query ($id: ID!) { case(caseId: $id) { status arrests densDestroyed seizedValueCny } }"
LEAD = ("query ($id: ID!) { lead(leadId: $id) { status evidencedByComplaint { nodes { complaintId } } "
        "evidencedByTestPurchase { nodes { purchaseId } } concernsShop { nodes { shopId } } "
        "pushedTo { nodes { agencyId } } onBehalfOf { nodes { brandId } } } }")
FJ_LIAISON = Caller(sub="web-liaison-fj", role="police_liaison", agency_id="AG-FJ")
SZ_LIAISON = Caller(sub="web-liaison-sz", role="police_liaison", agency_id="AG-SZ")
FORMATS = ("ftm.jsonl", "graphml", "gexf", "gephi.csv")
IDS = "els => els.map(e => e.dataset.id)"
ROWS = "#inbox-rows tr[data-id]"
ONLY_PUSHED = ("() => [...document.querySelectorAll('#inbox-rows tr[data-id]')]"
               ".every(r => r.dataset.status === 'pushed')")
DONE_OR_MISSING = "#lead-body[data-state='done'], #lead-body[data-state='missing']"
HREFS = "els => els.map(e => e.getAttribute('href'))"
SLOW = 120_000
"""Milliseconds to wait for a page's first answers: first query plans on a busy machine."""


def open_lead(page: Any, web: Web, lead_id: str) -> None:
    page.goto(f"{web.base}/leads/{lead_id}")
    page.wait_for_selector(DONE_OR_MISSING, state="attached", timeout=SLOW)


def move(page: Any, button: str, fill: Callable[[], None] | None = None, *, ok: bool = True) -> str:
    """Press a move's button, fill its form, confirm; the words said about it."""
    page.click(button)
    page.wait_for_selector("#move-go")
    if fill:
        fill()
    page.click("#move-go")
    state = "ok" if ok else "error"
    page.wait_for_selector(f"#move-result[data-state='{state}']", state="attached", timeout=SLOW)
    page.wait_for_selector("#lead-body[data-state='done']", state="attached", timeout=SLOW)
    return str(page.inner_text("#move-result"))


def moves(page: Any) -> set[str]:
    return set(page.eval_on_selector_all("#moves button.move", "els => els.map(e => e.id)"))


@pytest.fixture(scope="module")
def liaisons(web: Web) -> None:
    web.callers["police_liaison_fj"] = FJ_LIAISON
    web.callers["police_liaison_sz"] = SZ_LIAISON


def test_a_lead_goes_from_the_brands_graph_to_a_raid_by_the_liaison_of_its_jurisdiction(
    web: Web, page_for: Callable[..., Any], liaisons: None,
) -> None:
    # --- the brand member, on the graph: its shop, the evidence it may attach -------------
    brand = page_for("brand_member")
    brand.goto(f"{web.base}/#seed=Shop:SH3&hops=1")
    until(brand, "() => window.workbench && window.workbench.cy.getElementById('Shop:SH3').nonempty()")
    brand.click("#hand-create")  # nothing selected: the API's refusal, in the page's language
    brand.wait_for_selector("#hand-result[data-state='error']", state="attached", timeout=SLOW)
    assert "线索至少要涉及一个卖家、店铺、窝点或人员" in brand.inner_text("#hand-result")

    brand.evaluate("window.workbench.cy.getElementById('Shop:SH3').select()")
    brand.wait_for_selector("#hand-subjects li[data-id='Shop:SH3']", state="attached", timeout=SLOW)
    brand.click("#hand-find")
    brand.wait_for_selector("#hand-evidence[data-state='done']", state="attached", timeout=SLOW)
    offered = set(brand.eval_on_selector_all("#hand-evidence li", "els => els.map(e => e.dataset.id)"))
    assert {"Complaint:C2", "TestPurchase:TP2"} <= offered
    assert not {"Complaint:C1", "TestPurchase:TP1"} & offered  # another brand's evidence
    assert brand.is_disabled("#hand-brand") and brand.input_value("#hand-brand") == "B2"
    brand.fill("#hand-title", "宝安仓库 Bolt 背包")
    brand.fill("#hand-value", "160000")
    brand.click("#hand-create")
    brand.wait_for_selector("#hand-result[data-state='done']", state="attached", timeout=SLOW)
    lead_id = str(brand.get_attribute("#hand-result", "data-lead"))
    lead = web.graphql("investigator", LEAD, {"id": lead_id})["lead"]
    assert lead["status"] == "draft"
    assert [n["shopId"] for n in lead["concernsShop"]["nodes"]] == ["SH3"]
    assert {n["complaintId"] for n in lead["evidencedByComplaint"]["nodes"]} == {"C2"}
    assert {n["purchaseId"] for n in lead["evidencedByTestPurchase"]["nodes"]} == {"TP2"}
    assert [n["brandId"] for n in lead["onBehalfOf"]["nodes"]] == ["B2"]

    # the brand may not verify its own draft: no such button (withdrawing is its move)
    open_lead(brand, web, lead_id)
    assert moves(brand) == {"move-withdrawn"}
    href = brand.get_attribute("#dossier-link", "href")
    assert href == f"/leads/{lead_id}/dossier.html?lang=zh-CN"
    exports = brand.eval_on_selector_all("#lead-body .exports a", HREFS)
    assert exports == [f"/exports/lead/{lead_id}.{fmt}" for fmt in FORMATS]

    # --- an investigator verifies it --------------------------------------------------------
    investigator = page_for("investigator")
    open_lead(investigator, web, lead_id)
    assert {"move-verified", "move-withdrawn"} == moves(investigator)
    move(investigator, "#move-verified")
    assert investigator.get_attribute("#lead-status", "data-status") == "verified"

    # --- the brand member pushes it through the division tree --------------------------------
    open_lead(brand, web, lead_id)
    assert "move-pushed" in moves(brand)

    def choose_agency() -> None:
        brand.select_option("#push-province", "440000")
        provinces = brand.eval_on_selector_all("#push-province option", "els => els.map(e => e.value)")
        assert {"440000", "350000"} <= set(provinces)
        offered = brand.eval_on_selector_all("#push-agency option", "els => els.map(e => e.value)")
        assert {"AG-GZ", "AG-SZ"} <= set(offered) and "AG-FJ" not in offered  # Guangdong's only
        brand.select_option("#push-agency", "AG-SZ")

    said = move(brand, "#move-pushed", choose_agency)
    assert "已推送" in said
    lead = web.graphql("investigator", LEAD, {"id": lead_id})["lead"]
    assert (lead["status"], [a["agencyId"] for a in lead["pushedTo"]["nodes"]]) == ("pushed", ["AG-SZ"])

    # --- the liaison of Shenzhen: inbox, register, case, raid ---------------------------------
    liaison = page_for("police_liaison_sz")
    liaison.goto(f"{web.base}/leads")
    liaison.wait_for_selector("#inbox-table[data-state='done']", state="attached", timeout=SLOW)
    listed = liaison.eval_on_selector_all(ROWS, IDS)
    assert listed[0] == lead_id  # newest first
    liaison.select_option("#f-status", "pushed")
    until(liaison, "() => new URLSearchParams(location.search).get('status') === 'pushed'")
    liaison.wait_for_selector("#inbox-table[data-state='done']", state="attached", timeout=SLOW)
    until(liaison, ONLY_PUSHED)
    assert lead_id in liaison.eval_on_selector_all(ROWS, IDS)
    pushed = int(liaison.get_attribute("#counts button[data-status='pushed']", "data-count") or 0)
    assert pushed == liaison.locator("#inbox-rows tr[data-id]").count()

    liaison.click(f"#inbox-rows tr[data-id='{lead_id}'] a.lead-link")
    liaison.wait_for_selector("#lead-body[data-state='done']", state="attached", timeout=SLOW)
    assert moves(liaison) == {"move-registered", "move-declined", "move-transferred"}
    move(liaison, "#move-registered")
    assert liaison.get_attribute("#lead-status", "data-status") == "registered"
    case_id = f"CS-{lead_id}"
    said = move(liaison, "#move-filed", lambda: liaison.fill("#case-charge", "假冒注册商标罪"))
    assert case_id in said
    assert liaison.get_attribute("#lead-status", "data-status") == "filed"
    liaison.wait_for_selector(f"#cases .case[data-id='{case_id}'][data-status='open']", state="attached")

    def raid_on(site: str) -> Callable[[], None]:
        def fill() -> None:
            liaison.select_option("#raid-site", "")
            liaison.fill("#raid-site-other", site)
            liaison.fill("#raid-seized", "50000")
            liaison.fill("#raid-arrests", "2")
            liaison.fill("#raid-dens", "1")
            assert liaison.input_value("#raid-date") == date.today().isoformat()
        return fill

    refused = move(liaison, "#move-raid", raid_on("X-PT"), ok=False)  # Putian, Fujian
    assert refused.startswith("被拒绝：") and "X-PT" in refused
    said = move(liaison, "#move-raid", raid_on("X-SZ"))
    assert case_id in said and "50,000 元" in said
    case = web.graphql("investigator", CASE, {"id": case_id})["case"]
    assert case == {"status": "raided", "arrests": 2, "densDestroyed": 1, "seizedValueCny": 50000.0}
    assert liaison.get_attribute("#lead-status", "data-status") == "raided"
    timeline = liaison.inner_text("#timeline")
    assert "查处 宝安仓库 (X-SZ)" in timeline and "已登记" in timeline
    # what the server wrote on its own, in the page's language too
    assert f"案件 {case_id} 已立案" in timeline and f"随案件 {case_id} 变更" in timeline
    assert "推送至 " in timeline and "(AG-SZ)" in timeline
    assert "因查处" in timeline
    # the contract's words (verdicts, outcomes, kinds, statuses) in the page's language as well
    assert "试买 TP2: 假冒" in timeline and "投诉 C2: 成立" in timeline
    tables = liaison.inner_text("#subjects") + liaison.inner_text("#evidence")
    english = ("counterfeit", "upheld", "warehouse", "active", "suspected", "live")
    assert not any(word in timeline + tables for word in english), (timeline, tables)
    assert not any(english in timeline for english in ("pushed to", "opened", " is raided", "raid on"))
    # the events' times in the reader's time zone, not as the server wrote them (UTC)
    liaison.context.new_cdp_session(liaison).send("Emulation.setTimezoneOverride",
                                                  {"timezoneId": ZONE})
    open_lead(liaison, web, lead_id)
    timeline = liaison.inner_text("#timeline")
    events = web.graphql("investigator", EVENTS, {"id": lead_id})["lead"]["hasEvent"]["nodes"]
    local = [datetime.fromisoformat(e["at"]).astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M")
             for e in events]
    assert local and all(text in timeline for text in local), (local, timeline)
    assert outside(liaison, web.base) == []

    # --- a liaison of another province sees none of it -----------------------------------------
    other = page_for("police_liaison_fj")
    other.goto(f"{web.base}/leads")
    other.wait_for_selector("#inbox-table[data-state='done']", state="attached", timeout=SLOW)
    assert lead_id not in other.eval_on_selector_all(ROWS, IDS)
    open_lead(other, web, lead_id)
    assert other.locator("#lead-missing").count() == 1


def test_the_inbox_counts_and_filters_by_brand_what_the_api_gives(
    web: Web, page_for: Callable[..., Any],
) -> None:
    page = page_for("police_liaison", "en-US")
    page.goto(f"{web.base}/leads?brand=B1")
    page.wait_for_selector("#inbox-table[data-state='done']", state="attached", timeout=SLOW)
    shown = page.eval_on_selector_all(ROWS, IDS)
    given = web.graphql("police_liaison", "query { leads(brandId: \"B1\", first: 50) { nodes { leadId } } "
                "leadCounts(brandId: \"B1\") { status leads } }", {})
    assert shown == [n["leadId"] for n in given["leads"]["nodes"]] and shown
    counts = {b: int(c) for b, c in page.eval_on_selector_all(
        "#counts button[data-status]", "els => els.map(e => [e.dataset.status, e.dataset.count])")}
    assert counts == {"": sum(c["leads"] for c in given["leadCounts"]),
                      **{c["status"]: c["leads"] for c in given["leadCounts"]}}
    assert page.input_value("#f-brand") == "B1"
    assert page.inner_text("#inbox-table th >> nth=0") == "Lead"
    page.click("#counts button[data-status='pushed']")
    until(page, "() => new URLSearchParams(location.search).get('status') === 'pushed'")
    page.wait_for_selector("#inbox-table[data-state='done']", state="attached", timeout=SLOW)
    until(page, ONLY_PUSHED)
    assert parse_qs(urlsplit(page.url).query) == {"status": ["pushed"], "brand": ["B1"]}


def test_the_agency_directory_gives_each_agency_its_divisions_from_the_province_down(web: Web) -> None:
    query = "{ agencyDirectory { agencyId adcode divisions { adcode level } } }"
    places = {a["agencyId"]: a for a in web.graphql("brand_member", query, {})["agencyDirectory"]}
    assert [d["adcode"] for d in places["AG-GZ"]["divisions"]] == ["440000", "440100"]
    assert [d["adcode"] for d in places["AG-GD"]["divisions"]] == ["440000"]
    assert places["AG-GZ"]["divisions"][0]["level"] == "province"
    assert web.graphql("analyst", query, {})["agencyDirectory"] == []  # analysts see no node
