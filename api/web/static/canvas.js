// The graph canvas: cytoscape.js (canvas renderer) with the workbench's styles, merging
// of API answers into the view, layouts, pin / hide / undo, filters, highlighting and
// shortest paths. Labels are drawn on the canvas as text, never parsed as markup.

import { short } from './dom.js';
import { radialPositions } from './radial.js';
import { t, relWord, viaWord } from './i18n.js';

export const COLORS = {
  Seller: '#e15759', Shop: '#f28e2b', Listing: '#e5c03a', Brand: '#4e79a7', Site: '#7b3294',
  Person: '#59a14f', Address: '#4fa8a0', Phone: '#b07aa1', Email: '#c994c7',
  PaymentAccount: '#9c755f', Identity: '#6b4c9a', Device: '#8c8c8c', Division: '#8cd17d',
  Agency: '#2f6f8f', Lead: '#ff9da7', Case: '#d37295', Shipment: '#86b8e0',
  TestPurchase: '#f5a35c', Complaint: '#d4a017', Network: '#86bcb6', StatusEvent: '#d4a6c8',
  AuditEvent: '#bab0ac', IngestRun: '#bab0ac',
};

const SHAPES = {
  Seller: 'ellipse', Shop: 'round-rectangle', Listing: 'rectangle', Brand: 'star',
  Site: 'triangle', Person: 'ellipse', Address: 'tag', Phone: 'hexagon', Email: 'hexagon',
  PaymentAccount: 'hexagon', Identity: 'hexagon', Device: 'hexagon', Division: 'round-octagon',
  Agency: 'round-octagon', Lead: 'round-diamond', Case: 'round-diamond', Shipment: 'barrel',
  TestPurchase: 'barrel', Complaint: 'barrel', Network: 'round-pentagon',
};

/** How a relationship reads on an edge and why sellers are linked: `i18n.js`. */
export { relWord, viaWord } from './i18n.js';

const STYLE = [
  { selector: 'node', style: {
    'background-color': 'data(color)', shape: 'data(shape)', label: 'data(display)',
    width: 16, height: 16, 'font-size': 9, color: '#222', 'text-valign': 'bottom',
    'text-margin-y': 2, 'min-zoomed-font-size': 7, 'border-width': 1, 'border-color': '#444',
    'text-background-color': '#fff', 'text-background-opacity': 0.7, 'text-background-padding': 1,
  } },
  { selector: 'node[label = "Seller"], node[label = "Site"]', style: { width: 22, height: 22 } },
  { selector: 'node.seed', style: { 'border-width': 3, 'border-color': '#111' } },
  { selector: 'node.hub', style: {
    shape: 'octagon', width: 30, height: 30, 'background-opacity': 0.45, 'border-width': 3,
    'border-style': 'dashed', 'border-color': '#666', color: '#555', 'font-style': 'italic',
  } },
  { selector: 'node.pinned', style: { 'border-width': 4, 'border-style': 'double', 'border-color': '#1f5fbf' } },
  { selector: 'node:selected', style: { 'overlay-color': '#1f5fbf', 'overlay-opacity': 0.3, 'overlay-padding': 5 } },
  { selector: 'edge', style: {
    width: 1, 'line-color': '#b4b4b4', 'curve-style': 'bezier', 'target-arrow-shape': 'triangle',
    'target-arrow-color': '#b4b4b4', 'arrow-scale': 0.6, label: 'data(word)', 'font-size': 7,
    color: '#666', 'min-zoomed-font-size': 9, 'text-rotation': 'autorotate',
  } },
  // large views: straight lines without words (the words show on a click, in the details)
  { selector: 'edge.many', style: { 'curve-style': 'haystack', 'haystack-radius': 0, label: '' } },
  { selector: 'edge.ident', style: { 'line-color': '#c98b8b', 'target-arrow-color': '#c98b8b', color: '#8b2c2c' } },
  { selector: 'edge.link', style: {
    'curve-style': 'bezier', width: 'mapData(weight, 0, 1, 1.5, 5)', 'line-color': '#c0392b',
    'target-arrow-shape': 'none', color: '#8b1a10', 'font-size': 8, 'min-zoomed-font-size': 8,
  } },
  { selector: 'edge.link.weak', style: { 'line-style': 'dashed' } },
  { selector: 'edge:selected', style: { 'line-color': '#1f5fbf', 'target-arrow-color': '#1f5fbf', width: 3 } },
  { selector: '.faded', style: { opacity: 0.12 } },
  { selector: 'node.trace', style: { 'border-width': 4, 'border-color': '#ff7f00', opacity: 1 } },
  { selector: 'edge.trace', style: {
    'line-color': '#ff7f00', 'target-arrow-color': '#ff7f00', width: 4, 'z-index': 10, opacity: 1,
    color: '#a84f00', 'min-zoomed-font-size': 4, 'font-size': 9,
  } },
  { selector: 'node.target', style: { width: 34, height: 34, 'border-width': 5, 'font-size': 11, 'font-weight': 'bold' } },
  { selector: 'node.path', style: { 'border-width': 4, 'border-color': '#0a7d2c', opacity: 1 } },
  { selector: 'edge.path', style: {
    'line-color': '#0a7d2c', 'target-arrow-color': '#0a7d2c', width: 4, 'z-index': 10, opacity: 1,
  } },
  { selector: '.filtered, .hidden', style: { display: 'none' } },
];

