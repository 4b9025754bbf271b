// A radial tree layout, linear in the size of the view, for views too large for a force
// layout: a breadth-first tree from the seeds (hubs are leaves: they are not walked
// through), each subtree given a slice of the circle in proportion to its size, each
// level on a ring wide enough that no two nodes of it come closer than `spacing`, and
// wider than the ring inside it by a third at least.
// Hubs sit a little outside their ring, apart from the rest.

const RING_GAP = 90;
const RING_GROWTH = 1.3;
const HUB_OFFSET = 50;

/** Positions `{id: {x, y}}` for `nodes` (a cytoscape collection) joined by `edges`. */
export function radialPositions(nodes, edges, { isRoot, isHub, spacing = 14 }) {
  const ids = nodes.map((n) => n.id());
  const index = new Map(ids.map((id, i) => [id, i]));
  const adjacent = ids.map(() => []);
  edges.forEach((e) => {
    const a = index.get(e.data('source'));
    const b = index.get(e.data('target'));
    if (a === undefined || b === undefined || a === b) return;
    adjacent[a].push(b);
    adjacent[b].push(a);
  });
  const hub = nodes.map((n) => isHub(n));
  const tree = forest(ids.length, adjacent, hub, nodes.map((n, i) => (isRoot(n) ? i : -1)).filter((i) => i >= 0));
  const wedges = slices(tree);
  return place(ids, tree, wedges, hub, spacing);
}

/** Breadth-first forest: from the roots together, then from the best connected node of
 *  each part not reached. */
function forest(count, adjacent, hub, roots) {
  const parent = new Int32Array(count).fill(-2);
  const level = new Int32Array(count);
  const order = [];
  const tops = [];
  const walk = (starts) => {
    const queue = [];
    for (const r of starts) {
      if (parent[r] !== -2) continue;
      parent[r] = -1;
      level[r] = 0;
      tops.push(r);
      queue.push(r);
    }
    for (let q = 0; q < queue.length; q += 1) {
      const v = queue[q];
      order.push(v);
      if (hub[v] && parent[v] !== -1) continue;
      for (const w of adjacent[v]) {
        if (parent[w] !== -2) continue;
        parent[w] = v;
        level[w] = level[v] + 1;
        queue.push(w);
      }
    }
  };
  walk(roots);
  const rest = [...Array(count).keys()].filter((i) => parent[i] === -2)
    .sort((a, b) => adjacent[b].length - adjacent[a].length);
  for (const r of rest) if (parent[r] === -2) walk([r]);
  return { parent, level, order, tops };
}

/** Each node's slice of the circle [from, to), in proportion to its subtree's size. */
function slices({ parent, order, tops }) {
  const count = parent.length;
  const size = new Float64Array(count).fill(1);
  const children = Array.from({ length: count }, () => []);
  for (let k = order.length - 1; k >= 0; k -= 1) {
    const v = order[k];
    if (parent[v] >= 0) {
      size[parent[v]] += size[v];
      children[parent[v]].push(v);
    }
  }
  const from = new Float64Array(count);
  const to = new Float64Array(count);
  const total = tops.reduce((sum, r) => sum + size[r], 0);
  let start = 0;
  for (const r of tops) {
    from[r] = start;
    to[r] = start + (2 * Math.PI * size[r]) / total;
    start = to[r];
  }
  for (const v of order) {
    const kids = children[v];
    if (!kids.length) continue;
    const inner = size[v] - 1;
    let at = from[v];
    for (const c of kids) {
      from[c] = at;
      to[c] = at + ((to[v] - from[v]) * size[c]) / inner;
      at = to[c];
    }
  }
  return { from, to };
}

function place(ids, { parent, level, tops }, { from, to }, hub, spacing) {
  const alone = tops.length === 1;
  const ringOf = (i) => level[i] + (alone ? 0 : 1);
  const rings = Math.max(0, ...ids.map((_, i) => ringOf(i))) + 1;
  const narrowest = new Float64Array(rings).fill(2 * Math.PI);
  ids.forEach((_, i) => {
    const r = ringOf(i);
    narrowest[r] = Math.min(narrowest[r], Math.max(to[i] - from[i], 1e-4));
  });
  // each ring as wide as its most crowded slice needs, and a third wider than the ring
  // inside it at least, so the levels stay apart
  const radius = new Float64Array(rings);
  for (let r = 1; r < rings; r += 1) {
    radius[r] = Math.max(radius[r - 1] * RING_GROWTH + RING_GAP, spacing / narrowest[r]);
  }
  const positions = {};
  ids.forEach((id, i) => {
    const r = radius[ringOf(i)] + (hub[i] && parent[i] !== -1 ? HUB_OFFSET : 0);
    const angle = (from[i] + to[i]) / 2;
    positions[id] = { x: r * Math.cos(angle), y: r * Math.sin(angle) };
  });
  return positions;
}
