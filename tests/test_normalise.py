"""Unit tests of the value normalisers (no database)."""

from datetime import date

import phonenumbers
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


def _spellings(digits: str) -> list[str]:
    a, b, c = digits[:3], digits[3:7], digits[7:]
    return [digits, f"{a} {b} {c}", f"{a}-{b}-{c}", f"+86-{a}-{b}-{c}", f"+86{digits}",
            f"+86 {a} {b} {c}", f"{a} {b}-{c}"]


def test_cn_mobile_read_as_phonenumbers_parses_it() -> None:
    """The shortcut for CN mobile spellings gives what phonenumbers.parse gives, for
    every 3-digit prefix (including those the CN plan dials out or drops)."""
    for prefix in range(100, 200):
        for rest in ("00000000", "12345678", "99990000", "00512345"):
            for spelling in _spellings(f"{prefix}{rest}"):
                assert normalise._parse_phone(spelling, "CN") == phonenumbers.parse(spelling, "CN")


def test_cn_mobile_shortcut_gives_what_phonenumbers_gives() -> None:
    """`phone` reads the usual CN mobile spellings without phonenumbers when the plan
    lists the digits as mobile: the same E.164 form and region, for every 4-digit prefix,
    and the same refusal otherwise."""
    for prefix in range(1000, 2000):
        for rest in ("0000000", "2345678", "9990000", "0512345"):
            for spelling in _spellings(f"{prefix}{rest}"):
                parsed = phonenumbers.parse(spelling, "CN")
                fast = normalise._cn_mobile(spelling)
                if fast is not None:
                    assert phonenumbers.is_valid_number(parsed)
                    assert fast == phonenumbers.format_number(
                        parsed, phonenumbers.PhoneNumberFormat.E164)
                    assert phonenumbers.region_code_for_number(parsed) == "CN"
                    assert normalise.phone(spelling) == (fast, "CN")


def test_text_of_clean_text_is_unchanged() -> None:
    for raw in ["  机场路１号   A\u3000栋 ", "a\u3000\u0301b", "\u00b4 x", "ｆｏｏ\u00a0 bar",
                "\u1100 \u1161", "e\u0301\u0308", "\t\n", "x\u2028y"]:
        cleaned = normalise.text(raw)
        assert normalise.text(cleaned) == cleaned
