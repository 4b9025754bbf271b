// The investigator workbench: search, the graph canvas, details with provenance, seller
// networks with their risk, trace to source, exports. Everything it shows comes from
// POST /graphql as the signed-in caller, so a role sees here what the API gives it.
// Text from the data is only ever set as text (textContent, canvas labels).
// The address may say what to open: #seed=Label:key[,...]&hops=2&limit=200 or #open=Label:key.
// `window.workbench` (the canvas and cytoscape instance) is there for the browser tests and
// bench/web.py; `document.body.dataset.drawn` counts the views drawn so far.

import { el, fill, byId, table, short, download } from './dom.js';
import {
  gql, whenSignedOut, ApiError, nodesById, SEARCH, NETWORK, SELLER_NETWORK, RISK, TRACE,
  NETWORKS, LEADS,
} from './graphql.js';
import { Canvas, COLORS } from './canvas.js';
import { graphml, nodesCsv, edgesCsv } from './exports.js';
import { t, tOr, errorText, kindWord, relWord, viaWord, propWord, roleWord, statusWord, onLangChange, localTime } from './i18n.js';
import { startPage, signedOut, exportLinks } from './page.js';
import { Handover } from './handover.js';

const SEARCHABLE = ['Seller', 'Shop', 'Listing', 'Brand', 'Site', 'Person', 'Address',
  'Shipment', 'Agency', 'Case', 'Division'];
const PROVENANCE = ['source', 'run_id', 'observed_on', 'first_seen_at', 'last_seen_at'];
const TRACEABLE = { Listing: 'listingId', Shop: 'shopId', Seller: 'sellerId' };
const EXPAND_LIMIT = 200;

const state = {
  who: null,
  current: null,          // the entity open in the details panel: {id, label, key, caption}
  hiddenLabels: new Set(),
  hiddenTypes: new Set(),
  trace: null,            // {of, sites}
};
let canvas;
let handover = null;

// --- small helpers --------------------------------------------------------------------

function message(node, text, kind = '') {
  fill(node, text ? el('span', { class: `msg ${kind}` }, text) : '');
}

function failure(err) {
  if (err instanceof ApiError) return errorText(err);
  return errorText({ code: 'PAGE', message: err.message });
}

function idOf(label, key) {
  return `${label}:${key}`;
}

function splitId(id) {
  const at = id.indexOf(':');
  return { label: id.slice(0, at), key: id.slice(at + 1) };
}

const said = { text: '', kind: '' };

/** The status line: the counts, and `text` (the last one said when not given). */
function status(text, kind = '') {
  if (text !== undefined) Object.assign(said, { text, kind });
  ({ text, kind } = said);
  const node = byId('status');
  const c = canvas.counts();
  const parts = [t('st.nodes', { n: c.nodes }), t('st.edges', { n: c.edges })];
  if (c.hidden) parts.push(t('st.hidden', { n: c.hidden }));
  if (c.filtered) parts.push(t('st.filtered', { n: c.filtered }));
  if (c.selected) parts.push(t('st.selected', { n: c.selected }));
  fill(node, el('span', { class: 'counts' }, parts.join(' · ')),
    text ? el('span', { class: `msg ${kind}` }, text) : '');
  byId('empty-hint').classList.toggle('hidden', c.nodes > 0);
}

let statusPending = false;

/** The status line once per frame at most (a box selection selects nodes one by one). */
function statusSoon() {
  if (statusPending) return;
  statusPending = true;
  requestAnimationFrame(() => {
    statusPending = false;
    status();
    handover?.refresh();
  });
}

function labelBadge(label) {
  const badge = el('span', { class: 'badge' }, kindWord(label));
  badge.style.backgroundColor = COLORS[label] ?? '#999';
  return badge;
}

async function busy(button, work) {
  button.disabled = true;
  button.classList.add('busy');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.classList.remove('busy');
  }
}

// --- who is signed in -------------------------------------------------------------------

async function loadWho() {
  state.who = await startPage('workbench');
}

// --- search -------------------------------------------------------------------------------

async function runSearch(evt) {
  evt.preventDefault();
  const text = byId('search-text').value.trim();
  if (!text) return;
  const label = byId('search-label').value;
  const out = byId('results');
  out.dataset.state = 'busy';
  message(byId('search-status'), t('search.busy'));
  try {
    const data = await gql(SEARCH, { text, labels: label ? [label] : null, first: 50 });
    showResults(data.search, text);
    out.dataset.state = 'done';
    if (data.search.length) byId('start-box').open = false;
  } catch (err) {
    fill(out);
    message(byId('search-status'), failure(err), 'error');
    out.dataset.state = 'error';
  }
}

