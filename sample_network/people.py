"""Persons and cases of the sample: who needs what, where they live, since when.

The mix follows DOMAIN.md: a few thousand children aged 0-6 (the free rescue programme), many
severe adults, some poor families, everyone else standard. Identifiers are valid in form
(GB 11643 check character, embedded birth date, sex parity) but invented."""
from __future__ import annotations

import bisect
import itertools
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from rehab_net.people.identifiers import make_certificate, make_resident_id
from rehab_net.people.states import OPEN_CASE_STATUSES
from sample_network import names
from sample_network.geography import distance_km
from sample_network.regions import Place

PERSONS = 20_000
REFERENCE_DAY = date(2026, 11, 16)  # ages are reckoned on this day (the test suite's today)
FIRST_REGISTRATION = date(2025, 6, 1)
LAST_REGISTRATION = date(2026, 11, 1)  # the files must load on any day after this
LAST_CHILD_BIRTH = date(2026, 8, 31)  # leaves a month at least between birth and registration
HISTORY_END = date(2026, 4, 30)  # completed or closed cases were registered before this

# Age groups: share of persons, and how each group's categories are spread.
GROUPS = {"child": 0.175, "youth": 0.06, "adult": 0.415, "elderly": 0.35}
CATEGORY_MIX = {
    "child": {"autism": 0.28, "hearing": 0.18, "speech": 0.16, "intellectual": 0.16,
              "physical": 0.17, "vision": 0.05},
    "youth": {"autism": 0.25, "intellectual": 0.30, "physical": 0.15, "hearing": 0.10,
              "speech": 0.08, "vision": 0.04, "multiple": 0.06, "mental": 0.02},
    "adult": {"physical": 0.38, "intellectual": 0.13, "mental": 0.16, "hearing": 0.07,
              "vision": 0.09, "speech": 0.03, "multiple": 0.14},
    "elderly": {"physical": 0.45, "vision": 0.18, "hearing": 0.18, "mental": 0.04,
                "intellectual": 0.03, "speech": 0.03, "multiple": 0.09},
}
# The requested service's kind, by category and by whether the person is a child (0-17).
# Young children come for assessment, surgery, devices and intensive training; adults more for
# devices, follow-up and day care.
KIND_MIX_YOUNG = {
    "autism": {"assessment": 0.25, "training": 0.7, "follow_up": 0.05},
    "hearing": {"assessment": 0.2, "surgery": 0.08, "device_fitting": 0.27, "training": 0.45},
    "speech": {"assessment": 0.25, "training": 0.75},
    "intellectual": {"assessment": 0.25, "training": 0.65, "day_care": 0.05, "follow_up": 0.05},
    "physical": {"assessment": 0.12, "surgery": 0.08, "device_fitting": 0.2, "training": 0.6},
    "vision": {"assessment": 0.3, "surgery": 0.2, "device_fitting": 0.25, "training": 0.25},
    "multiple": {"assessment": 0.1, "training": 0.4, "day_care": 0.3, "follow_up": 0.2},
    "mental": {"assessment": 0.2, "training": 0.4, "follow_up": 0.4},
}
KIND_MIX_ADULT = {
    "physical": {"assessment": 0.07, "surgery": 0.04, "device_fitting": 0.25, "training": 0.33,
                 "day_care": 0.06, "follow_up": 0.25},
    "vision": {"assessment": 0.13, "surgery": 0.2, "device_fitting": 0.3, "training": 0.12,
               "follow_up": 0.25},
    "hearing": {"assessment": 0.15, "device_fitting": 0.5, "training": 0.1, "follow_up": 0.25},
    "speech": {"assessment": 0.1, "training": 0.55, "follow_up": 0.35},
    "intellectual": {"assessment": 0.1, "training": 0.3, "day_care": 0.3, "follow_up": 0.3},
    "mental": {"assessment": 0.12, "training": 0.18, "day_care": 0.15, "follow_up": 0.55},
    "multiple": {"assessment": 0.1, "training": 0.2, "day_care": 0.35, "follow_up": 0.3},
}
# A multiple-disability case may ask for any service (docs/domain-rules.md): some want a
# wheelchair or physical therapy.
MULTIPLE_ELSEWHERE = (0.06, ("physical_device_fitting", "physical_training"))
GRADES = {"young": (0.25, 0.35, 0.25, 0.15), "adult": (0.2, 0.3, 0.3, 0.2)}
MALE_SHARE = {"autism": 0.8}  # autism is diagnosed about four times as often in boys
MALE_SHARE_DEFAULT = 0.55
CERTIFIED = {"child": 0.25, "youth": 0.7, "adult": 0.88, "elderly": 0.85}
# Poverty: 低保 and 建档立卡 are rural programmes mostly; about 15% overall.
POVERTY_RURAL = {"none": 0.81, "dibao": 0.11, "jiandang": 0.08}
POVERTY_URBAN = {"none": 0.89, "dibao": 0.10, "jiandang": 0.01}
# Where persons live: more in towns and near seats.
VILLAGE_WEIGHT = {"community": 2.5, "village": 1.0, "gacha": 0.5}
NEAR_SEAT_KM = 30.0
# Finished cases are few: each is replayed through the referral workflow when the sample is
# loaded (sample_network/activity.py), and load time counts.
HISTORICAL_PRIMARY = 0.006  # persons whose only case is already completed or closed
EXTRA_HISTORICAL = 100  # persons with an earlier completed or closed case besides the open one
EXTRA_OPEN = 300  # persons with two open cases (e.g. hearing aid and auditory training)
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                   "152", "155", "156", "157", "158", "159", "166", "176", "177", "178", "180",
                   "181", "182", "183", "185", "186", "187", "188", "189", "191", "198", "199")
