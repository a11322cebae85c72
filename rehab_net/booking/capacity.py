"""What the schedules offer and what is already held, week by week: the planner's side of
booking (issue 14, "one capacity truth" and "placements").

- ``scheduled_places``: for every facility and service with schedule rules, the places of the
  slots those rules offer in each plan week (working days only, minus leave and closures), the
  same slots ``generation.generate`` makes. One place is one intake the optimiser may fill.
- ``placements``: the cases that hold a place: an accepted referral with a booked course (its
  first active appointment says where and when it starts) or a case in rehabilitation.
- ``held_places``: the places of each week already taken by active appointments, but for the
  first appointment of each placement the plan itself keeps (it is the placement's ``current``).
  A course of therapy (courses.py) is booked whole, every session an active appointment, so a
  running course holds its places in each following week it has sessions: the capacity left
  for new intakes is what running courses leave (tests/test_courses.py, through the adapters).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rehab_net.booking.generation import offered_slots
from rehab_net.booking.models import Appointment, ScheduleRule
from rehab_net.booking.states import ACTIVE_APPOINTMENT_STATUSES, ATTENDED_APPOINTMENT_STATUSES
from rehab_net.clock import local_midnight
from rehab_net.referrals.models import Referral
from rehab_net.referrals.states import BOOKABLE_REFERRAL_STATES


@dataclass(frozen=True)
class Placement:
    case_id: int
    referral_id: int
    facility_id: int
    service_id: int
    starts_at: datetime  # the first active appointment of the referral
    appointment_id: int
    started: bool  # in rehabilitation already: an attended appointment, or the referral started


def week_bounds(start_date: date, weeks: int) -> list[datetime]:
    """The UTC moments at local midnight of each plan week's Monday, and of the week after."""
    return [local_midnight(start_date + timedelta(weeks=w)).astimezone(UTC)
            for w in range(weeks + 1)]


def week_of(moment: datetime, bounds: list[datetime]) -> int | None:
    """The plan week a moment falls in (None before week 0 or after the horizon)."""
    if moment.tzinfo is None:  # SQLite's aggregates come back naive (UTC)
        moment = moment.replace(tzinfo=UTC)
    if moment < bounds[0] or moment >= bounds[-1]:
        return None
    lo, hi = 0, len(bounds) - 1
    while hi - lo > 1:  # bounds are sorted: binary search
        mid = (lo + hi) // 2
        if bounds[mid] <= moment:
            lo = mid
        else:
            hi = mid
    return lo


def scheduled_places(session: Session, start_date: date, weeks: int,
                     facility_id: int | None = None) -> dict[tuple[int, int], list[int]]:
    """(facility id, service id) -> places the schedule rules offer in each of ``weeks`` weeks
    from ``start_date`` (a Monday). Only pairs that have an active rule appear."""
    bounds = week_bounds(start_date, weeks)
    stmt = select(ScheduleRule).where(ScheduleRule.active.is_(True))
    if facility_id is not None:
        stmt = stmt.where(ScheduleRule.facility_id == facility_id)
    rules = list(session.scalars(stmt.order_by(ScheduleRule.id)))
    out: dict[tuple[int, int], list[int]] = {}
    for rule in rules:
        out.setdefault((rule.facility_id, rule.service_id), [0] * weeks)
    end_day = start_date + timedelta(weeks=weeks)
    for rule, starts_at, _ends_at in offered_slots(session, rules, start_date, end_day,
                                                   bounds[0], bounds[-1]):
        week = week_of(starts_at, bounds)
        if week is not None:
            out[(rule.facility_id, rule.service_id)][week] += rule.places
    return out


def week_places_of(session: Session, facility_id: int, on: date) -> dict[int, int]:
    """service id -> places the facility's schedules offer in the week (Monday to Sunday) of
    ``on``: what the optimiser takes as that week's intake (network's capacity views show it
    beside the capacity row)."""
    monday = on - timedelta(days=on.weekday())
    return {service_id: places[0] for (_f, service_id), places in
            scheduled_places(session, monday, 1, facility_id).items()}


def placements(session: Session, on: datetime) -> dict[int, Placement]:
    """case id -> where it holds a place: referrals accepted or in rehabilitation that have an
    active appointment. A case with several such referrals keeps the earliest-starting one."""
    active = Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES)
    first = (select(Appointment.referral_id, func.min(Appointment.starts_at).label("starts_at"))
             .where(active).group_by(Appointment.referral_id).subquery())
    attended = set(session.scalars(select(Appointment.referral_id).where(
        Appointment.status.in_(ATTENDED_APPOINTMENT_STATUSES)).distinct()))
    rows = session.execute(
        select(Referral.id, Referral.case_id, Referral.receiver_id, Referral.service_id,
               Referral.state, first.c.starts_at)
        .join(first, first.c.referral_id == Referral.id)
        .where(Referral.state.in_(BOOKABLE_REFERRAL_STATES))).all()
    firsts = _first_appointments(session, [r.id for r in rows])
    out: dict[int, Placement] = {}
    for r in sorted(rows, key=lambda r: (r.case_id, r.starts_at, r.id)):
        if r.case_id in out:
            continue
        starts_at = r.starts_at if r.starts_at.tzinfo else r.starts_at.replace(tzinfo=UTC)
        out[r.case_id] = Placement(
            case_id=r.case_id, referral_id=r.id, facility_id=r.receiver_id,
            service_id=r.service_id, starts_at=starts_at, appointment_id=firsts[r.id],
            started=(r.state == "in_progress" or r.id in attended or starts_at < on))
    return out


def _first_appointments(session: Session, referral_ids: list[int]) -> dict[int, int]:
    """referral id -> the id of its earliest active appointment."""
    out: dict[int, int] = {}
    for i in range(0, len(referral_ids), 500):
        for referral_id, appointment_id in session.execute(
                select(Appointment.referral_id, Appointment.id)
                .where(Appointment.referral_id.in_(referral_ids[i:i + 500]),
                       Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES))
                .order_by(Appointment.referral_id, Appointment.starts_at.desc(),
                          Appointment.id.desc())):
            out[referral_id] = appointment_id  # the last one written is the earliest
    return out


def held_places(session: Session, start_date: date, weeks: int,
                kept: set[int]) -> dict[tuple[int, int], list[int]]:
    """(facility id, service id) -> places of each week taken by active appointments, leaving
    out the appointments in ``kept`` (those the plan keeps as a placement's current place)."""
    bounds = week_bounds(start_date, weeks)
    out: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0] * weeks)
    for appointment_id, facility_id, service_id, starts_at in session.execute(
            select(Appointment.id, Appointment.facility_id, Appointment.service_id,
                   Appointment.starts_at)
            .where(Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES),
                   Appointment.starts_at >= bounds[0], Appointment.starts_at < bounds[-1])):
        if appointment_id in kept:
            continue
        week = week_of(starts_at, bounds)
        if week is not None:
            out[(facility_id, service_id)][week] += 1
    return dict(out)
