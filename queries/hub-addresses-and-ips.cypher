// title: Addresses and IPs shared by the most sellers (hub review)
// description: >
//   Addresses (registered, ship-from or return) and IP devices ranked by the number of
//   distinct sellers behind them. Hubs are often warehouses, couriers or cafés, not
//   networks: review them before trusting links through them.
// params:
//   - name: min_sellers
//     type: int
//     default: 2
//     description: Show hubs with at least this many distinct sellers.
// max_rows: 500
// columns:
//   open: [kind, sellers]
//   entity: [seller_ids]
//   identifier: [hub, label]
CALL () {
  MATCH (a:Address)<-[:REGISTERED_AT]-(s:Seller)
  RETURN 'address' AS kind, a.address_key AS hub, coalesce(a.normalized, a.raw) AS label, s
  UNION
  MATCH (a:Address)<-[:SHIPS_FROM|RETURNS_TO]-(:Shop)<-[:OPERATES]-(s:Seller)
  RETURN 'address' AS kind, a.address_key AS hub, coalesce(a.normalized, a.raw) AS label, s
  UNION
  MATCH (d:Device {kind: 'ip'})<-[:USED_DEVICE]-(s:Seller)
  RETURN 'ip' AS kind, d.device AS hub, d.device AS label, s
}
WITH kind, hub, label, s ORDER BY s.seller_id
WITH kind, hub, label, collect(DISTINCT s.seller_id) AS seller_ids
WHERE size(seller_ids) >= $min_sellers
RETURN kind, hub, label, size(seller_ids) AS sellers, seller_ids
ORDER BY sellers DESC, kind, hub
