"""Screening new uploads for the platform: `POST /screen` and the GraphQL mutation `screen`.

Both take up to `MAX_BATCH` uploads (data contract, "Uploads to screen") and run the same
`screen` below: the uploads are checked and normalised by the app's upload checker (the
loaders' checks, `loaders.uploads`; handed to `create_app` by the `alliance` command), the
batch is matched in one read (`graph.screening.MATCH` through `graph.access`) and decided
with the thresholds of the settings. With `record` the decisions are stored as
`Screening` nodes; a batch with a BLOCK appends one audit event (`screen.block`); both in
one write transaction. One invalid upload refuses the whole batch, naming every invalid
upload's index, field, code and reason (400, or BAD_REQUEST in GraphQL).

Who: the platform, investigators and admins (`graph.caller.SCREENERS`); anyone else gets
FORBIDDEN. Reasons show kinds and masked keys; the sellers they matched are named only
to the roles that see every seller (`api.scope.sees_sellers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import neo4j
import strawberry
from fastapi import APIRouter, Request
from starlette.datastructures import State

from api.context import Context
from api.deps import CallerDep, DatabaseDep, DriverDep, RequestIdDep
from api.errors import http_status
from api.jsonio import FastJSONResponse, loads
from api.scope import sees_sellers
from core.errors import Forbidden, SettingsError, UserError
from graph import screening
from graph.access import DEFAULT_TIMEOUT
from graph.caller import SCREENERS, Caller
from graph.screening import MAX_BATCH, Checker, Decision, Invalid, Thresholds

"""The platform's GraphQL cost cap: enough for `screen` with every field, nothing more."""
SHOWN_INVALID = 5
"""Invalid uploads named in an error's message (all of them are in its details)."""


class ScreeningUnavailable(SettingsError):
    """This process was made without an upload checker (see `api.main.create_app`)."""


class InvalidUploads(UserError):
    """Uploads that cannot be screened: every one's index, field, code and reason."""

    def __init__(self, invalid: list[Invalid]) -> None:
        self.errors = [{"index": bad.index, **reason} for bad in invalid for reason in bad.reasons]
        shown = "; ".join(f"upload {e['index']}: {e['message']}" for e in self.errors[:SHOWN_INVALID])
        more = len(self.errors) - SHOWN_INVALID
        count = f"{len(invalid)} invalid upload{'' if len(invalid) == 1 else 's'}"
        super().__init__(f"{count}, nothing was screened: {shown}"
                         f"{f'; and {more} more' if more > 0 else ''}")
        self.extensions = {"invalid": self.errors}


@dataclass(frozen=True)
class Screener:
    """What a process screens with: the upload checker and the thresholds."""

    checker: Checker | None
    limits: Thresholds


def screener_of(state: State) -> Screener:
    found: Screener = state.screener
    if found.checker is None:
        raise ScreeningUnavailable("screening is not set up in this process: its app was made "
                                   "without an upload checker (alliance.api_app.create_app "
                                   "makes the app with one)")
    return found


def allowed(caller: Caller) -> None:
    if caller.role not in SCREENERS:
        raise Forbidden(f"role {caller.role!r} may not screen uploads; "
                        f"{', '.join(SCREENERS)} may")


async def screen(driver: neo4j.AsyncDriver, database: str, caller: Caller, request_id: str,
                 screener: Screener, raws: list[Any], *, record: bool = False,
                 timeout: float = DEFAULT_TIMEOUT) -> list[Decision]:
    """Check, match, decide, and record or audit as asked: the decisions in order."""
    allowed(caller)
    if len(raws) > MAX_BATCH:
        raise UserError(f"uploads: {len(raws)} uploads, more than the {MAX_BATCH} one call "
                        "may screen; send them in smaller batches")
    assert screener.checker is not None
    good, invalid = screener.checker.check(raws)
    if invalid:
        raise InvalidUploads(invalid)
    return await screening.screen_async(driver, database, [u for _, u in good], caller,
                                        screener.limits, record=record,
                                        request_id=request_id, timeout=timeout)


# --- REST -------------------------------------------------------------------------------

router = APIRouter(tags=["screening"])


def _body(data: Any) -> tuple[list[Any], bool]:
    if not isinstance(data, dict) or not isinstance(data.get("uploads"), list):
        raise UserError('the body must be a JSON object {"uploads": [...], "record": false}')
    unknown = sorted(set(data) - {"uploads", "record"})
    if unknown:
        raise UserError(f"unknown keys in the body: {', '.join(k[:40] for k in unknown)}; "
                        "give uploads and, if wanted, record")
    record = data.get("record", False)
    if not isinstance(record, bool):
        raise UserError("record must be true or false")
    return data["uploads"], record


def _invalid(exc: InvalidUploads, request_id: str) -> FastJSONResponse:
    return FastJSONResponse({"detail": str(exc), "invalid": exc.errors, "requestId": request_id},
                            status_code=http_status(exc))


