"""Fields added to generated node types beyond their properties and relationships.

`api.types` builds one GraphQL type per label of the model and adds the fields named
here. Their types are lazy references, so the modules that resolve them may import
`api.types` themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Optional

import strawberry

if TYPE_CHECKING:
    from api.dossier import Conflict, Dossier

DossierRef = Annotated["Dossier", strawberry.lazy("api.dossier")]
ConflictRef = Annotated["Conflict", strawberry.lazy("api.dossier")]


async def _dossier(root: Any, info: strawberry.Info) -> Optional[DossierRef]:  # noqa: UP045
    from api import dossier

    return await dossier.resolve_dossier(info.context, str(root.lead_id))


async def _conflicts(root: Any, info: strawberry.Info) -> list[ConflictRef]:
    from api import dossier

    return await dossier.resolve_conflicts(info.context, str(root.lead_id))


def extra_fields(label: str) -> dict[str, Any]:
    """Extra strawberry fields of the type for `label`, by attribute name."""
    if label == "Lead":
        return {
            "dossier": strawberry.field(
                resolver=_dossier,
                description="The evidence package: subjects, traces, evidence, timeline, value "
                            "against the thresholds, conflicts and a SHA-256 manifest. Audited."),
            "conflicts": strawberry.field(
                resolver=_conflicts,
                description="Other open leads and cases, of any brand, on the same sellers, "
                            "networks or sites (those the caller may see)."),
        }
    return {}