const IDENTIFIER_TYPES = new Set(['HAS_PHONE', 'PAID_TO', 'VERIFIED_AS', 'HAS_EMAIL', 'USED_DEVICE']);
const MANY_EDGES = 800;
const FORCE_LIMIT = 300;
/** Above this many nodes the automatic layout is the radial tree (linear), not the force
 *  layout (quadratic per step). */
const HISTORY = 25;

export function nodeData(n) {
  const caption = n.caption || n.key;
  const display = n.hub ? `${short(caption, 22)} · ${t('hub.caption')} (${n.degree})` : short(caption);
  return {
    id: n.id, label: n.label, key: n.key, caption, display, degree: n.degree ?? 0,
    hub: Boolean(n.hub), seed: Boolean(n.seed), color: COLORS[n.label] ?? '#999',
    shape: SHAPES[n.label] ?? 'ellipse',
  };
}

function nodeClasses(n) {
  return [n.hub ? 'hub' : '', n.seed ? 'seed' : ''].filter(Boolean);
}

export class Canvas {
  constructor(container, handlers) {
    this.handlers = handlers;
    this.history = [];
    this.order = [];           // selected node ids, in the order they were selected
    this.drawn = 0;
    this.many = false;         // edges drawn the quick way (a large view)
    this.properties = new Map(); // node id -> properties, once fetched
    this.cy = window.cytoscape({
      container, style: STYLE, elements: [], minZoom: 0.02,
      maxZoom: 4, boxSelectionEnabled: true, selectionType: 'single', pixelRatio: 'auto',
    });
    this.listen();
  }

  listen() {
    const cy = this.cy;
    // cytoscape.js calls any two quick taps a double tap, even on two nodes: expand only
    // when both taps were on the same node.
    let taps = [null, null];
    cy.on('tap', (evt) => { taps = [taps[1], evt.target === cy ? null : evt.target.id()]; });
    cy.on('tap', 'node', (evt) => this.handlers.node(evt.target));
    cy.on('tap', 'edge', (evt) => this.handlers.edge(evt.target));
    cy.on('dbltap', 'node', (evt) => {
      if (taps[0] === evt.target.id() && taps[1] === evt.target.id()) this.handlers.expand(evt.target);
    });
    cy.on('select', 'node', (evt) => {
      this.order = this.order.filter((id) => id !== evt.target.id());
      this.order.push(evt.target.id());
      this.handlers.changed();
    });
    cy.on('unselect', 'node', (evt) => {
      this.order = this.order.filter((id) => id !== evt.target.id());
      this.handlers.changed();
    });
  }