AREA_CODE = "0470"  # Hulunbuir's fixed-line area code


@dataclass
class Person:
    code: str
    name: str
    resident_id: str
    birth_date: date
    sex: str
    home: Place
    guardian_name: str | None
    guardian_phone: str | None
    poverty_status: str
    group: str = ""
    category: str = ""
    grade: int = 0
    cases: list[Case] = field(default_factory=list)

    def row(self) -> dict:
        return {"code": self.code, "name": self.name, "resident_id": self.resident_id,
                "birth_date": self.birth_date.isoformat(), "sex": self.sex,
                "home_region_code": self.home.code, "guardian_name": self.guardian_name or "",
                "guardian_phone": self.guardian_phone or "",
                "poverty_status": self.poverty_status}


@dataclass
class Case:
    code: str
    person: Person
    category: str
    grade: int
    service_code: str
    registered_on: date
    status: str
    certificate_number: str | None

    @property
    def open(self) -> bool:
        return self.status in OPEN_CASE_STATUSES

    def row(self) -> dict:
        return {"code": self.code, "person_code": self.person.code, "category": self.category,
                "grade": self.grade, "service_code": self.service_code,
                "registered_on": self.registered_on.isoformat(), "status": self.status,
                "certificate_number": self.certificate_number or ""}


def pick(rng, weights: dict):
    """One key of `weights`, drawn in proportion to its value."""
    return rng.choices(list(weights), list(weights.values()))[0]


def build_persons(rng, regions: list[Place]) -> list[Person]:
    """Persons and their cases; case codes follow person order."""
    draw_home = home_sampler(regions)
    taken_ids: set[str] = set()
    groups = [g for g, share in GROUPS.items() for _ in range(round(PERSONS * share))]
    rng.shuffle(groups)
    persons = [make_person(rng, i, group, draw_home(rng), taken_ids)
               for i, group in enumerate(groups, start=1)]
    add_cases(rng, persons)
    return persons