function showResults(hits, text) {
  const out = byId('results');
  fill(out);
  message(byId('search-status'), hits.length
    ? t('search.found', { n: hits.length, text: short(text, 40) })
    : t('search.none', { text: short(text, 40) }));
  const groups = new Map();
  for (const hit of hits) {
    if (!groups.has(hit.label)) groups.set(hit.label, []);
    groups.get(hit.label).push(hit);
  }
  for (const [label, group] of groups) {
    const list = el('ul', { class: 'hits' });
    for (const hit of group) {
      const open = el('button', { type: 'button', class: 'hit', title: hit.id, translate: 'no',
        onclick: () => openEntity(hit.id) },
      el('span', { class: 'name', translate: 'no' }, hit.displayName || hit.key),
      el('span', { class: 'key', translate: 'no' }, hit.key));
      const add = el('button', { type: 'button', class: 'add', title: t('search.add.title'),
        onclick: () => addNetwork([hit.id]) }, t('search.add'));
      list.append(el('li', { dataset: { id: hit.id, label: hit.label } }, open, add));
    }
    out.append(el('section', { class: 'group' },
      el('h3', {}, labelBadge(label), ' ', el('span', { class: 'muted' }, `(${group.length})`)),
      list));
  }
}

// --- where to start: the riskiest networks and the leads the caller may see --------------

async function loadStart() {
  const parts = [];
  if (mayInvestigate()) parts.push(startNetworks());
  if (state.who?.role !== 'analyst') parts.push(startLeads());
  const sections = (await Promise.all(parts)).filter(Boolean);
  fill(byId('start'), sections.length ? sections
    : el('p', { class: 'muted' }, t('start.nothing')));
  byId('start').dataset.state = 'done';
}

async function startNetworks() {
  try {
    const items = (await gql(NETWORKS, { first: 8 })).networks.items;
    if (!items.length) return el('p', { class: 'muted' }, t('start.networks.none'));
    return el('section', {}, el('h3', {}, t('start.networks')),
      el('ul', { class: 'hits', id: 'start-networks' }, items.map((n) => el('li', { dataset: { id: idOf('Network', n.networkId) } },
        el('button', { type: 'button', class: 'hit', title: t('start.network.title'),
          onclick: () => openStart(idOf('Network', n.networkId)) },
        el('span', { class: 'score' }, (n.riskScore ?? 0).toFixed(2)),
        el('span', { class: 'name' }, t('start.network.row', { size: n.size, shops: n.shops ?? 0, sites: n.sites ?? 0 })),
        n.shopsTried ? el('span', { class: 'tried' }, t('start.network.tried', { tried: n.shopsTried, blocked: n.uploadsBlocked })) : null,
        el('span', { class: 'key', translate: 'no' }, n.networkId))))));
  } catch (err) {
    return el('p', { class: 'error' }, failure(err));
  }
}

async function startLeads() {
  try {
    const leads = (await gql(LEADS, { first: 8 })).leads.nodes;
    if (!leads.length) return el('p', { class: 'muted' }, t('start.leads.none'));
    return el('section', {}, el('h3', {}, t('start.leads')),
      el('ul', { class: 'hits', id: 'start-leads' }, leads.map((lead) => el('li', { dataset: { id: lead.id } },
        el('button', { type: 'button', class: 'hit', title: t('start.lead.title'),
          onclick: () => openStart(lead.id) },
        el('span', { class: 'name', translate: 'no' }, lead.title || lead.leadId),
        el('span', { class: 'key' }, statusWord(lead.status)))))));
  } catch (err) {
    return el('p', { class: 'error' }, failure(err));
  }
}

async function openStart(id) {
  await addNetwork([id], { hops: 1 });
  await openEntity(id);
}

// --- details --------------------------------------------------------------------------------

async function openEntity(id) {
  const out = byId('details');
  message(out, t('details.loading'));
  byId('details-box').open = true;
  let node;
  try {
    node = (await nodesById([id])).get(id);
  } catch (err) {
    message(out, failure(err), 'error');
    return;
  }
  if (!node) {
    state.current = null;
    updateActions();
    message(out, t('details.missing', { id }), 'error');
    out.dataset.id = '';
    return;
  }
  canvas.properties.set(node.id, node.properties);
  state.current = { id: node.id, label: node.label, key: node.key, caption: node.caption };
  showNode(node);
  out.dataset.id = node.id;
  updateActions();
}

