"""The fixed geography of the sample: Hulunbuir's 14 real county-level divisions and how densely
each is settled. Everything below the division level is invented by the generator from these
figures; the figures themselves are orders of magnitude, not statistics."""
from __future__ import annotations

import math
from dataclasses import dataclass

CITY = {"code": "150700", "name_zh": "呼伦贝尔市", "name_en": "Hulunbuir", "seat": (49.21, 119.77)}

# The whole sample stays inside this box (roughly the city's extent).
LAT_RANGE = (47.0, 53.3)
LON_RANGE = (115.5, 126.1)

KM_PER_DEGREE_LAT = 111.0

Point = tuple[float, float]  # lat, lon
Box = tuple[float, float, float, float]  # lat_min, lat_max, lon_min, lon_max


@dataclass(frozen=True)
class District:
    code: str  # GB/T 2260
    name_zh: str
    name_en: str
    kind: str  # district | banner | county_city
    seat: Point  # DOMAIN.md
    # Rough territory: townships and villages stay inside, so a banner on the Russian or
    # Mongolian border does not spill over it.
    box: Box
    streets: int  # urban streets (街道) at the seat
    towns: int  # townships (镇, 乡)
    sumu: int  # pastoral townships (苏木)
    communities_per_street: float
    villages_per_township: float  # mean, for towns and sumu
    township_km: tuple[float, float]  # distance of a rural township from the seat
    village_km: tuple[float, float]  # distance of a rural village from its township
    population: float  # relative number of residents (about 10,000s), weights persons
    pastoral: bool = False  # rural units are gacha with Mongolian names, even under a town
    xiang_share: float = 0.1  # share of towns that are 乡 rather than 镇
    # Weights of the naming styles of residents (see names.py).
    name_styles: tuple[tuple[str, float], ...] = (("han", 0.92), ("mongol", 0.08))