def home_sampler(regions: list[Place]):
    """A function drawing a home village: divisions by population, and within a division towns
    and villages near the seat more often than remote ones."""
    villages = [p for p in regions if p.level == "village"]
    raw = [VILLAGE_WEIGHT[v.local_kind]
           * (1 + 1.5 * math.exp(-distance_km((v.lat, v.lon), v.district.seat) / NEAR_SEAT_KM))
           for v in villages]
    per_district = Counter()
    for v, w in zip(villages, raw, strict=True):
        per_district[v.district.code] += w
    weights = [w / per_district[v.district.code] * v.district.population
               for v, w in zip(villages, raw, strict=True)]
    cumulative = list(itertools.accumulate(weights))

    def draw(rng) -> Place:
        return villages[bisect.bisect(cumulative, rng.random() * cumulative[-1])]

    return draw


def make_person(rng, number: int, group: str, home: Place, taken_ids: set[str]) -> Person:
    category = pick(rng, CATEGORY_MIX[group])
    sex = "M" if rng.random() < MALE_SHARE.get(category, MALE_SHARE_DEFAULT) else "F"
    birth = birth_date(rng, group)
    style = pick(rng, dict(home.district.name_styles))
    name = names.person_name(rng, style, sex, birth.year)
    resident_id = new_resident_id(rng, home.district.code, birth, sex, taken_ids)
    young = group in ("child", "youth")
    grade = rng.choices((1, 2, 3, 4), GRADES["young" if young else "adult"])[0]
    guardian_name, guardian_phone = guardian(rng, group, category, grade, name, style, birth)
    poverty = pick(rng, POVERTY_URBAN if home.local_kind == "community" else POVERTY_RURAL)
    return Person(f"P{number:06d}", name, resident_id, birth, sex, home, guardian_name,
                  guardian_phone, poverty, group=group, category=category, grade=grade)


