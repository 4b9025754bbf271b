// What every page of the workbench shares: the header (pages, who is signed in, the
// language switch, sign-out), who the caller is, and links to the exports for other tools.

import { el, fill, byId } from './dom.js';
import { t, tParts, lang, setLang, translate, onLangChange, roleWord, LANGS } from './i18n.js';

const PAGES = [
  ['workbench', '/', 'nav.workbench'],
  ['leads', '/leads', 'nav.leads'],
  ['queries', '/saved-queries', 'nav.queries'],
];
const LANG_NAMES = { 'zh-CN': '中文', en: 'English' };
export const EXPORT_FORMATS = [
  ['ftm.jsonl', 'exp.ftm'], ['graphml', 'exp.graphml'], ['gexf', 'exp.gexf'], ['gephi.csv', 'exp.gephi'],
];

let who = null;

/** Who the browser is signed in as (GET /session), or null; a 401 sends it to sign in. */
export async function loadWho() {
  try {
    const response = await fetch('/session', { credentials: 'same-origin' });
    if (response.status === 401) {
      signedOut();
      return null;
    }
    if (response.ok) who = await response.json();
  } catch {
    // the page still works; the header just does not say who
  }
  if (who) document.body.dataset.role = who.role;
  return who;
}

export function signedOut() {
  const here = location.pathname + location.search + location.hash;
  location.assign(`/signin?next=${encodeURIComponent(here)}`);
}

function whoText() {
  if (!who) return '';
  const extra = who.brandId ? ` · ${t('who.brand', { id: who.brandId })}`
    : who.agencyId ? ` · ${t('who.agency', { id: who.agencyId })}` : '';
  return [el('span', { translate: 'no' }, who.sub), ` (${roleWord(who.role)}${extra})`];
}

function langChooser() {
  const chooser = el('select', { id: 'lang', 'aria-label': t('lang.label'), title: t('lang.label') },
    LANGS.map((code) => el('option', { value: code, lang: code }, LANG_NAMES[code])));
  chooser.value = lang();
  chooser.addEventListener('change', () => setLang(chooser.value));
  return chooser;
}

/** Build the header of a page whose own entry is `active`. */
export function header(active) {
  const top = byId('top');
  fill(top,
    el('b', { class: 'brand' }, t('app.name')),
    el('nav', { class: 'pages' }, PAGES.map(([name, href, key]) =>
      el('a', { href, id: `nav-${name}`, class: name === active ? 'active' : '', 'aria-current': name === active ? 'page' : null }, t(key)))),
    el('span', { id: 'who', class: 'who', dataset: { role: who?.role ?? '' } }, whoText()),
    el('nav', {},
      langChooser(),
      el('a', { href: '/graphql' }, t('nav.graphiql')),
      el('form', { method: 'post', action: '/signout' },
        el('button', { type: 'submit', id: 'signout' }, t('nav.signout')))));
}

/** Translate the page, build its header, find who is signed in. */
export async function startPage(active) {
  translate();
  header(active);
  onLangChange(() => header(active));
  await loadWho();
  header(active);
  return who;
}

/** Links to the exports for other tools of a network, a lead or a saved query's result. */
export function exportLinks(kind, id, params = null) {
  const query = params && [...params].length ? `?${params}` : '';
  return el('span', { class: 'exports', dataset: { kind } },
    EXPORT_FORMATS.map(([fmt, key]) => el('a', {
      href: `/exports/${kind}/${encodeURIComponent(id)}.${fmt}${query}`, download: '', class: 'export', dataset: { fmt },
    }, t(key))));
}

/** The dossier of a lead, in the page's language. */
export function dossierHref(leadId) {
  return `/leads/${encodeURIComponent(leadId)}/dossier.html?lang=${encodeURIComponent(lang())}`;
}

/** Data as it is: an element the page (and a translator) leaves untranslated. */
export function data(value, tag = 'span', props = {}) {
  return el(tag, { ...props, translate: 'no' }, value ?? '');
}

/** `t(key, vars)` as nodes, the values from `vars` marked as data. */
export function words(key, vars = {}) {
  return tParts(key, vars, (value) => data(value));
}
