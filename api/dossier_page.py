"""The printable dossier page, in the reader's language (`api.dossier_text`).

One HTML document with no script and one <style> element (`STYLE`, the text of
`web/static/dossier.css`, allowed by its hash in the Content-Security-Policy of
`api.web.security`): saved or printed, it stays whole. Its parts are the lead (status,
brands and agencies by name with their ids, estimated value against the prosecution
thresholds, cases and raids), the timeline, the subjects and their traces to offline
sites, the evidence (test purchases, complaints, shipments), the conflicts, and the
manifest, each part on a new printed page, the manifest last. Every value shown passes
through `html.escape`: what a seller typed is text, never markup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from html import escape
from pathlib import Path
from typing import Any

from api.dossier import Dossier, DossierCase, DossierRaid, Thresholds, thresholds
from api.dossier_text import EN, Lang, date_text, label, money, word
from api.dossier_timeline import TimelineEvent
from api.investigation import SourceTrace, TraceNode
from graph.lifecycle import EVENT_CAUSES

STYLE = (Path(__file__).parent / "web" / "static" / "dossier.css").read_text(encoding="utf-8")
"""The page's style sheet, inlined (its SHA-256 is in the page's CSP)."""


class Names:
    """Brands and agencies by name with their id, in the reader's language."""

    def __init__(self, d: Dossier, lang: Lang) -> None:
        self.lang = lang
        self.names = {(n.label, n.key): n for n in d.names}

    def __call__(self, label_: str, key: str | None) -> str:
        if not key:
            return ""
        n = self.names.get((label_, key))
        name = n and ((n.name_zh if self.lang == "zh-CN" else None) or n.name or n.name_zh)
        return f"{name} ({key})" if name else key


class Page:
    """What every part of the page needs: the dossier, the language and the names."""

    def __init__(self, d: Dossier, lang: Lang) -> None:
        self.d, self.lang, self.name = d, lang, Names(d, lang)

    def t(self, key: str, **values: object) -> str:
        """A label with its values put in, escaped as a whole."""
        return escape(label(self.lang, key, **values), quote=False)

    def w(self, value: str | None, of: str | None = None) -> str:
        """A word of the project's vocabularies, kept on one line."""
        return nowrap(escape(word(self.lang, value, of)))

    def ref(self, ref: str | None) -> str:
        """`Label:key` as the label's word and the key."""
        if not ref:
            return ""
        lbl, _, key = ref.partition(":")
        lbl = lbl[:1].upper() + lbl[1:]  # conflicts name what they share as `seller:S1`
        if key == "masked":
            return f"{self.w(lbl)} {self.t('masked')}"
        return f"<span class=\"nw\">{self.w(lbl)} {escape(key)}</span>"


# --- building blocks --------------------------------------------------------------------------


def text(value: Any) -> str:
    return "" if value is None else escape(str(value))


def day(value: str | None) -> str:
    return nowrap(escape(date_text(value)))


def ident(value: Any) -> str:
    """An id, kept on one line."""
    return nowrap(text(value))


def place(address: str | None, adcode: str | None) -> str:
    """An address with its division code."""
    return " ".join(x for x in (text(address), nowrap(f"({text(adcode)})") if adcode else "") if x)


def nowrap(html: str) -> str:
    return f"<span class=\"nw\">{html}</span>" if html else ""


def table(p: Page, rows: Iterable[Any], columns: list[tuple[str, Callable[[Any], str]]],
          css: str = "") -> str:
    """A table with a header repeated on every printed page; cells are already escaped."""
    rows = list(rows)
    if not rows:
        return f"<p class=\"none\">{p.t('none')}</p>"
    head = "".join(f"<th>{p.t(key)}</th>" for key, _ in columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(r)}</td>" for _, cell in columns) + "</tr>" for r in rows)
    return f"<table class=\"{css}\"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def facts(p: Page, pairs: list[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{p.t(key)}</dt><dd>{value}</dd>" for key, value in pairs if value)
    return f"<dl class=\"facts\">{items}</dl>"


def part(name: str, title: str, body: str) -> str:
    return f"<section class=\"part\" id=\"{name}\"><h2>{title}</h2>{body}</section>"


