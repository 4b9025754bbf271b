// The sign-in page in the chosen language: its labels, who is signed in, and the
// server's messages (the token itself and the names in it stay as they are).

import { t, tParts, setLang, translate, lang, roleWord } from './i18n.js';

const MESSAGES = [
  [/^Paste a token to sign in\.$/, () => t('signin.paste')],
  [/^Not signed in: (.*)$/, (m) => t('signin.refused', { why: m[1] })],
  [/^this sign-in link is unknown.*$/, () => t('signin.code')],
];

function signedInAs() {
  const box = document.getElementById('signed-in');
  const line = document.getElementById('signed-in-as');
  if (!box || !line) return;
  const { sub, role, until } = box.dataset;
  const asData = (value) => {
    const span = document.createElement('span');
    span.translate = false;
    span.textContent = value;
    return span;
  };
  line.replaceChildren(...tParts('signin.as', { sub, role: roleWord(role), until }, (value) =>
    (value === sub || value === until ? asData(value) : document.createTextNode(value))));
}

function message() {
  const node = document.getElementById('message');
  if (!node) return;
  node.dataset.said ??= node.textContent;
  const said = node.dataset.said;
  for (const [pattern, words] of MESSAGES) {
    const found = said.match(pattern);
    if (found) {
      node.textContent = words(found);
      return;
    }
  }
  node.textContent = said;
}

function relabel() {
  translate();
  signedInAs();
  message();
}

const chooser = document.getElementById('lang');
chooser.value = lang();
chooser.addEventListener('change', () => {
  setLang(chooser.value);
  relabel();
});
relabel();
