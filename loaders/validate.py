"""Field specs per bundle file (data contract section 1) and row validation.

Each file's rows are validated by a pydantic model generated from its field specs
(`ROW_MODELS`); the specs are checked against graph/model.py by the tests.
`validate(file, row)` returns (clean values, reasons). Clean values are typed and
normalised; reasons are `{"field", "code", "message"}` with a code from REASON_CODES.
Messages never contain the value of an identity number.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Annotated, Any, NotRequired, Required

from pydantic import BeforeValidator, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError
from typing_extensions import TypedDict

from graph.lifecycle import CASE_STATUSES, LEAD_STATUSES
from loaders import normalise

REASON_CODES = ("missing", "date", "enum", "bool", "number", "phone", "email", "format",
                "reference", "id_number", "too_long", "columns")

ENUMS: dict[str, tuple[str, ...]] = {
    "agency_level": ("ministry", "province", "city", "county"),
    "seller_kind": ("person", "company"),
    "seller_status": ("active", "suspended", "closed"),
    "listing_status": ("live", "blocked", "removed"),
    "complaint_kind": ("counterfeit", "trademark", "copyright", "patent"),
    "outcome": ("pending", "upheld", "rejected"),
    "verdict": ("counterfeit", "genuine", "inconclusive"),
    "site_kind": ("factory", "warehouse", "den", "store", "packing"),
    "site_status": ("suspected", "confirmed", "raided"),
    "lead_status": LEAD_STATUSES,
    "case_status": CASE_STATUSES,
}

# file -> field -> (type, required). Types: str, date, bool, float, int, list, country,
# adcode, phone, phones, emails, accounts, devices, address, id_number, id_hash, enum:NAME.
S = tuple[str, bool]
FILES: dict[str, dict[str, S]] = {
    "brands": {"brand_id": ("str", True), "name": ("str", True), "name_zh": ("str", False),
               "country": ("country", False), "owner": ("str", False),
               "alliance_member": ("bool", False), "joined_on": ("date", False),
               "trademark_nos": ("list", False)},
    "agencies": {"agency_id": ("str", True), "name": ("str", True),
                 "level": ("enum:agency_level", False), "adcode": ("adcode", True),
                 "unit": ("str", False)},
    "sellers": {"seller_id": ("str", True), "platform": ("str", True), "nickname": ("str", False),
                "kind": ("enum:seller_kind", False), "legal_name": ("str", False),
                "id_number": ("id_number", False), "id_hash": ("id_hash", False),
                "registered_on": ("date", False), "status": ("enum:seller_status", False),
                "phones": ("phones", False), "emails": ("emails", False),
                "payout_accounts": ("accounts", False), "devices": ("devices", False),
                "registered_address": ("address", False)},
    "shops": {"shop_id": ("str", True), "seller_id": ("str", True), "platform": ("str", True),
              "name": ("str", False), "url": ("str", False), "opened_on": ("date", False),
              "closed_on": ("date", False), "status": ("str", False),
              "ship_from_address": ("address", False), "return_address": ("address", False)},
    "listings": {"listing_id": ("str", True), "shop_id": ("str", True), "brand_id": ("str", False),
                 "title": ("str", False), "price": ("float", False), "currency": ("str", False),
                 "url": ("str", False), "first_seen": ("date", False),
                 "status": ("enum:listing_status", False),
                 "blocked_at_upload": ("bool", False)},
    "complaints": {"complaint_id": ("str", True), "brand_id": ("str", True),
                   "listing_id": ("str", False), "shop_id": ("str", False),
                   "filed_on": ("date", True), "kind": ("enum:complaint_kind", False),
                   "outcome": ("enum:outcome", False), "resolved_on": ("date", False)},
    "shipments": {"carrier": ("str", True), "waybill_no": ("str", True), "shop_id": ("str", False),
                  "origin_address": ("address", True), "sender_name": ("str", False),
                  "sender_phone": ("phone", False), "shipped_on": ("date", False),
                  "destination_adcode": ("adcode", False)},
    "test_purchases": {"purchase_id": ("str", True), "listing_id": ("str", True),
                       "ordered_on": ("date", False), "carrier": ("str", False),
                       "waybill_no": ("str", False), "authenticated_by": ("str", False),
                       "report_no": ("str", False), "verdict": ("enum:verdict", False),
                       "verdict_on": ("date", False)},
    "persons": {"person_id": ("str", True), "name": ("str", False),
                "id_number": ("id_number", False), "id_hash": ("id_hash", False),
                "phones": ("phones", False), "emails": ("emails", False),
                "controls_sellers": ("list", False), "operates_sites": ("list", False),
                "owns_accounts": ("accounts", False)},
    "sites": {"site_id": ("str", True), "kind": ("enum:site_kind", True),
              "address": ("address", True), "label": ("str", False),
              "status": ("enum:site_status", False), "first_seen": ("date", False)},
    "transfers": {"from_account": ("account", True), "to_account": ("account", True),
                  "total_cny": ("float", False), "count": ("int", False),
                  "first_on": ("date", False), "last_on": ("date", False)},
    "leads": {"lead_id": ("str", True), "created_on": ("date", True),
              "status": ("enum:lead_status", True), "agency_id": ("str", False),
              "brand_ids": ("list", False), "concerns_sellers": ("list", False),
              "concerns_shops": ("list", False), "concerns_sites": ("list", False),
              "concerns_persons": ("list", False), "evidence_purchases": ("list", False),
              "evidence_complaints": ("list", False),
              "estimated_value_cny": ("float", False), "pushed_on": ("date", False)},
    "cases": {"case_id": ("str", True), "agency_id": ("str", True), "lead_id": ("str", False),
              "title": ("str", False), "opened_on": ("date", False),
              "status": ("enum:case_status", True), "charge": ("str", False),
              "case_value_cny": ("float", False), "arrests": ("int", False),
              "dens_destroyed": ("int", False), "raided_sites": ("list", False),
              "suspects": ("list", False), "brand_ids": ("list", False)},
}

_ACCOUNT = re.compile(r"^([a-z0-9_\-]+):(\S+)$")
_DEVICE = re.compile(r"^(fp|ip):(\S+)$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_ADCODE = re.compile(r"^\d{6}$")
_ID_NUMBER = re.compile(r"^(\d{15}|\d{17}[\dX]|[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10})$")
_HASH = re.compile(r"^[0-9a-f]{64}$")


class Reason(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def as_list(value: Any) -> list[str]:
    """A JSON array, or a `;`-separated CSV cell; empty items dropped."""
    if isinstance(value, list):
        return [normalise.text(str(item)) for item in value if not is_empty(item)]
    return [normalise.text(item) for item in str(value).split(";") if item.strip()]


def _wrap(code: str, func: Callable[[str], Any]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        try:
            return func(str(value))
        except ValueError as error:
            raise Reason(code, str(error)) from error
    return check


def _match(pattern: re.Pattern[str], code: str, what: str, upper: bool = False) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        cleaned = normalise.text(str(value))
        cleaned = cleaned.upper() if upper else cleaned
        if not pattern.match(cleaned):
            raise Reason(code, f"not {what}")
        return cleaned
    return check


def _number(kind: type) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        try:
            return kind(normalise.text(str(value)))
        except ValueError as error:
            raise Reason("number", f"not a{'n integer' if kind is int else ' number'}") from error
    return check


_boolean = _wrap("bool", normalise.boolean)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return _boolean(value)


def _text(value: Any) -> str:
    return normalise.text(str(value))


def _phone_text(cleaned: str) -> tuple[tuple[str, str], str]:
    try:
        parsed = normalise.phone(cleaned)
    except ValueError as error:
        raise Reason("phone", str(error)) from error
    return parsed, cleaned


def _phone(value: Any) -> tuple[tuple[str, str], str]:
    return _phone_text(normalise.text(str(value)))


def _account_text(cleaned: str) -> str:
    match = _ACCOUNT.match(cleaned.lower())
    if not match:
        raise Reason("format", "not provider:account")
    return f"{match.group(1)}:{cleaned.split(':', 1)[1]}"


def _account(value: Any) -> str:
    return _account_text(normalise.text(str(value)))


def _device_text(cleaned: str) -> str:
    if not _DEVICE.match(cleaned):
        raise Reason("format", "not fp:VALUE or ip:VALUE")
    return cleaned


def _id_number(value: Any) -> str:
    cleaned = normalise.text(str(value)).replace(" ", "").upper()
    if not _ID_NUMBER.match(cleaned):
        raise Reason("id_number", "malformed identity number")
    return cleaned


SCALARS: dict[str, Callable[[Any], Any]] = {
    "str": _text,
    "date": _wrap("date", normalise.iso_date),
    "bool": _bool,
    "float": _number(float),
    "int": _number(int),
    "country": _match(_COUNTRY, "format", "an ISO 3166 alpha-2 country code", upper=True),
    "adcode": _match(_ADCODE, "format", "a 6-digit adcode"),
    "phone": _phone,
    "email": _wrap("email", normalise.email),
    "account": _account,
    "device": _match(_DEVICE, "format", "fp:VALUE or ip:VALUE"),
    "address": _text,
    "id_number": _id_number,
    "id_hash": _match(_HASH, "format", "a 64-hex-digit hash"),
}
LISTS = {"list": "str", "phones": "phone", "emails": "email", "accounts": "account",
         "devices": "device"}
ON_TEXT: dict[str, Callable[[str], Any]] = {
    "phone": _phone_text, "email": SCALARS["email"], "account": _account_text,
    "device": _device_text}
"""The checks of list items, which `as_list` has already cleaned (`normalise.text` of
clean text gives it back unchanged)."""


def _enum(allowed: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        cleaned = normalise.text(str(value)).lower()
        if cleaned not in allowed:
            raise Reason("enum", f"not one of {', '.join(allowed)}")
        return cleaned
    return check


def _list_of(item_kind: str) -> Callable[[Any], list[Any]]:
    if item_kind == "str":
        return as_list
    on_text = ON_TEXT[item_kind]

    def check(value: Any) -> list[Any]:
        return [on_text(item) for item in as_list(value)]
    return check


def checker(kind: str) -> Callable[[Any], Any]:
    """The check of one field type: returns the clean value or raises Reason."""
    if kind.startswith("enum:"):
        return _enum(ENUMS[kind[5:]])
    if kind in LISTS:
        return _list_of(LISTS[kind])
    return SCALARS[kind]


CHECKS: dict[str, Callable[[Any], Any]] = {
    kind: checker(kind) for fields in FILES.values() for kind, _ in fields.values()}


NEVER_REFUSED = ("str", "address", "list")
"""Field types whose check only cleans the text: no Reason to turn into a pydantic error."""


def _pydantic_check(kind: str) -> Callable[[Any], Any]:
    func = CHECKS.get(kind) or checker(kind)
    if kind in NEVER_REFUSED:
        return func

    def check(value: Any) -> Any:
        try:
            return func(value)
        except Reason as reason:
            raise PydanticCustomError(reason.code, "{message}", {"message": reason.message}) \
                from None
    return check


def _pydantic_field(kind: str, required: bool) -> Any:
    field = Annotated[Any, BeforeValidator(_pydantic_check(kind))]
    return Required[field] if required else NotRequired[field]


def row_model(file: str) -> TypeAdapter[dict[str, Any]]:
    """The pydantic model of one file's rows, generated from its field specs: a TypedDict
    whose fields run the checks above, so the result is the clean dict itself."""
    fields = {name: _pydantic_field(kind, required)
              for name, (kind, required) in FILES[file].items()}
    return TypeAdapter(TypedDict(f"{file}_row", fields))  # type: ignore[operator]


ROW_MODELS: dict[str, TypeAdapter[dict[str, Any]]] = {file: row_model(file) for file in FILES}
VALIDATORS = {file: model.validator for file, model in ROW_MODELS.items()}
FIELD_NAMES = {file: tuple(fields) for file, fields in FILES.items()}


def _reason(error: ErrorDetails) -> dict[str, str]:
    name = str(error["loc"][0]) if error["loc"] else ""
    if error["type"] == "missing":
        return {"field": name, "code": "missing", "message": f"{name} is required"}
    return {"field": name, "code": error["type"], "message": f"{name}: {error['msg']}"}


def _present(names: tuple[str, ...], row: dict[str, Any]) -> dict[str, Any]:
    """The fields of `row` among `names` that are not empty, in the order of `names`."""
    return {name: value for name in names
            if (value := row.get(name)) is not None
            and (value.strip() if value.__class__ is str else not is_empty(value))}


def validate(file: str, row: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Clean values of the contract fields present, and every reason the row is refused."""
    present = _present(FIELD_NAMES[file], row)
    clean: dict[str, Any] = {}
    reasons: list[dict[str, str]] = []
    try:
        clean = VALIDATORS[file].validate_python(present)
    except ValidationError as error:
        reasons = [_reason(e) for e in error.errors(include_url=False, include_input=False)]
    if "_unparsed" in row:
        reasons.append({"field": "_unparsed", "code": "format", "message": "not a JSON object"})
    if file == "complaints" and is_empty(row.get("listing_id")) and is_empty(row.get("shop_id")):
        reasons.append({"field": "listing_id", "code": "reference",
                        "message": "a complaint needs listing_id or shop_id"})
    return (clean if not reasons else {}), reasons


def masked(row: dict[str, Any], anywhere: bool = False) -> dict[str, Any]:
    """The original row with every *_number value masked; with `anywhere` (a row whose
    values may sit under the wrong names), every value shaped like an identity number too."""
    return {k: _hidden(k, v, anywhere) for k, v in row.items()}


def _hidden(key: str, value: Any, anywhere: bool) -> Any:
    if key.endswith("_number") and not is_empty(value):
        return "***"
    if anywhere and isinstance(value, list):
        return [_hidden("", item, anywhere) for item in value]
    if anywhere and isinstance(value, str) and _ID_NUMBER.match(normalise.text(value).upper()):
        return "***"
    return value


def ignored_columns(file: str, columns: Iterable[str]) -> list[str]:
    """The columns of a file that are not contract fields (reported once per file)."""
    return sorted(set(columns) - set(FILES[file]) - {"_unparsed"})
