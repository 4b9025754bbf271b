// title: Listings with a counterfeit verdict still live
// description: >
//   Live listings that a test purchase found counterfeit, with the shop, seller, brand
//   and the purchase that proves it: candidates for a takedown.
// params:
//   - name: brand_id
//     type: string
//     default: null
//     description: Only listings claiming this brand (empty = every brand).
// columns:
//   open: [brand_id, verdict_on]
//   entity: [listing_id, title, shop_id, seller_id, purchase_id]
MATCH (tp:TestPurchase {verdict: 'counterfeit'})-[:BOUGHT]->(l:Listing {status: 'live'})
OPTIONAL MATCH (l)-[:CLAIMS_BRAND]->(b:Brand)
WITH tp, l, b
WHERE $brand_id IS NULL OR b.brand_id = $brand_id
OPTIONAL MATCH (shop:Shop)-[:OFFERS]->(l)
OPTIONAL MATCH (seller:Seller)-[:OPERATES]->(shop)
RETURN l.listing_id AS listing_id, l.title AS title, shop.shop_id AS shop_id,
       seller.seller_id AS seller_id, b.brand_id AS brand_id, tp.purchase_id AS purchase_id,
       tp.verdict_on AS verdict_on
ORDER BY listing_id, purchase_id
