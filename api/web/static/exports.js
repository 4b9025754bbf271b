// Export of the current view: GraphML (opens in Gephi, yEd, NetworkX) and CSV.
// Both take plain node and edge records:
//   node: {id, label, key, caption, degree, hub, seed, properties: {...}}
//   edge: {id, source, target, type, why}

const XML_INVALID = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const XML_ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Text as XML character data or attribute value (characters XML 1.0 forbids are dropped). */
export function xmlText(value) {
  return String(value ?? '').replace(XML_INVALID, '').replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);
}

function cellText(value) {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(cellText).join('; ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const NODE_KEYS = [
  ['label', 'label', 'string'],      // what Gephi shows: the caption
  ['kind', 'kind', 'string'],        // the graph label (Seller, Shop, ...)
  ['key', 'key', 'string'],
  ['degree', 'degree', 'int'],
  ['hub', 'hub', 'boolean'],
  ['seed', 'seed', 'boolean'],
];
const EDGE_KEYS = [
  ['e_label', 'label', 'string'],
  ['e_type', 'type', 'string'],
  ['e_why', 'why', 'string'],
];

function propertyNames(nodes) {
  const names = new Set();
  for (const n of nodes) for (const name of Object.keys(n.properties ?? {})) names.add(name);
  return [...names].sort();
}

/** The view as a GraphML document (a string). */
export function graphml(nodes, edges) {
  const props = propertyNames(nodes);
  const propKey = new Map(props.map((name, i) => [name, `p${i}`]));
  const out = ['<?xml version="1.0" encoding="UTF-8"?>',
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
    + 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    + 'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
    + 'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">'];
  for (const [id, name, type] of NODE_KEYS) {
    out.push(`  <key id="${id}" for="node" attr.name="${name}" attr.type="${type}"/>`);
  }
  const reserved = new Set(NODE_KEYS.map(([, name]) => name));
  for (const [name, id] of propKey) {
    const shown = reserved.has(name) ? `property_${name}` : name;
    out.push(`  <key id="${id}" for="node" attr.name="${xmlText(shown)}" attr.type="string"/>`);
  }
  for (const [id, name, type] of EDGE_KEYS) {
    out.push(`  <key id="${id}" for="edge" attr.name="${name}" attr.type="${type}"/>`);
  }
  out.push('  <graph id="view" edgedefault="directed">');
  for (const n of nodes) {
    out.push(`    <node id="${xmlText(n.id)}">`);
    const values = [['label', n.caption], ['kind', n.label], ['key', n.key],
      ['degree', n.degree ?? 0], ['hub', Boolean(n.hub)], ['seed', Boolean(n.seed)]];
    for (const [name, value] of Object.entries(n.properties ?? {})) {
      if (value !== null && value !== undefined) values.push([propKey.get(name), cellText(value)]);
    }
    for (const [key, value] of values) out.push(`      <data key="${key}">${xmlText(value)}</data>`);
    out.push('    </node>');
  }
  for (const e of edges) {
    out.push(`    <edge id="${xmlText(e.id)}" source="${xmlText(e.source)}" target="${xmlText(e.target)}">`);
    out.push(`      <data key="e_label">${xmlText(e.why || e.type)}</data>`);
    out.push(`      <data key="e_type">${xmlText(e.type)}</data>`);
    if (e.why) out.push(`      <data key="e_why">${xmlText(e.why)}</data>`);
    out.push('    </edge>');
  }
  out.push('  </graph>', '</graphml>', '');
  return out.join('\n');
}

// --- CSV: the same rules as graph/csvsafe.py -----------------------------------------
const FORMULA_SIGNS = new Set(['=', '+', '-', '@', '\t', '\r', '\n', '\0', '＝', '＋', '－', '＠']);

/** True when a spreadsheet could read `text` as a formula (leading blanks do not hide it). */
export function isRisky(text) {
  const stripped = text.replace(/^[ \u3000]+/, '');
  return stripped.length > 0 && FORMULA_SIGNS.has(stripped[0]);
}

/** One cell: empty for none, numbers as written, text with a quote in front when risky. */
export function safeCell(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return String(value);
  const text = cellText(value);
  return isRisky(text) ? `'${text}` : text;
}

function quoted(cell) {
  return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

/** Rows as CSV text (RFC 4180, CRLF line ends, UTF-8 BOM so spreadsheets read Chinese). */
export function csv(rows) {
  return '\uFEFF' + rows.map((row) => row.map((v) => quoted(safeCell(v))).join(',') + '\r\n').join('');
}

export function nodesCsv(nodes) {
  const props = propertyNames(nodes);
  const header = ['id', 'label', 'key', 'caption', 'degree', 'hub', 'seed', ...props];
  return csv([header, ...nodes.map((n) => [n.id, n.label, n.key, n.caption, n.degree ?? 0,
    Boolean(n.hub), Boolean(n.seed), ...props.map((p) => n.properties?.[p] ?? null)])]);
}

export function edgesCsv(edges) {
  return csv([['id', 'source', 'target', 'type', 'why'],
    ...edges.map((e) => [e.id, e.source, e.target, e.type, e.why ?? ''])]);
}
