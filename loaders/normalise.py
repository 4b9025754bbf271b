"""Pure value normalisers used by the loaders (no database, no I/O).

Each function takes one raw input value and returns the normalised value, or
raises `ValueError` whose first word after the colon is never the raw value of an
identity number (those never appear in messages).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date, datetime
from functools import lru_cache

import phonenumbers

DEFAULT_REGION = "CN"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CN_MOBILE = re.compile(r"(?:\+86[- ]?)?(1[0-9]{2})[- ]?([0-9]{4})[- ]?([0-9]{4})")


def _metadata(region: str) -> phonenumbers.PhoneMetadata:
    found = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if found is None:
        raise LookupError(f"phonenumbers has no number plan for {region}")
    return found


_CN = _metadata("CN")
_CN_DIALLED_PREFIX = re.compile(f"(?:{_CN.international_prefix})|(?:{_CN.national_prefix_for_parsing})")


def _pattern(desc: phonenumbers.PhoneNumberDesc | None) -> re.Pattern[str]:
    if desc is None or not desc.national_number_pattern:
        raise LookupError("phonenumbers' CN plan has no pattern for mobile numbers")
    return re.compile(desc.national_number_pattern)


_CN_PLAN = _pattern(_CN.general_desc)
_CN_MOBILE_PLAN = _pattern(_CN.mobile)
_ID_CARD = re.compile(r"\d{17}[\dX]|\d{15}")
_TRUE = {"true", "1", "yes", "是", "y", "t"}
_FALSE = {"false", "0", "no", "否", "n", "f"}


def text(value: str) -> str:
    """NFKC, trim, collapse runs of white space to one space."""
    return " ".join(unicodedata.normalize("NFKC", value).split())


def email(value: str) -> str:
    """Trimmed, lower-cased address; ValueError if it is not shaped like one."""
    cleaned = text(value).lower()
    if not _EMAIL.match(cleaned):
        raise ValueError("not an e-mail address")
    return cleaned


@lru_cache(maxsize=65536)
def phone(value: str, region: str = DEFAULT_REGION) -> tuple[str, str]:
    """(E.164, region of the number plan); ValueError if not a valid number. Cached: a
    phone shared by many rows is parsed once."""
    cleaned = text(value)
    mobile = _cn_mobile(cleaned) if region == "CN" else None
    if mobile is not None:
        return mobile, "CN"
    try:
        parsed = _parse_phone(cleaned, region)
    except phonenumbers.NumberParseException as error:
        raise ValueError("not a phone number") from error
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid phone number for its region")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return e164, phonenumbers.region_code_for_number(parsed) or region


def _cn_mobile(cleaned: str) -> str | None:
    """The E.164 form of a usual spelling of a CN mobile number (see `_parse_phone`) whose
    digits the CN plan lists as a mobile number, or None (then phonenumbers decides).
    phonenumbers finds such a number valid (it matches the plan and a number type), of
    region CN (the only region of +86), and formats it as +86 and the digits."""
    match = _CN_MOBILE.fullmatch(cleaned)
    if match is None:
        return None
    digits = "".join(match.groups())
    if _CN_DIALLED_PREFIX.match(digits) or not _CN_PLAN.fullmatch(digits) \
            or not _CN_MOBILE_PLAN.fullmatch(digits):
        return None
    return "+86" + digits


def _parse_phone(cleaned: str, region: str) -> phonenumbers.PhoneNumber:
    """phonenumbers.parse, read directly for the usual spellings of a CN mobile number
    (11 digits from 1, as 3-4-4 groups or not, with or without +86): parse gives country
    code 86 and those digits, unless they begin with a prefix the CN plan treats as an
    international or national dialling prefix (then parse decides)."""
    match = _CN_MOBILE.fullmatch(cleaned) if region == "CN" else None
    if match is not None:
        digits = "".join(match.groups())
        if not _CN_DIALLED_PREFIX.match(digits):
            return phonenumbers.PhoneNumber(country_code=_CN.country_code,
                                            national_number=int(digits))
    return phonenumbers.parse(cleaned, region)


def boolean(value: str) -> bool:
    """true/false, 1/0, yes/no, 是/否 (case-insensitive)."""
    cleaned = text(value).lower()
    if cleaned in _TRUE:
        return True
    if cleaned in _FALSE:
        return False
    raise ValueError("not a boolean (true/false, 1/0, yes/no, 是/否)")


@lru_cache(maxsize=8192)
def iso_date(value: str) -> date:
    """An ISO 8601 date; a date-time is cut to its date. Cached: a date shared by many
    rows is parsed once."""
    cleaned = text(value)
    try:
        if len(cleaned) == 10:
            return date.fromisoformat(cleaned)
        return datetime.fromisoformat(cleaned).date()
    except ValueError as error:
        raise ValueError("not an ISO 8601 date") from error


def identity_hash(number: str, key: bytes) -> str:
    """HMAC-SHA256 (hex) of the normalised identity number (upper-case, no spaces)."""
    cleaned = text(number).replace(" ", "").upper()
    return hmac.digest(key, cleaned.encode(), hashlib.sha256).hex()


def identity_kind(number: str, seller_kind: str | None = None) -> str:
    """`id_card` for an 18-character resident ID (17 digits + digit/X), a 15-digit
    legacy ID or a person; `business_licence` for an 18-character USCC or a company."""
    if seller_kind == "company":
        return "business_licence"
    if seller_kind == "person":
        return "id_card"
    if _ID_CARD.fullmatch(text(number).replace(" ", "").upper()):
        return "id_card"
    return "business_licence"
