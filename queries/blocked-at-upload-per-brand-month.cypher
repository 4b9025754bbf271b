// title: Share of listings blocked at upload, per brand and month
// description: >
//   Listings claiming each brand, by the month they were first seen, and the share the
//   platform blocked at upload.
// params:
//   - name: brand_id
//     type: string
//     default: null
//     description: Only this brand (empty = every brand).
// columns:
//   open: [brand_id, brand, month, listings, blocked_at_upload, blocked_share]
MATCH (l:Listing)-[:CLAIMS_BRAND]->(b:Brand)
WHERE l.first_seen IS NOT NULL AND ($brand_id IS NULL OR b.brand_id = $brand_id)
WITH b, l, toString(l.first_seen.year) + '-' +
     right('0' + toString(l.first_seen.month), 2) AS month
WITH b, month, count(l) AS listings,
     count(CASE WHEN l.blocked_at_upload = true THEN 1 END) AS blocked_at_upload
RETURN b.brand_id AS brand_id, b.name AS brand, month, listings, blocked_at_upload,
       round(toFloat(blocked_at_upload) / listings, 3) AS blocked_share
ORDER BY brand_id, month
