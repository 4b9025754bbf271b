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

_SPACES = re.compile(r"\s+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TRUE = {"true", "1", "yes", "是", "y", "t"}
_FALSE = {"false", "0", "no", "否", "n", "f"}


def text(value: str) -> str:
    """NFKC, trim, collapse runs of white space to one space."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()


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
    try:
        parsed = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException as error:
        raise ValueError("not a phone number") from error
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid phone number for its region")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return e164, phonenumbers.region_code_for_number(parsed) or region


def boolean(value: str) -> bool:
    """true/false, 1/0, yes/no, 是/否 (case-insensitive)."""
    cleaned = text(value).lower()
    if cleaned in _TRUE:
        return True
    if cleaned in _FALSE:
        return False
    raise ValueError("not a boolean (true/false, 1/0, yes/no, 是/否)")


def iso_date(value: str) -> date:
    """An ISO 8601 date; a date-time is cut to its date."""
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
    return hmac.new(key, cleaned.encode(), hashlib.sha256).hexdigest()


def identity_kind(number: str, seller_kind: str | None = None) -> str:
    """`id_card` for an 18-character resident ID (17 digits + digit/X), a 15-digit
    legacy ID or a person; `business_licence` for an 18-character USCC or a company."""
    cleaned = text(number).replace(" ", "").upper()
    if seller_kind == "company":
        return "business_licence"
    if seller_kind == "person":
        return "id_card"
    if re.fullmatch(r"\d{17}[\dX]|\d{15}", cleaned):
        return "id_card"
    return "business_licence"
