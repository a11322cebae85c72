"""Slots from schedules, for a rolling window (BOOKING_WINDOW_WEEKS ahead).

``generate`` is idempotent: it computes the slots the active rules want (minus holidays, leave and
closures), compares them with the future open slots of those rules, and only then writes:
- a wanted slot that exists is kept as it is;
- an existing slot no longer wanted is deleted when no appointment ever named it, withdrawn when
  only cancelled or no-show ones did, and withdrawn while its active appointments are KEPT when
  it holds any (the booking stands and is listed for the facility to move if it wants; the slot
  takes no new booking nor waitlist offer inside a leave or closure or outside its rule's hours);
- such a slot, withdrawn with its bookings, is opened again when its rule wants it again (the
  leave or closure was deleted), instead of a second slot at the same time;
- a wanted slot that does not exist is created, unless it would overlap another open slot of the
  practitioner (at any facility): that one is skipped and counted. The database refuses such an
  overlap anyway (ex_slot_practitioner_overlap).
Past slots are never touched. Called after every schedule change (for the rules concerned), by
``rehab-net slots generate`` and by the scheduler's nightly job (which rolls the window on).
"""
from __future__ import annotations

import bisect
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from rehab_net import workdays
from rehab_net.auth import audit
from rehab_net.booking.models import (
    Appointment,
    ScheduleException,
    ScheduleRule,
    Slot,
    SlotPlace,
    appointment_code,
)
from rehab_net.booking.states import ACTIVE_APPOINTMENT_STATUSES
from rehab_net.clock import local_midnight, zone
from rehab_net.db import overlaps


def rule_days(rule: ScheduleRule, start: date, end: date, calendar: workdays.Calendar):
    """The dates in [start, end) on which the rule works."""
    first = max(start, rule.valid_from)
    last = min(end - timedelta(days=1), rule.valid_until or end)
    day = first
    while day <= last:
        if rule.kind == "session":
            yield day
        elif rule.weekdays & (1 << day.weekday()):
            if not calendar.is_holiday(day):
                yield day
        elif rule.makeup_days and calendar.is_makeup_workday(day):
            yield day
        day += timedelta(days=1)


def rule_slots(rule: ScheduleRule, start: date, end: date, calendar: workdays.Calendar):
    """(starts_at, ends_at) in UTC of every slot the rule wants in [start, end)."""
    tz = zone()
    step = timedelta(minutes=rule.slot_minutes)
    for day in rule_days(rule, start, end, calendar):
        t = datetime.combine(day, rule.start_time, tzinfo=tz)
        stop = datetime.combine(day, rule.end_time, tzinfo=tz)
        while t + step <= stop:
            yield _utc(t), _utc(t + step)
            t += step


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def offered_slots(session: Session, rules: list[ScheduleRule], first_day: date, end_day: date,
                  window_start: datetime, window_end: datetime):
    """(rule, starts_at, ends_at) of every slot the active ``rules`` offer from ``first_day`` up
    to ``end_day``, starting inside [window_start, window_end), on working days and outside
    leave and closures. What generate() makes, and what the planner counts as places (the one
    definition of "a slot the schedules offer")."""
    if not rules:
        return
    calendar = workdays.calendar()
    practitioners = {r.practitioner_id for r in rules}
    facilities = {r.facility_id for r in rules}
    exceptions = list(session.scalars(select(ScheduleException).where(
        overlaps(ScheduleException.starts_at, ScheduleException.ends_at, window_start, window_end),
        or_(ScheduleException.practitioner_id.in_(practitioners),
            ScheduleException.facility_id.in_(facilities)))))

    def blocked(rule: ScheduleRule, start: datetime, finish: datetime) -> bool:
        return any(overlaps(e.starts_at, e.ends_at, start, finish)
                   and (e.practitioner_id == rule.practitioner_id
                        or e.facility_id == rule.facility_id) for e in exceptions)

    for rule in rules:
        if not rule.active:
            continue
        for start, finish in rule_slots(rule, first_day, end_day, calendar):
            if start < window_start or start >= window_end or blocked(rule, start, finish):
                continue
            yield rule, start, finish