function showNode(node) {
  const props = node.properties ?? {};
  const own = Object.entries(props).filter(([name]) => !PROVENANCE.includes(name));
  const provenance = PROVENANCE.filter((name) => props[name] != null).map((name) => [propWord(name), localTime(props[name])]);
  const onCanvas = canvas.cy.getElementById(node.id).nonempty();
  const actions = el('div', { class: 'actions' },
    el('button', { type: 'button', id: 'det-add', onclick: () => addNetwork([node.id]) },
      onCanvas ? t('details.expand') : t('details.add')),
    onCanvas ? el('button', { type: 'button', onclick: () => focusNode(node.id) }, t('details.show')) : null);
  fill(byId('details'),
    el('h2', { class: 'title' }, labelBadge(node.label), ' ', el('span', { class: 'caption', translate: 'no' }, node.caption || node.key)),
    el('div', { class: 'muted key', translate: 'no' }, node.id),
    node.hub ? el('p', { class: 'note' }, canvas.cy.getElementById(node.id).hasClass('seed')
      ? t('details.hub.seed', { n: node.degree })
      : t('details.hub', { n: node.degree })) : null,
    actions,
    el('h3', {}, t('details.props')),
    own.length ? table(own.map(([name, value]) => [propWord(name), value])) : el('p', { class: 'muted' }, t('details.props.none')),
    el('h3', {}, t('details.provenance')),
    provenance.length ? table(provenance, 'props provenance') : el('p', { class: 'muted' }, t('details.provenance.none')),
    node.label === 'Network' ? el('p', { class: 'exports-row' }, t('tb.network.exports'), ' ', exportLinks('network', node.key)) : null,
    el('div', { id: 'risk' }));
  if (node.label === 'Seller' || node.label === 'Shop') loadRisk(node);
}

async function loadRisk(node) {
  if (!mayInvestigate()) return;
  const out = byId('risk');
  try {
    const vars = node.label === 'Seller' ? { sellerId: node.key } : { shopId: node.key };
    const data = await gql(RISK, vars);
    if (state.current?.id !== node.id) return;
    fill(out, el('h3', {}, t('details.risk'), ' ', el('span', { class: 'score' }, data.riskScore.score.toFixed(2))),
      factorTable(data.riskScore.factors));
  } catch (err) {
    message(out, failure(err), 'error');
  }
}

function factorTable(factors) {
  return el('table', { class: 'grid' },
    el('thead', {}, el('tr', {}, ['factor.name', 'factor.value', 'factor.weight', 'factor.adds'].map((h) => el('th', {}, t(h))))),
    el('tbody', {}, factors.map((f) => el('tr', {},
      el('td', {}, tOr(`factor.${f.name}`, f.name.replace(/_/g, ' '))), el('td', { class: 'num' }, f.value.toFixed(2)),
      el('td', { class: 'num' }, f.weight.toFixed(2)), el('td', { class: 'num' }, f.contribution.toFixed(3))))));
}

function showEdge(edge) {
  const d = edge.data();
  const from = edge.source().data();
  const to = edge.target().data();
  const rows = [[t('details.from'), `${kindWord(from.label)} ${from.caption}`], [t('details.rel'), relWord(d.type)],
    [t('details.to'), `${kindWord(to.label)} ${to.caption}`]];
  const parts = [el('h2', { class: 'title' }, d.type === 'LINKED' ? t('details.linked', { word: d.word }) : relWord(d.type)), table(rows)];
  if (d.via) {
    parts.push(el('h3', {}, t('details.why')),
      el('table', { class: 'grid' },
        el('thead', {}, el('tr', {}, ['details.shared', 'details.value', 'details.weight'].map((h) => el('th', {}, t(h))))),
        el('tbody', {}, d.via.map((v) => el('tr', {},
          el('td', {}, viaWord(v.kind)), el('td', {}, v.value), el('td', { class: 'num' }, v.weight.toFixed(2)))))));
  }
  if (d.hop) {
    parts.push(el('h3', {}, t('details.provenance')),
      table([[t('details.source'), d.hop.source], [t('details.observed'), d.hop.observedOn]], 'props provenance'));
  }
  fill(byId('details'), ...parts);
  byId('details-box').open = true;
}

