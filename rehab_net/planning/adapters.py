"""Rows <-> the optimiser's contract (../shared/SOLVER_FORMAT.md, version 1).

build_instance() reads the live database in a handful of bulk selects and returns the contract's
instance dict together with the lookups that map a solution back to rows; solution_rows() turns a
contract solution dict into rows for the plan tables. Ids in the instance are codes, so a file
can be read by a person and reproduced with `rehab-net solve`; everything is ordered by code, so
the same database gives the same instance and the same fingerprint.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rehab_net.booking import capacity as booked
from rehab_net.network import operations as network
from rehab_net.network.models import Capacity, Facility, Region, Service, capacities_on
from rehab_net.people.models import Case, Person
from rehab_net.people.rules import priority_class, seventh_birthday
from rehab_net.people.states import WAITING_CASE_STATUSES
from solver.instance import FORMAT_INSTANCE

# Cases that wait for a place. Besides them the instance holds every case with a booked course
# that has not begun (a placement, booking/capacity.py): it enters with `current`, so the plan
# keeps it unless moving it gains more than the reassign cost. Cases in rehabilitation are not
# planned again: their appointments take places from the weeks they fall in.
WAITING_STATUSES = WAITING_CASE_STATUSES


class SolutionMismatch(ValueError):
    """The solution does not answer the instance it was given (a case missing, an unknown id)."""


@dataclass
class CaseRef:
    id: int
    service_id: int
    district_id: int | None
    priority: str


@dataclass
class BuiltInstance:
    """The contract's instance dict, and how its codes map back to database rows."""

    data: dict
    start_date: date
    cases: dict[str, CaseRef] = field(default_factory=dict)
    facility_ids: dict[str, int] = field(default_factory=dict)
    service_ids: dict[str, int] = field(default_factory=dict)
    # (facility id, service id) -> the weekly capacities in the instance, in instance order
    capacities: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    # A scenario run: the instance carries changes (new cases, facilities) that have no rows, so
    # only its figures are stored. case code -> {district, category}; facility code -> district.
    scenario: bool = False
    case_attrs: dict[str, dict] = field(default_factory=dict)
    facility_districts: dict[str, str | None] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.data)


def fingerprint(data: dict) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces, UTF-8): equal instances, equal hex."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def instance_json(data: dict) -> str:
    """The instance as a file a person can read: the header keys first, then one facility or
    case per line (a 20,000-case file stays greppable and diffs line by line)."""
    def one(value) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))

    head = [f"  {one(k)}: {one(v)}" for k, v in data.items() if k not in ("facilities", "cases")]
    lists = [f'  {one(k)}: [\n' + ",\n".join(f"    {one(item)}" for item in data[k]) + "\n  ]"
             for k in ("facilities", "cases")]
    return "{\n" + ",\n".join(head + lists) + "\n}\n"


def week_start(start_date: date, week: int) -> date:
    return start_date + timedelta(weeks=week)


def instance_name(start_date: date, horizon_weeks: int) -> str:
    return f"rehab-net-{start_date.isoformat()}-{horizon_weeks}w"


def build_instance(session: Session, *, start_date: date, horizon_weeks: int,
                   policy: dict) -> BuiltInstance:
    built = BuiltInstance(data={}, start_date=start_date)
    built.service_ids = dict(session.execute(select(Service.code, Service.id)).all())
    service_codes = {id_: code for code, id_ in built.service_ids.items()}
    bounds = booked.week_bounds(start_date, horizon_weeks)
    placed = booked.placements(session, bounds[0])
    # placements the plan may keep or move: booked courses starting inside the horizon
    current = {case_id: (p, booked.week_of(p.starts_at, bounds)) for case_id, p in placed.items()
               if not p.started and booked.week_of(p.starts_at, bounds) is not None}
    held = booked.held_places(session, start_date, horizon_weeks,
                              kept={p.appointment_id for p, _week in current.values()})
    facilities = _facilities(session, built, service_codes, start_date, horizon_weeks, held)
    cases = _cases(session, built, service_codes, start_date, placed, current)
    built.data = {
        "format": FORMAT_INSTANCE,
        "name": instance_name(start_date, horizon_weeks),
        "horizon_weeks": horizon_weeks,
        "policy": policy,
        "facilities": facilities,
        "cases": cases,
    }
    return built


