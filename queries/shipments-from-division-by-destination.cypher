// title: Shipments from a division by destination province
// description: >
//   Shipments leaving from addresses in a division, counted by the province of their
//   destination, with the number of sending shops.
// params:
//   - name: adcode
//     type: string
//     description: A 6-digit division code of origin; everything below it counts.
// columns:
//   open: [destination_province_adcode, destination_province, shipments, shops]
MATCH (sh:Shipment)-[:ORIGINATES_AT]->(:Address)-[:IN_DIVISION]->(:Division)
      -[:PART_OF*0..]->(:Division {adcode: $adcode})
OPTIONAL MATCH (:Division {adcode: sh.destination_adcode})-[:PART_OF*0..]->(p:Division {level: 'province'})
OPTIONAL MATCH (sh)-[:SENT_BY]->(shop:Shop)
RETURN p.adcode AS destination_province_adcode, p.name AS destination_province,
       count(DISTINCT sh) AS shipments, count(DISTINCT shop) AS shops
ORDER BY shipments DESC, destination_province_adcode
