"""In Chromium: the workbench at `/` — search per role (the same answers the API gives that
role), expand by double-click, seller network with why sellers are linked, trace with the
evidence paths highlighted, hide / pin / undo / filter / shortest path, exports (GraphML
parsed, CSV cells safe), and a seller named like markup shown as text; no request leaves
127.0.0.1 and the Content-Security-Policy refuses nothing the page does."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from alliance.cli import app
from graph.caller import ROLES
from tests.browser.harness import Web, outside, seen, until

XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_SHOP = "<script>alert(2)</script>店"
FORMULA_NAME = "=HYPERLINK(\"http://example.invalid\",\"x\") webformula"
BELL_NAME = "响\x07铃"
"""A control character XML 1.0 cannot carry at all: the GraphML export leaves it out."""
GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"
SEARCH = "query ($text: String!, $first: Int!) { search(text: $text, first: $first) { id } }"
TRACE = ("query ($id: ID!) { traceToSource(listingId: $id, maxHops: 10, first: 10) { score "
         "site { siteId } paths { hops { from { label key } to { label key } } } } }")
RISK = "query ($id: ID!) { sellerNetwork(sellerId: $id) { riskScore } }"
LEADS = "{ leads(first: 8) { nodes { id } } }"
ZONE = "Asia/Shanghai"
"""A browser time zone other than UTC, the zone of the graph's timestamps."""
NETWORKS = "{ networks(first: 8) { items { networkId } } }"
POINT = """(id) => {
  const node = window.workbench.cy.getElementById(id);
  const at = node.renderedPosition();
  const box = document.getElementById('cy').getBoundingClientRect();
  return {x: at.x + box.left, y: at.y + box.top};
}"""


# --- helpers -----------------------------------------------------------------------------

class Watch:
    """What a page complained about: Content-Security-Policy refusals, script errors and
    dialogs (an alert would mean data ran as code)."""

    def __init__(self, page: Any) -> None:
        self.refused: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("dialog", self._dialog)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.refused.append(message.text)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def assert_clean(self) -> None:
        assert (self.refused, self.errors, self.dialogs) == ([], [], [])


def workbench(page_for: Callable[..., Any], role: str) -> tuple[Any, Watch]:
    """The workbench signed in as `role`, in English (its words are checked here)."""
    page = page_for(role, "en-US")
    watch = Watch(page)
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    return page, watch


def settled(page: Any, script: str, arg: Any = None) -> None:
    """Wait for what a click did. Chromium may answer a DevTools evaluation before it has
    run the input events it was sent just before, so state is polled, never read once."""
    until(page, script, arg)


def drawn(page: Any) -> int:
    return int(page.evaluate("Number(document.body.dataset.drawn || 0)"))


def wait_drawn(page: Any, after: int) -> None:
    until(page, "(n) => Number(document.body.dataset.drawn || 0) > n", after)


def node_ids(page: Any, selector: str = "node") -> list[str]:
    return list(page.evaluate("(s) => window.workbench.cy.elements(s).map(n => n.id())", selector))


def search(page: Any, text: str) -> list[str]:
    page.fill("#search-text", text)
    page.click("#search-go")
    page.wait_for_selector("#results[data-state='done'], #results[data-state='error']", state="attached")
    return list(page.eval_on_selector_all("#results li[data-id]", "els => els.map(e => e.dataset.id)"))


def open_address(page: Any, web: Web, fragment: str) -> None:
    """Go to `/#fragment` (the workbench reads it on hashchange, without reloading)."""
    page.goto(f"{web.base}/#{fragment}")


def click_node(page: Any, node_id: str, *, shift: bool = False, double: bool = False) -> None:
    at = page.evaluate(POINT, node_id)
    if shift:
        page.keyboard.down("Shift")
    if double:
        page.mouse.dblclick(at["x"], at["y"])
    else:
        page.mouse.click(at["x"], at["y"])
    if shift:
        page.keyboard.up("Shift")


def download(page: Any, button: str) -> Path:
    with page.expect_download() as info:
        page.click(button)
    return Path(info.value.path())


