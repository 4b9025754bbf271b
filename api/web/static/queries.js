// Saved queries (/saved-queries): the catalogue of the queries the caller may run
// (GET /queries), a form made from each query's header (types, defaults, required), the
// rows as a sortable table, CSV / JSON downloads (/queries/{name}.csv|.json), a chart when
// the rows have a category or date column and a number column, and the query's own
// description and Cypher. The chosen query and its values are kept in the address.

import { el, fill, byId, show } from './dom.js';
import { getJson, whenSignedOut, ApiError } from './graphql.js';
import { t, errorText, onLangChange } from './i18n.js';
import { startPage, signedOut, exportLinks, data } from './page.js';
import { chartable, drawChart } from './chart.js';

const state = { queries: [], current: null, result: null, sort: null, params: null };

function typeWord(type) {
  return t(type === 'list of string' ? 'q.type.list' : `q.type.${type}`);
}

function chosen() {
  return new URLSearchParams(location.hash.slice(1)).get('q');
}

function showCatalogue() {
  const list = byId('query-list');
  fill(list, state.queries.length ? state.queries.map((q) => el('li', { dataset: { name: q.name } },
    el('a', { href: `#q=${encodeURIComponent(q.name)}`, class: q.name === state.current?.name ? 'on' : '' },
      data(q.title, 'span', { class: 'name' }), data(q.name, 'span', { class: 'key' }))))
    : el('li', { class: 'muted' }, t('q.none')));
}

// --- the form --------------------------------------------------------------------------------

function defaultText(p) {
  if (p.default === null || p.default === undefined) return '';
  return Array.isArray(p.default) ? p.default.join('\n') : String(p.default);
}

function input(p, given) {
  const id = `p-${p.name}`;
  const value = given ?? defaultText(p);
  const common = { id, name: p.name, required: p.required || null, 'aria-describedby': `${id}-about` };
  if (p.type === 'bool') {
    const box = el('select', common,
      el('option', { value: '' }, t('q.bool.any')), el('option', { value: 'true' }, t('q.bool.yes')),
      el('option', { value: 'false' }, t('q.bool.no')));
    box.value = value === 'true' || value === 'false' ? value : '';
    return box;
  }
  if (p.type === 'list of string') return el('textarea', { ...common, rows: 3, placeholder: t('q.list.hint') }, value);
  const type = { int: 'number', float: 'number', date: 'date' }[p.type] ?? 'text';
  return el('input', { ...common, type, value, step: p.type === 'float' ? 'any' : p.type === 'int' ? 1 : null });
}

function form(q, given) {
  const fields = q.params.map((p) => el('div', { class: 'field', dataset: { param: p.name, type: p.type } },
    el('label', { for: `p-${p.name}` }, data(p.name, 'b'), ' ', el('span', { class: 'muted' }, `(${typeWord(p.type)})`),
      p.required ? el('span', { class: 'req' }, ` ${t('q.required')}`) : ''),
    input(p, given.get(p.name)),
    data(p.description, 'div', { class: 'muted about', id: `p-${p.name}-about` })));
  const run = el('button', { type: 'submit', id: 'q-run', class: 'primary' }, t('q.run'));
  const node = el('form', { id: 'q-form', class: 'form', novalidate: true },
    fields.length ? fields : el('p', { class: 'muted' }, t('q.params.none')), el('div', { class: 'row' }, run));
  node.addEventListener('submit', (evt) => { evt.preventDefault(); runQuery(run); });
  return node;
}

/** The form's values as URL parameters (empty fields left out: the default applies). */
function formParams(q) {
  const params = new URLSearchParams();
  for (const p of q.params) {
    const raw = byId(`p-${p.name}`).value.trim();
    if (!raw) continue;
    if (p.type === 'list of string') {
      for (const item of raw.split(/[\n,]/).map((v) => v.trim()).filter(Boolean)) params.append(p.name, item);
    } else params.set(p.name, raw);
  }
  return params;
}

// --- results ---------------------------------------------------------------------------------

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

function sortedRows() {
  const rows = [...state.result.rows];
  if (state.sort) {
    const { column, down } = state.sort;
    rows.sort((a, b) => (down ? -1 : 1) * compare(a[column], b[column]));
  }
  return rows;
}

function resultTable() {
  const { columns } = state.result;
  const head = columns.map((c) => {
    const on = state.sort?.column === c;
    const arrow = on ? (state.sort.down ? ' ▼' : ' ▲') : '';
    return el('th', { 'aria-sort': on ? (state.sort.down ? 'descending' : 'ascending') : 'none' },
      el('button', { type: 'button', class: 'sort', title: t('q.sort'), dataset: { column: c },
        translate: 'no', onclick: () => { state.sort = { column: c, down: on ? !state.sort.down : false }; showResult(); } }, `${c}${arrow}`));
  });
  return el('table', { class: 'grid list', id: 'q-table' },
    el('thead', {}, el('tr', {}, head)),
    el('tbody', { translate: 'no' }, sortedRows().map((r) => el('tr', {}, columns.map((c) =>
      el('td', { class: typeof r[c] === 'number' ? 'num' : '' }, show(r[c])))))));
}