class _Busy:
    """The open slots of each practitioner as sorted intervals, to test overlaps."""

    def __init__(self):
        self.starts: dict[int, list[datetime]] = defaultdict(list)
        self.ends: dict[int, list[datetime]] = defaultdict(list)

    def add(self, practitioner_id: int, start: datetime, end: datetime) -> None:
        i = bisect.bisect_left(self.starts[practitioner_id], start)
        self.starts[practitioner_id].insert(i, start)
        self.ends[practitioner_id].insert(i, end)

    def overlaps(self, practitioner_id: int, start: datetime, end: datetime) -> bool:
        starts, ends = self.starts[practitioner_id], self.ends[practitioner_id]
        i = bisect.bisect_left(starts, end)  # intervals starting before `end`
        # slots of one practitioner never overlap each other, so the ends are sorted too
        return i > 0 and ends[i - 1] > start


def generate(session: Session, *, today: date, now: datetime, weeks: int | None = None,
             rule_ids=None, practitioner_ids=None, facility_ids=None) -> dict:
    """Bring the slots of the selected rules (default: all) in line with them for
    [today, today + weeks). Returns counts: created, deleted, withdrawn, kept_booked (withdrawn
    with their bookings), reopened, skipped_overlap, and `booked_outside` (codes of active
    appointments in slots their rule no longer wants)."""
    weeks = weeks or current_app.config["BOOKING_WINDOW_WEEKS"]
    end = today + timedelta(weeks=weeks)
    window_start = max(now, local_midnight(today))
    window_end = _utc(local_midnight(end))

    rules_stmt = select(ScheduleRule)
    if rule_ids is not None:
        rules_stmt = rules_stmt.where(ScheduleRule.id.in_(list(rule_ids)))
    if practitioner_ids is not None:
        rules_stmt = rules_stmt.where(ScheduleRule.practitioner_id.in_(list(practitioner_ids)))
    if facility_ids is not None:
        rules_stmt = rules_stmt.where(ScheduleRule.facility_id.in_(list(facility_ids)))
    rules = list(session.scalars(rules_stmt.order_by(ScheduleRule.id)))
    counts = {"rules": len(rules), "created": 0, "deleted": 0, "withdrawn": 0,
              "kept_booked": 0, "reopened": 0, "skipped_overlap": 0, "booked_outside": []}
    if not rules:
        return counts
    rule_by_id = {r.id: r for r in rules}
    practitioners = {r.practitioner_id for r in rules}
    wanted: dict[tuple, ScheduleRule] = {}
    for rule, start, finish in offered_slots(session, rules, today, end, window_start,
                                             window_end):
        wanted[(rule.id, start, finish, rule.facility_id, rule.service_id,
                rule.practitioner_id, rule.places)] = rule

    existing = list(session.execute(select(
        Slot.id, Slot.rule_id, Slot.starts_at, Slot.ends_at, Slot.facility_id, Slot.service_id,
        Slot.practitioner_id, Slot.places).where(
        Slot.rule_id.in_(list(rule_by_id)), Slot.status == "open",
        Slot.starts_at >= window_start, Slot.starts_at < window_end)))
    have = {(r.rule_id, r.starts_at, r.ends_at, r.facility_id, r.service_id,
             r.practitioner_id, r.places): r.id for r in existing}
    unwanted = [slot_id for key, slot_id in have.items() if key not in wanted]

    to_delete, to_withdraw, to_close = [], [], []
    if unwanted:
        active = set()
        named = set()
        for slot_id, status, appt_id in session.execute(select(
                Appointment.slot_id, Appointment.status, Appointment.id)
                .where(Appointment.slot_id.in_(unwanted))):
            named.add(slot_id)
            if status in ACTIVE_APPOINTMENT_STATUSES:
                active.add(slot_id)
                counts["booked_outside"].append(appointment_code(appt_id))
        for slot_id in unwanted:
            if slot_id in active:
                counts["kept_booked"] += 1
                to_close.append(slot_id)
            elif slot_id in named:
                to_withdraw.append(slot_id)
            else:
                to_delete.append(slot_id)
    for ids in (to_withdraw, to_close):
        for i in range(0, len(ids), 500):
            session.execute(update(Slot).where(Slot.id.in_(ids[i:i + 500]))
                            .values(status="withdrawn"))
    for i in range(0, len(to_delete), 500):
        part = to_delete[i:i + 500]
        session.execute(delete(SlotPlace).where(SlotPlace.slot_id.in_(part)))
        session.execute(delete(Slot).where(Slot.id.in_(part)))
    counts["withdrawn"], counts["deleted"] = len(to_withdraw), len(to_delete)

    busy = _Busy()
    for p_id, start, finish in session.execute(select(
            Slot.practitioner_id, Slot.starts_at, Slot.ends_at).where(
            Slot.practitioner_id.in_(practitioners), Slot.status == "open",
            overlaps(Slot.starts_at, Slot.ends_at, window_start, window_end))):
        busy.add(p_id, start, finish)
    reopened = _reopen_booked(session, rules, wanted, have, busy, window_start, window_end)
    counts["reopened"] = len(reopened)
    new_rows = []
    for key in sorted(wanted, key=lambda k: (k[1], k[0])):
        if key in have:
            continue
        rule_id, start, finish, facility_id, service_id, practitioner_id, places = key
        if busy.overlaps(practitioner_id, start, finish):
            counts["skipped_overlap"] += 1
            continue
        busy.add(practitioner_id, start, finish)
        new_rows.append(dict(practitioner_id=practitioner_id, facility_id=facility_id,
                             service_id=service_id, rule_id=rule_id, starts_at=start,
                             ends_at=finish, places=places, status="open", created_at=now))
    for i in range(0, len(new_rows), 1000):
        chunk = new_rows[i:i + 1000]
        created = session.execute(insert(Slot).returning(Slot.id, Slot.places,
                                                         sort_by_parameter_order=True), chunk)
        places = [{"slot_id": slot_id, "place": n} for slot_id, total in created
                  for n in range(1, total + 1)]
        session.execute(insert(SlotPlace), places)
    counts["created"] = len(new_rows)
    if counts["created"] or counts["deleted"] or counts["withdrawn"] or to_close or reopened:
        audit.record(session, "update", "slot", None, detail={
            k: v for k, v in counts.items() if k != "booked_outside"})
    session.flush()
    return counts