function updateActions() {
  const c = state.current;
  const investigate = mayInvestigate();
  byId('act-network').disabled = !(c && c.label === 'Seller' && investigate);
  byId('act-trace').disabled = !(c && TRACEABLE[c.label] && investigate);
  fill(byId('trace-of'), c && TRACEABLE[c.label] ? t('trace.of', { kind: kindWord(c.label), name: short(c.caption || c.key, 30) }) : t('trace.pick'));
  if (!investigate && state.who) {
    message(byId('network'), t('net.only', { role: roleWord(state.who.role) }), 'muted');
    message(byId('trace'), t('trace.leads'), 'muted');
  }
}

function mayInvestigate() {
  return !state.who || ['investigator', 'admin'].includes(state.who.role);
}

// --- the graph --------------------------------------------------------------------------

function options() {
  return { hops: Number(byId('opt-hops').value), limit: Number(byId('opt-limit').value) };
}

/** Add the neighbourhood of `seeds` to the graph (hops and size from the toolbar). */
async function addNetwork(seeds, { hops, limit, anchor = null } = {}) {
  const opts = options();
  status(t('st.loading'));
  try {
    const data = await gql(NETWORK, { seeds, hops: hops ?? opts.hops, limit: limit ?? opts.limit, relTypes: null });
    performance.mark('workbench:fetched');
    const graph = data.network;
    canvas.snapshot();
    const was = canvas.cy.nodes().length;
    const fresh = canvas.merge(graph, { anchor });
    performance.mark('workbench:merged');
    await settle(fresh, was, anchor);
    const shown = document.getElementById('det-add');
    if (shown && state.current && canvas.cy.getElementById(state.current.id).nonempty()) shown.textContent = t('details.expand');
    const truncated = graph.truncated ? t('st.truncated') : '';
    status(`${t('st.new', { n: fresh.length })}${truncated}`, graph.truncated ? 'warn' : '');
    return graph;
  } catch (err) {
    status(failure(err), 'error');
    return null;
  }
}

/** Lay out after new nodes came in: the whole view when it was empty or is small,
 *  otherwise only the newcomers around what they were expanded from. */
async function settle(fresh, before, anchor) {
  refreshFilters();
  canvas.filter(state.hiddenLabels, state.hiddenTypes);
  if (fresh.length === 0) {
    await canvas.drawnSignal();
    return;
  }
  if (before === 0 || (!anchor && canvas.cy.nodes().length <= 300)) {
    await canvas.layout(byId('opt-layout').value);
  } else if (canvas.cy.nodes().length <= 300) {
    await canvas.layout('cose', { randomize: false });
  }
  performance.mark('workbench:laid-out');
  await canvas.drawnSignal();
}

async function expand(node, { force = false } = {}) {
  const d = node.data();
  if (d.hub && !force) {
    fill(byId('details'),
      el('h2', { class: 'title' }, labelBadge(d.label), ' ', el('span', { class: 'caption', translate: 'no' }, d.caption)),
      el('p', { class: 'note' }, t('hub.note', { n: d.degree })),
      el('button', { type: 'button', id: 'expand-hub', onclick: () => expand(node, { force: true }) },
        t('hub.expand', { n: EXPAND_LIMIT })));
    byId('details-box').open = true;
    return;
  }
  await addNetwork([d.id], { hops: 1, limit: EXPAND_LIMIT, anchor: d.id });
}

function focusNode(id) {
  const node = canvas.cy.getElementById(id);
  if (node.empty()) return;
  canvas.cy.elements().unselect();
  node.select();
  canvas.cy.animate({ center: { eles: node }, zoom: Math.max(canvas.cy.zoom(), 1) }, { duration: 250 });
}

function onNodeTap(node) {
  const d = node.data();
  state.current = { id: d.id, label: d.label, key: d.key, caption: d.caption };
  updateActions();
  openEntity(d.id);
}

function refreshFilters() {
  const labels = canvas.labels();
  const types = canvas.types();
  fill(byId('label-filters'), labels.map((label) => check(label, state.hiddenLabels, labelBadge(label))));
  fill(byId('type-filters'), types.map((type) => check(type, state.hiddenTypes, relWord(type))));
  fill(byId('legend'), legendItems(labels));
}

function check(value, hidden, caption) {
  const box = el('input', { type: 'checkbox', value, checked: !hidden.has(value) });
  box.addEventListener('change', () => {
    if (box.checked) hidden.delete(value); else hidden.add(value);
    canvas.filter(state.hiddenLabels, state.hiddenTypes);
    status('');
  });
  return el('label', { class: 'check', dataset: { value } }, box, ' ', caption);
}

