"""Facilities, services and capacities of the sample network.

Centres are a fixed list (the city centre, designated hospitals and county centres); every
township gets a station and every village a clinic. Capacities are sized from the generated
demand, so that the children's intensive trainings are short of places and the rest roughly
meet demand whatever the size of the sample."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sample_network.regions import Place, jitter

# --- services -----------------------------------------------------------------------------------
# (category, kind, tiers, home_ok, duration_minutes, name_zh, name_en). Assessment and surgery
# need specialists and equipment: centres only. Basic mobility aids can be fitted at a station;
# other devices need a centre. Follow-up is the village clinic's job, with the station.
SERVICES = (
    ("vision", "assessment", "centre", False, 60, "视力残疾康复评估",
     "Vision rehabilitation assessment"),
    ("vision", "surgery", "centre", False, 90, "白内障复明手术", "Cataract surgery"),
    ("vision", "device_fitting", "centre", False, 45, "助视器适配", "Low-vision aid fitting"),
    # Orientation and mobility are learnt where the person lives: home rehab fits.
    ("vision", "training", "centre;station", True, 60, "定向行走与视功能训练",
     "Orientation, mobility and visual function training"),
    ("vision", "follow_up", "station;clinic", True, 30, "视力残疾康复随访",
     "Vision rehabilitation follow-up"),
    ("hearing", "assessment", "centre", False, 90, "听力筛查与评估",
     "Hearing screening and assessment"),
    ("hearing", "surgery", "centre", False, 180, "人工耳蜗植入手术", "Cochlear implant surgery"),
    ("hearing", "device_fitting", "centre", False, 60, "助听器验配", "Hearing aid fitting"),
    ("hearing", "training", "centre;station", False, 45, "听觉言语康复训练",
     "Auditory-verbal training"),
    ("hearing", "follow_up", "station;clinic", True, 30, "听力康复随访",
     "Hearing rehabilitation follow-up"),
    ("speech", "assessment", "centre", False, 60, "言语语言评估",
     "Speech and language assessment"),
    ("speech", "training", "centre;station", False, 45, "言语语言康复训练",
     "Speech and language therapy"),
    ("speech", "follow_up", "station;clinic", True, 30, "言语康复随访",
     "Speech rehabilitation follow-up"),
    ("physical", "assessment", "centre", False, 60, "肢体功能评估",
     "Physical function assessment"),
    ("physical", "surgery", "centre", False, 180, "肢体矫治手术", "Orthopaedic corrective surgery"),
    ("physical", "device_fitting", "centre;station", False, 60, "假肢矫形器及辅助器具适配",
     "Prosthesis, orthosis and mobility aid fitting"),
    ("physical", "training", "centre;station", True, 60, "肢体运动功能训练", "Physical therapy"),
    ("physical", "day_care", "centre;station", False, 480, "肢体残疾人日间照料",
     "Day care (physical disability)"),
    ("physical", "follow_up", "station;clinic", True, 30, "肢体康复随访",
     "Physical rehabilitation follow-up"),
    ("intellectual", "assessment", "centre", False, 90, "智力发育评估",
     "Intellectual development assessment"),
    ("intellectual", "training", "centre;station", True, 60, "智力康复训练",
     "Cognitive and life-skills training"),
    ("intellectual", "day_care", "centre;station", False, 480, "智力残疾人托养",
     "Day care (intellectual disability)"),
    ("intellectual", "follow_up", "station;clinic", True, 30, "智力康复随访",
     "Intellectual rehabilitation follow-up"),
    ("mental", "assessment", "centre", False, 60, "精神康复评估", "Psychiatric rehabilitation "
     "assessment"),
    ("mental", "training", "centre;station", False, 60, "精神康复训练",
     "Psychosocial rehabilitation training"),
    ("mental", "day_care", "centre;station", False, 360, "精神残疾人日间照料",
     "Day care (psychosocial disability)"),
    ("mental", "follow_up", "station;clinic", True, 30, "精神障碍患者随访",
     "Mental health follow-up"),
    ("multiple", "assessment", "centre", False, 120, "多重残疾综合评估",
     "Multiple disability assessment"),
    ("multiple", "training", "centre;station", True, 60, "多重残疾康复训练",
     "Multiple disability training"),
    ("multiple", "day_care", "centre;station", False, 480, "多重残疾人托养",
     "Day care (multiple disability)"),
    ("multiple", "follow_up", "station;clinic", True, 30, "多重残疾康复随访",
     "Multiple disability follow-up"),
    ("autism", "assessment", "centre", False, 120, "孤独症诊断评估",
     "Autism diagnostic assessment"),
    ("autism", "training", "centre;station", False, 60, "孤独症儿童康复训练",
     "Autism intervention training"),
    ("autism", "follow_up", "station;clinic", True, 30, "孤独症家庭康复随访",
     "Autism home-programme follow-up"),
)


@dataclass(frozen=True)
class Service:
    category: str
    kind: str
    tiers: tuple[str, ...]
    home_ok: bool
    duration_minutes: int
    name_zh: str
    name_en: str

    @property
    def code(self) -> str:
        return f"{self.category}_{self.kind}"

    def row(self) -> dict:
        return {"code": self.code, "category": self.category, "kind": self.kind,
                "name_zh": self.name_zh, "name_en": self.name_en, "tiers": ";".join(self.tiers),
                "home_ok": _bool(self.home_ok), "duration_minutes": self.duration_minutes}


def build_services() -> list[Service]:
    return [Service(c, k, tuple(t.split(";")), h, d, zh, en)
            for c, k, t, h, d, zh, en in SERVICES]


# --- facilities ---------------------------------------------------------------------------------
# What a centre runs, by profile. The city centre and county centres run everything a centre may
# except surgery; hospitals operate; children's centres run the rescue programme's categories.
CHILD_CATEGORIES = ("autism", "hearing", "speech", "intellectual", "physical")
PROFILES = {
    "general": lambda s: s.kind != "surgery",
    "hospital": lambda s: s.kind in ("assessment", "surgery", "device_fitting")
    or s.code in ("physical_training", "mental_training", "speech_training"),
    "county_hospital": lambda s: s.kind == "assessment"
    or s.code in ("vision_surgery", "physical_surgery", "physical_device_fitting",
                  "physical_training", "mental_training"),
    "children": lambda s: (s.category in CHILD_CATEGORIES
                           and s.kind in ("assessment", "training"))
    or s.code == "hearing_device_fitting",
}

# (code, name_zh, name_en, division, ownership, designated, status, profile, size). `size`
# weights the centre's share of its services' places. Divisions without a centre (the western
# steppe, Evenk) send their people to Hailar or Manzhouli: that travel is part of the sample.
CENTRES = (
    ("CT001", "呼伦贝尔市残疾人康复中心", "Hulunbuir Disability Rehabilitation Centre", "150702",
     "public", True, "open", "general", 3.0),
    ("CT002", "呼伦贝尔市人民医院康复医学科",
     "Hulunbuir People's Hospital, Department of Rehabilitation Medicine", "150702", "public",
     True, "open", "hospital", 2.5),
    ("CT003", "呼伦贝尔市妇幼保健院儿童康复科",
     "Hulunbuir Maternal and Child Health Hospital, Child Rehabilitation", "150702", "public",
     True, "open", "children", 2.0),
    ("CT004", "满洲里市残疾人康复中心", "Manzhouli Disability Rehabilitation Centre", "150781",
     "public", True, "open", "general", 1.2),
    ("CT005", "牙克石市人民医院康复科", "Yakeshi People's Hospital, Rehabilitation Department",
     "150782", "public", True, "open", "county_hospital", 1.0),
    ("CT006", "扎兰屯市残疾人康复中心", "Zhalantun Disability Rehabilitation Centre", "150783",
     "public", True, "open", "general", 1.5),
    ("CT007", "扎兰屯市启明儿童康复中心", "Zhalantun Qiming Children's Rehabilitation Centre",
     "150783", "private", True, "open", "children", 1.0),
    ("CT008", "额尔古纳市残疾人康复中心", "Ergun Disability Rehabilitation Centre", "150784",
     "contracted", False, "open", "general", 0.6),
    ("CT009", "根河市人民医院康复科", "Genhe People's Hospital, Rehabilitation Department",
     "150785", "public", False, "open", "county_hospital", 0.7),
    ("CT010", "阿荣旗残疾人康复中心", "Arun Banner Disability Rehabilitation Centre", "150721",
     "public", True, "open", "general", 1.2),
    ("CT011", "莫力达瓦达斡尔族自治旗残疾人康复中心",
     "Morin Dawa Daur Autonomous Banner Disability Rehabilitation Centre", "150722",
     "contracted", True, "open", "general", 1.2),
    ("CT012", "鄂伦春自治旗人民医院康复科",
     "Oroqen Autonomous Banner People's Hospital, Rehabilitation Department", "150723", "public",
     False, "open", "county_hospital", 0.8),
    # A private clinic that closed in 2025: kept for history, no capacity.
    ("CT013", "海拉尔区安康康复诊疗中心", "Hailar Ankang Rehabilitation Clinic", "150702",
     "private", False, "closed", "general", 0.0),
)
PLANNED_STATIONS = 3  # stations being built in the sparse west and north
PLANNED_IN = ("150727", "150726", "150723", "150784")
CLOSED_CLINICS = 3  # village clinics merged into a neighbour's


@dataclass
class Facility:
    code: str
    name_zh: str
    name_en: str
    tier: str
    region: Place
    lat: float
    lon: float
    ownership: str
    designated: bool
    status: str
    profile: str = ""  # centres: key of PROFILES
    size: float = 1.0  # centres: weight of its share of places
    offers: list[str] = field(default_factory=list)  # stations: service codes offered

    def row(self) -> dict:
        return {"code": self.code, "name_zh": self.name_zh, "name_en": self.name_en,
                "tier": self.tier, "region_code": self.region.code,
                "lat": round(self.lat, 4), "lon": round(self.lon, 4),
                "ownership": self.ownership, "designated": _bool(self.designated),
                "status": self.status}


def _bool(value: bool) -> str:
    return "true" if value else "false"


def build_facilities(rng, regions: list[Place], services: list[Service]) -> list[Facility]:
    townships = [p for p in regions if p.level == "township"]
    villages = [p for p in regions if p.level == "village"]
    centres = build_centres(rng, townships)
    return centres + build_stations(rng, townships, services, centres) + build_clinics(
        rng, villages)


def build_centres(rng, townships: list[Place]) -> list[Facility]:
    """Each centre sits in a street or town of its division's seat (Hailar has several)."""
    seat_townships: dict[str, list[Place]] = {}
    for t in townships:
        if t.seat or t.local_kind == "street":
            seat_townships.setdefault(t.district.code, []).append(t)
    centres = []
    for code, zh, en, division, ownership, designated, status, profile, size in CENTRES:
        region = rng.choice(seat_townships[division])
        centres.append(Facility(code, zh, en, "centre", region, *jitter(rng, region, (0.3, 2.0)),
                                ownership, designated, status, profile=profile, size=size))
    return centres


