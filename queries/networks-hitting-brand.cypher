// title: Networks hitting a brand, ranked by upheld complaints
// description: >
//   Seller networks with listings claiming the brand or complaints filed by it, ranked by
//   the brand's upheld complaints against their shops and listings.
// params:
//   - name: brand_id
//     type: string
//     description: The brand.
// columns:
//   open: [sellers, shops, upheld, complaints, risk_score]
//   entity: [network_id, seller_ids]
MATCH (b:Brand {brand_id: $brand_id})
MATCH (n:Network)<-[:IN_NETWORK]-(:Seller)-[:OPERATES]->(shop:Shop)
WHERE EXISTS { MATCH (shop)-[:OFFERS]->(:Listing)-[:CLAIMS_BRAND]->(b) }
   OR EXISTS { MATCH (b)-[:FILED]->(:Complaint)-[:AGAINST]->(shop) }
   OR EXISTS { MATCH (b)-[:FILED]->(:Complaint)-[:AGAINST]->(:Listing)<-[:OFFERS]-(shop) }
WITH DISTINCT b, n
CALL (b, n) {
  MATCH (n)<-[:IN_NETWORK]-(:Seller)-[:OPERATES]->(shop:Shop)
  OPTIONAL MATCH (b)-[:FILED]->(c:Complaint)-[:AGAINST]->(target)
  WHERE target = shop OR (target:Listing AND (shop)-[:OFFERS]->(target))
  RETURN count(DISTINCT c) AS complaints,
         count(DISTINCT CASE WHEN c.outcome = 'upheld' THEN c END) AS upheld,
         count(DISTINCT shop) AS shops
}
CALL (n) {
  MATCH (n)<-[:IN_NETWORK]-(s:Seller)
  WITH s ORDER BY s.seller_id
  RETURN collect(s.seller_id) AS seller_ids
}
RETURN n.network_id AS network_id, size(seller_ids) AS sellers, seller_ids, shops,
       upheld, complaints, n.risk_score AS risk_score
ORDER BY upheld DESC, complaints DESC, network_id