@pytest.fixture(scope="module")
def odd_sellers(web: Web, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Sellers whose names are markup, a spreadsheet formula and a control character,
    loaded with `alliance load`."""
    folder = tmp_path_factory.mktemp("odd-sellers")
    rows = [["seller_id", "platform", "nickname", "kind", "status", "phones"],
            ["XSS1", "shopx", XSS_NAME, "person", "active", "13312345678"],
            ["FORMULA1", "shopx", FORMULA_NAME, "person", "active", "13312345678"],
            ["BELL1", "shopx", BELL_NAME, "person", "active", "13312345678"]]
    shops = [["shop_id", "seller_id", "platform", "name", "status"],
             ["XSSSH1", "XSS1", "shopx", XSS_SHOP, "open"]]
    for name, table in (("sellers.csv", rows), ("shops.csv", shops)):
        with (folder / name).open("w", encoding="utf-8", newline="") as out:
            csv.writer(out).writerows(table)
    result = CliRunner().invoke(app, ["load", str(folder), "--source", "web-odd-names"])
    assert result.exit_code == 0, result.output
    yield


# --- search per role ---------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_each_role_searches_in_chinese_and_sees_what_the_api_gives_it(
    role: str, web: Web, page_for: Callable[[str], Any],
) -> None:
    page, watch = workbench(page_for, role)
    assert page.get_attribute("#who", "data-role") == role
    shown = search(page, "博尔特")
    given = [hit["id"] for hit in web.graphql(role, SEARCH, {"text": "博尔特", "first": 50})["search"]]
    assert sorted(shown) == sorted(given)
    expected = {
        "investigator": {"Brand:B2", "Shop:SH3"}, "admin": {"Brand:B2", "Shop:SH3"},
        "brand_member": {"Brand:B2", "Shop:SH3"}, "police_liaison": {"Brand:B2"}, "analyst": set(),
        "platform": set(),
    }[role]
    assert set(shown) == expected
    groups = page.eval_on_selector_all("#results section.group h3", "els => els.map(e => e.textContent)")
    assert len(groups) == len({i.split(":")[0] for i in shown})
    page.wait_for_selector("#start[data-state='done']", state="attached")
    shown_leads = page.eval_on_selector_all("#start-leads li", "els => els.map(e => e.dataset.id)")
    shown_networks = page.eval_on_selector_all("#start-networks li", "els => els.map(e => e.dataset.id)")
    if role in ("analyst", "platform"):
        assert (shown_leads, shown_networks) == ([], [])
    else:
        assert shown_leads == [n["id"] for n in web.graphql(role, LEADS, {})["leads"]["nodes"]]
        assert shown_leads  # every role but the analyst and the platform sees a lead
    if role in ("investigator", "admin"):
        given_networks = web.graphql(role, NETWORKS, {})["networks"]["items"]
        assert shown_networks == [f"Network:{n['networkId']}" for n in given_networks]
        assert shown_networks
    else:
        assert shown_networks == []
    if role in ("analyst", "platform"):
        assert "Nothing found" in page.inner_text("#search-status")
    else:
        page.context.new_cdp_session(page).send("Emulation.setTimezoneOverride", {"timezoneId": ZONE})
        page.click("#results li[data-id='Brand:B2'] button.hit")
        page.wait_for_selector("#details[data-id='Brand:B2']")
        details = page.inner_text("#details")
        assert "博尔特" in details and "Bolt GmbH" in details
        provenance = page.inner_text("#details table.provenance")
        assert "web-leads" in provenance  # the load's source
        seen_at = web.graphql(role, '{ brand(brandId: "B2") { lastSeenAt } }', {})["brand"]["lastSeenAt"]
        local = datetime.fromisoformat(seen_at).astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M")
        assert local in provenance and seen_at not in provenance  # a local date, not the raw value
        assert page.is_disabled("#act-network")  # a brand is not a seller
        if role not in ("investigator", "admin"):
            assert "investigators and admins" in page.inner_text("#network")
    watch.assert_clean()
    assert outside(page, web.base) == []


# --- the canvas ------------------------------------------------------------------------

def test_double_click_expands_a_node_and_a_hub_waits_to_be_asked(
    web: Web, page_for: Callable[[str], Any],
) -> None:
    page, watch = workbench(page_for, "investigator")
    page.select_option("#opt-hops", "1")
    assert search(page, "鞋王")[:1] == ["Seller:S1"]
    page.click("#results li[data-id='Seller:S1'] button.add")
    wait_drawn(page, 0)
    before = node_ids(page)
    assert "Shop:SH1" in before and "Listing:L1" not in before
    count = drawn(page)
    click_node(page, "Shop:SH1", double=True)
    wait_drawn(page, count)
    after = node_ids(page)
    assert "Listing:L1" in after and set(before) < set(after)

    hubs = node_ids(page, "node.hub")
    if hubs:  # a hub is shown, not expanded: double-clicking it asks first
        count = drawn(page)
        click_node(page, hubs[0], double=True)
        page.wait_for_selector("#expand-hub")
        assert drawn(page) == count
    watch.assert_clean()
    assert outside(page, web.base) == []


def test_hide_pin_undo_filter_and_shortest_path(web: Web, page_for: Callable[[str], Any]) -> None:
    page, watch = workbench(page_for, "investigator")
    open_address(page, web, "seed=Seller:S1&hops=2&limit=200")
    wait_drawn(page, 0)
    total = len(node_ids(page))
    assert "Listing:L1" in node_ids(page) and "Phone:+8613800138000" in node_ids(page)

    count = drawn(page)
    click_node(page, "Listing:L1")
    click_node(page, "Phone:+8613800138000", shift=True)  # quick: not a double-click
    page.click("#act-path")
    settled(page, "() => document.getElementById('status').textContent.includes('shortest path')")
    assert drawn(page) == count
    on_path = node_ids(page, "node.path")
    assert on_path[0] in ("Listing:L1", "Phone:+8613800138000") or len(on_path) >= 3
    assert {"Listing:L1", "Phone:+8613800138000", "Seller:S1"} <= set(on_path)

    page.click("#act-pin")
    settled(page, "() => window.workbench.cy.nodes('.pinned').length === 2")
    pinned_at = page.evaluate("window.workbench.cy.getElementById('Listing:L1').position()")
    count = drawn(page)
    page.click("#act-layout")
    wait_drawn(page, count)
    assert page.evaluate("window.workbench.cy.getElementById('Listing:L1').position()") == pinned_at

    page.click("#act-hide")
    settled(page, "(n) => window.workbench.cy.nodes(':visible').length === n", total - 2)
    assert set(node_ids(page, "node.hidden")) == {"Listing:L1", "Phone:+8613800138000"}
    page.click("#act-undo")  # the hiding
    settled(page, "(n) => window.workbench.cy.nodes(':visible').length === n", total)
    steps = page.evaluate("window.workbench.canvas.history.length")
    page.click("#act-undo")  # the layout
    settled(page, "(n) => window.workbench.canvas.history.length === n", steps - 1)
    assert len(node_ids(page, "node.pinned")) == 2

    page.uncheck("#label-filters input[value='Listing']")
    settled(page, "() => window.workbench.cy.nodes('[label = \"Listing\"]:visible').empty()")
    assert node_ids(page, "node:visible") and "Seller:S1" in node_ids(page, "node:visible")
    page.check("#label-filters input[value='Listing']")
    settled(page, "() => window.workbench.cy.getElementById('Listing:L1').visible()")
    page.uncheck("#type-filters input[value='HAS_PHONE']")
    settled(page, "() => window.workbench.cy.edges('[type = \"HAS_PHONE\"]:visible').empty()")
    assert node_ids(page, "edge[type = 'HAS_PHONE']")  # still there, only not shown
    watch.assert_clean()


def test_seller_network_says_why_sellers_are_linked_with_its_risk(
    web: Web, page_for: Callable[[str], Any],
) -> None:
    page, watch = workbench(page_for, "investigator")
    open_address(page, web, "open=Seller:S1")
    page.wait_for_selector("#details[data-id='Seller:S1']")
    page.click("#act-network")
    page.wait_for_selector("#network[data-state='done']")
    risk = web.graphql("investigator", RISK, {"id": "S1"})["sellerNetwork"]["riskScore"]
    assert page.inner_text("#network-risk") == f"{risk:.2f}"
    words = page.evaluate("window.workbench.cy.edges('.link').map(e => e.data('word'))")
    assert words and all(words)
    link = page.evaluate("""() => { const cy = window.workbench.cy;
      const e = cy.getElementById('Seller:S1').edgesWith(cy.getElementById('Seller:S2')).filter('.link');
      return e.nonempty() ? e.data('word') : null; }""")
    assert link is not None and "same phone" in link and "same payout account" in link
    watch.assert_clean()


def test_trace_from_a_listing_highlights_the_evidence_paths_of_the_chosen_site(
    web: Web, page_for: Callable[[str], Any],
) -> None:
    ring = next(r for r in web.truth["rings"] if r["listings_to_sites"])
    site, listings = next(iter(ring["listings_to_sites"].items()))
    listing = listings[0]
    page, watch = workbench(page_for, "investigator")
    open_address(page, web, f"open=Listing:{listing}")
    page.wait_for_selector(f"#details[data-id='Listing:{listing}']")
    page.click("#act-trace")
    page.wait_for_selector("#trace[data-state='done']")
    shown = page.eval_on_selector_all("#trace-sites li", "els => els.map(e => e.dataset.site)")
    traces = web.graphql("investigator", TRACE, {"id": listing})["traceToSource"]
    assert shown == [t["site"]["siteId"] for t in traces]
    assert site in shown

    page.click(f"#trace-sites li[data-site='{site}'] button.site")
    page.wait_for_selector(f"body[data-traced='{site}']")
    lit = set(node_ids(page, ".trace"))
    paths = next(t for t in traces if t["site"]["siteId"] == site)["paths"]
    on_paths = {f"{n['label']}:{n['key']}" for p in paths for h in p["hops"] for n in (h["from"], h["to"])}
    assert on_paths <= lit and f"Listing:{listing}" in lit and f"Site:{site}" in lit
    joined = page.evaluate("""([a, b]) => { const cy = window.workbench.cy;
      return cy.elements('.trace').aStar({root: cy.getElementById(a), goal: cy.getElementById(b),
                                          directed: false}).found; }""",
                           [f"Listing:{listing}", f"Site:{site}"])
    assert joined
    assert set(node_ids(page, "node.faded")).isdisjoint(lit)
    assert page.locator("#trace-paths .hop").count() >= len(paths)
    watch.assert_clean()
    assert outside(page, web.base) == []


# --- exports and untrusted text ----------------------------------------------------------

def test_export_the_view_as_graphml_and_csv(
    web: Web, page_for: Callable[[str], Any], odd_sellers: None,
) -> None:
    page, watch = workbench(page_for, "investigator")
    open_address(page, web, "seed=Seller:S1,Seller:XSS1,Seller:FORMULA1,Seller:BELL1&hops=1")
    wait_drawn(page, 0)
    click_node(page, "Shop:SH1")
    page.click("#act-hide")
    settled(page, "() => !window.workbench.cy.getElementById('Shop:SH1').visible()")
    visible = set(node_ids(page, "node:visible"))
    assert "Shop:SH1" not in visible and {"Seller:XSS1", "Seller:FORMULA1"} <= visible

    root = ET.parse(download(page, "#exp-graphml")).getroot()
    keys = {(k.get("for"), k.get("attr.name")): k.get("id") for k in root.iter(f"{GRAPHML}key")}
    assert ("node", "label") in keys and ("node", "nickname") in keys and ("edge", "type") in keys
    nodes = {n.get("id"): {d.get("key"): d.text for d in n.iter(f"{GRAPHML}data")}
             for n in root.iter(f"{GRAPHML}node")}
    assert set(nodes) == visible
    assert nodes["Seller:XSS1"][keys[("node", "label")]] == XSS_NAME
    assert nodes["Seller:BELL1"][keys[("node", "label")]] == BELL_NAME.replace("\x07", "")
    assert nodes["Seller:S1"][keys[("node", "nickname")]] == "鞋王"
    assert str(nodes["Seller:S1"][keys[("node", "source")]]).startswith("web-leads")
    edges = list(root.iter(f"{GRAPHML}edge"))
    assert edges and all(e.get("source") in nodes and e.get("target") in nodes for e in edges)

    text = download(page, "#exp-csv-nodes").read_text(encoding="utf-8-sig")
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(text))}
    assert set(rows) == visible
    assert rows["Seller:FORMULA1"]["caption"] == "'" + FORMULA_NAME
    assert rows["Seller:XSS1"]["caption"] == XSS_NAME
    edge_text = download(page, "#exp-csv-edges").read_text(encoding="utf-8-sig")
    edge_rows = list(csv.DictReader(io.StringIO(edge_text)))
    assert len(edge_rows) == len(edges)
    assert {r["type"] for r in edge_rows} >= {"OPERATES", "HAS_PHONE"}

    png = download(page, "#exp-png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    watch.assert_clean()
    assert outside(page, web.base) == []


def test_a_seller_named_like_markup_is_shown_as_those_characters(
    web: Web, page_for: Callable[[str], Any], odd_sellers: None,
) -> None:
    page, watch = workbench(page_for, "investigator")
    assert search(page, "onerror") == ["Seller:XSS1"]
    assert page.inner_text("#results li[data-id='Seller:XSS1'] .name") == XSS_NAME
    page.click("#results li[data-id='Seller:XSS1'] button.hit")
    page.wait_for_selector("#details[data-id='Seller:XSS1']")
    assert page.inner_text("#details .caption") == XSS_NAME
    page.click("#det-add")
    wait_drawn(page, 0)
    captions = page.evaluate("window.workbench.cy.nodes().map(n => n.data('caption'))")
    assert XSS_NAME in captions and XSS_SHOP in captions
    click_node(page, "Shop:XSSSH1")
    page.wait_for_selector("#details[data-id='Shop:XSSSH1']")
    assert page.inner_text("#details .caption") == XSS_SHOP
    assert page.locator("img").count() == 0
    scripts = page.eval_on_selector_all("script", "els => els.map(e => e.getAttribute('src'))")
    assert scripts == ["/static/vendor/cytoscape-3.34.4/cytoscape.min.js", "/static/workbench.js"]
    assert not [url for url in seen(page) if url.rstrip("/").endswith("/x")]
    watch.assert_clean()  # no alert dialog, no refused inline code
    assert outside(page, web.base) == []