# --- the lead ---------------------------------------------------------------------------------


def lead_part(p: Page) -> str:
    d = p.d
    brands = "<br>".join(escape(p.name("Brand", b)) for b in d.brand_ids)
    summary = facts(p, [
        ("lead.id", text(d.lead_id)), ("lead.title", text(d.title)),
        ("lead.status", p.w(d.status)), ("lead.created", day(d.created_on)),
        ("lead.pushed", day(d.pushed_on)), ("lead.brands", brands),
        ("lead.note", text(d.note))])
    return (summary + value_block(p) + f"<h3>{p.t('section.agencies')}</h3>" + agencies(p)
            + f"<h3>{p.t('section.cases')}</h3>" + cases(p))


def value_block(p: Page) -> str:
    v = p.d.value
    level = f"<strong class=\"level {escape(v.level)}\">{p.t('level.' + v.level)}</strong>"
    source = "value.source.law" if thresholds() == Thresholds() else "value.source.settings"
    return f"<h3>{p.t('section.value')}</h3>" + facts(p, [
        ("value.estimated", escape(money(v.estimated_value_cny))), ("value.level", level),
        ("value.filing", escape(money(v.filing_threshold_cny))),
        ("value.serious", escape(money(v.serious_threshold_cny))),
        ("value.source", p.t(source))])


def agencies(p: Page) -> str:
    return table(p, p.d.agencies, [
        ("col.agency", lambda a: escape(p.name("Agency", str(a.agency_id)))),
        ("col.level", lambda a: p.w(a.level)), ("col.adcode", lambda a: text(a.adcode)),
        ("col.pushed_on", lambda a: day(a.pushed_on))])


def _n(value: int | None) -> str:
    return "-" if value is None else str(value)


def cases(p: Page) -> str:
    def raids(c: DossierCase) -> str:
        return "<br>".join(_escaped_raid(p, r) for r in c.raids)

    return table(p, p.d.cases, [
        ("col.case", lambda c: ident(c.case_id)), ("col.title", lambda c: text(c.title)),
        ("col.status", lambda c: p.w(c.status)), ("col.opened_on", lambda c: day(c.opened_on)),
        ("col.agency", lambda c: escape(p.name("Agency", c.agency_id))), ("col.raids", raids)])


def _escaped_raid(p: Page, r: DossierRaid, key: str = "raid.figures") -> str:
    """The raid's sentence with every value escaped and the site's words put in."""
    site = p.ref(f"Site:{r.site_id}") if r.site_id else p.t("raid.site_unseen")
    sentence = escape(label(p.lang, key, site="\0", on=date_text(r.raided_on),
                            seized=money(r.seized_value_cny) or "-", arrests=_n(r.arrests),
                            dens=_n(r.dens_destroyed)), quote=False)
    return sentence.replace("\0", site)


# --- the timeline -----------------------------------------------------------------------------


def timeline_part(p: Page) -> str:
    return table(p, p.d.timeline, [
        ("col.at", lambda e: f"<time>{day(e.at)}</time>"),
        ("col.event", lambda e: p.t("event." + e.kind)),
        ("col.about", lambda e: p.ref(e.ref)),
        ("col.details", lambda e: event_details(p, e)),
        ("col.by", lambda e: event_by(p, e))], css="timeline")


def event_details(p: Page, e: TimelineEvent) -> str:
    if e.kind == "status":
        move = " → ".join(p.w(s) for s in (e.from_status, e.to_status) if s)
        return move + cause_text(p, e) + (f"<br><span class=\"note\">{text(e.note)}</span>"
                                          if e.note else "")
    if e.kind == "raid":
        return _escaped_raid(p, _raid_of(e), "raid.event")  # the row has its date
    if e.kind == "lead_pushed":
        return escape(p.name("Agency", e.agency_id))
    if e.kind in ("verdict", "complaint_filed", "complaint_resolved"):
        return p.w(e.detail)
    return text(e.detail)


def cause_text(p: Page, e: TimelineEvent) -> str:
    """Why the server wrote a status event, in the reader's language."""
    if e.cause not in EVENT_CAUSES:
        return ""
    named = p.name("Agency", e.cause_id) if e.cause == "pushed" else e.cause_id
    return "<br>" + p.t(f"cause.{e.cause}", id=named or p.t("masked"))


