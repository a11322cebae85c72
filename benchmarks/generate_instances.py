"""Synthetic optimiser instances (../shared/SOLVER_FORMAT.md) for benchmarks: a region of seats,
townships and villages; a centre or a few at the seats, a station per township, clinics in some
villages; cases living in villages. Deterministic for a seed.

    python -m benchmarks.generate_instances --preset city-20k -o out.json
    python -m benchmarks.generate_instances --cases 50000 --seed 3 -o out.json [--region province]

Cases sit exactly at their village's coordinates, and their travel limits come from a few round
values, so many are interchangeable (same village, service, priority, release, deadline, limit):
that is what a real waiting list looks like and what lets a flow model group them."""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

import numpy as np

from solver.costs import haversine_km
from solver.instance import (
    NO_DEADLINE,
    NO_FACILITY,
    Cases,
    Facilities,
    Instance,
    Policy,
)
from solver.io import write_instance

# Bump whenever the same seed would give a different file: benchmarks cache instances by it.
GENERATOR_VERSION = 3
HORIZON = 12
WEEKS_PER_YEAR = 52.1775

PRESETS = {
    "city-20k": ("city", 20_000),
    "city-100k": ("city", 100_000),
    "province-1m": ("province", 1_000_000),
}

# (lat, lon, relative population, spread of its townships in degrees)
# Hulunbuir's 14 county-level seats: a city of ~120 townships and ~1,300 villages.
CITY_SEATS = [
    (49.21, 119.77, 3.5, 0.15), (49.49, 117.72, 0.9, 0.15), (49.60, 117.43, 1.5, 0.15),
    (49.29, 120.71, 3.0, 0.60), (48.00, 122.74, 3.5, 0.55), (50.24, 120.18, 0.8, 0.60),
    (50.78, 121.52, 0.8, 0.45), (48.13, 123.46, 2.0, 0.40), (48.48, 124.51, 2.3, 0.40),
    (50.57, 123.72, 1.8, 0.80), (49.14, 119.75, 1.2, 0.50), (49.33, 119.42, 0.6, 0.60),
    (48.22, 118.27, 0.4, 0.70), (48.67, 116.82, 0.3, 0.70),
]
# Inner Mongolia's 12 league-level seats with their number of counties and spread (degrees):
# ~100 counties, ~1,000 townships, ~11,000 villages; sparse in the west (Alxa), dense in the east.
PROVINCE_SEATS = [
    # lat, lon, counties, population per county, spread
    (40.84, 111.75, 9, 1.6, 0.6), (40.66, 109.84, 9, 1.4, 0.7), (39.66, 106.79, 3, 0.8, 0.2),
    (42.26, 118.89, 12, 1.5, 1.2), (43.65, 122.24, 8, 1.5, 1.0), (39.61, 109.78, 9, 0.9, 1.0),
    (49.21, 119.77, 14, 0.8, 1.6), (40.74, 107.39, 7, 0.9, 0.9), (41.00, 113.13, 11, 0.9, 0.9),
    (46.08, 122.04, 6, 1.2, 1.0), (43.93, 116.09, 12, 0.4, 1.6), (38.85, 105.73, 3, 0.15, 2.5),
]
PROVINCE_BOX = (37.0, 53.0, 97.0, 126.0)  # lat min, lat max, lon min, lon max
CITY_BOX = (47.0, 53.3, 115.5, 126.1)


@dataclass(frozen=True)
class Service:
    name: str
    tiers: tuple[float, float, float]  # share of centres, stations, clinics offering it
    child: float  # relative demand among children
    adult: float  # relative demand among other cases
    supply: float  # total capacity over the horizon / demand


