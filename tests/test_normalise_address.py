"""Address normalisation (cpca_new), no database."""

from loaders.address import AddressResolver, division_chain


def test_address_without_province_same_key_as_full() -> None:
    resolver = AddressResolver()
    short, full, wide = resolver.resolve_many(
        ["广州市白云区机场路1号", "广东省广州市白云区机场路1号", "广东省 广州市白云区机场路１号"]
    )
    assert short.address_key == full.address_key == wide.address_key
    assert full.adcode == "440111"
    assert (full.province, full.city, full.district) == ("广东省", "广州市", "白云区")


def test_different_street_different_key() -> None:
    resolver = AddressResolver()
    one, two = resolver.resolve_many(["广州市白云区机场路1号", "广州市白云区机场路2号"])
    assert one.address_key != two.address_key


def test_unplaceable_address_keeps_text_no_division() -> None:
    placed = AddressResolver().resolve("Unit 5, Nowhere Lane")
    assert placed.adcode is None
    assert placed.normalized == "Unit 5, Nowhere Lane"


def test_division_chain() -> None:
    chain = division_chain("440111")
    assert [(code, level) for code, _, level in chain] == [
        ("440111", "district"), ("440100", "city"), ("440000", "province")]
    assert chain[0][1] == "白云区" and chain[2][1] == "广东省"