def _raid_of(e: TimelineEvent) -> DossierRaid:
    site = e.detail.partition(":")[2] if e.detail else None
    return DossierRaid(site_id=site, raided_on=e.at, seized_value_cny=e.seized_value_cny,
                       arrests=e.arrests, dens_destroyed=e.dens_destroyed)


def event_by(p: Page, e: TimelineEvent) -> str:
    if e.kind == "status":
        who = [text(e.who), f"({p.w(e.role)})" if e.role else "",
               escape(p.name("Agency", e.agency_id)), escape(p.name("Brand", e.brand_id))]
        return " ".join(x for x in who if x)
    if e.kind in ("case_opened", "raid"):
        return escape(p.name("Agency", e.agency_id))
    return escape(p.name("Brand", e.brand_id))


# --- subjects and traces ----------------------------------------------------------------------


def subjects_part(p: Page) -> str:
    def network(s: Any) -> str:
        if not s.network_id:
            return ""
        risk = "-" if s.network_risk is None else f"{s.network_risk:.2f}"
        return f"{text(s.network_id)}<br>" + p.t("network.size", size=_n(s.network_size), risk=risk)

    rows = table(p, p.d.subjects, [
        ("col.kind", lambda s: p.w(s.label)), ("col.key", lambda s: ident(s.key)),
        ("col.name", lambda s: text(s.caption)), ("col.status", lambda s: p.w(s.status, s.label)),
        ("col.network", network), ("col.address", lambda s: place(s.address, s.adcode))])
    return rows + f"<h3>{p.t('section.traces')}</h3>" + traces(p)


def node_text(p: Page, n: TraceNode) -> str:
    if n.key == "masked":
        return f"{p.w(n.label)} {p.t('masked')}"
    shown = n.caption if n.caption and n.caption != n.key else ""
    return " ".join(x for x in (p.w(n.label), escape(n.key), f"«{escape(shown)}»" if shown else "") if x)


def site_block(p: Page, s: SourceTrace) -> str:
    head = p.t("trace.site", site="\0", kind=word(p.lang, s.site.kind), status=word(p.lang, s.site.status),
               score=f"{s.score:.3f}").replace("\0", f"{escape(str(s.site.site_id))} {text(s.site.label)}")
    paths = []
    for path in s.paths:
        hops = "".join(f"{node_text(p, h.from_)} <span class=\"rel\">{'←' if h.reversed else '—'}"
                       f"{p.w(h.type)}{'—' if h.reversed else '→'}</span> " for h in path.hops)
        end = node_text(p, path.hops[-1].to) if path.hops else ""
        paths.append(f"<li><em>{p.t('trace.path', kind=word(p.lang, path.kind), weight=f'{path.weight:.3f}')}"
                     f"</em>: {hops}{end}</li>")
    return f"<div class=\"site\"><p>{head}</p><ul>{''.join(paths)}</ul></div>"


def traces(p: Page) -> str:
    parts = []
    for t in p.d.traces:
        sites = "".join(site_block(p, s) for s in t.sites) or f"<p class=\"none\">{p.t('trace.none')}</p>"
        parts.append(f"<div class=\"trace\"><h4>{node_text(p, t.subject)}</h4>{sites}</div>")
    return "".join(parts) or f"<p class=\"none\">{p.t('trace.no_subjects')}</p>"


# --- evidence, conflicts, manifest ------------------------------------------------------------


