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

/** Run a GraphQL document; the data, or an ApiError with the first error's message and code. */
export async function gql(query, variables = {}) {
  let response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
  } catch (err) {
    throw new ApiError(`the server does not answer (${err.message})`, 'NETWORK');
  }
  if (response.status === 401) {
    onSignedOut();
    throw new ApiError('you are signed out; sign in again', 'UNAUTHENTICATED', 401);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`the server answered ${response.status} without JSON`, 'HTTP', response.status);
  }
  if (body.errors && body.errors.length) {
    const first = body.errors[0];
    throw new ApiError(first.message, first.extensions?.code ?? 'ERROR', response.status);
  }
  if (!response.ok) {
    throw new ApiError(body.detail ?? `the server answered ${response.status}`, 'HTTP', response.status);
  }
  return body.data;
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
  networks(first: $first) { items { networkId size riskScore shops listings sites } }
}`;

export const LEADS = `query Leads($first: Int!) {
  leads(first: $first) { nodes { id leadId title status estimatedValueCny } }
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
