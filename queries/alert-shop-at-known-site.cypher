// title: Alert - a shop ships from or returns to a known site's address
// description: >
//   A shop that ships from or returns to the address of a raided, confirmed or suspected
//   offline site (or one a case raided): a den that reopens under a new shop. A police
//   liaison gets the matches inside its jurisdiction.
// roles: [investigator, police_liaison, admin]
// columns:
//   open: [site_status, adcode, via]
//   entity: [shop_id, site_id, platform_shop]
// alert:
//   keys: {shop_id: Shop, site_id: Site}
//   receivers: [investigator, police_liaison]
//   every: 15m
//   max_rows: 500
//   timeout: 10
MATCH (site:Site)-[:LOCATED_AT]->(addr:Address)<-[r:SHIPS_FROM|RETURNS_TO]-(shop:Shop)
WHERE (site.status IN ['suspected', 'confirmed', 'raided'] OR EXISTS { (:Case)-[:RAIDED]->(site) })
  AND ($_role <> 'police_liaison' OR addr.adcode IN $_agency_adcodes)
WITH shop, site, addr, collect(DISTINCT type(r)) AS via
RETURN shop.shop_id AS shop_id, shop.name AS platform_shop, site.site_id AS site_id,
       site.status AS site_status, addr.adcode AS adcode, via
ORDER BY site_id, shop_id
