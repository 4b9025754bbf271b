"""Who sees what, as Cypher predicates over `$parameters`.

Each label has a predicate on a node variable that is true when the caller may see the
node. The caller's rights arrive only as parameters (`$sees_all`, `$is_admin`,
`$reads_directory`, `$brand_id`, `$adcodes`), so every query that shows a node carries
its own check and no result is filtered in Python.

- investigators and admins see everything (audit events: admins only);
- a brand member sees brands, agencies and divisions, its own brand's complaints (FILED)
  and test purchases (AUTHENTICATED_BY), the listings and shops those target, and the
  leads and cases on behalf of its brand with their status events;
- a police liaison sees brands, agencies and divisions; the leads pushed to an agency
  inside its jurisdiction (`$adcodes`: its agency's division and every division below)
  or concerning a site inside it; the cases handled by an agency inside it; and the
  subjects and evidence of those leads and cases (sellers, shops, sites, persons, test
  purchases, complaints), plus the sites located inside its jurisdiction;
- identities, phones, emails, payment accounts and devices are seen by investigators
  and admins only;
- analysts see no single node through these queries: they read aggregates
  (`leadCounts`, saved queries).
"""

from __future__ import annotations

from typing import Any

from graph.caller import Caller

SENSITIVE_LABELS = ("Identity", "Phone", "Email", "PaymentAccount", "Device")
"""Labels whose keys are personal identifiers: visible to investigators and admins only."""

_OWN_COMPLAINT_AGAINST = (
    "EXISTS { MATCH (:Brand {brand_id: $brand_id})-[:FILED]->(:Complaint)-[:AGAINST]->(%s) }"
)
_OWN_PURCHASE_OF = (
    "EXISTS { MATCH (%s)<-[:BOUGHT]-(:TestPurchase)-[:AUTHENTICATED_BY]->(:Brand {brand_id: $brand_id}) }"
)
_OWN_LEAD = "EXISTS { MATCH (%s)-[:ON_BEHALF_OF]->(:Brand {brand_id: $brand_id}) }"
_OWN_CASE = (
    "(EXISTS { MATCH (%s)-[:CONCERNS_BRAND]->(:Brand {brand_id: $brand_id}) } OR "
    "EXISTS { MATCH (%s)<-[:BECAME]-(:Lead)-[:ON_BEHALF_OF]->(:Brand {brand_id: $brand_id}) })"
)

_BRAND_RULES: dict[str, str] = {
    "Brand": "$reads_directory",
    "Agency": "$reads_directory",
    "Division": "$reads_directory",
    "Complaint": "EXISTS { MATCH (:Brand {brand_id: $brand_id})-[:FILED]->(%s) }",
    "TestPurchase": "EXISTS { MATCH (%s)-[:AUTHENTICATED_BY]->(:Brand {brand_id: $brand_id}) }",
    "Listing": f"({_OWN_COMPLAINT_AGAINST} OR {_OWN_PURCHASE_OF})",
    "Shop": (
        f"({_OWN_COMPLAINT_AGAINST} OR "
        "EXISTS { MATCH (:Brand {brand_id: $brand_id})-[:FILED]->(:Complaint)-[:AGAINST]->(:Listing)"
        "<-[:OFFERS]-(%s) } OR "
        "EXISTS { MATCH (%s)-[:OFFERS]->(:Listing)<-[:BOUGHT]-(:TestPurchase)"
        "-[:AUTHENTICATED_BY]->(:Brand {brand_id: $brand_id}) })"
    ),
    "Lead": _OWN_LEAD,
    "Case": _OWN_CASE,
    "StatusEvent": (
        "(EXISTS { MATCH (%s)<-[:HAS_EVENT]-(:Lead)-[:ON_BEHALF_OF]->(:Brand {brand_id: $brand_id}) } OR "
        "EXISTS { MATCH (%s)<-[:HAS_EVENT]-(:Case)-[:CONCERNS_BRAND]->(:Brand {brand_id: $brand_id}) } OR "
        "EXISTS { MATCH (%s)<-[:HAS_EVENT]-(:Case)<-[:BECAME]-(:Lead)"
        "-[:ON_BEHALF_OF]->(:Brand {brand_id: $brand_id}) })"
    ),
}


