"""Uploads to screen: their fields, checked and normalised the way the loaders do it.

An upload (data contract, "Uploads to screen") is a new listing with its shop and the
seller's registration. Each field is checked by the loaders' own check of its format
(`loaders.validate.checker`: phones to E.164, lower-cased e-mails, `provider:account`,
`fp:`/`ip:` devices, well-formed identity numbers), the identity number is hashed with the
PII key at once and kept nowhere else, and the ship-from and return addresses of a batch
are placed in one call of the loaders' resolver (`loaders.address`) to their address
keys. The result is a `graph.screening.Upload`, or the upload's reasons, each naming its
field with a code of the data contract's reject codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graph.screening import ADDRESS_FIELDS, Invalid, Upload
from loaders import normalise
from loaders.address import AddressResolver
from loaders.validate import Reason, checker, is_empty

UPLOAD_FIELDS: dict[str, tuple[str, bool]] = {
    "upload_id": ("str", True),
    "seller_id": ("str", True),
    "platform": ("str", True),
    "shop_id": ("str", True),
    "listing_id": ("str", False),
    "uploaded_on": ("date", False),
    "id_number": ("id_number", False),
    "id_hash": ("id_hash", False),
    "phones": ("phones", False),
    "emails": ("emails", False),
    "payout_accounts": ("accounts", False),
    "devices": ("devices", False),
    "ship_from_address": ("address", False),
    "return_address": ("address", False),
    "brand_id": ("str", False),
    "title": ("str", False),
    "price": ("float", False),
}
"""Field -> (format, required), in the types of `loaders.validate.FILES`."""
_CHECKS = {name: checker(kind) for name, (kind, _) in UPLOAD_FIELDS.items()}


def clean_fields(raw: Any) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The clean values of one upload's fields, or its reasons (messages never repeat a
    value: an identity number must not reach a log)."""
    if not isinstance(raw, dict) or "_unparsed" in raw:
        return {}, [{"field": "_upload", "code": "format", "message": "not a JSON object"}]
    reasons = [{"field": str(name), "code": "format",
                "message": f"{str(name)[:40]}: not a field of an upload"}
               for name in raw if name not in UPLOAD_FIELDS]
    clean: dict[str, Any] = {}
    for name, (_, required) in UPLOAD_FIELDS.items():
        value = raw.get(name)
        if is_empty(value):
            if required:
                reasons.append({"field": name, "code": "missing", "message": f"{name} is required"})
            continue
        try:
            clean[name] = _CHECKS[name](value)
        except Reason as why:
            reasons.append({"field": name, "code": why.code, "message": f"{name}: {why.message}"})
    return (clean if not reasons else {}), reasons


def _distinct(values: list[Any]) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(values))


class UploadChecker:
    """Checks batches of uploads; holds the PII key and an address resolver (its cache
    lives as long as the checker)."""

    def __init__(self, pii_key: bytes, resolver: AddressResolver | None = None) -> None:
        self.pii_key = pii_key
        self.resolver = resolver or AddressResolver()

    def check(self, raws: Sequence[Any]) -> tuple[list[tuple[int, Upload]], list[Invalid]]:
        """(index, upload) for each good upload, in order, and the invalid ones."""
        good: list[tuple[int, dict[str, Any]]] = []
        invalid: list[Invalid] = []
        for index, raw in enumerate(raws):
            clean, reasons = clean_fields(raw)
            if reasons:
                invalid.append(Invalid(index, reasons))
            else:
                good.append((index, clean))
        texts = [c[f] for _, c in good for f in ADDRESS_FIELDS if f in c]
        keys = {text: placed.address_key
                for text, placed in zip(texts, self.resolver.resolve_many(texts), strict=True)}
        return [(index, self._upload(clean, keys)) for index, clean in good], invalid

    def _upload(self, c: dict[str, Any], keys: dict[str, str]) -> Upload:
        id_hash = (normalise.identity_hash(c["id_number"], self.pii_key)
                   if "id_number" in c else c.get("id_hash"))
        return Upload(
            upload_id=c["upload_id"], seller_id=c["seller_id"], platform=c["platform"],
            shop_id=c["shop_id"], listing_id=c.get("listing_id"), id_hash=id_hash,
            phones=_distinct([e164 for (e164, _), _ in c.get("phones", [])]),
            emails=_distinct(c.get("emails", [])),
            accounts=_distinct(c.get("payout_accounts", [])),
            devices=_distinct(c.get("devices", [])),
            addresses=tuple((f, keys[c[f]]) for f in ADDRESS_FIELDS if f in c),
            brand_id=c.get("brand_id"), title=c.get("title"), price=c.get("price"),
        )
