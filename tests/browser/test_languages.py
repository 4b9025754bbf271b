"""In Chromium: the workbench in Simplified Chinese and in English. Every key of
`static/i18n.js` has both languages; a browser in Chinese gets every page in Chinese with
no English label left (the visible text is walked; data, marked translate="no", stays as
it is); switching to English is remembered under `alliance.lang` and carried by the
dossier link; a browser in English gets English."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.browser.harness import Web

KEYS = """() => import('/static/i18n.js').then((m) => {
  const en = Object.keys(m.STRINGS.en), zh = Object.keys(m.STRINGS['zh-CN']);
  const words = (k) => m.STRINGS['zh-CN'][k].replace(/\\{\\w+\\}/g, '');
  return {
    onlyEn: en.filter((k) => !zh.includes(k) && !k.endsWith('.one')),
    onlyZh: zh.filter((k) => !en.includes(k)),
    sameAsEn: zh.filter((k) => /[A-Za-z]{4,}/.test(words(k)) && !/[\\u4e00-\\u9fff]/.test(words(k))),
  };
})"""
WALK = """() => {
  const out = [];
  const kept = (node) => node && !node.closest('[translate="no"], script, style, svg');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    const text = walker.currentNode.textContent.trim();
    if (!text || !kept(parent)) continue;
    if (parent.closest('select') || parent.checkVisibility()) out.push(text);
  }
  for (const node of document.querySelectorAll('[placeholder], [title], [aria-label]')) {
    if (!kept(node)) continue;
    for (const name of ['placeholder', 'title', 'aria-label']) {
      if (node.hasAttribute(name) && node.getAttribute(name)) out.push(node.getAttribute(name));
    }
  }
  return out;
}"""
NAMES = {"GraphiQL", "GraphML", "GEXF", "Gephi", "CSV", "PNG", "JSON", "FollowTheMoney", "Cypher", "Shift",
         "Ctrl", "English", "STRONG", "WEAK"}
"""Names of programs, formats and keys, which stay as they are in Chinese too."""
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
SLOW = 120_000
"""Milliseconds to wait for a page's first answers: first query plans on a busy machine."""


def english_left(page: Any) -> list[str]:
    texts = page.evaluate(WALK)
    return [text for text in texts if any(w not in NAMES for w in LATIN_WORD.findall(text))]


def test_every_key_has_both_languages(page_for: Callable[..., Any]) -> None:
    page = page_for("analyst")
    found = page.evaluate(KEYS)
    assert (found["onlyEn"], found["onlyZh"]) == ([], [])
    # a Chinese entry without Chinese is the name of a program or a format
    assert set(found["sameAsEn"]) <= {"exp.ftm", "exp.graphml", "exp.gexf", "exp.gephi", "tb.graphml",
                                      "nav.graphiql"}, found["sameAsEn"]


def test_a_chinese_browser_gets_every_page_in_chinese(web: Web, page_for: Callable[..., Any]) -> None:
    page = page_for("investigator")
    page.reload()
    page.wait_for_selector("body[data-ready='true']", state="attached", timeout=SLOW)
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    page.goto(f"{web.base}/#seed=Seller:S1&hops=1")
    page.wait_for_function("() => window.workbench && window.workbench.cy.nodes().length > 3", timeout=SLOW)
    page.wait_for_selector("#details[data-id='Seller:S1']", state="attached", timeout=SLOW)
    page.wait_for_selector("#start[data-state='done']", state="attached", timeout=SLOW)
    page.click("#act-network")
    page.wait_for_selector("#network[data-state='done']", state="attached", timeout=SLOW)
    page.evaluate("window.workbench.cy.getElementById('Seller:S1').select()")
    page.wait_for_selector("#hand-subjects li[data-id='Seller:S1']", state="attached", timeout=SLOW)
    assert english_left(page) == []

    page.goto(f"{web.base}/leads")
    page.wait_for_selector("#inbox-table[data-state='done']", state="attached", timeout=SLOW)
    assert english_left(page) == []

    page.goto(f"{web.base}/leads/LD-GZ")
    page.wait_for_selector("#lead-body[data-state='done']", state="attached", timeout=SLOW)
    page.click("#move-pushed") if page.locator("#move-pushed").count() else None
    assert english_left(page) == []

    page.goto(f"{web.base}/saved-queries#q=cases-per-province-year")
    page.wait_for_selector("#q-run")
    page.click("#q-run")
    page.wait_for_selector("#q-result[data-state='done']", state="attached", timeout=SLOW)
    assert english_left(page) == []

    page.goto(f"{web.base}/signin")
    assert [t for t in english_left(page) if "alliance" not in t] == []


def test_switching_to_english_is_remembered_and_carried_to_the_dossier(
    web: Web, page_for: Callable[..., Any],
) -> None:
    page = page_for("police_liaison")
    page.goto(f"{web.base}/leads/LD-GZ")
    page.wait_for_selector("#lead-body[data-state='done']", state="attached", timeout=SLOW)
    assert page.inner_text("#nav-leads") == "线索"
    assert page.get_attribute("#dossier-link", "href") == "/leads/LD-GZ/dossier.html?lang=zh-CN"
    page.select_option("#lang", "en")
    page.wait_for_function("() => document.getElementById('nav-leads').textContent === 'Leads'")
    assert page.evaluate("localStorage.getItem('alliance.lang')") == "en"
    assert page.inner_text("#moves h2") == "What you may do"
    assert page.get_attribute("#dossier-link", "href") == "/leads/LD-GZ/dossier.html?lang=en"
    page.reload()
    page.wait_for_selector("#lead-body[data-state='done']", state="attached", timeout=SLOW)
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.inner_text("#move-registered") == "Register"
    page.goto(f"{web.base}/")
    page.wait_for_selector("body[data-ready='true']", state="attached", timeout=SLOW)
    assert page.inner_text("#search-go") == "Search"


def test_an_english_browser_gets_english(web: Web, page_for: Callable[..., Any]) -> None:
    page = page_for("brand_member", "en-GB")
    page.reload()
    page.wait_for_selector("body[data-ready='true']", state="attached", timeout=SLOW)
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.inner_text("#nav-queries") == "Saved queries"
    assert page.inner_text("#hand-create") == "Create lead"
