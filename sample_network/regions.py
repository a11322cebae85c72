"""Regions of the sample: the city, its 14 real divisions, and invented townships and villages
placed around each division's seat as densely as `geography.DISTRICTS` says."""
from __future__ import annotations

import math
from dataclasses import dataclass

from sample_network import names
from sample_network.geography import CITY, DISTRICTS, District, offset, place_near

# Township codes follow the statistical convention: streets 001-099, towns (镇) 101-199,
# townships (乡) and sumu 201-399; within a township, communities 001-199, villages 201-399.
CODE_BLOCK = {"street": 1, "town": 101, "xiang": 201, "sumu": 201,
              "community": 1, "village": 201, "gacha": 201}

# Kind in the file (docs/import-format.md) of each local kind used here.
TOWNSHIP_KIND = {"street": "street", "town": "township", "xiang": "township", "sumu": "sumu"}

SEAT_COMMUNITIES = (4, 6)  # communities of a seat town in a division without streets
STREET_KM = (1.0, 5.0)  # an urban street's distance from the seat
COMMUNITY_KM = (0.3, 2.5)  # a community's distance from its street or town


class CodeBlocks:
    """Hands out the next number of a kind's block; kinds sharing a block share the counter."""

    def __init__(self):
        self.used: dict[int, int] = {}

    def next(self, local_kind: str) -> int:
        start = CODE_BLOCK[local_kind]
        number = self.used.get(start, start - 1) + 1
        self.used[start] = number
        return number


@dataclass
class Place:
    code: str
    parent_code: str | None
    level: str
    kind: str
    name_zh: str
    name_en: str
    lat: float
    lon: float
    district: District | None = None
    local_kind: str = ""  # street, town, xiang, sumu, community, village, gacha
    seat: bool = False  # the township at its division's seat

    def row(self) -> dict:
        return {"code": self.code, "parent_code": self.parent_code or "", "level": self.level,
                "kind": self.kind, "name_zh": self.name_zh, "name_en": self.name_en,
                "lat": round(self.lat, 4), "lon": round(self.lon, 4)}


def build_regions(rng) -> list[Place]:
    """All regions, parents before children, in code order within each parent."""
    lat, lon = CITY["seat"]
    places = [Place(CITY["code"], None, "city", "city", CITY["name_zh"], CITY["name_en"],
                    lat, lon)]
    for d in DISTRICTS:
        places.append(Place(d.code, CITY["code"], "district", d.kind, d.name_zh, d.name_en,
                            *d.seat, district=d))
        used: set[str] = set()  # names are unique within a division
        for township in build_townships(rng, d, used):
            places.append(township)
            places.extend(build_villages(rng, d, township, used))
    return places


def township_plan(d: District) -> list[str]:
    """The local kinds of a division's townships, seat first: streets, towns (镇), 乡, sumu."""
    xiang = round(d.towns * d.xiang_share)
    return (["street"] * d.streets + ["town"] * (d.towns - xiang) + ["xiang"] * xiang
            + ["sumu"] * d.sumu)


def build_townships(rng, d: District, used: set[str]) -> list[Place]:
    result = []
    numbers = CodeBlocks()
    for i, local_kind in enumerate(township_plan(d)):
        number = numbers.next(local_kind)
        seat = i == 0
        if seat:
            point = place_near(rng, d.seat, (0.2, 1.5), d.box)
        elif local_kind == "street":
            point = place_near(rng, d.seat, STREET_KM, d.box)
        else:
            point = place_near(rng, d.seat, d.township_km, d.box)
        make = names.mongol_place if local_kind == "sumu" else names.han_place
        zh, en = names.region_name(names.unique(make, rng, used), local_kind)
        result.append(Place(f"{d.code}{number:03d}", d.code, "township",
                            TOWNSHIP_KIND[local_kind], zh, en, *point, district=d,
                            local_kind=local_kind, seat=seat))
    return result


def village_plan(rng, d: District, township: Place) -> list[str]:
    """The local kinds of a township's villages: communities first (urban), then villages or
    gacha. A seat town of a division without streets has a few communities too."""
    if township.local_kind == "street":
        return ["community"] * max(3, round(d.communities_per_street * rng.uniform(0.7, 1.3)))
    rural = "gacha" if township.local_kind == "sumu" or d.pastoral else "village"
    count = max(3, round(d.villages_per_township * rng.uniform(0.6, 1.4)))
    communities = rng.randint(*SEAT_COMMUNITIES) if township.seat else 0
    return ["community"] * communities + [rural] * count


def build_villages(rng, d: District, township: Place, used: set[str]) -> list[Place]:
    result = []
    numbers = CodeBlocks()
    origin = (township.lat, township.lon)
    for local_kind in village_plan(rng, d, township):
        number = numbers.next(local_kind)
        if local_kind == "community":
            point = place_near(rng, origin, COMMUNITY_KM, d.box)
            make = names.han_place
        else:
            point = place_near(rng, origin, d.village_km, d.box)
            make = names.mongol_place if local_kind == "gacha" else names.han_village
        zh, en = names.region_name(names.unique(make, rng, used), local_kind)
        result.append(Place(f"{township.code}{number:03d}", township.code, "village", local_kind,
                            zh, en, *point, district=d, local_kind=local_kind))
    return result


def jitter(rng, place: Place, km: tuple[float, float]) -> tuple[float, float]:
    """A facility's site: near its region's seat, not exactly on it."""
    return offset(place.lat, place.lon, rng.uniform(*km), rng.uniform(0, math.tau))
