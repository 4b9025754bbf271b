"""Unit tests of the value normalisers (no database)."""

from datetime import date

import pytest

from loaders import normalise


@pytest.mark.parametrize(
    "raw", ["138 0013 8000", "+86-138-0013-8000", "13800138000", "１３８００１３８０００"]
)
def test_mobile_spellings_give_one_e164(raw: str) -> None:
    assert normalise.phone(raw) == ("+8613800138000", "CN")


def test_landline_with_area_code() -> None:
    assert normalise.phone("010-6552 9988") == ("+861065529988", "CN")


def test_invalid_phone_is_refused() -> None:
    with pytest.raises(ValueError):
        normalise.phone("12345")


def test_email_lower_cased_and_trimmed() -> None:
    assert normalise.email("  Foo.Bar@Example.COM ") == "foo.bar@example.com"
    with pytest.raises(ValueError):
        normalise.email("not-an-email")


@pytest.mark.parametrize("raw,expected", [
    ("true", True), ("1", True), ("YES", True), ("是", True),
    ("false", False), ("0", False), ("no", False), ("否", False),
])
def test_booleans(raw: str, expected: bool) -> None:
    assert normalise.boolean(raw) is expected


def test_bad_boolean() -> None:
    with pytest.raises(ValueError):
        normalise.boolean("maybe")


def test_dates() -> None:
    assert normalise.iso_date("2018-06-30") == date(2018, 6, 30)
    assert normalise.iso_date("2018-06-30T08:15:00+08:00") == date(2018, 6, 30)
    with pytest.raises(ValueError):
        normalise.iso_date("30/06/2018")


def test_text_nfkc_and_spaces() -> None:
    assert normalise.text("  机场路１号   A\u3000栋 ") == "机场路1号 A 栋"


def test_identity_hash_keyed_and_stable() -> None:
    number = "11010519491231002X"
    first = normalise.identity_hash(number, b"k1")
    assert first == normalise.identity_hash(" 11010519491231002x ", b"k1")
    assert first != normalise.identity_hash(number, b"k2")
    assert number not in first


def test_identity_kind() -> None:
    assert normalise.identity_kind("11010519491231002X") == "id_card"
    assert normalise.identity_kind("91350100M000100Y43") == "business_licence"
    assert normalise.identity_kind("11010519491231002X", "company") == "business_licence"