  // --- merging -----------------------------------------------------------------------
  /** Add nodes and edges from a `network` answer (and optional extra edges); returns the
   *  new nodes. New nodes start around `anchor` (a node id) when given. */
  merge(graph, { anchor = null, extraEdges = [] } = {}) {
    const cy = this.cy;
    const fresh = [];
    const around = anchor ? cy.getElementById(anchor) : null;
    const centre = around && around.nonempty() ? around.position() : null;
    cy.batch(() => {
      for (const n of graph.nodes ?? []) {
        const existing = cy.getElementById(n.id);
        if (existing.nonempty()) {
          if (n.seed && !existing.hasClass('seed')) existing.addClass('seed');
          continue;
        }
        fresh.push({ group: 'nodes', data: nodeData(n), classes: nodeClasses(n) });
      }
      const placed = cy.add(fresh);
      if (centre) ring(placed, centre);
      const edges = [];
      for (const e of [...(graph.edges ?? []), ...extraEdges]) {
        if (cy.getElementById(e.id).nonempty()) continue;
        if (cy.getElementById(e.source).empty() || cy.getElementById(e.target).empty()) continue;
        edges.push(edgeElement(e));
      }
      const added = cy.add(edges);
      const many = cy.edges().length > MANY_EDGES;
      if (many !== this.many) cy.edges().toggleClass('many', many);
      else if (many) added.addClass('many');
      this.many = many;
    });
    return cy.collection(fresh.map((f) => cy.getElementById(f.data.id)));
  }

  /** The edge of `type` between two nodes in the view, in either direction, or null. */
  edgeBetween(a, b, type) {
    const found = this.cy.getElementById(a).edgesWith(this.cy.getElementById(b))
      .filter((e) => e.data('type') === type);
    return found.nonempty() ? found[0] : null;
  }

  // --- layout ------------------------------------------------------------------------
  layout(name = 'auto', { fit = true, eles = null, randomize = true } = {}) {
    const cy = this.cy;
    const target = eles ?? cy.elements();
    const count = target.nodes().length;
    if (count === 0) return Promise.resolve();
    const chosen = name === 'auto' ? (count > FORCE_LIMIT ? 'radial' : 'cose') : name;
    const pinned = new Map(cy.nodes('.pinned').map((n) => [n.id(), { ...n.position() }]));
    const radial = () => radialPositions(target.nodes(), target.edges(), {
      isRoot: (n) => n.hasClass('seed'), isHub: (n) => n.hasClass('hub') });
    if (chosen === 'cose' && randomize) {
      // the force layout starts from the radial tree: a few dozen steps then suffice
      const start = radial();
      target.nodes().positions((n) => start[n.id()]);
    }
    const options = chosen === 'radial'
      ? { name: 'preset', fit: false, animate: false, positions: radial() }
      : layoutOptions(cy, chosen, ['concentric', 'breadthfirst'].includes(chosen) ? this.depths() : new Map());
    const run = target.layout(options);
    const done = new Promise((resolve) => run.one('layoutstop', resolve));
    run.run();
    return done.then(() => {
      for (const [id, pos] of pinned) cy.getElementById(id).unlock().position(pos).lock();
      if (fit) this.fit();
    });
  }

  /** Zoom and pan to show `eles` (all by default). Measured without labels: measuring
   *  every label of a large view takes longer than drawing it zoomed out, where labels
   *  are not drawn. */
  fit(eles = null, padding = 30) {
    const cy = this.cy;
    const box = (eles ?? cy.elements()).boundingBox({ includeLabels: false });
    if (!Number.isFinite(box.w) || box.w < 0) return;
    const w = cy.width() - 2 * padding;
    const h = cy.height() - 2 * padding;
    const zoom = Math.min(cy.maxZoom(), Math.max(cy.minZoom(), Math.min(w / Math.max(box.w, 1), h / Math.max(box.h, 1), 1.5)));
    cy.viewport({ zoom, pan: { x: cy.width() / 2 - zoom * (box.x1 + box.w / 2), y: cy.height() / 2 - zoom * (box.y1 + box.h / 2) } });
  }

