// title: Identities used on several platforms
// description: >
//   Identity documents (by their keyed hash) that verified sellers on more than one
//   platform, with the sellers and platforms.
// params:
//   - name: min_platforms
//     type: int
//     default: 2
//     description: Show identities seen on at least this many platforms.
// roles: [investigator, admin]
// columns:
//   open: [kind, platform_count, platforms]
//   entity: [seller_ids]
//   identifier: [id_hash]
MATCH (id:Identity)<-[:VERIFIED_AS]-(s:Seller)
WITH id, s ORDER BY s.platform, s.seller_id
WITH id, collect(DISTINCT s.platform) AS platforms, collect(s.seller_id) AS seller_ids
WHERE size(platforms) >= $min_platforms
RETURN id.id_hash AS id_hash, id.kind AS kind, size(platforms) AS platform_count, platforms,
       seller_ids
ORDER BY platform_count DESC, id_hash
