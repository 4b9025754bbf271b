// Building the page's elements. Text always goes in as text (textContent or text
// nodes), never as HTML: names, titles and addresses come from sellers.

/** An element with attributes, listeners (`on<event>`) and children (strings become text). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = String(value);
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'style' || name === 'srcdoc' || name === 'innerHTML') {
      throw new Error(`el(): ${name} is not set from data`);
    } else node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

/** Append children; strings and numbers as text nodes. */
export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace the children of `node`. */
export function fill(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node;
}

/** A small table of [name, value] rows (the values are data: translate="no"). */
export function table(rows, className = 'props') {
  return el('table', { class: className },
    el('tbody', {}, rows.map(([name, value]) =>
      el('tr', {}, el('th', { scope: 'row' }, name), el('td', { translate: 'no' }, show(value))))));
}

/** A property value as a person reads it. */
export function show(value) {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(show).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

/** Text cut to `max` characters with an ellipsis. */
export function short(text, max = 28) {
  const chars = Array.from(String(text ?? ''));
  return chars.length > max ? chars.slice(0, max - 1).join('') + '…' : chars.join('');
}

/** Save `blob` as a file called `name`. */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = el('a', { href: url, download: name, class: 'hidden' });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