def evidence_part(p: Page) -> str:
    d = p.d
    purchases = table(p, d.test_purchases, [
        ("col.purchase", lambda x: ident(x.purchase_id)), ("col.listing", lambda x: ident(x.listing_id)),
        ("col.brand", lambda x: escape(p.name("Brand", x.brand_id))),
        ("col.ordered_on", lambda x: day(x.ordered_on)), ("col.verdict", lambda x: p.w(x.verdict)),
        ("col.verdict_on", lambda x: day(x.verdict_on)), ("col.report_no", lambda x: ident(x.report_no)),
        ("col.shipment", lambda x: ident(x.shipment_id))])
    complaints = table(p, d.complaints, [
        ("col.complaint", lambda x: ident(x.complaint_id)),
        ("col.brand", lambda x: escape(p.name("Brand", x.brand_id))),
        ("col.kind", lambda x: p.w(x.kind)), ("col.outcome", lambda x: p.w(x.outcome)),
        ("col.filed_on", lambda x: day(x.filed_on)),
        ("col.resolved_on", lambda x: day(x.resolved_on)), ("col.target", lambda x: p.ref(x.target))])
    shipments = table(p, d.shipments, [
        ("col.shipment", lambda x: ident(x.shipment_id)), ("col.carrier", lambda x: text(x.carrier)),
        ("col.waybill", lambda x: text(x.waybill_no)), ("col.shipped_on", lambda x: day(x.shipped_on)),
        ("col.origin", lambda x: place(x.origin, x.origin_adcode)),
        ("col.shop", lambda x: ident(x.shop_id))])
    return (f"<h3>{p.t('section.purchases')}</h3>" + purchases
            + f"<h3>{p.t('section.complaints')}</h3>" + complaints
            + f"<h3>{p.t('section.shipments')}</h3>" + shipments)


def conflicts_part(p: Page) -> str:
    return table(p, p.d.conflicts, [
        ("col.kind", lambda c: p.w(c.kind)), ("col.conflict", lambda c: ident(c.id)),
        ("col.status", lambda c: p.w(c.status)),
        ("col.brands", lambda c: "<br>".join(escape(p.name("Brand", b)) for b in c.brand_ids)),
        ("col.agency", lambda c: escape(p.name("Agency", c.agency_id))),
        ("col.via", lambda c: "<br>".join(p.ref(v) for v in c.via))])


def manifest_part(p: Page) -> str:
    m = p.d.manifest
    rows = table(p, m.items, [("col.item", lambda i: f"<code class=\"nw\">{text(i.kind)}</code>"),
                              ("col.key", lambda i: f"<code>{text(i.id)}</code>"),
                              ("col.sha256", lambda i: f"<code class=\"nw\">{text(i.sha256)}</code>")],
                 css="manifest")
    return (f"<p class=\"how\">{p.t('manifest.how')}</p>" + rows
            + f"<p class=\"total\">{p.t('manifest.total')}: <code>{escape(m.sha256)}</code></p>")


# --- the page ---------------------------------------------------------------------------------


def render(d: Dossier, lang: Lang = "en") -> str:
    """The whole page of dossier `d` in language `lang`."""
    p = Page(d, lang)
    parts = [
        part("lead", p.t("section.lead"), lead_part(p)),
        part("timeline", p.t("section.timeline"), timeline_part(p)),
        part("subjects", p.t("section.subjects"), subjects_part(p)),
        part("evidence", p.t("section.evidence"), evidence_part(p)),
        part("conflicts", p.t("section.conflicts"), conflicts_part(p)),
        part("manifest", p.t("section.manifest"), manifest_part(p)),
    ]
    title = f"{label(lang, 'title')} {d.lead_id}" + (f": {d.title}" if d.title else "")
    generated = p.t("generated", at=date_text(d.generated_at), who=d.generated_for)
    return document(lang, title, f"<header><h1>{escape(title)}</h1><p class=\"generated\">{generated}</p>"
                                 f"</header>{''.join(parts)}")


def document(lang: Lang, title: str, body: str) -> str:
    return (f"<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body><main class=\"dossier\">{body}</main></body></html>")


def error_page(lang: Lang, code: str, request_id: str) -> str:
    """The page shown instead of a dossier: what went wrong in the reader's language."""
    key = f"error.{code}" if f"error.{code}" in EN else "error.other"
    sign_in = (f"<p><a href=\"/signin\">{escape(label(lang, 'error.signin'))}</a></p>"
               if code == "UNAUTHENTICATED" else "")
    body = (f"<header><h1>{escape(label(lang, 'error.title'))}</h1></header>"
            f"<p class=\"error\">{escape(label(lang, key))}</p>{sign_in}"
            f"<p class=\"generated\">{escape(label(lang, 'error.request', id=request_id))}</p>")
    return document(lang, label(lang, "error.title"), body)

