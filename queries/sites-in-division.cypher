// title: Sites in a division with their linked shops and networks
// description: >
//   Offline sites (factories, warehouses, dens...) located in a division, each with the
//   shops linked to it (shipping or returning from its address, shipments leaving from
//   it, or run by a person who runs the site) and those shops' networks.
// params:
//   - name: adcode
//     type: string
//     description: A 6-digit division code; everything below it counts.
// roles: [investigator, analyst, admin]
// columns:
//   open: [kind, status, adcode]
//   entity: [site_id, shops, networks]
//   identifier: [address_key]
MATCH (site:Site)-[:LOCATED_AT]->(a:Address)-[:IN_DIVISION]->(:Division)
      -[:PART_OF*0..]->(:Division {adcode: $adcode})
CALL (site, a) {
  MATCH (shop:Shop)-[:SHIPS_FROM|RETURNS_TO]->(a)
  RETURN shop
  UNION
  MATCH (shop:Shop)<-[:SENT_BY]-(:Shipment)-[:ORIGINATES_AT]->(a)
  RETURN shop
  UNION
  MATCH (site)<-[:RUNS]-(:Person)-[:CONTROLS]->(:Seller)-[:OPERATES]->(shop:Shop)
  RETURN shop
}
OPTIONAL MATCH (shop)<-[:OPERATES]-(:Seller)-[:IN_NETWORK]->(n:Network)
WITH site, a, shop, n ORDER BY shop.shop_id, n.network_id
RETURN site.site_id AS site_id, site.kind AS kind, site.status AS status,
       a.address_key AS address_key, a.adcode AS adcode,
       collect(DISTINCT shop.shop_id) AS shops, collect(DISTINCT n.network_id) AS networks
ORDER BY site_id
