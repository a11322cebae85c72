"""Coverage against targets (docs/coverage.md): of the persons with a rehabilitation need in a
period, the share who received at least one basic service in it, by district x category x
group, for the year and cumulatively since the base year.

- A person has a need in a period when one of their cases was registered before the period
  ended and had not ended (completed or closed) before it began; a person served in the period
  has a need in it too. The case's end is the moment of its last move to its current final
  status (the case's events), or its last change where no event says.
- Served: at least one attended appointment (booking.states.ATTENDED_APPOINTMENT_STATUSES) of
  one of their cases in the period, of any service.
- A person counts once in a row: in each category they have a need in (a person with two
  categories is in both category rows, once in "all categories").
- Group: the priority class (people/rules.py) on the day the person's need begins within the
  period (the period's first day or their first case's registration, the later), with the most
  severe grade of their cases then: child 0-6 > severe (grade 1-2) > poor (dibao, jiandang) >
  standard.
- Small cells: a count of 1 .. N-1 persons is shown as "<N" (COVERAGE_SMALL_CELL, 5), and so is
  a share or "target met" made from such a count."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rehab_net.booking.models import Appointment
from rehab_net.booking.states import ATTENDED_APPOINTMENT_STATUSES
from rehab_net.clock import day_of, local_midnight
from rehab_net.coverage import messages as _messages  # noqa: F401 - registers the codes
from rehab_net.coverage import settings
from rehab_net.errors import field_error
from rehab_net.network import operations as network
from rehab_net.people.models import Case, CaseEvent, Person
from rehab_net.people.rules import priority_class
from rehab_net.people.states import CASE_STATUSES, OPEN_CASE_STATUSES
from rehab_net.vocab import CATEGORIES

ALL = "all"
UNKNOWN_DISTRICT = "-"
ENDED_STATUSES = tuple(s for s in CASE_STATUSES if s not in OPEN_CASE_STATUSES)
FIGURES = ("need", "served", "share", "target", "met", "need_cumulative", "served_cumulative",
           "share_cumulative")


@dataclass(slots=True)
class Unit:
    """One person over a period: where, which group, the categories of need and of service."""

    district: str
    group: str = "standard"
    begins: date | None = None
    grade: int = 4
    need: set[str] = field(default_factory=set)
    served: set[str] = field(default_factory=set)


def _utc(day: date) -> datetime:
    return local_midnight(day).astimezone(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    # func.max() returns the raw value: SQLite hands back a naive UTC datetime.
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def units(session: Session, start: date, end: date, *,
          codes: set[str] | None = None) -> dict[int, Unit]:
    """person id -> Unit, for the persons with a need in the local days [start, end); only those
    of the districts ``codes`` (None: everyone)."""
    return periods(session, (start,), end, codes=codes)[0]


def periods(session: Session, starts: tuple[date, ...], end: date, *,
            codes: set[str] | None = None) -> list[dict[int, Unit]]:
    """``units`` of the periods [start, end) for each of ``starts``, from one pass over the
    cases (the year and the cumulative columns share it: half the time on the sample)."""
    district_of = network.district_codes(session)
    ended = {case_id: _aware(at) for case_id, at in session.execute(
        select(CaseEvent.case_id, func.max(CaseEvent.at))
        .where(CaseEvent.to_status.in_(ENDED_STATUSES)).group_by(CaseEvent.case_id))}
    served_in = [set(session.scalars(
        select(Appointment.case_id).distinct()
        .where(Appointment.status.in_(ATTENDED_APPOINTMENT_STATUSES),
               Appointment.starts_at >= _utc(start), Appointment.starts_at < _utc(end))))
        for start in starts]
    rows = session.execute(
        select(Case.id, Case.person_id, Case.category, Case.grade, Case.status,
               Case.registered_on, Case.updated_at, Person.birth_date, Person.poverty_status,
               Person.home_region_id)
        .join(Person, Case.person_id == Person.id).where(Case.registered_on < end))
    found: list[dict[int, Unit]] = [{} for _start in starts]
    facts: dict[int, tuple[date, str]] = {}
    for r in rows:
        district = district_of.get(r.home_region_id) or UNKNOWN_DISTRICT
        if codes is not None and district not in codes:
            continue
        end_day = None
        if r.status not in OPEN_CASE_STATUSES:
            end_moment = ended.get(r.id) or _aware(r.updated_at)
            end_day = day_of(end_moment) if end_moment is not None else None
        for start, served_cases, units_ in zip(starts, served_in, found, strict=True):
            served = r.id in served_cases
            if end_day is not None and end_day < start and not served:
                continue  # ended before the period began
            unit = units_.get(r.person_id)
            if unit is None:
                unit = units_[r.person_id] = Unit(district)
            begins = max(start, r.registered_on)
            unit.begins = begins if unit.begins is None else min(unit.begins, begins)
            unit.grade = min(unit.grade, r.grade)
            unit.need.add(r.category)
            if served:
                unit.served.add(r.category)
            facts[r.person_id] = (r.birth_date, r.poverty_status)
    for units_ in found:
        for person_id, unit in units_.items():
            birth_date, poverty = facts[person_id]
            unit.group = priority_class(birth_date=birth_date, grade=unit.grade,
                                        poverty_status=poverty, on=unit.begins)
    return found


def count(found: dict[int, Unit]) -> tuple[Counter, Counter]:
    """(need, served): persons per (district, category, group), "all" included on each axis."""
    need: Counter = Counter()
    served: Counter = Counter()
    for u in found.values():
        for d in (u.district, ALL):
            for g in (u.group, ALL):
                for c in (*u.need, ALL):
                    need[d, c, g] += 1
                    if u.served if c == ALL else c in u.served:
                        served[d, c, g] += 1
    return need, served


def suppressed(n: int, small: int):
    """A count of 1 .. small-1 persons as "<small"; zero and larger counts as they are."""
    return f"<{small}" if 0 < n < small else n


def _share(need: int, served: int, small: int):
    """served / need, rounded to 4 places; "<N" when made from a small count; None: no need."""
    if not need:
        return None
    if need < small or 0 < served < small:
        return f"<{small}"
    return round(served / need, 4)


def year_bounds(year: int, *, today: date) -> tuple[date, date]:
    """The first day of ``year`` and the first day after it, or after today while it runs."""
    first = settings.base_year()
    if not first <= year <= today.year:
        raise field_error("year", "coverage.year_range", location="query", min=first,
                          max=today.year)
    return date(year, 1, 1), min(date(year + 1, 1, 1), today + timedelta(days=1))


def check_category(category: str | None) -> str | None:
    if category and category not in CATEGORIES:
        raise field_error("category", "coverage.category_unknown", location="query")
    return category or None


def build(session: Session, year: int, *, today: date, codes: set[str] | None = None) -> dict:
    """The year's coverage and the cumulative figures since the base year, small cells
    suppressed: the rows of every (district, category, group) with a person in them."""
    start, end = year_bounds(year, today=today)
    base = date(settings.base_year(), 1, 1)
    small, targets = settings.small_cell(), settings.targets()
    year_units, cumulative_units = periods(session, (start, base), end, codes=codes)
    need, served = count(year_units)
    need_c, served_c = count(cumulative_units)
    rows = []
    for key in sorted(set(need) | set(need_c)):
        district, category, group = key
        share = _share(need[key], served[key], small)
        target = targets.get(group, targets[ALL])
        rows.append({
            "district": district, "category": category, "group": group,
            "need": suppressed(need[key], small), "served": suppressed(served[key], small),
            "share": share, "target": target,
            "met": share >= target if isinstance(share, float) else None,
            "need_cumulative": suppressed(need_c[key], small),
            "served_cumulative": suppressed(served_c[key], small),
            "share_cumulative": _share(need_c[key], served_c[key], small)})
    return {"year": year, "base_year": base.year, "from": start.isoformat(),
            "to": (end - timedelta(days=1)).isoformat(), "to_date": end <= date(year, 12, 31),
            "districts_only": codes is not None, "small_cell": small, "targets": targets,
            "rows": rows}


def scoped_codes(session: Session) -> set[str] | None:
    """The districts the current user reads (None: the whole network), as the reports do."""
    from rehab_net.auth.guard import scope
    from rehab_net.planning.operations import district_codes_in

    return district_codes_in(session, scope("plan.read"))