function legendItems(labels) {
  const items = labels.map((label) => el('li', {}, swatch(COLORS[label] ?? '#999'), kindWord(label)));
  items.push(
    el('li', {}, el('span', { class: 'mark hub' }), t('legend.hub')),
    el('li', {}, el('span', { class: 'mark seed' }), t('legend.seed')),
    el('li', {}, el('span', { class: 'mark pinned' }), t('legend.pinned')),
    el('li', {}, el('span', { class: 'line link' }), t('legend.link')),
    el('li', {}, el('span', { class: 'line ident' }), t('legend.ident')),
    el('li', {}, el('span', { class: 'line trace' }), t('legend.trace')),
    el('li', {}, el('span', { class: 'line path' }), t('legend.path')));
  return items;
}

function swatch(color) {
  const s = el('span', { class: 'swatch' });
  s.style.backgroundColor = color;
  return s;
}

// --- seller network -----------------------------------------------------------------------

async function sellerNetwork() {
  const c = state.current;
  if (!c || c.label !== 'Seller') return;
  const strength = byId('opt-strength').value;
  const out = byId('network');
  out.dataset.state = 'busy';
  message(out, t('net.busy'));
  let net;
  try {
    net = (await gql(SELLER_NETWORK, { sellerId: c.key, strength })).sellerNetwork;
  } catch (err) {
    message(out, failure(err), 'error');
    out.dataset.state = 'error';
    return;
  }
  showSellerNetwork(net, c);
  byId('network-box').scrollIntoView({ block: 'start' });
  await drawSellerNetwork(net);
  out.dataset.state = 'done';
}

function showSellerNetwork(net, seller) {
  const s = net.stats;
  fill(byId('network'),
    el('p', {}, `${short(seller.caption || seller.key, 30)} · ${t(net.strength === 'WEAK' ? 'net.weak' : 'net.strong')} · `,
      el('b', {}, t('net.sellers', { n: net.sellers.length })),
      net.truncated ? el('span', { class: 'warn' }, t('net.cut')) : ''),
    el('h3', {}, t('net.risk'), ' ', el('span', { class: 'score', id: 'network-risk' }, net.riskScore.toFixed(2))),
    factorTable(net.riskFactors),
    el('h3', {}, t('net.holds')),
    table(['sellers', 'shops', 'listings', 'brandsHit', 'upheldComplaints', 'counterfeitVerdicts', 'sites',
      'openLeads', 'cases'].map((name) => [t(`stat.${name}`), s[name]])),
    net.hubsSkipped.length ? el('h3', {}, t('net.hubs')) : null,
    net.hubsSkipped.length ? el('ul', { class: 'plain' }, net.hubsSkipped.map((h) =>
      el('li', {}, t('net.hub.row', { via: viaWord(h.kind), value: h.value, n: h.sellers })))) : null);
}

async function drawSellerNetwork(net) {
  const ids = net.sellers.map((m) => idOf('Seller', m.sellerId));
  let found;
  try {
    found = await nodesById(ids);
  } catch (err) {
    status(failure(err), 'error');
    return;
  }
  const nodes = ids.map((id) => found.get(id) ?? { id, label: 'Seller', key: splitId(id).key, caption: splitId(id).key, degree: 0, hub: false });
  for (const n of found.values()) canvas.properties.set(n.id, n.properties);
  nodes.forEach((n) => { n.seed = n.key === net.sellerId; });
  const links = net.links.map((lk) => ({
    id: `link:${lk.a}|${lk.b}|${net.strength}`, source: idOf('Seller', lk.a), target: idOf('Seller', lk.b),
    type: 'LINKED', weak: lk.via.every((v) => v.kind === 'device_ip' || v.kind === 'address'),
    word: [...new Set(lk.via.map((v) => viaWord(v.kind)))].join(' + '),
    why: lk.via.map((v) => `${viaWord(v.kind)} ${v.value}`).join('; '),
    weight: Math.max(...lk.via.map((v) => v.weight)), via: lk.via,
  }));
  canvas.snapshot();
  const was = canvas.cy.nodes().length;
  const fresh = canvas.merge({ nodes, edges: [] }, { extraEdges: links });
  await settle(fresh, was, null);
  if (was > 0) {
    const members = canvas.cy.collection(ids.map((id) => canvas.cy.getElementById(id)));
    canvas.highlight(members.union(members.edgesWith(members)), 'focus');
  }
  status(t('st.sellernet', { n: ids.length, links: links.length }));
}

