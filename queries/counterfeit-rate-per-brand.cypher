// title: Counterfeit rate of test purchases per brand
// description: >
//   Test purchases authenticated by each brand: how many, how many with a conclusive
//   verdict, how many counterfeit, and the counterfeit share of the conclusive ones.
// params:
//   - name: from
//     type: date
//     default: null
//     description: Only purchases ordered on or after this date.
//   - name: to
//     type: date
//     default: null
//     description: Only purchases ordered on or before this date.
// columns:
//   open: [brand_id, brand, purchases, conclusive, counterfeit, counterfeit_rate]
MATCH (tp:TestPurchase)-[:AUTHENTICATED_BY]->(b:Brand)
WHERE ($from IS NULL OR tp.ordered_on >= $from) AND ($to IS NULL OR tp.ordered_on <= $to)
WITH b, count(tp) AS purchases,
     count(CASE WHEN tp.verdict IN ['counterfeit', 'genuine'] THEN 1 END) AS conclusive,
     count(CASE WHEN tp.verdict = 'counterfeit' THEN 1 END) AS counterfeit
RETURN b.brand_id AS brand_id, b.name AS brand, purchases, conclusive, counterfeit,
       CASE WHEN conclusive = 0 THEN null
            ELSE round(toFloat(counterfeit) / conclusive, 3) END AS counterfeit_rate
ORDER BY counterfeit_rate DESC, brand_id
