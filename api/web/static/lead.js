// A lead's page (/leads/{leadId}): its summary, the moves of the lifecycle this caller may
// make (as `leadLifecycle` says), its subjects, evidence, cases, timeline and conflicts,
// the dossier and the exports. Every move shows its result or the API's refusal in words.

import { el, fill, byId, table } from './dom.js';
import {
  gql, whenSignedOut, LEAD, LIFECYCLE, PUSH_LEAD, MOVE_LEAD, OPEN_CASE, RECORD_RAID, MOVE_CASE,
} from './graphql.js';
import { t, errorText, statusWord, kindWord, valueWord, money, roleWord, onLangChange, localTime } from './i18n.js';
import { startPage, signedOut, exportLinks, dossierHref, data, words } from './page.js';
import { agencyPicker } from './agencies.js';

const state = { who: null, lead: null, lifecycle: [], said: null };
const leadId = decodeURIComponent(location.pathname.replace(/^\/leads\//, '').replace(/\/$/, ''));

function brandText(b) {
  return `${[b.name, b.nameZh].filter(Boolean).join(' / ') || b.brandId} (${b.brandId})`;
}

function agencyText(a) {
  return `${a.name ?? a.agencyId} (${a.agencyId})`;
}

function today() {
  return new Date().toISOString().slice(0, 10);
}

// --- what the caller may do ------------------------------------------------------------------

function allowed(object, from) {
  const role = state.who?.role;
  return state.lifecycle.filter((s) => s.object === object && s.fromStatus === from && s.roles.includes(role))
    .map((s) => s.toStatus);
}

function say(kind, text) {
  state.said = kind ? { kind, text } : null;
  showSaid();
}

function showSaid() {
  const out = document.getElementById('move-result');
  if (!out) return;
  fill(out, state.said ? el('p', { class: state.said.kind }, state.said.text) : '');
  out.dataset.state = state.said ? state.said.kind : '';
}

/** Run a move; its result is said once the lead is read again, a refusal at once. */
async function act(button, work, done) {
  button.disabled = true;
  say(null, null);
  try {
    const answer = await work();
    state.said = { kind: 'ok', text: done(answer) };
    await load();
  } catch (err) {
    say('error', t('lead.refused', { why: errorText(err) }));
  } finally {
    button.disabled = false;
  }
}

function noteField(id) {
  return el('label', {}, t('lead.note.label'), el('input', { type: 'text', id, maxlength: 2000 }));
}

function value(id) {
  const v = document.getElementById(id)?.value?.trim();
  return v ? v : null;
}

function openForm(slot, ...children) {
  const form = el('form', { class: 'form move-form', id: `${slot.id}-form` }, ...children);
  fill(slot, form);
  return form;
}

function moveButton(id, words, onclick) {
  return el('button', { type: 'button', class: 'move', id, onclick }, words);
}

function leadMoves(lead, slot) {
  return allowed('lead', lead.status).map((to) => {
    if (to === 'pushed') return moveButton('move-pushed', t('move.to.pushed'), () => pushForm(lead, slot));
    if (to === 'filed') return moveButton('move-filed', t('move.to.filed'), () => caseForm(lead, slot));
    return moveButton(`move-${to}`, t(`move.to.${to}`), () => simpleForm(slot, t(`move.to.${to}`), (button) => act(button,
      () => gql(MOVE_LEAD, { leadId, status: to, note: value('move-note') }),
      (data) => t('lead.moved', { status: statusWord(data.updateLeadStatus.status) }))));
  });
}

function caseMoves(c, slot) {
  const moves = allowed('case', c.status);
  if (c.status === 'raided' && state.lifecycle.some((s) => s.object === 'case' && s.roles.includes(state.who?.role))) {
    moves.unshift('raided');
  }
  return moves.map((to) => {
    const id = `case-${c.caseId}-${to}`;
    if (to === 'raided') return moveButton('move-raid', t('move.case.raided'), () => raidForm(c, slot));
    return moveButton(id, t(`move.case.${to}`), () => simpleForm(slot, t(`move.case.${to}`), (button) => act(button,
      () => gql(MOVE_CASE, { caseId: c.caseId, status: to, note: value('move-note') }),
      (data) => t('case.moved', { id: c.caseId, status: statusWord(data.updateCaseStatus.status) }))));
  });
}

function confirmRow(onConfirm, slot) {
  const go = el('button', { type: 'submit', id: 'move-go', class: 'primary' }, t('move.go'));
  return el('div', { class: 'row' }, go,
    el('button', { type: 'button', id: 'move-cancel', onclick: () => fill(slot) }, t('move.cancel')));
}

function simpleForm(slot, title, run) {
  const form = openForm(slot, el('h3', {}, title), noteField('move-note'), confirmRow(null, slot));
  form.addEventListener('submit', (evt) => { evt.preventDefault(); run(byId('move-go')); });
}

async function pushForm(lead, slot) {
  const picker = await agencyPicker('push');
  const form = openForm(slot, el('h3', {}, t('move.to.pushed')), picker.node, noteField('move-note'), confirmRow(null, slot));
  form.addEventListener('submit', (evt) => {
    evt.preventDefault();
    act(byId('move-go'), () => gql(PUSH_LEAD, { leadId, agencyId: picker.value(), note: value('move-note') }),
      (data) => t('lead.moved', { status: statusWord(data.pushLead.status) }));
  });
}

async function caseForm(lead, slot) {
  const own = state.who?.agencyId;
  const picker = own ? null : await agencyPicker('case');
  const field = (key, id, props = {}) => el('label', {}, t(key), el('input', { id, ...props }));
  const form = openForm(slot, el('h3', {}, t('move.to.filed')),
    field('case.id', 'case-id', { type: 'text', required: true, maxlength: 100, value: `CS-${lead.leadId}` }),
    field('case.title', 'case-title', { type: 'text', maxlength: 200, value: lead.title ?? '' }),
    field('case.charge', 'case-charge', { type: 'text', maxlength: 200 }),
    field('case.value', 'case-value', { type: 'number', min: 0, step: 'any' }),
    own ? el('p', { class: 'muted' }, `${t('case.agency')}: ${t('case.agency.own')} (${own})`) : picker.node,
    confirmRow(null, slot));
  form.addEventListener('submit', (evt) => {
    evt.preventDefault();
    const input = { caseId: value('case-id'), title: value('case-title'), charge: value('case-charge') };
    if (value('case-value') !== null) input.caseValueCny = Number(value('case-value'));
    if (picker) input.agencyId = picker.value() || null;
    act(byId('move-go'), () => gql(OPEN_CASE, { leadId, input }), (data) => t('case.opened', { id: data.openCase.caseId }));
  });
}

function raidForm(c, slot) {
  const sites = state.lead.concernsSite.nodes;
  const choose = el('select', { id: 'raid-site' },
    sites.map((s) => el('option', { value: s.siteId }, `${s.label ?? s.siteId} (${s.siteId})`)),
    el('option', { value: '' }, t('raid.site.other')));
  const other = el('input', { id: 'raid-site-other', type: 'text', maxlength: 100, class: sites.length ? 'hidden' : '' });
  choose.addEventListener('change', () => other.classList.toggle('hidden', choose.value !== ''));
  const number = (key, id, props) => el('label', {}, t(key), el('input', { id, type: 'number', min: 0, value: 0, ...props }));
  const form = openForm(slot, el('h3', {}, `${t('move.case.raided')} · ${c.caseId}`),
    el('label', {}, t('raid.site'), choose, other),
    el('label', {}, t('raid.date'), el('input', { id: 'raid-date', type: 'date', required: true, value: today(), max: today() })),
    number('raid.seized', 'raid-seized', { step: 'any' }),
    number('raid.arrests', 'raid-arrests', { step: 1 }),
    number('raid.dens', 'raid-dens', { step: 1 }),
    confirmRow(null, slot));
  form.addEventListener('submit', (evt) => {
    evt.preventDefault();
    const vars = {
      caseId: c.caseId, siteId: choose.value || value('raid-site-other') || '', raidedOn: value('raid-date'),
      seized: Number(value('raid-seized') ?? 0), arrests: Number(value('raid-arrests') ?? 0), dens: Number(value('raid-dens') ?? 0),
    };
    act(byId('move-go'), () => gql(RECORD_RAID, vars), (data) => t('case.raid.done', {
      id: data.recordRaid.caseId, arrests: data.recordRaid.arrests ?? 0, dens: data.recordRaid.densDestroyed ?? 0,
      seized: money(data.recordRaid.seizedValueCny ?? 0),
    }));
  });
}

// --- what the lead holds ---------------------------------------------------------------------

function subjectRows(lead) {
  const rows = [
    ...lead.concernsSeller.nodes.map((n) => ['Seller', n.sellerId, n.nickname, n.platform, n.status]),
    ...lead.concernsShop.nodes.map((n) => ['Shop', n.shopId, n.name, n.platform, n.status]),
    ...lead.concernsSite.nodes.map((n) => ['Site', n.siteId, n.label, n.kind, n.status]),
    ...lead.concernsPerson.nodes.map((n) => ['Person', n.personId, n.name, '', '']),
  ];
  return rows;
}

/** A table cell of a vocabulary word in the reader's language; any other value as data. */
function valueCell(value) {
  const word = valueWord(value);
  return word ? el('td', {}, word) : data(value, 'td');
}

function entityLink(label, key, text) {
  const mayOpen = ['investigator', 'admin', 'brand_member', 'police_liaison'].includes(state.who?.role);
  return mayOpen ? el('a', { href: `/#open=${encodeURIComponent(`${label}:${key}`)}` }, text) : text;
}

function subjectsTable(lead) {
  const rows = subjectRows(lead);
  if (!rows.length) return el('p', { class: 'muted' }, t('lead.subjects.none'));
  return el('table', { class: 'grid', id: 'subjects' },
    el('tbody', {}, rows.map(([label, key, name, kind, status]) => el('tr', { dataset: { id: `${label}:${key}` } },
      el('td', {}, kindWord(label)), data(entityLink(label, key, name || key), 'td'), data(key, 'td', { class: 'key' }),
      valueCell(kind), valueCell(status)))));
}

function evidenceTable(lead) {
  const rows = [
    ...lead.evidencedByTestPurchase.nodes.map((n) => ['TestPurchase', n.purchaseId, n.reportNo, n.verdict, n.verdictOn ?? n.orderedOn]),
    ...lead.evidencedByComplaint.nodes.map((n) => ['Complaint', n.complaintId, n.kind, n.outcome, n.filedOn]),
  ];
  if (!rows.length) return el('p', { class: 'muted' }, t('lead.evidence.none'));
  return el('table', { class: 'grid', id: 'evidence' },
    el('tbody', {}, rows.map(([label, key, a, b, on]) => el('tr', { dataset: { id: `${label}:${key}` } },
      el('td', {}, kindWord(label)), data(key, 'td', { class: 'key' }), valueCell(a), valueCell(b),
      data(on, 'td')))));
}

function casesBlock(lead, slot) {
  const cases = lead.became.nodes;
  if (!cases.length) return null;
  return el('section', { id: 'cases' }, el('h2', {}, t('lead.cases')),
    cases.map((c) => el('div', { class: 'case', dataset: { id: c.caseId, status: c.status } },
      el('h3', {}, data(`${c.caseId} · ${c.title ?? ''}`), ' · ', el('span', { class: `st st-${c.status}` }, statusWord(c.status))),
      table([
        [t('case.agency'), c.handledBy.nodes.map(agencyText).join(', ')],
        [t('case.opened.on'), c.openedOn], [t('case.charge'), c.charge],
        [t('case.value'), money(c.caseValueCny)], [t('case.arrests'), c.arrests ?? 0],
        [t('case.dens'), c.densDestroyed ?? 0], [t('case.seized'), money(c.seizedValueCny ?? 0)],
      ]),
      el('div', { class: 'actions' }, caseMoves(c, slot)))));
}

/** Why the server wrote an event (a case opened, the lead following its case, a push), in
 *  the reader's language; events written before `cause` carry it in their note. */
function causeWords(e, lead) {
  if (!e.cause) return [];
  const agency = lead.pushedTo.edges.map((p) => p.node).find((a) => a.agencyId === e.causeId);
  const id = e.cause === 'pushed' && agency ? agencyText(agency) : e.causeId;
  return [' · ', words(`ev.cause.${e.cause}`, { id })];
}

function timeline(lead) {
  const items = [];
  const push = (at, text, extra = null) => { if (at) items.push({ at: String(at), text, extra }); };
  const events = (list, what) => {
    for (const e of list) {
      const text = e.fromStatus ? t('ev.status', { what: '{what}', from: statusWord(e.fromStatus), to: statusWord(e.toStatus) })
        : t('ev.created', { what: '{what}', to: statusWord(e.toStatus) });
      const parts = text.split('{what}').flatMap((piece, i) => (i ? [what(), piece] : [piece]));
      const by = e.who ? [words('ev.by', { who: e.who }), ` (${roleWord(e.role)})`] : [];
      push(e.at, parts, [...by, ...causeWords(e, lead), e.note ? [' · ', data(e.note)] : []]);
    }
  };
  events(lead.hasEvent.nodes, () => t('ev.lead'));
  if (!lead.hasEvent.nodes.some((e) => !e.fromStatus)) {
    push(lead.createdOn, t('ev.created', { what: t('ev.lead'), to: '' }).replace(/\s*[（(]\s*[)）]/, ''));
  }
  if (lead.pushedOn && !lead.hasEvent.nodes.some((e) => e.toStatus === 'pushed')) {
    push(lead.pushedOn, [t('lead.pushedTo'), ' ', data(lead.pushedTo.edges.map((e) => agencyText(e.node)).join(', '))]);
  }
  for (const n of lead.evidencedByTestPurchase.nodes) {
    push(n.orderedOn, [kindWord('TestPurchase'), ' ', data(n.purchaseId)]);
    if (n.verdictOn) push(n.verdictOn, [kindWord('TestPurchase'), ' ', data(n.purchaseId), ': ', valueWord(n.verdict) ?? data(n.verdict)]);
  }
  for (const n of lead.evidencedByComplaint.nodes) {
    push(n.filedOn, [kindWord('Complaint'), ' ', data(n.complaintId), ': ', valueWord(n.outcome) ?? data(n.outcome)]);
  }
  for (const c of lead.became.nodes) {
    events(c.hasEvent.nodes, () => [kindWord('Case'), ' ', data(c.caseId)]);
    if (!c.hasEvent.nodes.some((e) => !e.fromStatus)) {
      push(c.openedOn, words('ev.case.opened', { id: c.caseId }));
    }
    for (const r of c.raided.edges) {
      const p = r.properties ?? {};
      push(p.raided_on, words('ev.raid', { site: `${r.node.label ?? r.node.siteId} (${r.node.siteId})` }),
        `${t('case.arrests')} ${p.arrests ?? 0} · ${t('case.dens')} ${p.dens_destroyed ?? 0} · ${t('case.seized')} ${money(p.seized_value_cny ?? 0)}`);
    }
  }
  items.sort((x, y) => x.at.localeCompare(y.at));
  if (!items.length) return el('p', { class: 'muted' }, t('lead.timeline.none'));
  return el('ol', { class: 'timeline', id: 'timeline' }, items.map((i) => el('li', {},
    el('time', { datetime: i.at }, localTime(i.at)), ' ', el('span', { class: 'what' }, i.text),
    i.extra && i.extra.length ? el('span', { class: 'muted' }, ' — ', i.extra) : '')));
}

function conflicts(lead) {
  if (!lead.conflicts.length) return el('p', { class: 'muted' }, t('lead.conflicts.none'));
  return el('table', { class: 'grid', id: 'conflicts' },
    el('tbody', {}, lead.conflicts.map((c) => el('tr', { dataset: { id: c.id } },
      el('td', {}, kindWord(c.kind === 'lead' ? 'Lead' : c.kind === 'case' ? 'Case' : c.kind)),
      data(c.kind === 'lead' ? el('a', { href: `/leads/${encodeURIComponent(c.id)}` }, c.id) : c.id, 'td'),
      el('td', {}, statusWord(c.status)), data(c.brandIds.join(', '), 'td'), data(c.agencyId, 'td'),
      el('td', {}, words('lead.conflict.via', { via: c.via.join(', ') }))))));
}

function show() {
  const lead = state.lead;
  const slot = el('div', { id: 'move-slot' });
  const moves = leadMoves(lead, slot);
  const caseBlock = casesBlock(lead, slot);
  const hasCaseMoves = caseBlock && caseBlock.querySelector('button.move');
  document.body.dataset.status = lead.status;
  fill(byId('lead-body'),
    el('h1', {}, data(lead.leadId), ' ', data(lead.title ?? '', 'span', { class: 'caption' }), ' ',
      el('span', { class: `st st-${lead.status}`, id: 'lead-status', dataset: { status: lead.status } }, statusWord(lead.status))),
    el('p', { class: 'links' },
      el('a', { id: 'dossier-link', href: dossierHref(lead.leadId), target: '_blank', rel: 'noopener' }, t('lead.dossier')), ' · ',
      el('a', { id: 'graph-link', href: `/#seed=${encodeURIComponent(`Lead:${lead.leadId}`)}&hops=1` }, t('lead.graph')), ' · ',
      el('span', {}, t('lead.exports'), ' ', exportLinks('lead', lead.leadId))),
    el('section', { id: 'moves' }, el('h2', {}, t('lead.moves')),
      moves.length || hasCaseMoves ? el('div', { class: 'actions' }, moves) : el('p', { class: 'muted' }, t('lead.moves.none')),
      slot, el('div', { id: 'move-result', role: 'status' })),
    el('div', { class: 'columns' },
      el('section', {}, el('h2', {}, t('lead.summary')), table([
        [t('lead.status'), statusWord(lead.status)], [t('lead.created'), lead.createdOn], [t('lead.createdBy'), lead.createdBy],
        [t('lead.value'), money(lead.estimatedValueCny)], [t('lead.brands'), lead.onBehalfOf.nodes.map(brandText).join(', ')],
        [t('lead.pushedTo'), lead.pushedTo.edges.map((e) => agencyText(e.node)).join(', ')], [t('lead.pushedOn'), lead.pushedOn],
        [t('lead.note'), lead.note],
      ].filter(([, v]) => v !== null && v !== undefined && v !== ''))),
      el('section', {}, el('h2', {}, t('lead.timeline')), timeline(lead))),
    caseBlock,
    el('section', {}, el('h2', {}, t('lead.subjects')), subjectsTable(lead)),
    el('section', {}, el('h2', {}, t('lead.evidence')), evidenceTable(lead)),
    el('section', {}, el('h2', {}, t('lead.conflicts')), conflicts(lead)));
  showSaid();
}

async function load() {
  const body = byId('lead-body');
  body.dataset.state = 'busy';
  try {
    const data = await gql(LEAD, { leadId });
    if (!data.lead) {
      fill(body, el('p', { class: 'error', id: 'lead-missing' }, t('lead.missing', { id: leadId })));
      body.dataset.state = 'missing';
      return;
    }
    state.lead = data.lead;
    show();
    body.dataset.state = 'done';
  } catch (err) {
    fill(body, el('p', { class: 'error' }, errorText(err)));
    body.dataset.state = 'error';
  }
}

async function start() {
  whenSignedOut(signedOut);
  state.who = await startPage('leads');
  try {
    state.lifecycle = (await gql(LIFECYCLE)).leadLifecycle;
  } catch {
    state.lifecycle = [];
  }
  onLangChange(() => { if (state.lead) show(); });
  await load();
  document.body.dataset.ready = 'true';
}

start();