# Share of stations that run a service. Specialised trainings (autism, hearing, speech, vision)
# need trained therapists: only the seat station of a division without a centre running them
# has a small class, so most families travel to a centre or wait.
STATION_OFFER_SHARE = {"physical_training": 1.0, "physical_device_fitting": 1.0,
                       "intellectual_training": 0.6, "multiple_training": 0.35,
                       "mental_training": 0.15}
STATION_DAY_CARE_SHARE = 0.25
SPECIALISED = ("autism_training", "hearing_training", "speech_training", "vision_training")


def station_offers(rng, township: Place, service: Service, centre_services: set) -> bool:
    """Whether the station of `township` runs `service`; `centre_services` holds the
    (division, service) pairs some centre already runs."""
    if service.code in SPECIALISED:
        return township.seat and (township.district.code, service.code) not in centre_services
    if service.kind == "follow_up":
        return True
    if township.seat:  # the seat station is the division's largest
        return True
    share = (STATION_DAY_CARE_SHARE if service.kind == "day_care"
             else STATION_OFFER_SHARE[service.code])
    return rng.random() < share


def build_stations(rng, townships: list[Place], services: list[Service],
                   centres: list[Facility]) -> list[Facility]:
    planned = {t.code for t in rng.sample(
        [t for t in townships if t.district.code in PLANNED_IN and not t.seat],
        PLANNED_STATIONS)}
    centre_services = {(c.region.district.code, s.code) for c in centres for s in services
                       if offers(c, s)}
    station_services = [s for s in services if "station" in s.tiers]
    stations = []
    for i, t in enumerate(townships, start=1):
        offered = [s.code for s in station_services
                   if station_offers(rng, t, s, centre_services)]
        stations.append(Facility(
            f"ST{i:04d}", f"{t.name_zh}康复服务站", f"{t.name_en} Rehabilitation Station",
            "station", t, *jitter(rng, t, (0.1, 0.8)),
            "contracted" if rng.random() < 0.15 else "public", False,
            "planned" if t.code in planned else "open", offers=offered))
    return stations


