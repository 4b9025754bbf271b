// title: Cases per province and year (annual figures)
// description: >
//   Cases by the province of the handling agency and the year they were opened, with
//   arrests, dens destroyed and case value: the alliance's annual figures.
// params:
//   - name: year
//     type: int
//     default: null
//     description: Only this year (empty = every year).
// columns:
//   open: [province_adcode, province, year, cases, arrests, dens_destroyed, value_cny]
MATCH (c:Case)-[:HANDLED_BY]->(agency:Agency)-[:IN_DIVISION]->(:Division)
      -[:PART_OF*0..]->(province:Division {level: 'province'})
WITH c, province, c.opened_on.year AS year
WHERE $year IS NULL OR year = $year
RETURN province.adcode AS province_adcode, province.name AS province, year,
       count(DISTINCT c) AS cases, sum(coalesce(c.arrests, 0)) AS arrests,
       sum(coalesce(c.dens_destroyed, 0)) AS dens_destroyed,
       sum(coalesce(c.case_value_cny, 0.0)) AS value_cny
ORDER BY year, province_adcode
