// title: Alert - a suspended seller's identifiers on another seller
// description: >
//   A seller that is not suspended sharing a strong identifier (identity, phone, e-mail,
//   payout account or device fingerprint) with a suspended seller: a suspended seller
//   coming back under a new account.
// roles: [investigator, admin]
// columns:
//   open: [platform, linked_by]
//   entity: [suspended_seller, seller_id]
// alert:
//   keys: {suspended_seller: Seller, seller_id: Seller}
//   receivers: [investigator]
//   every: 15m
MATCH (gone:Seller {status: 'suspended'})
      -[r:VERIFIED_AS|HAS_PHONE|HAS_EMAIL|PAID_TO|USED_DEVICE]->(id)
      <-[:VERIFIED_AS|HAS_PHONE|HAS_EMAIL|PAID_TO|USED_DEVICE]-(other:Seller)
WHERE other <> gone AND coalesce(other.status, '') <> 'suspended'
  AND (type(r) <> 'USED_DEVICE' OR id.kind = 'fp')
WITH gone, other, collect(DISTINCT CASE type(r)
       WHEN 'VERIFIED_AS' THEN 'identity' WHEN 'HAS_PHONE' THEN 'phone'
       WHEN 'HAS_EMAIL' THEN 'email' WHEN 'PAID_TO' THEN 'payment_account'
       ELSE 'device' END) AS linked_by
RETURN gone.seller_id AS suspended_seller, other.seller_id AS seller_id,
       other.platform AS platform, linked_by
ORDER BY suspended_seller, seller_id
