// title: Transfer chains into an account
// description: >
//   Chains of up to three transfers ending at the given payment account, with the
//   amounts on each hop and the sellers paid into the account where the chain starts.
//   For investigators and admins: it starts from a payment account, a personal
//   identifier that other roles may neither see nor look up.
// params:
//   - name: account
//     type: string
//     description: The receiving account, as `provider:account`.
//   - name: min_total_cny
//     type: float
//     default: 0
//     description: Skip chains with a hop below this total (CNY).
// roles: [investigator, admin]
// columns:
//   open: [hops, totals_cny]
//   entity: [sellers_paid_at_start]
//   identifier: [from_account, accounts]
MATCH p = (start:PaymentAccount)-[:TRANSFERRED_TO*1..3]->(:PaymentAccount {account: $account})
WHERE all(t IN relationships(p) WHERE coalesce(t.total_cny, 0) >= $min_total_cny)
OPTIONAL MATCH (seller:Seller)-[:PAID_TO]->(start)
WITH p, start, seller ORDER BY seller.seller_id
RETURN start.account AS from_account, [x IN nodes(p) | x.account] AS accounts,
       length(p) AS hops, [t IN relationships(p) | t.total_cny] AS totals_cny,
       collect(seller.seller_id) AS sellers_paid_at_start
ORDER BY hops, from_account
