"""Who sees what, as Cypher predicates over `$parameters`.

Each label has a predicate on a node variable that is true when the caller may see the
node. The caller's rights arrive only as parameters (`$sees_all`, `$reads_brands`,
`$brand_id`, `$is_admin`), so every query that shows a node carries its own check and no
result is filtered in Python.

- investigators and admins see everything (audit events: admins only);
- a brand member sees brands, its own brand's complaints (FILED) and test purchases
  (AUTHENTICATED_BY), the listings and shops those target (AGAINST, BOUGHT, and the
  shop that OFFERS a targeted listing); identities, phones, emails, payment accounts
  and devices are never visible to it, nor are sellers, persons and sites;
- analysts and police liaisons see nothing through these queries for now (their
  aggregate and jurisdiction views are separate).
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

_BRAND_RULES: dict[str, str] = {
    "Brand": "$reads_brands",
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
}
_ADMIN_ONLY = ("AuditEvent",)

if set(SENSITIVE_LABELS) & set(_BRAND_RULES):
    raise RuntimeError("a label with personal identifiers must not get a brand-member rule")


def visible(label: str, var: str) -> str:
    """Cypher that is true when the caller may see node `var` of `label`."""
    if label in _ADMIN_ONLY:
        return "$is_admin"
    rule = _BRAND_RULES.get(label)
    if rule is None:
        return "$sees_all"
    return f"($sees_all OR {rule.replace('%s', var)})"


def visible_any(var: str) -> str:
    """The same check for a node whose label is not known in advance."""
    parts = [f"({var}:{label} AND {visible(label, var)})" for label in _BRAND_RULES]
    admin = " OR ".join(f"{var}:{label}" for label in _ADMIN_ONLY)
    return f"(($sees_all AND NOT ({admin})) OR (({admin}) AND $is_admin) OR {' OR '.join(parts)})"


def params(caller: Caller) -> dict[str, Any]:
    brand_member = caller.role == "brand_member"
    return {
        "sees_all": caller.sees_everything,
        "is_admin": caller.role == "admin",
        "reads_brands": brand_member,
        "brand_id": caller.brand_id if brand_member else None,
    }

