"""Lookups of single nodes by their key: `seller(sellerId)`, `shop(shopId)`, ..."""

from __future__ import annotations

from typing import Any, Optional

import strawberry

from api.context import Context
from api.pacing import pace
from api.types import NODE_CLASSES, node_loader


def _optional(label: str) -> Any:
    return Optional[NODE_CLASSES[label]]  # noqa: UP045


async def _lookup(info: strawberry.Info, label: str, key: str) -> Any:
    ctx: Context = info.context
    found = await node_loader(ctx, label, info.selected_fields[0].selections).load(key)
    await pace()
    return found


@strawberry.type
class EntitiesQuery:
    @strawberry.field(description="A seller by its seller_id (null when absent or not visible).",
                      graphql_type=_optional("Seller"))
    async def seller(self, info: strawberry.Info, seller_id: strawberry.ID) -> Any:
        return await _lookup(info, "Seller", seller_id)

    @strawberry.field(description="A shop by its shop_id.",
                      graphql_type=_optional("Shop"))
    async def shop(self, info: strawberry.Info, shop_id: strawberry.ID) -> Any:
        return await _lookup(info, "Shop", shop_id)

    @strawberry.field(description="A listing by its listing_id.",
                      graphql_type=_optional("Listing"))
    async def listing(self, info: strawberry.Info, listing_id: strawberry.ID) -> Any:
        return await _lookup(info, "Listing", listing_id)

    @strawberry.field(description="A brand by its brand_id.",
                      graphql_type=_optional("Brand"))
    async def brand(self, info: strawberry.Info, brand_id: strawberry.ID) -> Any:
        return await _lookup(info, "Brand", brand_id)

    @strawberry.field(description="An offline site by its site_id.",
                      graphql_type=_optional("Site"))
    async def site(self, info: strawberry.Info, site_id: strawberry.ID) -> Any:
        return await _lookup(info, "Site", site_id)

    @strawberry.field(description="A person by their person_id.",
                      graphql_type=_optional("Person"))
    async def person(self, info: strawberry.Info, person_id: strawberry.ID) -> Any:
        return await _lookup(info, "Person", person_id)

    @strawberry.field(description="An address by its address_key.",
                      graphql_type=_optional("Address"))
    async def address(self, info: strawberry.Info, address_key: strawberry.ID) -> Any:
        return await _lookup(info, "Address", address_key)

    @strawberry.field(description="A phone by its E.164 number (e.g. +8613800138000).",
                      graphql_type=_optional("Phone"))
    async def phone(self, info: strawberry.Info, e164: strawberry.ID) -> Any:
        return await _lookup(info, "Phone", e164)

    @strawberry.field(description="An agency by its agency_id.",
                      graphql_type=_optional("Agency"))
    async def agency(self, info: strawberry.Info, agency_id: strawberry.ID) -> Any:
        return await _lookup(info, "Agency", agency_id)