  /** Breadth-first distance of every node from the seeds (for the radial layouts). */
  depths() {
    const cy = this.cy;
    const depth = new Map();
    let frontier = cy.nodes('.seed');
    if (frontier.empty()) frontier = cy.nodes().max((n) => n.degree()).ele ?? cy.collection();
    frontier.forEach((n) => depth.set(n.id(), 0));
    let level = 0;
    while (frontier.nonempty()) {
      level += 1;
      const next = frontier.neighborhood('node').filter((n) => !depth.has(n.id()));
      next.forEach((n) => depth.set(n.id(), level));
      frontier = next;
    }
    return depth;
  }

  /** Draw, then tell the page (and whoever measures it) that the view is on screen. */
  drawnSignal() {
    return new Promise((resolve) => {
      requestAnimationFrame(() => requestAnimationFrame(() => {
        this.drawn += 1;
        performance.mark(`workbench:drawn:${this.drawn}`);
        document.body.dataset.drawn = String(this.drawn);
        document.body.dataset.drawnNodes = String(this.cy.nodes().length);
        resolve();
      }));
    });
  }

  // --- history -----------------------------------------------------------------------
  snapshot() {
    this.history.push(this.cy.elements().jsons());
    if (this.history.length > HISTORY) this.history.shift();
  }

  undo() {
    const last = this.history.pop();
    if (!last) return false;
    this.cy.batch(() => {
      this.cy.elements().remove();
      this.cy.add(last);
    });
    this.order = this.cy.nodes(':selected').map((n) => n.id());
    this.many = this.cy.edges('.many').nonempty();
    return true;
  }

  clear() {
    this.cy.elements().remove();
    this.order = [];
    this.many = false;
  }

  // --- view operations ---------------------------------------------------------------
  selectedNodes() {
    return this.cy.nodes(':selected');
  }

  hide(eles) {
    eles.addClass('hidden');
    eles.unselect();
  }

  showHidden() {
    this.cy.elements('.hidden').removeClass('hidden');
  }

  togglePin(nodes) {
    const pin = nodes.some((n) => !n.hasClass('pinned'));
    nodes.forEach((n) => {
      if (pin) n.addClass('pinned').lock();
      else n.removeClass('pinned').unlock();
    });
    return pin;
  }

  filter(hiddenLabels, hiddenTypes) {
    this.cy.batch(() => {
      const set = (ele, hide) => { if (ele.hasClass('filtered') !== hide) ele.toggleClass('filtered', hide); };
      this.cy.nodes().forEach((n) => set(n, hiddenLabels.has(n.data('label'))));
      this.cy.edges().forEach((e) => set(e, hiddenTypes.has(e.data('type'))));
    });
  }

  highlight(eles, cls) {
    const cy = this.cy;
    cy.batch(() => {
      cy.elements().removeClass('trace path faded focus');
      if (eles.empty()) return;
      cy.elements().not(eles).addClass('faded');
      eles.addClass(cls);
    });
  }

  clearHighlight() {
    this.cy.elements().removeClass('trace path faded focus');
  }

  /** The shortest path in the visible view between the last two selected nodes. */
  shortestPath() {
    const cy = this.cy;
    const ids = this.order.slice(-2);
    if (ids.length < 2) return { error: 'st.path.two' };
    const [a, b] = ids.map((id) => cy.getElementById(id));
    const found = cy.elements(':visible').aStar({ root: a, goal: b, directed: false });
    if (!found.found) return { error: 'st.path.none' };
    this.highlight(found.path, 'path');
    return { path: found.path, distance: found.distance };
  }