# Sorted by name, as Instance.services must be.
SERVICES = sorted([
    Service("autism_assessment", (1.0, 0.0, 0.0), 10, 0.1, 0.9),
    Service("autism_training", (1.0, 0.3, 0.0), 35, 1, 0.45),
    Service("hearing_assessment", (1.0, 0.0, 0.0), 5, 4, 0.9),
    Service("hearing_device_fitting", (1.0, 0.0, 0.0), 3, 5, 0.8),
    Service("hearing_training", (1.0, 0.2, 0.0), 15, 2, 0.5),
    Service("speech_training", (1.0, 0.3, 0.0), 8, 3, 0.7),
    Service("vision_assessment", (1.0, 0.0, 0.0), 1, 4, 0.9),
    Service("vision_device_fitting", (1.0, 0.0, 0.0), 1, 4, 0.85),
    Service("physical_assessment", (1.0, 0.0, 0.0), 3, 8, 0.9),
    Service("physical_training", (1.0, 1.0, 0.6), 8, 25, 0.85),
    Service("physical_device_fitting", (1.0, 0.5, 0.0), 2, 12, 0.85),
    Service("physical_follow_up", (0.0, 1.0, 1.0), 1, 12, 0.95),
    Service("intellectual_assessment", (1.0, 0.0, 0.0), 4, 2, 0.9),
    Service("intellectual_training", (1.0, 0.4, 0.0), 6, 4, 0.7),
    Service("mental_day_care", (1.0, 0.3, 0.0), 0, 6, 0.8),
    Service("mental_follow_up", (0.0, 1.0, 1.0), 0, 10, 0.95),
], key=lambda service: service.name)
PRIORITY_SHARES = (0.15, 0.35, 0.15, 0.35)  # child, severe, poor, standard
TIER_WEIGHT = (20.0, 4.0, 1.0)  # how much more a centre / station takes than a clinic
TRAVEL_LIMITS = (300.0, 400.0, 500.0, 600.0)


@dataclass
class Geography:
    seat_lat: np.ndarray  # county (city preset) or county (province preset) seats
    seat_lon: np.ndarray
    seat_is_capital: np.ndarray  # bool: city or league seat (gets several centres)
    township_lat: np.ndarray
    township_lon: np.ndarray
    township_seat: np.ndarray  # index into seats
    village_lat: np.ndarray
    village_lon: np.ndarray
    village_township: np.ndarray
    village_population: np.ndarray  # relative


def _scatter(rng, lat, lon, spread, count, box):
    """`count` points around (lat, lon), degrees of longitude widened for the latitude."""
    lats = rng.normal(lat, spread, count)
    lons = rng.normal(lon, spread / np.cos(np.radians(lat)), count)
    return np.clip(lats, box[0], box[1]), np.clip(lons, box[2], box[3])


def city_geography(rng) -> Geography:
    seats = np.array(CITY_SEATS)
    capital = np.zeros(len(seats), dtype=bool)
    capital[0] = True
    return _grow(rng, seats[:, 0], seats[:, 1], seats[:, 2], seats[:, 3], capital,
                 townships=120, villages=1300, box=CITY_BOX)


def province_geography(rng) -> Geography:
    lat, lon, pop, spread, capital = [], [], [], [], []
    for league_lat, league_lon, counties, people, league_spread in PROVINCE_SEATS:
        c_lat, c_lon = _scatter(rng, league_lat, league_lon, league_spread, counties,
                                PROVINCE_BOX)
        c_lat[0], c_lon[0] = league_lat, league_lon  # the league seat is a county seat too
        lat.extend(c_lat)
        lon.extend(c_lon)
        pop.extend(people * rng.lognormal(0, 0.4, counties))
        spread.extend([min(0.35, league_spread / 3)] * counties)
        capital.extend([True] + [False] * (counties - 1))
    return _grow(rng, np.array(lat), np.array(lon), np.array(pop), np.array(spread),
                 np.array(capital), townships=1000, villages=11000, box=PROVINCE_BOX)


def _grow(rng, seat_lat, seat_lon, seat_pop, seat_spread, capital, townships, villages, box):
    """Townships around seats (more where more people live), villages around townships."""
    share = seat_pop / seat_pop.sum()
    per_seat = np.maximum(1, np.round(share * townships)).astype(int)
    t_seat = np.repeat(np.arange(len(seat_lat)), per_seat)
    t_lat = np.empty(len(t_seat))
    t_lon = np.empty(len(t_seat))
    for k in range(len(seat_lat)):
        where = np.flatnonzero(t_seat == k)
        t_lat[where], t_lon[where] = _scatter(rng, seat_lat[k], seat_lon[k], seat_spread[k],
                                              len(where), box)
        t_lat[where[0]], t_lon[where[0]] = seat_lat[k], seat_lon[k]  # the seat's own township
    t_pop = seat_pop[t_seat] / per_seat[t_seat] * rng.lognormal(0, 0.5, len(t_seat))
    per_township = np.maximum(1, rng.poisson(villages / len(t_seat), len(t_seat)))
    v_township = np.repeat(np.arange(len(t_seat)), per_township)
    v_lat, v_lon = _scatter(rng, 0.0, 0.0, 1.0, len(v_township), (-90, 90, -180, 180))
    # Villages 5-25 km from their township centre: about 0.05-0.2 degrees.
    v_lat = np.clip(t_lat[v_township] + v_lat * 0.08, box[0], box[1])
    v_lon = np.clip(t_lon[v_township] + v_lon * 0.08 / np.cos(np.radians(t_lat[v_township])),
                    box[2], box[3])
    v_pop = t_pop[v_township] / per_township[v_township] * rng.lognormal(0, 0.7, len(v_township))
    return Geography(seat_lat, seat_lon, capital, t_lat, t_lon, t_seat, np.round(v_lat, 5),
                     np.round(v_lon, 5), v_township, v_pop)