// --- trace --------------------------------------------------------------------------------

async function trace() {
  const c = state.current;
  if (!c || !TRACEABLE[c.label]) return;
  const out = byId('trace');
  out.dataset.state = 'busy';
  message(out, t('trace.busy'));
  const vars = { listingId: null, shopId: null, sellerId: null,
    strength: byId('opt-strength').value, maxHops: c.label === 'Listing' ? 10 : 8 };
  vars[TRACEABLE[c.label]] = c.key;
  let sites;
  try {
    sites = (await gql(TRACE, vars)).traceToSource;
  } catch (err) {
    message(out, failure(err), 'error');
    out.dataset.state = 'error';
    return;
  }
  state.trace = { of: c, sites };
  showTrace();
  byId('trace-box').scrollIntoView({ block: 'start' });
  out.dataset.state = 'done';
}

function showTrace() {
  const { of, sites } = state.trace;
  const out = byId('trace');
  if (!sites.length) {
    message(out, t('trace.none', { kind: kindWord(of.label), name: of.caption || of.key }));
    return;
  }
  const list = el('ol', { class: 'sites', id: 'trace-sites' });
  sites.forEach((tr, i) => {
    const site = tr.site;
    const item = el('li', { dataset: { site: site.siteId } },
      el('button', { type: 'button', class: 'site', onclick: () => chooseSite(i) },
        el('span', { class: 'score' }, tr.score.toFixed(2)),
        el('span', { class: 'name', translate: 'no' }, site.label || site.siteId),
        el('span', { class: 'muted' }, ` ${site.kind ?? ''} · ${site.status ?? ''}${site.raided ? ` · ${t('trace.raided')}` : ''} · ${t('trace.paths', { n: tr.paths.length })}`)));
    list.append(item);
  });
  fill(out, el('p', { class: 'muted' }, t('trace.intro', { kind: kindWord(of.label), name: short(of.caption || of.key, 30) })),
    list, el('div', { id: 'trace-paths' }));
}

async function chooseSite(index) {
  const tr = state.trace.sites[index];
  document.querySelectorAll('#trace-sites li').forEach((li, i) => li.classList.toggle('chosen', i === index));
  const all = await drawPaths(tr.paths);
  canvas.highlight(all, 'trace');
  canvas.cy.nodes('.target').removeClass('target');
  canvas.cy.getElementById(idOf('Site', tr.site.siteId)).addClass('target');
  canvas.cy.getElementById(idOf(state.trace.of.label, state.trace.of.key)).addClass('seed');
  canvas.cy.animate({ fit: { eles: all, padding: 50 } }, { duration: 300 });
  const list = el('ol', { class: 'paths' });
  tr.paths.forEach((p, i) => {
    list.append(el('li', {},
      el('button', { type: 'button', class: 'path', onclick: () => choosePath(tr, i) },
        el('span', { class: 'score' }, p.weight.toFixed(2)), ` ${p.kind.replace(/_/g, ' ')} · ${t('trace.hops', { n: p.hops.length })}`),
      el('div', { class: 'hops' }, p.hops.map(hopText))));
  });
  fill(byId('trace-paths'), el('h3', {}, t('trace.evidence', { site: tr.site.label || tr.site.siteId })), list);
  document.body.dataset.traced = tr.site.siteId;
  status(t('st.traced', { n: tr.paths.length, site: tr.site.siteId }));
}

async function choosePath(tr, index) {
  const eles = await drawPaths([tr.paths[index]]);
  canvas.highlight(eles, 'trace');
  canvas.cy.animate({ fit: { eles, padding: 50 } }, { duration: 300 });
}

function hopText(h) {
  const arrow = h.reversed ? `← ${relWord(h.type)} ←` : `→ ${relWord(h.type)} →`;
  return el('div', { class: 'hop' },
    el('span', { class: 'node' }, `${kindWord(h.from.label)} ${short(h.from.caption || h.from.key, 24)}`),
    el('span', { class: 'rel' }, ` ${arrow} `),
    el('span', { class: 'node' }, `${kindWord(h.to.label)} ${short(h.to.caption || h.to.key, 24)}`),
    h.source ? el('span', { class: 'prov' }, ` [${h.source}${h.observedOn ? `, ${h.observedOn}` : ''}]`) : '');
}

