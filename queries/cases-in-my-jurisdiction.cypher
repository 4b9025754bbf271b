// title: Cases in my jurisdiction
// description: >
//   Cases handled by agencies in the caller's jurisdiction (a police liaison sees its
//   agency's division and everything below it; investigators, analysts and admins see
//   every case).
// params:
//   - name: status
//     type: string
//     default: null
//     description: Only cases with this status (empty = all).
// roles: [police_liaison, investigator, analyst, admin]
// columns:
//   open: [status, opened_on, agency_id, adcode, arrests, value_cny]
//   entity: [case_id, title]
MATCH (c:Case)-[:HANDLED_BY]->(agency:Agency)
OPTIONAL MATCH (agency)-[:IN_DIVISION]->(d:Division)
WITH c, agency, coalesce(d.adcode, agency.adcode) AS adcode
WHERE ($_role IN ['investigator', 'analyst', 'admin'] OR adcode IN $_agency_adcodes)
  AND ($status IS NULL OR c.status = $status)
RETURN c.case_id AS case_id, c.title AS title, c.status AS status, c.opened_on AS opened_on,
       agency.agency_id AS agency_id, adcode, c.arrests AS arrests,
       c.case_value_cny AS value_cny
ORDER BY opened_on, case_id