def _reopen_booked(session: Session, rules: list[ScheduleRule], wanted: dict, have: dict,
                   busy: _Busy, window_start: datetime, window_end: datetime) -> list[int]:
    """Withdrawn slots of these rules that hold an active appointment (withdrawn with their
    bookings) and are wanted again: opened again, unless the practitioner has another open slot
    then. They join `have` (not created twice) and `busy`."""
    rows = list(session.execute(select(
        Slot.id, Slot.rule_id, Slot.starts_at, Slot.ends_at, Slot.facility_id, Slot.service_id,
        Slot.practitioner_id, Slot.places).where(
        Slot.rule_id.in_([r.id for r in rules]), Slot.status == "withdrawn",
        Slot.starts_at >= window_start, Slot.starts_at < window_end,
        select(Appointment.id).where(Appointment.slot_id == Slot.id, Appointment.status.in_(
            ACTIVE_APPOINTMENT_STATUSES)).exists())))
    reopen = []
    for r in rows:
        key = (r.rule_id, r.starts_at, r.ends_at, r.facility_id, r.service_id,
               r.practitioner_id, r.places)
        if key in wanted and key not in have and not busy.overlaps(r.practitioner_id,
                                                                   r.starts_at, r.ends_at):
            have[key] = r.id
            busy.add(r.practitioner_id, r.starts_at, r.ends_at)
            reopen.append(r.id)
    for i in range(0, len(reopen), 500):
        session.execute(update(Slot).where(Slot.id.in_(reopen[i:i + 500])).values(status="open"))
    return reopen


def create_slot(session: Session, *, practitioner_id: int, facility_id: int, service_id: int,
                starts_at: datetime, ends_at: datetime, places: int, now: datetime,
                rule_id: int | None = None) -> Slot:
    """One slot with its places (a flush; the database refuses an overlap)."""
    slot = Slot(practitioner_id=practitioner_id, facility_id=facility_id, service_id=service_id,
                rule_id=rule_id, starts_at=starts_at, ends_at=ends_at, places=places,
                status="open", created_at=now)
    session.add(slot)
    session.flush()
    session.execute(insert(SlotPlace), [{"slot_id": slot.id, "place": n}
                                        for n in range(1, places + 1)])
    return slot


def appointments_inside(session: Session, *, starts_at: datetime, ends_at: datetime,
                        practitioner_id: int | None = None, facility_id: int | None = None):
    """Active appointments in [starts_at, ends_at) of a practitioner or at a facility: what a
    new leave or closure leaves to be moved."""
    stmt = select(Appointment).where(Appointment.status.in_(("proposed", "pending", "booked")),
                                     overlaps(Appointment.starts_at, Appointment.ends_at,
                                              starts_at, ends_at))
    if practitioner_id is not None:
        stmt = stmt.where(Appointment.practitioner_id == practitioner_id)
    if facility_id is not None:
        stmt = stmt.where(Appointment.facility_id == facility_id)
    return list(session.scalars(stmt.order_by(Appointment.starts_at)))