# West (steppe: New Barag Right/Left, Old Barag, Manzhouli, Jalainur) is sparse: few townships,
# villages 20-80 km apart. East (Zhalantun, Arun, Morin Dawa: farmland) is dense.
DISTRICTS = (
    District("150702", "海拉尔区", "Hailar District", "district", (49.21, 119.77),
             (49.05, 49.45, 119.35, 120.35), streets=7, towns=2, sumu=0,
             communities_per_street=9, villages_per_township=6, township_km=(12, 30),
             village_km=(3, 15), population=35),
    District("150703", "扎赉诺尔区", "Jalainur District", "district", (49.49, 117.72),
             (49.35, 49.62, 117.55, 117.98), streets=3, towns=1, sumu=0,
             communities_per_street=6, villages_per_township=6, township_km=(8, 20),
             village_km=(5, 18), population=9),
    District("150781", "满洲里市", "Manzhouli", "county_city", (49.60, 117.43),
             (49.35, 49.78, 117.25, 117.90), streets=4, towns=0, sumu=1,
             communities_per_street=7, villages_per_township=6, township_km=(12, 30),
             village_km=(10, 30), population=15, name_styles=(("han", 0.85), ("mongol", 0.15))),
    District("150782", "牙克石市", "Yakeshi", "county_city", (49.29, 120.71),
             (48.85, 50.85, 120.20, 122.45), streets=4, towns=7, sumu=0,
             communities_per_street=8, villages_per_township=10, township_km=(30, 140),
             village_km=(3, 25), population=30),
    District("150783", "扎兰屯市", "Zhalantun", "county_city", (48.01, 122.74),
             (47.10, 48.60, 120.60, 123.30), streets=3, towns=11, sumu=0,
             communities_per_street=8, villages_per_township=18, township_km=(15, 90),
             village_km=(2, 12), population=36, xiang_share=0.25),
    District("150784", "额尔古纳市", "Ergun", "county_city", (50.24, 120.19),
             (50.00, 52.60, 119.25, 121.80), streets=1, towns=5, sumu=1,
             communities_per_street=6, villages_per_township=8, township_km=(25, 190),
             village_km=(5, 30), population=7),
    District("150785", "根河市", "Genhe", "county_city", (50.78, 121.52),
             (50.40, 52.30, 120.80, 122.60), streets=2, towns=4, sumu=0,
             communities_per_street=7, villages_per_township=6, township_km=(25, 150),
             village_km=(5, 25), population=11),
    District("150721", "阿荣旗", "Arun Banner", "banner", (48.13, 123.46),
             (47.90, 49.20, 122.00, 124.10), streets=0, towns=12, sumu=0,
             communities_per_street=0, villages_per_township=15, township_km=(12, 80),
             village_km=(2, 12), population=27, xiang_share=0.3),
    District("150722", "莫力达瓦达斡尔族自治旗", "Morin Dawa Daur Autonomous Banner", "banner",
             (48.48, 124.51), (48.10, 49.80, 123.60, 125.20), streets=0, towns=14, sumu=0,
             communities_per_street=0, villages_per_township=17, township_km=(12, 100),
             village_km=(2, 12), population=27, xiang_share=0.35,
             name_styles=(("han", 0.7), ("daur", 0.25), ("mongol", 0.05))),
    District("150723", "鄂伦春自治旗", "Oroqen Autonomous Banner", "banner", (50.57, 123.72),
             (48.85, 51.40, 121.90, 126.05), streets=0, towns=12, sumu=0,
             communities_per_street=0, villages_per_township=10, township_km=(30, 200),
             village_km=(3, 25), population=22, xiang_share=0.2,
             name_styles=(("han", 0.88), ("oroqen", 0.06), ("mongol", 0.06))),
    District("150724", "鄂温克族自治旗", "Evenk Autonomous Banner", "banner", (49.14, 119.75),
             (47.40, 49.45, 118.90, 121.10), streets=0, towns=3, sumu=7,
             communities_per_street=0, villages_per_township=7, township_km=(20, 130),
             village_km=(10, 50), population=13, pastoral=True, xiang_share=0.0,
             name_styles=(("han", 0.5), ("mongol", 0.35), ("evenk", 0.15))),
    District("150725", "陈巴尔虎旗", "Old Barag Banner", "banner", (49.33, 119.43),
             (49.00, 50.20, 118.40, 121.00), streets=0, towns=3, sumu=5,
             communities_per_street=0, villages_per_township=6, township_km=(20, 110),
             village_km=(20, 80), population=5.5, pastoral=True, xiang_share=0.0,
             name_styles=(("han", 0.5), ("mongol", 0.45), ("evenk", 0.05))),
    District("150726", "新巴尔虎左旗", "New Barag Left Banner", "banner", (48.22, 118.27),
             (47.10, 49.10, 117.60, 120.10), streets=0, towns=2, sumu=6,
             communities_per_street=0, villages_per_township=6, township_km=(25, 140),
             village_km=(20, 80), population=4, pastoral=True, xiang_share=0.0,
             name_styles=(("han", 0.3), ("mongol", 0.7))),
    District("150727", "新巴尔虎右旗", "New Barag Right Banner", "banner", (48.67, 116.82),
             (47.65, 49.60, 115.55, 117.90), streets=0, towns=3, sumu=4,
             communities_per_street=0, villages_per_township=6, township_km=(25, 140),
             village_km=(20, 80), population=3.5, pastoral=True, xiang_share=0.0,
             name_styles=(("han", 0.3), ("mongol", 0.7))),
)


def offset(lat: float, lon: float, km: float, bearing: float) -> Point:
    """The point `km` away from (lat, lon) in direction `bearing` (radians from north); a flat
    approximation, good enough at these distances."""
    dlat = km * math.cos(bearing) / KM_PER_DEGREE_LAT
    dlon = km * math.sin(bearing) / (KM_PER_DEGREE_LAT * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def distance_km(a: Point, b: Point) -> float:
    """Flat-earth distance, used only to weight where persons live."""
    dlat = (a[0] - b[0]) * KM_PER_DEGREE_LAT
    dlon = (a[1] - b[1]) * KM_PER_DEGREE_LAT * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(dlat, dlon)


def inside(box: Box, point: Point) -> bool:
    lat_min, lat_max, lon_min, lon_max = box
    return lat_min <= point[0] <= lat_max and lon_min <= point[1] <= lon_max


def clamp(box: Box, point: Point) -> Point:
    lat_min, lat_max, lon_min, lon_max = box
    return min(max(point[0], lat_min), lat_max), min(max(point[1], lon_min), lon_max)


def place_near(rng, origin: Point, km: tuple[float, float], box: Box) -> Point:
    """A random point between km[0] and km[1] from origin, inside box. Retries rather than clamps
    first, so points do not pile up on the edge of a district's territory."""
    for _ in range(100):
        point = offset(*origin, rng.uniform(*km), rng.uniform(0, 2 * math.pi))
        if inside(box, point):
            return point
    return clamp(box, point)
