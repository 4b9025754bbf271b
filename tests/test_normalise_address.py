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


def test_per_address_parse_matches_cpca_transform() -> None:
    """`parse` calls cpca_new's per-address function (fast, private); `parse_with_frame`
    its public `transform` (a DataFrame, with NaN for None). On the generator's spellings
    and on awkward input they place every address the same."""
    import random

    from alliance.generate.geography import districts, spelling, street_address
    from loaders.address import _place, parse, parse_with_frame
    from loaders.normalise import text

    rng = random.Random(3)
    places = rng.sample(districts(), 200)
    texts = [spelling(rng, d, street_address(rng, d)[1]) for d in places]
    texts += ["", "Unit 5, Nowhere Lane", "朝阳区建国路1号", "北京市", "广东省广州市", "市辖区",
              "深圳市南山区科技园路８号B栋", "新疆维吾尔自治区乌鲁木齐市天山区人民路1号"]
    cleaned = [text(t) for t in texts]
    fast = [_place(c, r) for c, r in zip(cleaned, parse(cleaned), strict=True)]
    framed = [_place(c, r) for c, r in zip(cleaned, parse_with_frame(cleaned), strict=True)]
    assert fast == framed
    assert sum(p.adcode is not None for p in fast) >= 200
