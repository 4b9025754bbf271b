// title: Alert - new test purchases judged counterfeit for a brand
// description: >
//   Test purchases authenticated by a brand and judged counterfeit, counted per brand
//   and verdict day; a brand member gets its own brand's only. A new purchase judged
//   counterfeit changes the count of its day, so it is a new match.
// params:
//   - name: brand_id
//     type: string
//     default: null
//     description: Only this brand (empty = every brand the caller may see).
// roles: [brand_member, investigator, admin]
// columns:
//   open: [brand_id, brand, verdict_on, purchases]
// alert:
//   keys: {brand_id: Brand, verdict_on: null, purchases: null}
//   receivers: [brand_member]
//   every: 15m
MATCH (tp:TestPurchase {verdict: 'counterfeit'})-[:AUTHENTICATED_BY]->(b:Brand)
WHERE ($_brand_id IS NULL OR b.brand_id = $_brand_id)
  AND ($brand_id IS NULL OR b.brand_id = $brand_id)
RETURN b.brand_id AS brand_id, b.name AS brand, tp.verdict_on AS verdict_on,
       count(tp) AS purchases
ORDER BY brand_id, verdict_on
