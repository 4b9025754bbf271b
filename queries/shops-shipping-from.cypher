// title: Shops shipping from an address or a division
// description: >
//   Shops whose ship-from address is the given address, or lies in the given division
//   (a province, city or district code; everything below it counts).
// params:
//   - name: address_key
//     type: string
//     default: null
//     description: An address key; leave empty to search by division.
//   - name: adcode
//     type: string
//     default: null
//     description: A 6-digit division code (GB/T 2260).
// columns:
//   open: [platform, status, adcode]
//   entity: [shop_id, shop, seller_id]
//   identifier: [address_key]
MATCH (shop:Shop)-[:SHIPS_FROM]->(a:Address)
WHERE ($address_key IS NOT NULL OR $adcode IS NOT NULL)
  AND ($address_key IS NULL OR a.address_key = $address_key)
  AND ($adcode IS NULL OR EXISTS {
        MATCH (a)-[:IN_DIVISION]->(:Division)-[:PART_OF*0..]->(:Division {adcode: $adcode}) })
OPTIONAL MATCH (seller:Seller)-[:OPERATES]->(shop)
RETURN shop.shop_id AS shop_id, shop.name AS shop, shop.platform AS platform,
       shop.status AS status, seller.seller_id AS seller_id,
       a.address_key AS address_key, a.adcode AS adcode
ORDER BY address_key, shop_id
