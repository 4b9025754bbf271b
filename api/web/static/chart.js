// A bar or line chart of a saved query's result, drawn as plain SVG (no library): bars
// for a category column, a line for a date column, against one number column. Labels
// are SVG text nodes, so data is never read as markup.

const SVG = 'http://www.w3.org/2000/svg';
const DATE = /^\d{4}(-\d{2}(-\d{2})?)?(T.*)?$/;
const WIDTH = 760;
const HEIGHT = 300;
const PAD = { left: 64, right: 16, top: 14, bottom: 70 };
const MAX_BARS = 40;

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== null) node.textContent = String(text);
  return node;
}

function isNumber(v) {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Columns by what they hold: numbers, dates (ISO text) and categories (other text). */
export function columnKinds(columns, rows) {
  const kinds = {};
  for (const c of columns) {
    const values = rows.map((r) => r[c]).filter((v) => v !== null && v !== undefined && v !== '(hidden)');
    if (!values.length) kinds[c] = 'empty';
    else if (values.every(isNumber)) kinds[c] = 'number';
    else if (values.every((v) => typeof v === 'string' && DATE.test(v))) kinds[c] = 'date';
    else if (values.every((v) => typeof v === 'string' || isNumber(v))) kinds[c] = 'category';
    else kinds[c] = 'other';
  }
  return kinds;
}

const CODE = /(^|_)(id|adcode|code|year|month|day|no)$/;

/** Which columns a chart can use, best first: {x: [...], y: [...]}, or null when none
 *  fits. Names and dates come before codes along x; counts and sums before ids and years. */
export function chartable(columns, rows) {
  const kinds = columnKinds(columns, rows);
  const codes = (c) => CODE.test(c) || rows.every((r) => r[c] == null || /^\d+$/.test(String(r[c])));
  const rank = (list, worse) => [...list.filter((c) => !worse(c)), ...list.filter(worse)];
  const x = rank(columns.filter((c) => kinds[c] === 'date' || kinds[c] === 'category'), (c) => kinds[c] !== 'date' && codes(c));
  const y = rank(columns.filter((c) => kinds[c] === 'number'), (c) => CODE.test(c));
  return x.length && y.length && rows.length ? { x, y, kinds } : null;
}

function niceMax(max) {
  if (max <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (max <= m * step) return m * step;
  return 10 * step;
}

function short(text, max = 14) {
  const chars = Array.from(String(text));
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : chars.join('');
}

function formatNumber(v) {
  return Number(v).toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** Sum `y` per value of `x` (rows of one x may repeat: a province over several years). */
function series(rows, x, y, byDate) {
  const sums = new Map();
  for (const r of rows) {
    const key = r[x];
    if (key === null || key === undefined || !isNumber(r[y])) continue;
    sums.set(String(key), (sums.get(String(key)) ?? 0) + r[y]);
  }
  const points = [...sums].map(([label, value]) => ({ label, value }));
  if (byDate) points.sort((a, b) => a.label.localeCompare(b.label));
  return points;
}

/** The chart as an <svg> element: bars, or a line when `x` holds dates. */
export function drawChart(rows, x, y, { kind = null, title = '' } = {}) {
  const byDate = kind ? kind === 'line' : DATE.test(String(rows.find((r) => r[x] != null)?.[x] ?? ''));
  let points = series(rows, x, y, byDate);
  if (!byDate && points.length > MAX_BARS) points = points.sort((a, b) => b.value - a.value).slice(0, MAX_BARS);
  const root = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'chart', role: 'img', 'data-kind': byDate ? 'line' : 'bar' });
  root.append(svg('title', {}, title || `${y} / ${x}`));
  const w = WIDTH - PAD.left - PAD.right;
  const h = HEIGHT - PAD.top - PAD.bottom;
  const top = niceMax(Math.max(0, ...points.map((p) => p.value)));
  const yAt = (v) => PAD.top + h - (Math.max(0, v) / top) * h;
  for (let i = 0; i <= 4; i += 1) {
    const v = (top * i) / 4;
    root.append(svg('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: yAt(v), y2: yAt(v), class: 'grid' }));
    root.append(svg('text', { x: PAD.left - 6, y: yAt(v) + 4, 'text-anchor': 'end', class: 'tick' }, formatNumber(v)));
  }
  const step = points.length ? w / points.length : w;
  const xAt = (i) => PAD.left + step * i + step / 2;
  const labelEvery = Math.max(1, Math.ceil(points.length / 20));
  points.forEach((p, i) => {
    if (i % labelEvery === 0) {
      const lx = xAt(i);
      const ly = HEIGHT - PAD.bottom + 12;
      root.append(svg('text', { x: lx, y: ly, transform: `rotate(-35 ${lx} ${ly})`, 'text-anchor': 'end', class: 'tick' }, short(p.label)));
    }
  });
  if (byDate) {
    const path = points.map((p, i) => `${i ? 'L' : 'M'}${xAt(i).toFixed(1)},${yAt(p.value).toFixed(1)}`).join(' ');
    root.append(svg('path', { d: path, class: 'line' }));
    points.forEach((p, i) => {
      const dot = svg('circle', { cx: xAt(i), cy: yAt(p.value), r: 3, class: 'dot' });
      dot.append(svg('title', {}, `${p.label}: ${formatNumber(p.value)}`));
      root.append(dot);
    });
  } else {
    const bw = Math.max(2, step * 0.7);
    points.forEach((p, i) => {
      const bar = svg('rect', { x: xAt(i) - bw / 2, y: yAt(p.value), width: bw, height: Math.max(0, PAD.top + h - yAt(p.value)), class: 'bar' });
      bar.append(svg('title', {}, `${p.label}: ${formatNumber(p.value)}`));
      root.append(bar);
    });
  }
  root.append(svg('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: PAD.top + h, y2: PAD.top + h, class: 'axis' }));
  return root;
}
