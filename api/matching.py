"""Investigators decide on probable matches: `decideProbableLink`.

A decision confirms or rejects that two sellers are one (`graph.matching`): it is kept on
their PROBABLY_SAME link (made if the model gave none), it wins over the model at once
(a rejected pair drops out of PROBABLE networks and never links again; a confirmed pair
links with probability 1) and its confirmed pairs train the next `alliance analyze
matches`. Each decision appends an audit event (`probable_link.decide`) with the link as
it was before. Investigators and admins only, as the networks it changes.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, LiteralString

import strawberry

from api.context import Context
from api.investigation import allowed
from core.errors import UserError
from graph import access, audit, matching

MAX_NOTE = 2000

SELLERS_AND_LINK: LiteralString = """
OPTIONAL MATCH (a:Seller {seller_id: $a})
OPTIONAL MATCH (b:Seller {seller_id: $b})
OPTIONAL MATCH (a)-[r:PROBABLY_SAME]->(b)
RETURN a IS NOT NULL AS has_a, b IS NOT NULL AS has_b,
       r {.probability, .reasons, .run_id, .decision} AS link
"""


@strawberry.enum(description="An investigator's decision on a probable match.")
class LinkDecision(Enum):
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


@strawberry.type(description="A PROBABLY_SAME link between two sellers, after a decision.")
class ProbableLink:
    a: strawberry.ID
    b: strawberry.ID
    decision: LinkDecision | None
    probability: float
    reasons: list[str] = strawberry.field(description="What the model saw for the match.")
    run_id: str | None = strawberry.field(description="The model run that wrote the link.")


async def _before(ctx: Context, a: str, b: str) -> dict[str, Any] | None:
    records = await access.read_async(ctx.driver, ctx.database, SELLERS_AND_LINK,
                                      {"a": a, "b": b}, timeout=ctx.timeout,
                                      name="probableLink:read")
    row = records[0]
    missing = [sid for sid, found in ((a, row["has_a"]), (b, row["has_b"])) if not found]
    if missing:
        raise UserError(f"decideProbableLink: no seller {missing[0]!r}")
    return dict(row["link"]) if row["link"] is not None else None


async def decide(ctx: Context, a: str, b: str, decision: LinkDecision, note: str | None
                 ) -> ProbableLink:
    allowed(ctx)
    if note is not None and len(note) > MAX_NOTE:
        raise UserError(f"decideProbableLink: the note has {len(note)} characters; at most {MAX_NOTE}")
    try:
        params = matching.decide_params(a, b, decision.value, ctx.caller.sub, note)
    except ValueError as exc:
        raise UserError(f"decideProbableLink: {exc}") from None
    before = await _before(ctx, params["a"], params["b"])
    rows = (await access.write_async(ctx.driver, ctx.database,
                                     [access.Statement(matching.DECIDE, params)],
                                     timeout=ctx.timeout, name="probableLink:decide"))[0]
    await audit.append_async(ctx.driver, ctx.database, audit.event(
        ctx.caller, "probable_link.decide", ids=[params["a"], params["b"]],
        request_id=ctx.request_id,
        details={"decision": decision.value, "note": note, "before": before}))
    row = rows[0]
    return ProbableLink(a=strawberry.ID(params["a"]), b=strawberry.ID(params["b"]),
                        decision=decision, probability=float(row["probability"]),
                        reasons=list(row["reasons"] or []), run_id=row["run_id"])


@strawberry.type
class MatchingMutation:
    @strawberry.mutation(description="Confirm or reject that two sellers are one; the decision "
                                     "overrides the matching model at once and is audited.")
    async def decide_probable_link(self, info: strawberry.Info, a: strawberry.ID, b: strawberry.ID,
                                   decision: LinkDecision, note: str | None = None) -> ProbableLink:
        return await decide(info.context, str(a), str(b), decision, note)