def birth_date(rng, group: str) -> date:
    """Children 0-6 are born 2020 to August 2026, fewer of them babies (needs show later);
    adults lean old, as disability does."""
    if group == "child":
        year = rng.choices(range(2020, 2027), (1.0, 1.1, 1.2, 1.2, 1.0, 0.7, 0.3))[0]
        return random_day(rng, date(year, 1, 1), min(date(year, 12, 31), LAST_CHILD_BIRTH))
    if group == "youth":  # 7 to 16 on the reference day
        return random_day(rng, date(2010, 1, 1), years_before(REFERENCE_DAY, 7))
    if group == "adult":
        age = int(rng.triangular(18, 60, 52))
    else:
        age = 60 + int(rng.triangular(0, 36, 6))
    start = years_before(REFERENCE_DAY, age + 1) + timedelta(days=1)
    return random_day(rng, start, years_before(REFERENCE_DAY, age))


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def random_day(rng, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def new_resident_id(rng, region: str, birth: date, sex: str, taken: set[str]) -> str:
    """A unique ID number: the division's code, the birth date, a sequence whose parity gives
    the sex (odd = male), the check character."""
    while True:
        sequence = rng.randrange(0, 500) * 2 + (1 if sex == "M" else 0)
        number = make_resident_id(region, birth, sequence)
        if number not in taken:
            taken.add(number)
            return number


def guardian(rng, group: str, category: str, grade: int, name: str, style: str,
             birth: date) -> tuple[str | None, str | None]:
    """Children always have a guardian (a parent); adults sometimes (a spouse or grown child),
    more often when severely disabled or with an intellectual or mental disability."""
    if group in ("child", "youth"):
        parent_year = birth.year - rng.randint(22, 38)
        sex = rng.choice("MF")
        surname = names.family_surname(name, style) if sex == "M" else None
        return (names.person_name(rng, style, sex, parent_year, surname),
                mobile_phone(rng))
    dependent = grade <= 2 or category in ("intellectual", "mental", "multiple")
    if rng.random() >= (0.55 if dependent else 0.1):
        return None, None
    relative_year = rng.randint(1955, 1998)
    phone = fixed_phone(rng) if rng.random() < 0.2 else mobile_phone(rng)
    return names.person_name(rng, style, rng.choice("MF"), relative_year), phone


def mobile_phone(rng) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def fixed_phone(rng) -> str:
    return f"{AREA_CODE}-{rng.randint(2, 8)}{rng.randrange(10**6):06d}"


# --- cases --------------------------------------------------------------------------------------
def add_cases(rng, persons: list[Person]) -> None:
    """One case per person, mostly open; a few hundred persons have a second, earlier case
    (completed or closed) or a second open one."""
    for p in persons:
        p.cases.append(primary_case(rng, p))
    eligible = [p for p in persons if p.birth_date < FIRST_REGISTRATION - timedelta(days=120)]
    chosen = rng.sample(eligible, EXTRA_HISTORICAL + EXTRA_OPEN)
    for i, p in enumerate(chosen):
        p.cases.append(extra_case(rng, p, historical=i < EXTRA_HISTORICAL))
        p.cases.sort(key=lambda c: c.registered_on)
    number = itertools.count(1)
    for p in persons:
        for c in p.cases:
            c.code = f"K{next(number):06d}"


def kind_mix(p: Person) -> dict[str, float]:
    young = p.group in ("child", "youth")
    return (KIND_MIX_YOUNG if young else KIND_MIX_ADULT)[p.category]


def requested_service(rng, p: Person, exclude: str | None = None) -> str:
    if p.category == "multiple" and rng.random() < MULTIPLE_ELSEWHERE[0]:
        code = rng.choice(MULTIPLE_ELSEWHERE[1])
        if code != exclude:
            return code
    mix = {k: w for k, w in kind_mix(p).items() if f"{p.category}_{k}" != exclude}
    return f"{p.category}_{pick(rng, mix)}"


def certificate(rng, p: Person) -> str | None:
    if rng.random() >= CERTIFIED[p.group]:
        return None
    return make_certificate(p.resident_id, p.category, p.grade)


def earliest_registration(p: Person) -> date:
    # A need is registered a month after birth at the earliest.
    return max(FIRST_REGISTRATION, p.birth_date + timedelta(days=30))


def primary_case(rng, p: Person) -> Case:
    cert = certificate(rng, p)
    service = requested_service(rng, p)
    if rng.random() < HISTORICAL_PRIMARY and earliest_registration(p) < HISTORY_END:
        registered = random_day(rng, earliest_registration(p), HISTORY_END)
        return Case("", p, p.category, p.grade, service, registered, history_status(rng), cert)
    registered = random_day(rng, earliest_registration(p), LAST_REGISTRATION)
    return Case("", p, p.category, p.grade, service, registered, open_status(rng, registered),
                cert)


def extra_case(rng, p: Person, historical: bool) -> Case:
    """A second case of the same category and grade (so the same certificate) for another
    service: typically an assessment done earlier, or a device beside training."""
    first = p.cases[0]
    if historical:
        assessment = f"{p.category}_assessment"
        service = assessment if first.service_code != assessment else requested_service(
            rng, p, exclude=first.service_code)
        registered = random_day(rng, earliest_registration(p), HISTORY_END)
        status = history_status(rng)
    else:
        service = requested_service(rng, p, exclude=first.service_code)
        registered = random_day(rng, earliest_registration(p), LAST_REGISTRATION)
        status = open_status(rng, registered)
    return Case("", p, p.category, p.grade, service, registered, status,
                first.certificate_number)


def history_status(rng) -> str:
    return "completed" if rng.random() < 0.7 else "closed"


def open_status(rng, registered: date) -> str:
    """Recently registered cases are mostly not yet triaged; older ones wait, and some have a
    place promised (accepted) or are being served."""
    if registered > LAST_REGISTRATION - timedelta(days=45):
        return "registered" if rng.random() < 0.75 else "waiting"
    # Kept small: each accepted or in-service case is replayed through the referral and booking
    # operations when the sample is loaded (sample_network/activity.py), which costs time.
    return pick(rng, {"registered": 0.04, "waiting": 0.928, "accepted": 0.012,
                      "in_service": 0.02})


def open_demand(persons: list[Person]) -> dict[str, Counter]:
    """Open cases per requested service and per township of the person's home."""
    demand: dict[str, Counter] = {}
    for p in persons:
        for c in p.cases:
            if c.open:
                demand.setdefault(c.service_code, Counter())[p.home.parent_code] += 1
    return demand