def _facilities(rng, geo: Geography):
    """Centres (three at a city or league seat, one at about half the other seats), a station per
    township, a clinic in a quarter of the villages. Returns tier, lat, lon, catchment population
    and the facility's seat (for naming)."""
    seat_pop = np.bincount(geo.township_seat[geo.village_township], geo.village_population,
                           minlength=len(geo.seat_lat))
    town_pop = np.bincount(geo.village_township, geo.village_population,
                           minlength=len(geo.township_lat))
    tiers, lat, lon, pop = [], [], [], []
    for k in range(len(geo.seat_lat)):
        count = 3 if geo.seat_is_capital[k] else int(rng.random() < 0.5)
        for _ in range(count):
            tiers.append(0)
            lat.append(round(geo.seat_lat[k] + rng.normal(0, 0.01), 5))
            lon.append(round(geo.seat_lon[k] + rng.normal(0, 0.01), 5))
            pop.append(seat_pop[k] / count)
    tiers += [1] * len(geo.township_lat)
    lat += np.round(geo.township_lat, 5).tolist()
    lon += np.round(geo.township_lon, 5).tolist()
    pop += town_pop.tolist()
    clinics = np.flatnonzero(rng.random(len(geo.village_lat)) < 0.25)
    tiers += [2] * len(clinics)
    lat += geo.village_lat[clinics].tolist()
    lon += geo.village_lon[clinics].tolist()
    pop += geo.village_population[clinics].tolist()
    return np.array(tiers, dtype=np.int8), np.array(lat), np.array(lon), np.array(pop)


def _capacity(rng, tier, catchment, demand: np.ndarray) -> np.ndarray:
    """Weekly intakes (F, S, H): per service, `supply` x demand spread over the offering facilities
    by tier and catchment. A rate of one or more places a week is rounded to a constant; a smaller
    one becomes a place every few weeks; a tenth of the offers change by half at mid-horizon (a
    therapist leaves or joins)."""
    n_fac = len(tier)
    capacity = np.zeros((n_fac, len(SERVICES), HORIZON), dtype=np.int32)
    later = np.arange(HORIZON) >= HORIZON // 2
    for s, service in enumerate(SERVICES):
        offers = rng.random(n_fac) < np.asarray(service.tiers)[tier]
        if not offers.any() or demand[s] == 0:
            continue
        weight = np.where(offers, np.asarray(TIER_WEIGHT)[tier] * catchment, 0.0)
        rate = service.supply * demand[s] / HORIZON * weight / weight.sum()  # places per week
        change = rng.random(n_fac) < 0.1
        factor = np.where(rng.random(n_fac) < 0.5, 0.5, 1.5)
        per_week = np.where(change[:, None] & later[None, :], (rate * factor)[:, None],
                            rate[:, None])
        # Cumulative rounding with a random phase: a rate of 0.25 gives one place every 4 weeks,
        # and a constant rate >= 1 a constant number (with the same phase every week).
        phase = rng.random(n_fac)[:, None]
        steady = (rate >= 1)[:, None] & ~change[:, None]
        cumulative = np.floor(np.cumsum(per_week, axis=1) + phase)
        counts = np.diff(np.concatenate([np.floor(phase), cumulative], axis=1), axis=1)
        counts = np.where(steady, np.floor(rate[:, None] + phase), counts)
        capacity[:, s, :] = np.where(offers[:, None], counts, 0)
    return capacity


