// Choosing an agency through the division tree: a province, then an agency of it,
// grouped by city (GraphQL `agencyDirectory`, only the agencies the caller may see).

import { el, fill } from './dom.js';
import { gql, AGENCIES } from './graphql.js';
import { t } from './i18n.js';

let directory = null;

export async function agencyDirectory() {
  directory ??= gql(AGENCIES).then((data) => data.agencyDirectory);
  return directory;
}

function provinceOf(agency) {
  const top = agency.divisions[0];
  return top ? { code: top.adcode, name: top.name || top.adcode } : { code: '', name: t('agency.other') };
}

function groupOf(agency) {
  const below = agency.divisions.slice(1);
  const city = below.find((d) => d.level === 'city') ?? below[0];
  return city ? city.name || city.adcode : (agency.divisions[0]?.name ?? t('agency.other'));
}

/** A province chooser and an agency chooser; `picker.value()` is the chosen agency_id. */
export async function agencyPicker(prefix) {
  const agencies = await agencyDirectory();
  const provinces = new Map();
  for (const a of agencies) {
    const p = provinceOf(a);
    if (!provinces.has(p.code)) provinces.set(p.code, { ...p, agencies: [] });
    provinces.get(p.code).agencies.push(a);
  }
  const province = el('select', { id: `${prefix}-province`, 'aria-label': t('agency.province') },
    el('option', { value: '' }, t('agency.choose')),
    [...provinces.values()].map((p) => el('option', { value: p.code }, p.name)));
  const agency = el('select', { id: `${prefix}-agency`, 'aria-label': t('agency.pick'), required: true });
  const showAgencies = () => {
    const chosen = provinces.get(province.value);
    const list = chosen ? chosen.agencies : agencies;
    const groups = new Map();
    for (const a of list) {
      const g = groupOf(a);
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push(a);
    }
    fill(agency, el('option', { value: '' }, t('agency.choose')),
      [...groups].map(([name, members]) => el('optgroup', { label: name },
        members.map((a) => el('option', { value: a.agencyId }, `${a.name ?? a.agencyId} (${a.agencyId})`)))));
  };
  province.addEventListener('change', showAgencies);
  showAgencies();
  const node = agencies.length
    ? el('div', { class: 'agency-picker' },
      el('label', {}, t('agency.province'), ' ', province),
      el('label', {}, t('agency.pick'), ' ', agency))
    : el('p', { class: 'muted' }, t('agency.none'));
  return { node, value: () => agency.value, province, agency };
}
