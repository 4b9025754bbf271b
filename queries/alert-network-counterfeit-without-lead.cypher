// title: Alert - a network with counterfeit verdicts and no open lead
// description: >
//   A stored network whose listings have test purchases judged counterfeit while no
//   open lead (not declined, closed or withdrawn) concerns any of its sellers or their
//   shops.
// roles: [investigator, admin]
// columns:
//   open: [sellers, counterfeit_verdicts]
//   entity: [network_id]
// alert:
//   keys: {network_id: Network}
//   receivers: [investigator]
//   every: 1h
MATCH (n:Network)<-[:IN_NETWORK]-(s:Seller)-[:OPERATES]->(:Shop)-[:OFFERS]->(:Listing)
      <-[:BOUGHT]-(tp:TestPurchase {verdict: 'counterfeit'})
WITH n, count(DISTINCT tp) AS counterfeit_verdicts
WHERE NOT EXISTS {
  MATCH (n)<-[:IN_NETWORK]-(member:Seller)
  MATCH (l:Lead)-[:CONCERNS]->(x)
  WHERE NOT l.status IN ['declined', 'closed', 'withdrawn']
    AND (x = member OR EXISTS { (member)-[:OPERATES]->(x) })
}
RETURN n.network_id AS network_id, COUNT { (n)<-[:IN_NETWORK]-(:Seller) } AS sellers,
       counterfeit_verdicts
ORDER BY network_id