  /** What is on screen: visible nodes and edges as plain records (for the exports). */
  view() {
    const nodes = this.cy.nodes(':visible').map((n) => ({
      id: n.id(), label: n.data('label'), key: n.data('key'), caption: n.data('caption'),
      degree: n.data('degree'), hub: n.data('hub'), seed: n.data('seed'),
      properties: this.properties.get(n.id()) ?? {},
    }));
    const edges = this.cy.edges(':visible').map((e) => ({
      id: e.id(), source: e.data('source'), target: e.data('target'), type: e.data('type'),
      why: e.data('why') ?? '',
    }));
    return { nodes, edges };
  }

  counts() {
    const cy = this.cy;
    return {
      nodes: cy.nodes().length, edges: cy.edges().length,
      visible: cy.nodes(':visible').length, hidden: cy.nodes('.hidden').length,
      filtered: cy.nodes('.filtered').length, selected: cy.nodes(':selected').length,
    };
  }

  labels() {
    return [...new Set(this.cy.nodes().map((n) => n.data('label')))].sort();
  }

  types() {
    return [...new Set(this.cy.edges().map((e) => e.data('type')))].sort();
  }

  /** The words drawn on the canvas again, in the current language. */
  relabel() {
    this.cy.batch(() => {
      this.cy.nodes().forEach((n) => {
        const d = n.data();
        n.data('display', nodeData({ ...d, caption: d.caption }).display);
      });
      this.cy.edges().forEach((e) => {
        const via = e.data('via');
        e.data('word', via ? [...new Set(via.map((v) => viaWord(v.kind)))].join(' + ') : relWord(e.data('type')));
      });
    });
  }
}

export function edgeElement(e) {
  const classes = [];
  if (IDENTIFIER_TYPES.has(e.type)) classes.push('ident');
  if (e.type === 'LINKED') classes.push('link', ...(e.weak ? ['weak'] : []));
  return {
    group: 'edges', classes,
    data: {
      id: e.id, source: e.source, target: e.target, type: e.type,
      word: e.word ?? relWord(e.type), why: e.why ?? '', weight: e.weight ?? 0.5,
      via: e.via ?? null, hop: e.hop ?? null,
    },
  };
}

/** Place `nodes` on rings around `centre`. */
function ring(nodes, centre) {
  const perRing = 24;
  nodes.forEach((n, i) => {
    const level = Math.floor(i / perRing) + 1;
    const angle = (2 * Math.PI * (i % perRing)) / perRing + level * 0.3;
    const radius = 70 * level;
    n.position({ x: centre.x + radius * Math.cos(angle), y: centre.y + radius * Math.sin(angle) });
  });
}

function layoutOptions(cy, name, depth) {
  const common = { name, fit: false, animate: false };
  const max = Math.max(0, ...depth.values());
  switch (name) {
    case 'cose':
      // from the positions the nodes have (the radial tree, or where they were): starting
      // cooler and cooling faster than the defaults, it settles in about 50 steps instead
      // of about 690, several times faster and as readable for views of a few hundred nodes
      return { ...common, randomize: false, nodeRepulsion: () => 6000, idealEdgeLength: () => 45,
        edgeElasticity: () => 80, gravity: 0.6, numIter: 1000, initialTemp: 200, coolingFactor: 0.9,
        componentSpacing: 60, nodeDimensionsIncludeLabels: false };
    case 'concentric':
      return { ...common, minNodeSpacing: 6, avoidOverlap: true,
        concentric: (n) => (depth.has(n.id()) ? max - depth.get(n.id()) + 1 : 0),
        levelWidth: () => 1 };
    case 'breadthfirst':
      return { ...common, directed: false, spacingFactor: 1.1, avoidOverlap: true,
        roots: cy.nodes().filter((n) => depth.get(n.id()) === 0) };
    default:
      return common;
  }
}