/** Put the nodes and edges of some trace paths on the graph; their elements. */
async function drawPaths(paths) {
  const cy = canvas.cy;
  const nodes = new Map();
  const hops = [];
  for (const p of paths) {
    for (const h of p.hops) {
      for (const n of [h.from, h.to]) {
        const id = idOf(n.label, n.key);
        if (!nodes.has(id)) nodes.set(id, { id, label: n.label, key: n.key, caption: n.caption, degree: 0, hub: false, seed: false });
      }
      hops.push(h);
    }
  }
  const missing = [...nodes.keys()].filter((id) => cy.getElementById(id).empty());
  if (missing.length) {
    try {
      const found = await nodesById(missing);
      for (const [id, n] of found) nodes.set(id, { ...n, seed: false });
    } catch {
      // drawn with what the trace said about them
    }
  }
  const edges = [];
  const chosen = [];
  for (const h of hops) {
    const a = idOf(h.from.label, h.from.key);
    const b = idOf(h.to.label, h.to.key);
    const [source, target] = h.reversed ? [b, a] : [a, b];
    const id = `trace:${source}|${h.type}|${target}`;
    edges.push({ id, source, target, type: h.type, hop: { source: h.source, observedOn: h.observedOn } });
    chosen.push([a, b, h.type, id]);
  }
  if (missing.length) canvas.snapshot();
  const was = cy.nodes().length;
  const fresh = canvas.merge({ nodes: [...nodes.values()], edges: [] }, {
    extraEdges: edges.filter((e) => !canvas.edgeBetween(e.source, e.target, e.type)),
    anchor: cy.getElementById(idOf(state.trace.of.label, state.trace.of.key)).nonempty() ? idOf(state.trace.of.label, state.trace.of.key) : null,
  });
  if (fresh.length) await settle(fresh, was, null);
  let eles = cy.collection();
  for (const [a, b, type, id] of chosen) {
    eles = eles.union(cy.getElementById(a)).union(cy.getElementById(b));
    const edge = canvas.edgeBetween(a, b, type) ?? cy.getElementById(id);
    eles = eles.union(edge);
  }
  eles.removeClass('hidden filtered');
  await canvas.drawnSignal();
  return eles;
}

// --- exports ------------------------------------------------------------------------------

async function withProperties(view) {
  const missing = view.nodes.filter((n) => !canvas.properties.has(n.id)).map((n) => n.id);
  if (missing.length) {
    status(t('st.fetching', { n: missing.length }));
    const found = await nodesById(missing);
    for (const [id, n] of found) canvas.properties.set(id, n.properties);
  }
  return canvas.view();
}

function stamp() {
  return new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
}

async function exportAs(kind) {
  if (canvas.cy.nodes(':visible').empty()) {
    status(t('st.empty'), 'warn');
    return;
  }
  try {
    if (kind === 'png') {
      const blob = canvas.cy.png({ output: 'blob', full: true, scale: 2, bg: '#ffffff', maxWidth: 8000, maxHeight: 8000 });
      download(blob, `alliance-graph-${stamp()}.png`);
    } else {
      const view = await withProperties(canvas.view());
      if (kind === 'graphml') {
        download(new Blob([graphml(view.nodes, view.edges)], { type: 'application/graphml+xml' }), `alliance-graph-${stamp()}.graphml`);
      } else if (kind === 'csv-nodes') {
        download(new Blob([nodesCsv(view.nodes)], { type: 'text/csv;charset=utf-8' }), `alliance-graph-nodes-${stamp()}.csv`);
      } else {
        download(new Blob([edgesCsv(view.edges)], { type: 'text/csv;charset=utf-8' }), `alliance-graph-edges-${stamp()}.csv`);
      }
    }
    status(t('st.exported', { kind }));
  } catch (err) {
    status(failure(err), 'error');
  }
}

// --- wiring -------------------------------------------------------------------------------

function bind(id, handler) {
  const button = byId(id);
  button.addEventListener('click', () => busy(button, handler));
}

