// title: Leads waiting longer than N days, per agency
// description: >
//   Leads pushed to an agency and still waiting for it to register them, older than the
//   given number of days, grouped by agency with the oldest wait first.
// params:
//   - name: days
//     type: int
//     default: 30
//     description: Show leads waiting more than this many days.
//   - name: as_of
//     type: date
//     default: null
//     description: Count the days up to this date (empty = today).
// columns:
//   open: [agency_id, agency, waiting, oldest_days]
//   entity: [lead_ids]
MATCH (lead:Lead {status: 'pushed'})-[push:PUSHED_TO]->(agency:Agency)
WITH lead, agency, coalesce(push.pushed_on, lead.pushed_on, lead.created_on) AS pushed_on
WITH lead, agency, duration.inDays(pushed_on, coalesce($as_of, date())).days AS waiting_days
WHERE waiting_days > $days
WITH agency, lead, waiting_days ORDER BY waiting_days DESC, lead.lead_id
RETURN agency.agency_id AS agency_id, agency.name AS agency, count(lead) AS waiting,
       collect(lead.lead_id) AS lead_ids, max(waiting_days) AS oldest_days
ORDER BY oldest_days DESC, agency_id