def lead_in_jurisdiction(var: str) -> str:
    """True when lead `var` was pushed to an agency inside `$adcodes` or concerns a site
    located there."""
    return (
        f"(EXISTS {{ MATCH ({var})-[:PUSHED_TO]->(ag_{var}:Agency) WHERE ag_{var}.adcode IN $adcodes }}"
        f" OR EXISTS {{ MATCH ({var})-[:CONCERNS]->(:Site)-[:LOCATED_AT]->(:Address)"
        f"-[:IN_DIVISION]->(dv_{var}:Division) WHERE dv_{var}.adcode IN $adcodes }})"
    )


def case_in_jurisdiction(var: str) -> str:
    return (f"EXISTS {{ MATCH ({var})-[:HANDLED_BY]->(ag_{var}:Agency) "
            f"WHERE ag_{var}.adcode IN $adcodes }}")


def _lead_rel(rel: str, var: str) -> str:
    return f"EXISTS {{ MATCH (lx_{var}:Lead)-[:{rel}]->({var}) WHERE {lead_in_jurisdiction(f'lx_{var}')} }}"


def _case_rel(rel: str, var: str) -> str:
    return f"EXISTS {{ MATCH (cx_{var}:Case)-[:{rel}]->({var}) WHERE {case_in_jurisdiction(f'cx_{var}')} }}"


def _site_inside(var: str) -> str:
    return (f"EXISTS {{ MATCH ({var})-[:LOCATED_AT]->(:Address)-[:IN_DIVISION]->(dv_{var}:Division) "
            f"WHERE dv_{var}.adcode IN $adcodes }}")


def _liaison_rule(label: str, var: str) -> str | None:
    """The police liaison's predicate for `label`, or None when it sees none."""
    rules = {
        "Brand": lambda: "$reads_directory",
        "Agency": lambda: "$reads_directory",
        "Division": lambda: "$reads_directory",
        "Lead": lambda: lead_in_jurisdiction(var),
        "Case": lambda: case_in_jurisdiction(var),
        "StatusEvent": lambda: f"({_lead_rel('HAS_EVENT', var)} OR {_case_rel('HAS_EVENT', var)})",
        "Seller": lambda: _lead_rel("CONCERNS", var),
        "Shop": lambda: _lead_rel("CONCERNS", var),
        "Person": lambda: f"({_lead_rel('CONCERNS', var)} OR {_case_rel('NAMES_SUSPECT', var)})",
        "Site": lambda: (f"({_site_inside(var)} OR {_lead_rel('CONCERNS', var)} OR "
                         f"{_case_rel('RAIDED', var)})"),
        "TestPurchase": lambda: _lead_rel("EVIDENCED_BY", var),
        "Complaint": lambda: _lead_rel("EVIDENCED_BY", var),
    }
    make = rules.get(label)
    return None if make is None else make()


_ADMIN_ONLY = ("AuditEvent",)
_RULED_LABELS = tuple(dict.fromkeys([*_BRAND_RULES, "Seller", "Person", "Site"]))

if set(SENSITIVE_LABELS) & set(_RULED_LABELS):
    raise RuntimeError("a label with personal identifiers must not get a rule for other roles")


def visible(label: str, var: str) -> str:
    """Cypher that is true when the caller may see node `var` of `label`."""
    if label in _ADMIN_ONLY:
        return "$is_admin"
    brand = _BRAND_RULES.get(label)
    liaison = _liaison_rule(label, var)
    if brand is None and liaison is None:
        return "$sees_all"
    # One branch per kind of caller, so a caller never pays for another role's checks.
    return (f"(CASE WHEN $sees_all THEN true WHEN $is_liaison THEN {liaison or 'false'} "
            f"ELSE {brand.replace('%s', var) if brand else 'false'} END)")


def visible_any(var: str) -> str:
    """The same check for a node whose label is not known in advance. Inside CASE the
    other roles' EXISTS checks stay lazy for callers who see everything (an OR of them
    is planned as subqueries run for every row)."""
    parts = [f"({var}:{label} AND {visible(label, var)})" for label in _RULED_LABELS]
    admin = " OR ".join(f"{var}:{label}" for label in _ADMIN_ONLY)
    return (f"(CASE WHEN $sees_all THEN (NOT ({admin}) OR $is_admin) ELSE "
            f"(({admin}) AND $is_admin) OR {' OR '.join(parts)} END)")


def params(caller: Caller) -> dict[str, Any]:
    brand_member = caller.role == "brand_member"
    liaison = caller.role == "police_liaison"
    return {
        "sees_all": caller.sees_everything,
        "is_admin": caller.role == "admin",
        "reads_directory": brand_member or liaison,
        "brand_id": caller.brand_id if brand_member else None,
        "is_liaison": liaison,
        "adcodes": list(caller.agency_adcodes) if liaison else [],
    }
