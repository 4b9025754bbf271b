// title: Brands most targeted per province
// description: >
//   For each province, the brands with the most evidenced counterfeit listings (an upheld
//   complaint or a counterfeit test purchase) offered by shops shipping from there.
// params:
//   - name: top
//     type: int
//     default: 5
//     description: How many brands to keep per province.
// columns:
//   open: [province_adcode, province, rank, brand_id, brand, listings, shops]
MATCH (province:Division {level: 'province'})<-[:PART_OF*0..]-(:Division)<-[:IN_DIVISION]-(:Address)
      <-[:SHIPS_FROM]-(shop:Shop)-[:OFFERS]->(l:Listing)-[:CLAIMS_BRAND]->(b:Brand)
WHERE EXISTS { MATCH (:TestPurchase {verdict: 'counterfeit'})-[:BOUGHT]->(l) }
   OR EXISTS { MATCH (b)-[:FILED]->(:Complaint {outcome: 'upheld'})-[:AGAINST]->(l) }
WITH province, b, count(DISTINCT l) AS listings, count(DISTINCT shop) AS shops
ORDER BY listings DESC, shops DESC, b.brand_id
WITH province, collect({brand_id: b.brand_id, brand: b.name, listings: listings, shops: shops}) AS ranked
UNWIND range(0, size(ranked) - 1) AS i
WITH province, ranked[i] AS row, i + 1 AS rank
WHERE rank <= $top
RETURN province.adcode AS province_adcode, province.name AS province, rank,
       row.brand_id AS brand_id, row.brand AS brand, row.listings AS listings, row.shops AS shops
ORDER BY province_adcode, rank