function wire() {
  fillKinds();
  byId('search-form').addEventListener('submit', runSearch);
  bind('act-expand', async () => {
    const nodes = canvas.selectedNodes();
    if (nodes.empty()) return status(t('st.select.expand'), 'warn');
    const plain = nodes.filter((n) => !n.data('hub'));
    if (plain.empty()) return expand(nodes[0]);
    return addNetwork(plain.map((n) => n.id()).slice(0, 100), { hops: 1, limit: EXPAND_LIMIT, anchor: plain[0].id() });
  });
  bind('act-hide', async () => {
    const nodes = canvas.selectedNodes();
    if (nodes.empty()) return status(t('st.select.hide'), 'warn');
    canvas.snapshot();
    canvas.hide(nodes);
    return status(t('st.hidden.n', { n: nodes.length }));
  });
  bind('act-show', async () => { canvas.snapshot(); canvas.showHidden(); status(t('st.shown')); });
  bind('act-pin', async () => {
    const nodes = canvas.selectedNodes();
    if (nodes.empty()) return status(t('st.select.pin'), 'warn');
    canvas.snapshot();
    return status(t(canvas.togglePin(nodes) ? 'st.pinned' : 'st.unpinned', { n: nodes.length }));
  });
  bind('act-undo', async () => undo());
  bind('act-layout', async () => {
    canvas.snapshot();
    await canvas.layout(byId('opt-layout').value);
    await canvas.drawnSignal();
    status(t('st.laidout'));
  });
  bind('act-fit', async () => canvas.fit());
  bind('act-path', async () => {
    const found = canvas.shortestPath();
    if (found.error) return status(t(found.error), 'warn');
    const steps = found.path.nodes().map((n) => short(n.data('caption'), 20)).join(' → ');
    return status(t('st.path', { n: found.distance, steps }));
  });
  bind('act-clearhl', async () => { canvas.clearHighlight(); status(''); });
  bind('act-clear', async () => { canvas.snapshot(); canvas.clear(); refreshFilters(); status(t('st.cleared')); });
  bind('act-network', sellerNetwork);
  bind('act-trace', trace);
  bind('exp-png', () => exportAs('png'));
  bind('exp-graphml', () => exportAs('graphml'));
  bind('exp-csv-nodes', () => exportAs('csv-nodes'));
  bind('exp-csv-edges', () => exportAs('csv-edges'));
  document.addEventListener('keydown', onKey);
}

function fillKinds() {
  const chosen = document.getElementById('search-label').value;
  fill(byId('search-label'), el('option', { value: '' }, t('search.every')),
    SEARCHABLE.map((label) => el('option', { value: label }, kindWord(label))));
  byId('search-label').value = chosen;
}

/** The language changed: the words drawn by the page follow (data stays as it is). */
function relabel() {
  fillKinds();
  refreshFilters();
  updateActions();
  canvas.relabel();
  handover?.build();
  status();
  loadStart();
  if (state.current) openEntity(state.current.id);
}

function undo() {
  if (!canvas.undo()) return status(t('st.undo.none'), 'warn');
  canvas.filter(state.hiddenLabels, state.hiddenTypes);
  refreshFilters();
  return status(t('st.undone'));
}

function onKey(evt) {
  const target = evt.target;
  if (target instanceof HTMLInputElement || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement) return;
  if ((evt.ctrlKey || evt.metaKey) && evt.key === 'z') { evt.preventDefault(); undo(); return; }
  if (evt.ctrlKey || evt.metaKey || evt.altKey) return;
  if (evt.key === 'h') byId('act-hide').click();
  else if (evt.key === 'p') byId('act-pin').click();
  else if (evt.key === 'e') byId('act-expand').click();
  else if (evt.key === 'f') byId('act-fit').click();
}

/** `#seed=Label:key[,Label:key]&hops=2&limit=200` opens a network; `#open=Label:key` an entity. */
async function fromAddress() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.get('hops')) byId('opt-hops').value = params.get('hops');
  if (params.get('limit')) byId('opt-limit').value = params.get('limit');
  const open = params.get('open');
  const seeds = (params.get('seed') ?? '').split(',').filter(Boolean);
  if (seeds.length) await addNetwork(seeds);
  if (open || seeds.length) await openEntity(open ?? seeds[0]);
}

async function start() {
  whenSignedOut(signedOut);
  canvas = new Canvas(byId('cy'), {
    node: onNodeTap,
    edge: showEdge,
    expand: (node) => expand(node),
    changed: statusSoon,
  });
  window.workbench = { canvas, cy: canvas.cy, openEntity, addNetwork };
  wire();
  refreshFilters();
  status();
  await loadWho();
  handover = new Handover(byId('handover'), { canvas, who: state.who, failure });
  handover.refresh();
  onLangChange(relabel);
  updateActions();
  loadStart();
  window.addEventListener('hashchange', () => fromAddress());
  await fromAddress();
  document.body.dataset.ready = 'true';
}

start();
