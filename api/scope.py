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
  purchases, complaints), plus the sites located inside its jurisdiction; and, of those
  leads, the listings their evidence targets, the shipments of their test purchases and
  shop subjects, the addresses of their site subjects and of those shipments' origins,
  and the stored networks of their seller subjects;
- identities, phones, emails, payment accounts and devices (`SENSITIVE_LABELS`) are seen
  by investigators and admins only: every other role sees them nowhere, and where a
  dossier shows a path through a node the reader may not see (`visible_keys`), the node
  is masked;
- analysts see no single node through these queries: they read aggregates
  (`leadCounts`, saved queries);
- the platform (the e-commerce platform's service token) sees no node at all through
  these queries: it only screens new uploads (`screen`, `POST /screen`), whose reasons
  show kinds and masked keys, never another seller's personal data.
"""

from __future__ import annotations

from typing import Any, Literal

from graph.caller import Caller
from graph.model import node

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


def _lead_path(var: str, tag: str, path: str) -> str:
    """True when a lead in the jurisdiction reaches node `var` along `path`, a pattern from
    `(L)` (the lead) to `(X)` (the node); `tag` names the lead's variable."""
    lead = f"{tag}_{var}"
    pattern = path.replace("(L)", f"({lead}:Lead)").replace("(X)", f"({var})")
    return f"EXISTS {{ MATCH {pattern} WHERE {lead_in_jurisdiction(lead)} }}"


def _lead_rel(rel: str, var: str) -> str:
    return _lead_path(var, "lx", f"(L)-[:{rel}]->(X)")


def _case_rel(rel: str, var: str) -> str:
    return f"EXISTS {{ MATCH (cx_{var}:Case)-[:{rel}]->({var}) WHERE {case_in_jurisdiction(f'cx_{var}')} }}"


def _site_inside(var: str) -> str:
    return (f"EXISTS {{ MATCH ({var})-[:LOCATED_AT]->(:Address)-[:IN_DIVISION]->(dv_{var}:Division) "
            f"WHERE dv_{var}.adcode IN $adcodes }}")


def _shipment_of_lead(var: str) -> str:
    return (f"({_lead_path(var, 'lp', '(L)-[:EVIDENCED_BY]->(:TestPurchase)-[:DELIVERED_BY]->(X)')} OR "
            f"{_lead_path(var, 'ls', '(L)-[:CONCERNS]->(:Shop)<-[:SENT_BY]-(X)')})")


def _listing_of_lead(var: str) -> str:
    return (f"({_lead_path(var, 'lp', '(L)-[:EVIDENCED_BY]->(:TestPurchase)-[:BOUGHT]->(X)')} OR "
            f"{_lead_path(var, 'lc', '(L)-[:EVIDENCED_BY]->(:Complaint)-[:AGAINST]->(X)')})")


def _address_of_lead(var: str) -> str:
    return (f"({_lead_path(var, 'lx', '(L)-[:CONCERNS]->(:Site)-[:LOCATED_AT]->(X)')} OR "
            f"EXISTS {{ MATCH ({var})<-[:ORIGINATES_AT]-(sp_{var}:Shipment) "
            f"WHERE {_shipment_of_lead(f'sp_{var}')} }})")


def _network_of_lead(var: str) -> str:
    return _lead_path(var, "lx", "(L)-[:CONCERNS]->(:Seller)-[:IN_NETWORK]->(X)")


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
        "Listing": lambda: _listing_of_lead(var),
        "Shipment": lambda: _shipment_of_lead(var),
        "Address": lambda: _address_of_lead(var),
        "Network": lambda: _network_of_lead(var),
    }
    make = rules.get(label)
    return None if make is None else make()