# --- facilities ---------------------------------------------------------------------------------
def weekly_capacities(session: Session, start_date: date,
                      horizon_weeks: int) -> dict[tuple[int, int], list[int]]:
    """(facility id, service id) -> weekly intake places in force on the Monday of each week.
    Two selects whatever the horizon: the capacities in force on week 0, then the dated changes
    inside the horizon applied in date order. A pair with no capacity yet has 0 until its first
    row takes effect."""
    last_monday = week_start(start_date, horizon_weeks - 1)
    in_force = capacities_on(start_date).with_only_columns(
        Capacity.facility_id, Capacity.service_id, Capacity.weekly_intake)
    weekly = {(f, s): [n] * horizon_weeks for f, s, n in session.execute(in_force)}
    changes = (select(Capacity.facility_id, Capacity.service_id, Capacity.effective_from,
                      Capacity.weekly_intake)
               .where(Capacity.effective_from > start_date, Capacity.effective_from <= last_monday)
               .order_by(Capacity.effective_from))
    for f, s, effective_from, n in session.execute(changes):
        first_week = -(-(effective_from - start_date).days // 7)  # first Monday on or after it
        row = weekly.setdefault((f, s), [0] * horizon_weeks)
        row[first_week:] = [n] * (horizon_weeks - first_week)
    return weekly


def intake_capacities(session: Session, start_date: date, horizon_weeks: int,
                      held: dict[tuple[int, int], list[int]]) -> dict[tuple[int, int], list[int]]:
    """The one capacity truth (docs/optimisation-model.md): for a facility and service with
    schedule rules, the places their slots offer each week; elsewhere the capacity table's
    weekly intake. Either way less the places booked appointments already hold that week."""
    weekly = weekly_capacities(session, start_date, horizon_weeks)
    weekly.update(booked.scheduled_places(session, start_date, horizon_weeks))
    for pair, taken in held.items():
        if pair in weekly:
            weekly[pair] = [max(0, n - t) for n, t in zip(weekly[pair], taken, strict=True)]
    return weekly


def _facilities(session: Session, built: BuiltInstance, service_codes: dict[int, str],
                start_date: date, horizon_weeks: int,
                held: dict[tuple[int, int], list[int]]) -> list[dict]:
    """Open facilities with capacity for some service during the horizon (a facility with none
    can take nobody). A capacity is an integer when it is the same every week."""
    weekly = intake_capacities(session, start_date, horizon_weeks, held)
    by_facility: dict[int, dict[str, list[int]]] = {}
    for (f, s), values in weekly.items():
        by_facility.setdefault(f, {})[service_codes[s]] = values
    rows = session.execute(select(Facility.id, Facility.code, Facility.tier, Facility.lat,
                                  Facility.lon).where(Facility.status == "open")).all()
    out = []
    for id_, code, tier, lat, lon in sorted(rows, key=lambda r: r.code):
        capacity = by_facility.get(id_)
        if not capacity:
            continue
        built.facility_ids[code] = id_
        for service in sorted(capacity):
            built.capacities[(id_, built.service_ids[service])] = capacity[service]
        out.append({"id": code, "tier": tier, "lat": lat, "lon": lon,
                    "capacity": {s: _compact(capacity[s]) for s in sorted(capacity)}})
    return out


def _compact(values: list[int]) -> int | list[int]:
    return values[0] if len(set(values)) == 1 else list(values)


# --- cases --------------------------------------------------------------------------------------
def _cases(session: Session, built: BuiltInstance, service_codes: dict[int, str],
           start_date: date, placed: dict[int, booked.Placement],
           current: dict[int, tuple[booked.Placement, int]]) -> list[dict]:
    """The waiting cases and the booked courses not yet begun; not those holding a place that
    began before week 0 or begins after the horizon."""
    from sqlalchemy import or_

    districts = network.district_ids(session)
    facility_codes = {id_: code for code, id_ in built.facility_ids.items()}
    stmt = (select(Case.id, Case.code, Case.service_id, Case.registered_on, Case.grade,
                   Person.birth_date, Person.poverty_status, Person.home_region_id, Region.lat,
                   Region.lon)
            .join(Person, Case.person_id == Person.id)
            .join(Region, Person.home_region_id == Region.id)
            .where(or_(Case.status.in_(WAITING_STATUSES), Case.id.in_(list(current)))))
    out = []
    # Sorted in Python, not SQL: PostgreSQL's collation may order codes differently from SQLite.
    for r in sorted(session.execute(stmt).all(), key=lambda r: r.code):
        if r.id in placed and r.id not in current:
            continue  # in rehabilitation already, or booked beyond the horizon
        priority = priority_class(birth_date=r.birth_date, grade=r.grade,
                                  poverty_status=r.poverty_status, on=start_date)
        built.cases[r.code] = CaseRef(r.id, r.service_id, districts.get(r.home_region_id),
                                      priority)
        out.append({
            "id": r.code, "service": service_codes[r.service_id], "priority": priority,
            "lat": r.lat, "lon": r.lon,
            "release_week": release_week(r.registered_on, start_date),
            "deadline_week": (deadline_week(r.birth_date, start_date) if priority == "child"
                              else None),
            "max_travel_km": None,  # no limit: not a policy setting (yet)
            "current": _current(current.get(r.id), facility_codes),
        })
    return out


def _current(placement: tuple[booked.Placement, int] | None,
             facility_codes: dict[int, str]) -> dict | None:
    """The contract's `current` of a booked course: its facility and start week (none where the
    facility takes nobody in this plan, e.g. it closed)."""
    if placement is None:
        return None
    p, week = placement
    code = facility_codes.get(p.facility_id)
    return None if code is None else {"facility": code, "week": week}


def release_week(registered_on: date, start_date: date) -> int:
    """The week the case was registered in, relative to week 0; 0 when registered before it."""
    return max(0, (registered_on - start_date).days // 7)


def deadline_week(birth_date: date, start_date: date) -> int:
    """The last week whose Monday is before the 7th birthday: the rescue programme ends on it.
    Only asked for children (under 7 on start_date), so it is >= 0."""
    days = (seventh_birthday(birth_date) - start_date).days
    return (days - 1) // 7


# --- the solution, back to rows -----------------------------------------------------------------
@dataclass
class PlanRows:
    assignments: list[dict]
    loads: list[dict]
    shadow_prices: list[dict]
    assigned_count: int


def solution_rows(built: BuiltInstance, solution: dict, plan_id: int) -> PlanRows:
    """Rows for plan_assignment, plan_load and plan_shadow_price. Refuses a solution that does not
    answer every case of the instance exactly once (the contract's rule)."""
    assignments = [_placed_row(built, a, plan_id) for a in solution.get("assignments", [])]
    assignments += [_unplaced_row(built, u, plan_id) for u in solution.get("unassigned", [])]
    _check_every_case_once(built, assignments)
    intakes = Counter((a["facility_id"], a["service_id"], a["week"]) for a in assignments
                      if a["facility_id"] is not None)
    loads = [_load_row(plan_id, f, s, capacity, intakes)
             for (f, s), capacity in built.capacities.items()]
    shadow = [_shadow_row(built, p, plan_id) for p in solution.get("shadow_prices", [])]
    placed = sum(1 for a in assignments if a["facility_id"] is not None)
    return PlanRows(assignments, loads, shadow, placed)


def _case(built: BuiltInstance, code) -> CaseRef:
    try:
        return built.cases[code]
    except (KeyError, TypeError):
        raise SolutionMismatch(f"the solution names case {code!r}, which is not in the "
                               "instance") from None


def _facility_id(built: BuiltInstance, code) -> int:
    try:
        return built.facility_ids[code]
    except (KeyError, TypeError):
        raise SolutionMismatch(f"the solution names facility {code!r}, which is not in the "
                               "instance") from None


def _placed_row(built: BuiltInstance, a: dict, plan_id: int) -> dict:
    case = _case(built, a["case"])
    week = int(a["week"])
    return {"plan_id": plan_id, "case_id": case.id, "service_id": case.service_id,
            "district_id": case.district_id, "priority": case.priority,
            "facility_id": _facility_id(built, a["facility"]), "week": week,
            "start_date": week_start(built.start_date, week),
            "road_km": float(a["road_km"]) if a.get("road_km") is not None else None,
            "reason": None}


def _unplaced_row(built: BuiltInstance, u: dict, plan_id: int) -> dict:
    case = _case(built, u["case"])
    return {"plan_id": plan_id, "case_id": case.id, "service_id": case.service_id,
            "district_id": case.district_id, "priority": case.priority, "facility_id": None,
            "week": None, "start_date": None, "road_km": None, "reason": u["reason"]}


def _check_every_case_once(built: BuiltInstance, rows: list[dict]) -> None:
    answered = Counter(r["case_id"] for r in rows)
    twice = [c for c, n in answered.items() if n > 1]
    if twice or len(answered) != len(built.cases):
        raise SolutionMismatch(f"the solution answers {len(answered)} of {len(built.cases)} "
                               f"cases ({len(twice)} more than once); the contract asks for "
                               "every case exactly once")


def _load_row(plan_id: int, facility_id: int, service_id: int, capacity: list[int],
              intakes: Counter) -> dict:
    assigned = [intakes.get((facility_id, service_id, t), 0) for t in range(len(capacity))]
    total_capacity, total_assigned = sum(capacity), sum(assigned)
    return {"plan_id": plan_id, "facility_id": facility_id, "service_id": service_id,
            "capacity": capacity, "assigned": assigned, "capacity_total": total_capacity,
            "assigned_total": total_assigned,
            "utilisation": total_assigned / total_capacity if total_capacity else None}


def _shadow_row(built: BuiltInstance, p: dict, plan_id: int) -> dict:
    try:
        service_id = built.service_ids[p["service"]]
    except (KeyError, TypeError):
        raise SolutionMismatch(f"the solution names service {p.get('service')!r}, which is "
                               "not in the instance") from None
    return {"plan_id": plan_id, "facility_id": _facility_id(built, p["facility"]),
            "service_id": service_id, "week": int(p["week"]), "value": float(p["value"])}


def describe_for_kpis(session: Session, built: BuiltInstance) -> None:
    """Fill in the district (and category) of every case and facility of the instance, by code:
    what the KPIs group by."""
    from rehab_net.network.models import Facility
    from rehab_net.people.models import Case as CaseRow

    districts = network.district_codes(session)
    categories = dict(session.execute(select(CaseRow.code, CaseRow.category)).all())
    built.case_attrs = {code: {"district": districts.get(ref.district_id),
                               "category": categories.get(code)}
                        for code, ref in built.cases.items()}
    built.facility_districts = {code: districts.get(region_id) for code, region_id in
                                session.execute(select(Facility.code, Facility.region_id))}


def township_points(session: Session) -> list[dict]:
    """Every township's code and centre: where a new station could open."""
    from rehab_net.network.models import Region

    return [{"code": r.code, "lat": r.lat, "lon": r.lon} for r in session.scalars(
        select(Region).where(Region.level == "township").order_by(Region.code))]