def build_clinics(rng, villages: list[Place]) -> list[Facility]:
    closed = {v.code for v in rng.sample(
        [v for v in villages if v.local_kind != "community"], CLOSED_CLINICS)}
    clinics = []
    for i, v in enumerate(villages, start=1):
        if v.local_kind == "community":
            zh, en = f"{v.name_zh}卫生服务站", f"{v.name_en} Health Station"
        else:
            zh, en = f"{v.name_zh}卫生室", f"{v.name_en} Clinic"
        # Many village clinics are run by a private village doctor.
        ownership = rng.choices(("public", "private", "contracted"), (0.7, 0.2, 0.1))[0]
        clinics.append(Facility(f"CL{i:05d}", zh, en, "clinic", v, *jitter(rng, v, (0.05, 0.3)),
                                ownership, False, "closed" if v.code in closed else "open"))
    return clinics


def offers(facility: Facility, service: Service) -> bool:
    """Whether the facility delivers the service (closed ones deliver nothing)."""
    if facility.status == "closed" or facility.tier not in service.tiers:
        return False
    if facility.tier == "centre":
        return PROFILES[facility.profile](service)
    if facility.tier == "station":
        return service.code in facility.offers
    return True  # a clinic does every follow-up


# --- capacities ---------------------------------------------------------------------------------
START = "2026-01-01"  # the year's plan
INCREASE = "2026-07-01"  # mid-year increases, so capacity history exists
PLANNED_OPENING = "2027-01-01"  # capacity of planned stations, from their opening
WEEKS = 12  # a service is adequate when 12 weeks of intake cover its open cases
# Places per open case, per 12 weeks. The children's intensive trainings are short on purpose:
# a waitlist forms, as it does in the real programme.
COVERAGE = {"autism_training": 0.3, "hearing_training": 0.35, "speech_training": 0.45}
COVERAGE_BY_KIND = {"assessment": 1.4, "surgery": 1.2, "device_fitting": 1.3, "training": 1.25,
                    "day_care": 1.1, "follow_up": 1.5}
