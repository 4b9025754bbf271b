// title: Sellers who reopened shops after suspension
// description: >
//   Shops that were closed or suspended, followed by a shop opened on or after the
//   closing date by the same seller or by a seller verified with the same identity.
// params:
//   - name: platform
//     type: string
//     default: null
//     description: Only closed shops on this platform (empty = every platform).
// columns:
//   open: [closed_on, opened_on, via, days_after]
//   entity: [seller_id, closed_shop, reopened_by, reopened_shop]
MATCH (seller:Seller)-[:OPERATES]->(closed:Shop)
WHERE closed.closed_on IS NOT NULL AND ($platform IS NULL OR closed.platform = $platform)
CALL (seller) {
  RETURN seller AS other, 'same seller' AS via
  UNION
  MATCH (seller)-[:VERIFIED_AS]->(:Identity)<-[:VERIFIED_AS]-(other:Seller)
  WHERE other <> seller
  RETURN other, 'same identity' AS via
}
MATCH (other)-[:OPERATES]->(reopened:Shop)
WHERE reopened <> closed AND reopened.opened_on >= closed.closed_on
RETURN seller.seller_id AS seller_id, closed.shop_id AS closed_shop,
       closed.closed_on AS closed_on, other.seller_id AS reopened_by,
       reopened.shop_id AS reopened_shop, reopened.opened_on AS opened_on, via,
       duration.inDays(closed.closed_on, reopened.opened_on).days AS days_after
ORDER BY seller_id, closed_shop, opened_on, reopened_shop
