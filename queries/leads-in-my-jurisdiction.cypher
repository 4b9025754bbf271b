// title: Leads in my jurisdiction, per status
// description: >
//   Leads pushed to an agency inside the caller's jurisdiction, or concerning an offline
//   site located there, counted per status with their total estimated value. A police
//   liaison sees its agency's division and everything below it; investigators, analysts
//   and admins count every lead.
// roles: [police_liaison, investigator, analyst, admin]
// columns:
//   open: [status, leads, value_cny]
MATCH (lead:Lead)
WHERE $_role IN ['investigator', 'analyst', 'admin']
   OR EXISTS { MATCH (lead)-[:PUSHED_TO]->(agency:Agency) WHERE agency.adcode IN $_agency_adcodes }
   OR EXISTS { MATCH (lead)-[:CONCERNS]->(:Site)-[:LOCATED_AT]->(:Address)-[:IN_DIVISION]->(d:Division)
               WHERE d.adcode IN $_agency_adcodes }
RETURN lead.status AS status, count(*) AS leads,
       sum(coalesce(lead.estimated_value_cny, 0.0)) AS value_cny
ORDER BY status