CHILDREN_TRAININGS = ("autism_training", "hearing_training", "speech_training")
# How a service's intake is split between tiers (renormalised over the tiers that offer it).
TIER_SHARE = {
    "assessment": {"centre": 1.0}, "surgery": {"centre": 1.0},
    "device_fitting": {"centre": 0.6, "station": 0.4},
    "training": {"centre": 0.35, "station": 0.65},
    "day_care": {"centre": 0.3, "station": 0.7},
    "follow_up": {"station": 0.3, "clinic": 0.7},
}
# The children's trainings are mostly run by centres; a few seat stations run small classes.
CHILDREN_TRAINING_SHARE = {"centre": 0.75, "station": 0.25}
# Weeks a case holds a place (concurrent places = weekly intake x weeks).
EPISODE_WEEKS = {"assessment": 1, "surgery": 2, "device_fitting": 2, "training": 12,
                 "day_care": 26, "follow_up": 8}
EPISODE_WEEKS_OF = {"autism_training": 24, "hearing_training": 24, "speech_training": 16}
INCREASED_SHARE = 0.1  # share of other station and centre rows raised in July


@dataclass
class Capacity:
    facility: Facility
    service: Service
    effective_from: str
    weekly_intake: int

    def row(self) -> dict:
        weeks = EPISODE_WEEKS_OF.get(self.service.code, EPISODE_WEEKS[self.service.kind])
        return {"facility_code": self.facility.code, "service_code": self.service.code,
                "effective_from": self.effective_from, "weekly_intake": self.weekly_intake,
                "concurrent_places": self.weekly_intake * weeks}


