// title: Alert - a seller of a known network on another platform
// description: >
//   Sellers of a stored network (`alliance analyze networks`) on a platform other than
//   the one most of the network sells on (ties: the first platform by name).
// roles: [investigator, admin]
// columns:
//   open: [home_platform, platform]
//   entity: [network_id, seller_id]
// alert:
//   keys: {network_id: Network, seller_id: Seller}
//   receivers: [investigator]
//   every: 1h
MATCH (s:Seller)-[:IN_NETWORK]->(n:Network)
WITH n, s.platform AS platform, collect(s) AS sellers
ORDER BY n.network_id, size(sellers) DESC, platform
WITH n, collect({platform: platform, sellers: sellers}) AS groups
WHERE size(groups) > 1
UNWIND groups[1..] AS other
UNWIND other.sellers AS s
RETURN n.network_id AS network_id, groups[0].platform AS home_platform,
       s.platform AS platform, s.seller_id AS seller_id
ORDER BY network_id, seller_id
