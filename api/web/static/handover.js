// Hand-over from the graph: the sellers, shops, sites and persons selected on the canvas
// become the subjects of a new lead, with the test purchases and complaints around them
// that the caller may attach (the network query answers only what the caller may see;
// createLead checks every id again and its refusal is shown in words).

import { el, fill } from './dom.js';
import { gql, NETWORK, BRANDS, CREATE_LEAD } from './graphql.js';
import { t, kindWord } from './i18n.js';

const SUBJECTS = { Seller: 'sellerIds', Shop: 'shopIds', Site: 'siteIds', Person: 'personIds' };
const EVIDENCE = { TestPurchase: 'purchaseIds', Complaint: 'complaintIds' };
const CREATORS = ['investigator', 'admin', 'brand_member'];
const EVIDENCE_PATHS = ['OPERATES', 'OFFERS', 'BOUGHT', 'AGAINST'];

export class Handover {
  constructor(root, { canvas, who, failure }) {
    this.root = root;
    this.canvas = canvas;
    this.who = who;
    this.failure = failure;
    this.found = new Map();     // evidence found around the subjects: id -> node
    this.unchecked = new Set(); // evidence the caller chose to leave out
    this.build();
  }

  mayCreate() {
    return this.who && CREATORS.includes(this.who.role);
  }

  build() {
    if (!this.mayCreate()) {
      fill(this.root, el('p', { class: 'muted' }, t('hand.only')));
      return;
    }
    this.subjects = el('ul', { id: 'hand-subjects', class: 'plain picks' });
    this.evidence = el('ul', { id: 'hand-evidence', class: 'plain picks' });
    this.brand = el('select', { id: 'hand-brand' });
    this.title = el('input', { id: 'hand-title', type: 'text', maxlength: 200 });
    this.value = el('input', { id: 'hand-value', type: 'number', min: 0, step: 'any' });
    this.note = el('textarea', { id: 'hand-note', rows: 2, maxlength: 2000 });
    this.result = el('div', { id: 'hand-result', class: 'result', role: 'status' });
    const find = el('button', { type: 'button', id: 'hand-find', onclick: () => this.findEvidence() }, t('hand.evidence.find'));
    const create = el('button', { type: 'submit', id: 'hand-create', class: 'primary' }, t('hand.create'));
    const form = el('form', { id: 'hand-form', class: 'form', onsubmit: (evt) => { evt.preventDefault(); this.create(create); } },
      el('p', { class: 'muted' }, t('hand.hint')),
      el('h3', {}, t('hand.subjects')), this.subjects,
      el('h3', {}, t('hand.evidence'), ' ', find), this.evidence,
      el('label', {}, t('hand.brand'), this.brand),
      el('label', {}, t('hand.lead.title'), this.title),
      el('label', {}, t('hand.value'), this.value),
      el('label', {}, t('hand.note'), this.note),
      el('div', { class: 'row' }, create),
      this.result);
    fill(this.root, form);
    this.loadBrands();
    this.refresh();
  }

  async loadBrands() {
    let brands = [];
    try {
      brands = (await gql(BRANDS)).brandDirectory;
    } catch (err) {
      fill(this.result, el('p', { class: 'error' }, this.failure(err)));
    }
    const own = this.who.role === 'brand_member' ? this.who.brandId : null;
    const shown = own ? brands.filter((b) => b.brandId === own) : brands;
    if (own && !shown.length) shown.push({ brandId: own, name: null, nameZh: null });
    fill(this.brand, shown.map((b) => el('option', { value: b.brandId, translate: 'no' },
      `${[b.name, b.nameZh].filter(Boolean).join(' / ') || b.brandId} (${b.brandId})`)));
    this.brand.disabled = Boolean(own);
  }

  selected(kinds) {
    return this.canvas.selectedNodes().filter((n) => kinds[n.data('label')]).map((n) => n.data());
  }

  /** The subjects and evidence lists again, from the canvas's selection. */
  refresh() {
    if (!this.subjects) return;
    const subjects = this.selected(SUBJECTS);
    fill(this.subjects, subjects.length
      ? subjects.map((d) => el('li', { dataset: { id: d.id } }, el('span', { class: 'kind' }, kindWord(d.label)), ' ',
        el('span', { translate: 'no' }, d.caption || d.key), ' ', el('span', { class: 'key', translate: 'no' }, d.key)))
      : el('li', { class: 'muted' }, t('hand.subjects.none')));
    for (const d of this.selected(EVIDENCE)) this.found.set(d.id, d);
    fill(this.evidence, [...this.found.values()].map((d) => {
      const box = el('input', { type: 'checkbox', value: d.id, checked: !this.unchecked.has(d.id) });
      box.addEventListener('change', () => {
        if (box.checked) this.unchecked.delete(d.id); else this.unchecked.add(d.id);
      });
      return el('li', { dataset: { id: d.id } }, el('label', {}, box, ' ', el('span', { class: 'kind' }, kindWord(d.label)), ' ',
        el('span', { translate: 'no' }, d.caption || d.key), ' ', el('span', { class: 'key', translate: 'no' }, d.key)));
    }));
  }

  async findEvidence() {
    const seeds = this.selected(SUBJECTS).map((d) => d.id);
    if (!seeds.length) {
      fill(this.result, el('p', { class: 'warn' }, t('hand.subjects.none')));
      return;
    }
    this.evidence.dataset.state = 'busy';
    fill(this.result, el('p', { class: 'muted' }, t('hand.evidence.busy')));
    try {
      const graph = (await gql(NETWORK, { seeds, hops: 3, limit: 500, relTypes: EVIDENCE_PATHS })).network;
      for (const n of graph.nodes) if (EVIDENCE[n.label]) this.found.set(n.id, n);
      fill(this.result, this.found.size ? '' : el('p', { class: 'muted' }, t('hand.evidence.none')));
    } catch (err) {
      fill(this.result, el('p', { class: 'error' }, this.failure(err)));
    }
    this.refresh();
    this.evidence.dataset.state = 'done';
  }

  input() {
    const ids = (kinds, nodes) => {
      const out = Object.fromEntries(Object.values(kinds).map((name) => [name, []]));
      for (const d of nodes) out[kinds[d.label]].push(d.key);
      return out;
    };
    const evidence = [...this.found.values()].filter((d) => !this.unchecked.has(d.id));
    const input = { ...ids(SUBJECTS, this.selected(SUBJECTS)), ...ids(EVIDENCE, evidence) };
    if (this.title.value.trim()) input.title = this.title.value.trim();
    if (this.note.value.trim()) input.note = this.note.value.trim();
    if (this.value.value !== '') input.estimatedValueCny = Number(this.value.value);
    if (this.brand.value) input.brandIds = [this.brand.value];
    return input;
  }

  async create(button) {
    button.disabled = true;
    this.result.dataset.state = 'busy';
    try {
      const lead = (await gql(CREATE_LEAD, { input: this.input() })).createLead;
      fill(this.result, el('p', { class: 'ok' }, t('hand.created', { id: lead.leadId }), ' ',
        el('a', { href: `/leads/${encodeURIComponent(lead.leadId)}`, id: 'hand-open' }, t('hand.open'))));
      this.result.dataset.lead = lead.leadId;
      this.result.dataset.state = 'done';
    } catch (err) {
      fill(this.result, el('p', { class: 'error' }, t('hand.refused', { why: this.failure(err) })));
      this.result.dataset.state = 'error';
    } finally {
      button.disabled = false;
    }
  }
}
