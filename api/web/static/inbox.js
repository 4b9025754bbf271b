// The leads inbox (/leads): the leads the caller may see (a liaison: its jurisdiction),
// newest first, filtered by status and brand (kept in the address), with a count per status.

import { el, fill, byId } from './dom.js';
import { gql, whenSignedOut, INBOX, BRANDS } from './graphql.js';
import { t, errorText, statusWord, money, onLangChange } from './i18n.js';
import { startPage, signedOut } from './page.js';

export const LEAD_STATUSES = ['draft', 'verified', 'pushed', 'registered', 'filed', 'declined', 'transferred',
  'investigating', 'raided', 'prosecuted', 'judged', 'closed', 'withdrawn'];
const PAGE = 50;

const state = { brands: [], after: null, rows: [], total: 0, counts: [] };

function filters() {
  const params = new URLSearchParams(location.search);
  return { status: params.get('status') || null, brandId: params.get('brand') || null };
}

function setFilters(status, brand) {
  const params = new URLSearchParams();
  if (status) params.set('status', status);
  if (brand) params.set('brand', brand);
  history.replaceState(null, '', `/leads${params.size ? `?${params}` : ''}`);
  load();
}

function brandName(b) {
  return [b.name, b.nameZh].filter(Boolean).join(' / ') || b.brandId;
}

function fillFilters() {
  const { status, brandId } = filters();
  fill(byId('f-status'), el('option', { value: '' }, t('inbox.any.status')),
    LEAD_STATUSES.map((s) => el('option', { value: s }, statusWord(s))));
  fill(byId('f-brand'), el('option', { value: '' }, t('inbox.any.brand')),
    state.brands.map((b) => el('option', { value: b.brandId, translate: 'no' }, `${brandName(b)} (${b.brandId})`)));
  byId('f-status').value = status ?? '';
  byId('f-brand').value = brandId ?? '';
}

function showCounts() {
  const { status } = filters();
  const total = state.counts.reduce((sum, c) => sum + c.leads, 0);
  const chip = (value, words, n) => el('button', {
    type: 'button', class: `chip${(status ?? '') === value ? ' on' : ''}`, dataset: { status: value, count: String(n) },
    onclick: () => setFilters(value || null, filters().brandId),
  }, `${words} `, el('b', {}, String(n)));
  fill(byId('counts'), chip('', t('inbox.count.all'), total),
    state.counts.map((c) => chip(c.status, statusWord(c.status), c.leads)));
}

function row(lead) {
  const brands = lead.onBehalfOf.nodes.map((b) => `${brandName(b)} (${b.brandId})`).join(', ');
  const agency = lead.pushedTo.nodes.map((a) => `${a.name ?? a.agencyId} (${a.agencyId})`).join(', ');
  return el('tr', { dataset: { id: lead.leadId, status: lead.status ?? '' } },
    el('td', { translate: 'no' }, el('a', { href: `/leads/${encodeURIComponent(lead.leadId)}`, class: 'lead-link' }, lead.leadId)),
    el('td', { translate: 'no' }, lead.title ?? ''),
    el('td', {}, el('span', { class: `st st-${lead.status}` }, statusWord(lead.status))),
    el('td', { translate: 'no' }, brands),
    el('td', { translate: 'no' }, agency),
    el('td', { translate: 'no' }, lead.createdOn ?? ''),
    el('td', { class: 'num' }, money(lead.estimatedValueCny)));
}

function showRows() {
  fill(byId('inbox-rows'), state.rows.length ? state.rows.map(row)
    : el('tr', {}, el('td', { colspan: 7, class: 'muted' }, t('inbox.none'))));
  fill(byId('inbox-status'), state.rows.length ? t('inbox.shown', { n: state.rows.length, total: state.total }) : '');
}

async function load(more = false) {
  const { status, brandId } = filters();
  const table = byId('inbox-table');
  table.dataset.state = 'busy';
  try {
    const data = await gql(INBOX, { status, brandId, first: PAGE, after: more ? state.after : null });
    const page = data.leads;
    state.rows = more ? [...state.rows, ...page.nodes] : page.nodes;
    state.total = page.totalCount;
    state.after = page.pageInfo.endCursor;
    state.counts = data.leadCounts;
    byId('inbox-more').classList.toggle('hidden', !page.pageInfo.hasNextPage);
    fillFilters();
    showCounts();
    showRows();
    table.dataset.state = 'done';
  } catch (err) {
    fill(byId('inbox-status'), el('span', { class: 'error' }, errorText(err)));
    table.dataset.state = 'error';
  }
}

async function start() {
  whenSignedOut(signedOut);
  await startPage('leads');
  try {
    state.brands = (await gql(BRANDS)).brandDirectory;
  } catch {
    state.brands = [];
  }
  fillFilters();
  byId('f-status').addEventListener('change', () => setFilters(byId('f-status').value, byId('f-brand').value));
  byId('f-brand').addEventListener('change', () => setFilters(byId('f-status').value, byId('f-brand').value));
  byId('inbox-more').addEventListener('click', () => load(true));
  onLangChange(() => { fillFilters(); showCounts(); showRows(); });
  await load();
  document.body.dataset.ready = 'true';
}

start();