def generate(cases: int, seed: int, region: str = "city", name: str | None = None) -> Instance:
    """A synthetic instance with `cases` cases in a city- or province-sized region."""
    rng = np.random.default_rng(seed)
    geo = city_geography(rng) if region == "city" else province_geography(rng)
    tier, f_lat, f_lon, catchment = _facilities(rng, geo)

    # Cases: a village by population, a priority, a service by the priority's mix.
    village = rng.choice(len(geo.village_lat), size=cases,
                         p=geo.village_population / geo.village_population.sum())
    priority = rng.choice(4, size=cases, p=PRIORITY_SHARES).astype(np.int8)
    is_child = priority == 0
    service = np.empty(cases, dtype=np.int32)
    for group, attr in ((is_child, "child"), (~is_child, "adult")):
        mix = np.array([getattr(s, attr) for s in SERVICES], dtype=float)
        service[group] = rng.choice(len(SERVICES), size=int(group.sum()), p=mix / mix.sum())
    release = np.where(rng.random(cases) < 0.8, 0, rng.integers(1, HORIZON, cases))
    release = release.astype(np.int32)
    # A child's deadline is the week of its 7th birthday: age uniform over 0-7 years.
    age_weeks = rng.random(cases) * 7 * WEEKS_PER_YEAR
    deadline = np.where(is_child, np.floor(7 * WEEKS_PER_YEAR - age_weeks), NO_DEADLINE)
    deadline = deadline.astype(np.int32)
    max_travel = np.where(rng.random(cases) < 0.5, rng.choice(TRAVEL_LIMITS, cases), np.inf)

    demand = np.bincount(service, minlength=len(SERVICES))
    capacity = _capacity(rng, tier, catchment, demand)
    lat, lon = geo.village_lat[village], geo.village_lon[village]
    current_facility, current_week = _current_places(rng, lat, lon, service, release, deadline,
                                                     f_lat, f_lon, capacity)

    prefix = ("CT", "ST", "CL")
    counters = [0, 0, 0]
    facility_ids = []
    for t in tier.tolist():
        counters[t] += 1
        facility_ids.append(f"{prefix[t]}{counters[t]:05d}")
    width = max(6, len(str(cases)))
    return Instance(
        name=name or f"{region}-{cases}-seed{seed}", horizon_weeks=HORIZON,
        policy=Policy.from_mapping({}), services=[s.name for s in SERVICES],
        facilities=Facilities(ids=facility_ids, tier=tier, lat=f_lat, lon=f_lon,
                              capacity=capacity),
        cases=Cases(ids=[f"C{i:0{width}d}" for i in range(1, cases + 1)], service=service,
                    priority=priority, lat=lat, lon=lon, release=release, deadline=deadline,
                    max_travel_km=max_travel, current_facility=current_facility,
                    current_week=current_week))


def _current_places(rng, lat, lon, service, release, deadline, f_lat, f_lon, capacity):
    """About 2% of cases already hold a place: at the nearest facility offering their service, in a
    week of their window (any week when the window is empty)."""
    n = len(lat)
    facility = np.full(n, NO_FACILITY, dtype=np.int32)
    week = np.zeros(n, dtype=np.int32)
    holders = np.flatnonzero(rng.random(n) < 0.02)
    last = np.minimum(deadline[holders], HORIZON - 1)
    first = np.where(release[holders] <= last, release[holders], 0)
    last = np.where(release[holders] <= last, last, HORIZON - 1)
    week[holders] = first + (rng.random(len(holders)) * (last - first + 1)).astype(np.int32)
    for s in np.unique(service[holders]):
        who = holders[service[holders] == s]
        offering = np.flatnonzero(capacity[:, s, :].any(axis=1))
        if not len(offering):
            continue
        for start in range(0, len(who), 2000):
            part = who[start:start + 2000]
            km = haversine_km(lat[part, None], lon[part, None], f_lat[None, offering],
                              f_lon[None, offering])
            facility[part] = offering[np.argmin(km, axis=1)]
    return facility, week


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generate_instances",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=sorted(PRESETS))
    parser.add_argument("--cases", type=int, help="number of cases (default: the preset's)")
    parser.add_argument("--region", choices=("city", "province"),
                        help="default: the preset's; city up to 200,000 cases, else province")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args(argv)
    if args.preset is None and args.cases is None:
        parser.error("give --preset or --cases")
    region, cases = PRESETS.get(args.preset, (None, None))
    cases = args.cases or cases
    region = args.region or region or ("city" if cases <= 200_000 else "province")
    name = f"{args.preset}-seed{args.seed}" if args.preset else None
    start = time.perf_counter()
    instance = generate(cases, args.seed, region, name)
    built = time.perf_counter()
    write_instance(instance, args.output)
    done = time.perf_counter()
    print(f"{args.output}: {cases} cases, {len(instance.facilities)} facilities, "
          f"{len(instance.services)} services; generated in {built - start:.1f} s, "
          f"written in {done - built:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