_ADMIN_ONLY = ("AuditEvent",)
_RULED_LABELS = tuple(dict.fromkeys([*_BRAND_RULES, "Seller", "Person", "Site"]))
"""Labels `visible_any_as` (search, network) lets a caller other than an investigator or an
admin see. Shipments, addresses and networks stay out of it: a liaison sees those of its
leads in their dossiers (`visible`), and checking them on every node a search or a
network walk finds would make those queries much slower to plan."""

if set(SENSITIVE_LABELS) & set(_RULED_LABELS):
    raise RuntimeError("a label with personal identifiers must not get a rule for other roles")


Kind = Literal["all", "liaison", "brand", "none"]
"""The kinds of caller with one rule each: those who see everything, police liaisons,
brand members, and those who see no single node (analysts and the platform)."""


def kind(caller: Caller) -> Kind:
    if caller.sees_everything:
        return "all"
    if caller.role == "police_liaison":
        return "liaison"
    if caller.role == "brand_member":
        return "brand"
    return "none"


def sees_sellers(caller: Caller) -> bool:
    """Whether screening reasons may name the known sellers they matched (the platform,
    and every role but those who see everything, gets kinds and masked keys only)."""
    return caller.sees_everything


def visible_as(who: Kind, label: str, var: str) -> str:
    """The rule of one kind of caller for node `var` of `label`: for queries built per
    kind of caller (a large query is planned much faster without the other kinds' rules)."""
    if who == "all":
        return "$is_admin" if label in _ADMIN_ONLY else "true"
    if who == "none" or label in _ADMIN_ONLY:
        return "false"
    if who == "liaison":
        return _liaison_rule(label, var) or "false"
    brand = _BRAND_RULES.get(label)
    return brand.replace("%s", var) if brand else "false"


def visible(label: str, var: str) -> str:
    """Cypher that is true when the caller may see node `var` of `label`."""
    if label in _ADMIN_ONLY:
        return "$is_admin"
    if label not in _BRAND_RULES and _liaison_rule(label, var) is None:
        return "$sees_all"
    # One branch per kind of caller, so a caller never pays for another role's checks.
    return (f"(CASE WHEN $sees_all THEN true WHEN $is_liaison THEN {visible_as('liaison', label, var)} "
            f"ELSE {visible_as('brand', label, var)} END)")


def visible_any_as(who: Kind, var: str) -> str:
    """Cypher that is true when a caller of kind `who` may see node `var`, whose label is
    not known in advance (search, network): only that kind's rule, no CASE over the
    others, so a query built with it is planned much faster."""
    admin = " OR ".join(f"{var}:{label}" for label in _ADMIN_ONLY)
    if who == "all":
        return f"(NOT ({admin}) OR $is_admin)"
    parts = [f"({var}:{label} AND {rule})" for label in _RULED_LABELS
             if (rule := visible_as(who, label, var)) != "false"]
    return f"({' OR '.join(parts)})" if parts else "false"


def visible_keys(who: Kind, label: str) -> str:
    """A query taking `$keys` (keys of nodes of `label`) that returns, as `key`, those of
    the nodes the caller may see (absent nodes are left out)."""
    n = node(label)
    return (f"UNWIND $keys AS k MATCH (n:{n.label} {{{n.key}: k}}) "
            f"WHERE {visible_as(who, n.label, 'n')} RETURN DISTINCT k AS key")


def site_in_case_jurisdiction(site: str, case: str) -> str:
    """True when site `site` lies in the jurisdiction of the agency handling case `case`:
    that agency's division or any division below it (the rule of `api.deps.jurisdiction`)."""
    return (f"EXISTS {{ MATCH ({case})-[:HANDLED_BY]->(ja_{case}:Agency) "
            f"MATCH ({site})-[:LOCATED_AT]->(:Address)-[:IN_DIVISION]->(:Division)"
            f"-[:PART_OF*0..]->(jd_{case}:Division) "
            f"WHERE jd_{case}.adcode = ja_{case}.adcode OR (ja_{case})-[:IN_DIVISION]->(jd_{case}) }}")


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