function chartBlock() {
  const { columns, rows } = state.result;
  const fit = chartable(columns, rows);
  if (!fit) return null;
  const xs = el('select', { id: 'chart-x', 'aria-label': t('q.chart.x'), translate: 'no' }, fit.x.map((c) => el('option', { value: c }, c)));
  const ys = el('select', { id: 'chart-y', 'aria-label': t('q.chart.y'), translate: 'no' }, fit.y.map((c) => el('option', { value: c }, c)));
  const kinds = el('select', { id: 'chart-kind', 'aria-label': t('q.chart') },
    el('option', { value: '' }, '—'), el('option', { value: 'bar' }, t('q.chart.bar')), el('option', { value: 'line' }, t('q.chart.line')));
  const slot = el('div', { id: 'chart' });
  const draw = () => fill(slot, drawChart(rows, xs.value, ys.value, { kind: kinds.value || null }));
  for (const s of [xs, ys, kinds]) s.addEventListener('change', draw);
  draw();
  return el('section', { class: 'chart-box' }, el('h3', {}, t('q.chart')),
    el('div', { class: 'row' }, el('label', {}, t('q.chart.y'), ' ', ys), el('label', {}, t('q.chart.x'), ' ', xs), kinds), slot);
}

function showResult() {
  const out = byId('q-result');
  const r = state.result;
  if (!r) return;
  const q = state.current;
  const query = state.params.toString();
  const suffix = query ? `?${query}` : '';
  const base = `/queries/${encodeURIComponent(q.name)}`;
  fill(out,
    el('p', { class: 'row wrap' },
      el('span', { id: 'q-count' }, t('q.rows', { n: r.rows.length, ms: Math.round(r.elapsed_ms) })),
      r.truncated ? el('span', { class: 'warn' }, t('q.truncated', { n: q.max_rows })) : '',
      el('a', { href: `${base}.csv${suffix}`, id: 'q-csv', download: `${q.name}.csv`, class: 'button' }, t('q.csv')),
      el('a', { href: `${base}.json${suffix}`, id: 'q-json', download: `${q.name}.json`, class: 'button' }, t('q.json')),
      el('span', {}, t('q.exports'), ' ', exportLinks('query', q.name, state.params))),
    r.rows.length ? chartBlock() : null,
    r.rows.length ? resultTable() : el('p', { class: 'muted' }, t('q.norows')));
}

async function runQuery(button) {
  const q = state.current;
  const out = byId('q-result');
  for (const p of q.params) {
    if (p.required && !byId(`p-${p.name}`).value.trim()) {
      fill(out, el('p', { class: 'error' }, t('q.missing', { name: p.name })));
      return;
    }
  }
  state.params = formParams(q);
  history.replaceState(null, '', `#q=${encodeURIComponent(q.name)}${state.params.size ? `&${state.params}` : ''}`);
  button.disabled = true;
  out.dataset.state = 'busy';
  fill(out, el('p', { class: 'muted' }, t('q.running')));
  try {
    const query = state.params.toString();
    state.result = await getJson(`/queries/${encodeURIComponent(q.name)}.json${query ? `?${query}` : ''}`);
    state.sort = null;
    showResult();
    out.dataset.state = 'done';
  } catch (err) {
    state.result = null;
    fill(out, el('p', { class: 'error' }, err instanceof ApiError ? errorText(err) : errorText({ code: 'PAGE', message: err.message })));
    out.dataset.state = 'error';
  } finally {
    button.disabled = false;
  }
}

async function cypherOf(q) {
  const out = byId('q-cypher');
  try {
    const response = await fetch(`/saved-queries/${encodeURIComponent(q.name)}.cypher`, { credentials: 'same-origin' });
    fill(out, response.ok ? await response.text() : t('q.cypher.none'));
  } catch {
    fill(out, t('q.cypher.none'));
  }
}

function showQuery() {
  const q = state.current;
  const section = byId('query');
  if (!q) {
    fill(section, el('p', { class: 'muted' }, state.queries.length ? t('q.pick') : t('q.none')));
    return;
  }
  const given = new URLSearchParams(location.hash.slice(1));
  const values = new Map();
  for (const p of q.params) {
    const all = given.getAll(p.name);
    if (all.length) values.set(p.name, p.type === 'list of string' ? all.join('\n') : all[0]);
  }
  fill(section,
    data(q.title, 'h1', { id: 'q-title' }),
    data(q.name, 'p', { class: 'key' }),
    el('h3', {}, t('q.description')), data(q.description, 'p', { id: 'q-description', class: 'description' }),
    el('h3', {}, t('q.params')), form(q, values),
    el('div', { id: 'q-result', role: 'status' }),
    el('details', { id: 'q-cypher-box' }, el('summary', {}, t('q.cypher')), el('pre', { id: 'q-cypher', class: 'cypher', translate: 'no' }, '…')));
  cypherOf(q);
  state.result = null;
  section.dataset.name = q.name;
}

function choose() {
  const name = chosen();
  const next = state.queries.find((q) => q.name === name) ?? null;
  if (next?.name !== state.current?.name || !next) {
    state.current = next;
    showQuery();
  }
  showCatalogue();
}

async function start() {
  whenSignedOut(signedOut);
  await startPage('queries');
  try {
    state.queries = (await getJson('/queries')).queries;
  } catch (err) {
    fill(byId('query'), el('p', { class: 'error' }, errorText(err)));
  }
  window.addEventListener('hashchange', choose);
  onLangChange(() => { const r = state.result; const p = state.params; showCatalogue(); showQuery(); if (r) { state.result = r; state.params = p; showResult(); } });
  choose();
  document.body.dataset.ready = 'true';
}

start();