def build_capacities(rng, facilities: list[Facility], services: list[Service],
                     demand: dict[str, Counter]) -> list[Capacity]:
    """`demand` maps a service code to its open cases per township code."""
    intakes = {}  # (facility code, service code) -> weekly intake in force today
    for s in services:
        intakes.update(size_service(s, facilities, demand.get(s.code, Counter())))
    rows = []
    for f in facilities:  # facility order, then service order: stable, readable files
        for s in services:
            intake = intakes.get((f.code, s.code))
            if intake is not None:
                rows.extend(dated_rows(rng, f, s, intake))
    return rows


def size_service(service: Service, facilities: list[Facility],
                 demand: Counter) -> dict[tuple[str, str], int]:
    """Split a service's target intake between the facilities that offer it: centres by size,
    stations by the demand of their township, clinics equally. Planned stations take their share
    too (their rows start at their opening), so today's total is a little under the target."""
    target = sum(demand.values()) * coverage(service) / WEEKS
    offering = {t: [f for f in facilities if f.tier == t and offers(f, service)]
                for t in service.tiers}
    split = (CHILDREN_TRAINING_SHARE if service.code in CHILDREN_TRAININGS
             else TIER_SHARE[service.kind])
    shares = {t: split.get(t, 0.0) for t in service.tiers if offering[t]}
    total_share = sum(shares.values()) or 1.0
    result = {}
    for tier, share in shares.items():
        weights = [weight(f, demand) for f in offering[tier]]
        total = sum(weights)
        for f, w in zip(offering[tier], weights, strict=True):
            # Whoever offers a service takes at least one new case a week.
            result[(f.code, service.code)] = max(1, round(target * share / total_share * w / total))
    return result


def coverage(service: Service) -> float:
    return COVERAGE.get(service.code, COVERAGE_BY_KIND[service.kind])


def weight(facility: Facility, demand: Counter) -> float:
    if facility.tier == "centre":
        return facility.size
    if facility.tier == "station":
        return 1 + demand.get(facility.region.code, 0)
    return 1.0


def dated_rows(rng, facility: Facility, service: Service, intake: int) -> list[Capacity]:
    """The rows of one facility and service: from the start of the year, with a July increase
    for the children's trainings at centres and for a few others; planned stations from their
    opening."""
    if facility.status == "planned":
        return [Capacity(facility, service, PLANNED_OPENING, intake)]
    raised = intake >= 2 and facility.tier != "clinic" and (
        (facility.tier == "centre" and service.code in CHILDREN_TRAININGS)
        or rng.random() < INCREASED_SHARE)
    if not raised:
        return [Capacity(facility, service, START, intake)]
    before = intake - max(1, round(intake * 0.3))
    return [Capacity(facility, service, START, before),
            Capacity(facility, service, INCREASE, intake)]
