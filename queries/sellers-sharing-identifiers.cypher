// title: Sellers sharing a strong identifier with a seller
// description: >
//   Other sellers that share an identity, phone, email, payout account or device
//   fingerprint with the given seller (IP addresses are left out: too weak), with the
//   identifiers that link them.
// params:
//   - name: seller_id
//     type: string
//     description: The seller to start from.
// roles: [investigator, analyst, admin]
// columns:
//   open: [platform, linked_by, shared]
//   entity: [seller_id, nickname]
//   identifier: [identifiers]
MATCH (s:Seller {seller_id: $seller_id})-[:VERIFIED_AS|HAS_PHONE|HAS_EMAIL|PAID_TO|USED_DEVICE]->(id)
      <-[:VERIFIED_AS|HAS_PHONE|HAS_EMAIL|PAID_TO|USED_DEVICE]-(other:Seller)
WHERE other <> s AND NOT (id:Device AND coalesce(id.kind, '') <> 'fp')
WITH other, id,
     CASE
       WHEN id:Identity THEN 'identity'
       WHEN id:Phone THEN 'phone'
       WHEN id:Email THEN 'email'
       WHEN id:PaymentAccount THEN 'payout_account'
       ELSE 'device'
     END AS kind,
     coalesce(id.id_hash, id.e164, id.email, id.account, id.device) AS identifier
ORDER BY kind, identifier
RETURN other.seller_id AS seller_id, other.platform AS platform, other.nickname AS nickname,
       collect(DISTINCT kind) AS linked_by, collect(identifier) AS identifiers,
       count(*) AS shared
ORDER BY shared DESC, seller_id
