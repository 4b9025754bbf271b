// The workbench's only data path: POST /graphql with the session cookie, the same API
// and the same rules as every other client. No token is ever held in the page.

export class ApiError extends Error {
  constructor(message, code = 'ERROR', status = 0) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

let onSignedOut = () => {};

/** What to do when the server answers 401 (the session ended). */
export function whenSignedOut(callback) {
  onSignedOut = callback;
}

/** Fetch `url` with the session cookie and read its JSON answer: the response and its
 * body, or an ApiError when the server does not answer, the session ended, or the
 * answer is not JSON. */
async function fetchJson(url, init) {
  let response;
  try {
    response = await fetch(url, { credentials: 'same-origin', ...init });
  } catch (err) {
    throw new ApiError(`the server does not answer (${err.message})`, 'NETWORK');
  }
  if (response.status === 401) {
    onSignedOut();
    throw new ApiError('you are signed out; sign in again', 'UNAUTHENTICATED', 401);
  }
  try {
    return { response, body: await response.json() };
  } catch {
    throw new ApiError(`the server answered ${response.status} without JSON`, 'HTTP', response.status);
  }
}

/** Run a GraphQL document; the data, or an ApiError with the first error's message and code. */
export async function gql(query, variables = {}) {
  const { response, body } = await fetchJson('/graphql', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  if (body.errors && body.errors.length) {
    const first = body.errors[0];
    throw new ApiError(first.message, first.extensions?.code ?? 'ERROR', response.status);
  }
  if (!response.ok) {
    throw new ApiError(body.detail ?? `the server answered ${response.status}`, 'HTTP', response.status);
  }
  return body.data;
}

const STATUS_CODES = { 400: 'BAD_REQUEST', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 409: 'CONFLICT', 503: 'DATABASE_UNAVAILABLE' };

/** GET a JSON answer of a REST route with the session cookie; an ApiError with its words. */
export async function getJson(url) {
  const { response, body } = await fetchJson(url, { headers: { Accept: 'application/json' } });
  if (!response.ok) {
    const code = body.code ?? STATUS_CODES[response.status] ?? 'ERROR';
    throw new ApiError(body.detail ?? body.message ?? `the server answered ${response.status}`, code, response.status);
  }
  return body;
}

export const SEARCH = `query Search($text: String!, $labels: [String!], $first: Int!) {
  search(text: $text, labels: $labels, first: $first) { id label key displayName score }
}`;

export const NETWORK = `query Network($seeds: [ID!]!, $hops: Int!, $limit: Int!, $relTypes: [String!]) {
  network(seedIds: $seeds, hops: $hops, limit: $limit, relTypes: $relTypes) {
    truncated
    nodes { id label key caption degree hub seed }
    edges { id type source target }
  }
}`;

export const NODES = `query Nodes($seeds: [ID!]!, $limit: Int!) {
  network(seedIds: $seeds, hops: 0, limit: $limit) {
    nodes { id label key caption degree hub properties }
  }
}`;

export const SELLER_NETWORK = `query SellerNetwork($sellerId: ID!, $strength: LinkStrength!) {
  sellerNetwork(sellerId: $sellerId, strength: $strength) {
    sellerId strength truncated riskScore
    riskFactors { name value weight contribution }
    stats { sellers shops listings brandsHit upheldComplaints counterfeitVerdicts sites openLeads cases }
    sellers { sellerId distance }
    links { a b via { kind label value weight } }
    hubsSkipped { kind label value sellers }
  }
}`;

export const NETWORKS = `query Networks($first: Int!) {
  networks(first: $first) { items { networkId size riskScore shops listings sites shopsTried uploadsBlocked } }
}`;

export const LEADS = `query Leads($first: Int!) {
  leads(first: $first) { nodes { id leadId title status estimatedValueCny } }
}`;

export const INBOX = `query Inbox($status: String, $brandId: ID, $first: Int!, $after: String) {
  leads(status: $status, brandId: $brandId, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes {
      id leadId title status createdOn estimatedValueCny pushedOn
      onBehalfOf(first: 10) { nodes { brandId name nameZh } }
      pushedTo(first: 3) { nodes { agencyId name } }
    }
  }
  leadCounts(brandId: $brandId) { status leads }
}`;

export const BRANDS = `query Brands { brandDirectory { brandId name nameZh } }`;

export const AGENCIES = `query Agencies {
  agencyDirectory { agencyId name level unit adcode divisions { adcode name level } }
}`;

export const LIFECYCLE = `query Lifecycle { leadLifecycle { object fromStatus toStatus roles } }`;

const CASE_FIELDS = `caseId title status openedOn charge caseValueCny arrests densDestroyed seizedValueCny
  handledBy(first: 3) { nodes { agencyId name } }
  raided(first: 50) { edges { properties node { siteId label kind status } } }
  hasEvent(first: 100) { nodes { eventId at who role fromStatus toStatus note cause causeId } }`;

export const LEAD = `query Lead($leadId: ID!) {
  lead(leadId: $leadId) {
    id leadId title status createdOn createdBy estimatedValueCny pushedOn note
    onBehalfOf(first: 20) { nodes { brandId name nameZh } }
    pushedTo(first: 5) { edges { properties node { agencyId name adcode } } }
    concernsSeller(first: 100) { nodes { id sellerId nickname platform status } }
    concernsShop(first: 100) { nodes { id shopId name platform status } }
    concernsSite(first: 100) { nodes { id siteId label kind status } }
    concernsPerson(first: 100) { nodes { id personId name } }
    evidencedByTestPurchase(first: 100) { nodes { id purchaseId orderedOn verdict verdictOn reportNo } }
    evidencedByComplaint(first: 100) { nodes { id complaintId filedOn kind outcome } }
    hasEvent(first: 100) { nodes { eventId at who role fromStatus toStatus note cause causeId } }
    became(first: 10) { nodes { ${CASE_FIELDS} } }
    conflicts { kind id status brandIds agencyId via }
  }
}`;

export const CREATE_LEAD = `mutation CreateLead($input: CreateLeadInput!) {
  createLead(input: $input) { leadId status }
}`;

export const PUSH_LEAD = `mutation PushLead($leadId: ID!, $agencyId: ID!, $note: String) {
  pushLead(leadId: $leadId, agencyId: $agencyId, note: $note) { leadId status }
}`;

export const MOVE_LEAD = `mutation MoveLead($leadId: ID!, $status: String!, $note: String) {
  updateLeadStatus(leadId: $leadId, status: $status, note: $note) { leadId status }
}`;

export const OPEN_CASE = `mutation OpenCase($leadId: ID!, $input: OpenCaseInput!) {
  openCase(leadId: $leadId, input: $input) { caseId status }
}`;

export const RECORD_RAID = `mutation RecordRaid($caseId: ID!, $siteId: ID!, $raidedOn: Date!, $seized: Float!,
                                               $arrests: Int!, $dens: Int!) {
  recordRaid(caseId: $caseId, siteId: $siteId, raidedOn: $raidedOn, seizedValueCny: $seized,
             arrests: $arrests, densDestroyed: $dens) { caseId status arrests densDestroyed seizedValueCny }
}`;

export const MOVE_CASE = `mutation MoveCase($caseId: ID!, $status: String!, $note: String) {
  updateCaseStatus(caseId: $caseId, status: $status, note: $note) { caseId status }
}`;

export const RISK = `query Risk($sellerId: ID, $shopId: ID) {
  riskScore(sellerId: $sellerId, shopId: $shopId) { score factors { name value weight contribution } }
}`;

export const TRACE = `query Trace($listingId: ID, $shopId: ID, $sellerId: ID, $strength: LinkStrength!, $maxHops: Int!) {
  traceToSource(listingId: $listingId, shopId: $shopId, sellerId: $sellerId, strength: $strength,
                maxHops: $maxHops, first: 10) {
    score
    site { siteId kind status label raided }
    paths {
      kind weight
      hops { from { label key caption } type to { label key caption } source observedOn reversed }
    }
  }
}`;

/** The nodes behind `ids` with their properties, in requests of at most 100 seeds. */
export async function nodesById(ids) {
  const chunks = [];
  for (let i = 0; i < ids.length; i += 100) chunks.push(ids.slice(i, i + 100));
  const found = new Map();
  for (let i = 0; i < chunks.length; i += 4) {
    const answers = await Promise.all(chunks.slice(i, i + 4).map(
      (seeds) => gql(NODES, { seeds, limit: seeds.length })));
    for (const data of answers) for (const n of data.network.nodes) found.set(n.id, n);
  }
  return found;
}