@router.post("/screen", summary="Screen up to 500 new uploads: a decision and its reasons each.")
async def screen_rest(request: Request, caller: CallerDep, driver: DriverDep,
                      database: DatabaseDep, request_id: RequestIdDep) -> FastJSONResponse:
    allowed(caller)
    raws, record = _body(loads(await request.body()))
    try:
        decisions = await screen(driver, database, caller, request_id,
                                 screener_of(request.app.state), raws, record=record,
                                 timeout=request.app.state.query_timeout)
    except InvalidUploads as exc:
        return _invalid(exc, request_id)
    with_sellers = sees_sellers(caller)
    return FastJSONResponse({"decisions": [screening.as_dict(d, with_sellers=with_sellers)
                                           for d in decisions]})


# --- GraphQL ------------------------------------------------------------------------------


@strawberry.input(description="A new upload: a listing with its shop and the seller's "
                              "registration. uploadId, sellerId, platform and shopId are "
                              "required; the formats are the data contract's.")
class UploadInput:
    upload_id: str | None = None
    seller_id: str | None = None
    platform: str | None = None
    shop_id: str | None = None
    listing_id: str | None = None
    uploaded_on: str | None = None
    id_number: str | None = strawberry.field(
        default=None, description="Hashed with the PII key at once; never stored or shown.")
    id_hash: str | None = None
    phones: list[str] | None = None
    emails: list[str] | None = None
    payout_accounts: list[str] | None = None
    devices: list[str] | None = None
    ship_from_address: str | None = None
    return_address: str | None = None
    brand_id: str | None = None
    title: str | None = None
    price: float | None = None


@strawberry.enum(description="What to do with an upload.")
class ScreenVerdict(Enum):
    BLOCK = "BLOCK"
    REVIEW = "REVIEW"
    ALLOW = "ALLOW"


@strawberry.type(description="A stored seller network an identifier of the upload leads to.")
class ScreenNetwork:
    network_id: str
    risk: float


@strawberry.type(description="A raided, confirmed or suspected site an identifier leads to: "
                             "`here` directly (its address, the person running it), "
                             "`reached` through the sellers holding it.")
class ScreenSite:
    site_id: str
    status: str | None
    raided: bool
    how: str


@strawberry.type(description="One identifier of the upload the graph knows, and what it "
                             "leads to. A hub (held by more sellers than the hub threshold) "
                             "weighs nothing.")
class ScreenReason:
    kind: str
    field: str
    key: str = strawberry.field(description="Masked.")
    weight: float
    sellers: int
    hub: bool
    suspended: int = strawberry.field(description="Suspended sellers among those holding it.")
    networks: list[ScreenNetwork]
    sites: list[ScreenSite]
    seller_ids: list[str] | None = strawberry.field(
        description="The sellers holding it: for investigators and admins only, else null.")


@strawberry.type(description="The decision on one upload, with every reason behind it.")
class ScreenDecision:
    upload_id: str
    decision: ScreenVerdict
    score: float
    reasons: list[ScreenReason]
    screening_id: str | None = strawberry.field(
        description="The Screening node storing the decision, when recorded.")


def decision_type(d: Decision, with_sellers: bool) -> ScreenDecision:
    return ScreenDecision(
        upload_id=d.upload_id, decision=ScreenVerdict(d.decision), score=d.score,
        screening_id=d.screening_id,
        reasons=[ScreenReason(
            kind=r.kind, field=r.field, key=r.key, weight=r.weight, sellers=r.sellers,
            hub=r.hub, suspended=r.suspended,
            networks=[ScreenNetwork(network_id=n.network_id, risk=n.risk) for n in r.networks],
            sites=[ScreenSite(site_id=s.site_id, status=s.status, raided=s.raided, how=s.how)
                   for s in r.sites],
            seller_ids=list(r.seller_ids) if with_sellers else None) for r in d.reasons])


def _raw(upload: UploadInput) -> dict[str, Any]:
    return {name: value for name, value in vars(upload).items() if value is not None}


@strawberry.type
class ScreeningMutation:
    @strawberry.mutation(description="Screen up to 500 new uploads against the graph: a "
                                     "decision (BLOCK, REVIEW, ALLOW), a score and every "
                                     "reason. Read-only unless `record`; a BLOCK is audited.")
    async def screen(self, info: strawberry.Info, uploads: list[UploadInput],
                     record: bool = False) -> list[ScreenDecision]:
        ctx: Context = info.context
        allowed(ctx.caller)
        assert ctx.request is not None
        decisions = await screen(ctx.driver, ctx.database, ctx.caller, ctx.request_id,
                                 screener_of(ctx.request.app.state),
                                 [_raw(u) for u in uploads], record=record, timeout=ctx.timeout)
        with_sellers = sees_sellers(ctx.caller)
        return [decision_type(d, with_sellers) for d in decisions]
