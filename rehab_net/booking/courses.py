"""Courses of therapy (issue 16, part 1; docs/courses.md): a series of sessions for one referral,
booked from a weekly pattern all at once, under the same database invariants as one appointment.

- ``preview``: the sessions a pattern would book (the earliest fitting slot on each pattern day,
  one session a day), the sessions it could not place (a holiday, a closure or leave, no session
  that day, every place taken, the person busy) each with its nearest alternatives. It writes
  nothing. A slot the schedules offer beyond the generated window counts as if generated.
- ``book``: the sessions the coordinator confirmed (the preview's, and alternatives chosen), in
  ONE transaction: the slots they need are generated first (their rules locked, so two bookers
  never generate the same slot twice), then locked in id order and each place taken through
  ``places.take_place`` (the partial unique index, the person's overlap triggers or exclusion
  constraint refuse whatever slipped through): all or nothing, a 409 naming the session.
- cancel or move "this session", "this and following", "the whole course";
- a practitioner's leave (``after_leave``, called by schedules.create_exception): a session of a
  course without a fixed practitioner moves to a colleague's slot at the same time when one has a
  place; every other one stays, flagged (a session whose practitioner is on leave then), and the
  family's clinic (the referral's sender) is told;
- ``defaulters``: active courses whose last three recorded sessions were all missed (no-show);
- a referral's end (``referral_ended``, after cascades.py cancelled the future appointments):
  the course is completed (the loop closed) or cancelled (any other end).
Operations flush; the caller commits once.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from rehab_net import workdays
from rehab_net.auth import audit
from rehab_net.auth.principal import Principal
from rehab_net.booking import access, generation, waitlist
from rehab_net.booking import operations as ops
from rehab_net.booking.constraints import conflict_for
from rehab_net.booking.models import (
    Appointment,
    Course,
    CourseSession,
    Practitioner,
    PractitionerFacility,
    ScheduleException,
    ScheduleRule,
    Slot,
    SlotPlace,
    WaitlistEntry,
    course_id_of,
)
from rehab_net.booking.places import (
    actor_of,
    expire_holds,
    live,
    lock_slot,
    release,
    take_place,
    taken_places,
)
from rehab_net.booking.places import move as step
from rehab_net.booking.states import ACTIVE_APPOINTMENT_STATUSES, COURSE
from rehab_net.booking.waitlist import part_of_day
from rehab_net.clock import day_of, local_midnight, zone
from rehab_net.db import overlaps
from rehab_net.errors import Conflict, DomainError, NotFound, field_error
from rehab_net.messages import message
from rehab_net.referrals.models import Referral
from rehab_net.referrals.operations.notifications import notify
from rehab_net.referrals.operations.visibility import acting_facilities
from rehab_net.vocab import DAY_PARTS

SCOPES = ("this", "following", "all")
MOVABLE = ("proposed", "pending", "booked")  # a session not begun: cancelled or moved
RECORDED = ("arrived", "fulfilled", "noshow")  # a session whose attendance is known
MISSED_IN_A_ROW = 3  # the defaulter list (docs/courses.md)
ALTERNATIVES = 3  # per session not placed
ALTERNATIVE_DAYS = 7  # how far from the pattern day an alternative may be
MOVE_WEEKS = 104  # a session moves at most this far ahead


# --- the pattern --------------------------------------------------------------------------------
@dataclass
class Pattern:
    weekdays: list[int]  # ISO, Monday = 1
    part: str | None
    start_time: time | None
    sessions_per_week: int
    weeks: int
    sessions: int  # at most this many sessions in all
    first_day: date
    practitioner: Practitioner | None
    group_only: bool

    @property
    def mask(self) -> int:
        return sum(1 << (d - 1) for d in set(self.weekdays))


@dataclass(frozen=True)
class Candidate:
    """A session time the schedules offer: an open slot, or one a rule offers that is not
    generated yet (slot_id None)."""
    practitioner_id: int
    practitioner_code: str
    starts_at: datetime
    ends_at: datetime
    places: int
    free: int
    slot_id: int | None
    busy: bool  # the person has another appointment then
    # waiting cases booking this passes over (the preview's sessions; booking asks a reason)
    waiting_ahead: int = 0

    @property
    def key(self) -> tuple:
        return (self.practitioner_id, self.starts_at)

    @property
    def open(self) -> bool:
        return self.free > 0 and not self.busy


@dataclass
class Miss:
    week: int  # 0-based week of the course
    day: date
    reason: str  # holiday, closure, leave, no_session, full, busy
    alternatives: list[Candidate] = field(default_factory=list)


@dataclass
class Preview:
    pattern: Pattern
    sessions: list[Candidate]
    misses: list[Miss]


def read_pattern(session: Session, referral: Referral, data: dict, today: date) -> Pattern:
    """The pattern of the API body or the page's form (already typed), checked: 422 naming the
    field."""
    weekdays = sorted(set(data.get("weekdays") or ()))
    if not weekdays:
        raise field_error("weekdays", "course.weekday_needed")
    if any(not 1 <= d <= 7 for d in weekdays):
        raise field_error("weekdays", "course.weekday_unknown")
    part, start_time = data.get("part") or None, data.get("start_time")
    if part is not None and part not in DAY_PARTS:
        raise field_error("part", "waitlist.part_unknown", parts=", ".join(DAY_PARTS))
    if part is not None and start_time is not None:
        raise field_error("start_time", "course.part_or_time")
    per_week = data.get("sessions_per_week") or len(weekdays)
    if not 1 <= per_week <= len(weekdays):
        raise field_error("sessions_per_week", "course.per_week_days")
    weeks, sessions = data.get("weeks"), data.get("sessions")
    if not weeks and not sessions:
        raise field_error("weeks", "course.length_needed")
    if weeks is not None and not 1 <= weeks <= 104:
        raise field_error("weeks", "course.weeks_range")
    if sessions is not None and not 1 <= sessions <= 400:
        raise field_error("sessions", "course.sessions_range")
    if not weeks:
        weeks = -(-sessions // per_week)
        if weeks > 104:
            raise field_error("sessions", "course.sessions_range")
    sessions = min(sessions or weeks * per_week, weeks * per_week)
    first_day = data.get("first_day") or today + timedelta(days=1)
    if first_day < today:
        raise field_error("first_day", "course.first_day_past")
    practitioner = None
    if data.get("practitioner_code"):
        practitioner = session.scalar(select(Practitioner).where(
            Practitioner.code == data["practitioner_code"]))
        if practitioner is None or session.get(
                PractitionerFacility, (practitioner.id, referral.receiver_id)) is None:
            raise field_error("practitioner_code", "course.practitioner_not_here",
                              code=data["practitioner_code"])
    return Pattern(weekdays=weekdays, part=part, start_time=start_time,
                   sessions_per_week=per_week, weeks=weeks, sessions=sessions,
                   first_day=first_day, practitioner=practitioner,
                   group_only=bool(data.get("group_only")))


def fits(pattern: Pattern, moment: datetime) -> bool:
    """Whether a session starting at ``moment`` is at the pattern's time of day."""
    local = moment.astimezone(zone())
    if pattern.start_time is not None:
        return local.time().replace(second=0, microsecond=0) == pattern.start_time
    return pattern.part is None or part_of_day(moment) == pattern.part


# --- what the schedules offer -------------------------------------------------------------------
def _rules(session: Session, referral: Referral, *, lock: bool = False):
    stmt = select(ScheduleRule).where(ScheduleRule.facility_id == referral.receiver_id,
                                      ScheduleRule.service_id == referral.service_id,
                                      ScheduleRule.active.is_(True))
    if lock:  # two bookers never generate the same slots at once (PostgreSQL; SQLite is serial)
        stmt = stmt.with_for_update()
    return list(session.scalars(stmt.order_by(ScheduleRule.id)))


def candidates(session: Session, referral: Referral, pattern: Pattern, first_day: date,
               end_day: date, now: datetime) -> list[Candidate]:
    """Every session time for the referral's service at its receiving facility in
    [first_day, end_day): the open slots, and the slots the active rules offer there that are
    not generated yet (on working days, outside leave and closures, not overlapping another
    open slot of the practitioner), with their free places and whether the person is busy."""
    window_start = max(now, local_midnight(first_day)).astimezone(UTC)
    window_end = local_midnight(end_day).astimezone(UTC)
    rules = _rules(session, referral)
    if pattern.practitioner is not None:
        rules = [r for r in rules if r.practitioner_id == pattern.practitioner.id]
    codes = dict(session.execute(select(Practitioner.id, Practitioner.code)).all())
    stmt = select(Slot).where(Slot.facility_id == referral.receiver_id,
                              Slot.service_id == referral.service_id, Slot.status == "open",
                              Slot.starts_at >= window_start, Slot.starts_at < window_end)
    if pattern.practitioner is not None:
        stmt = stmt.where(Slot.practitioner_id == pattern.practitioner.id)
    slots = list(session.scalars(stmt))
    taken = taken_places(session, [s.id for s in slots], now) if slots else {}
    found: dict[tuple, tuple] = {}
    for s in slots:
        found[(s.practitioner_id, s.starts_at)] = (s.ends_at, s.places,
                                                   s.places - taken.get(s.id, (0, 0))[0], s.id)
    # the practitioners' open slots anywhere: a rule's slot overlapping one is never generated
    busy = generation._Busy()
    for p_id, start, finish in session.execute(select(
            Slot.practitioner_id, Slot.starts_at, Slot.ends_at).where(
            Slot.practitioner_id.in_({r.practitioner_id for r in rules}), Slot.status == "open",
            overlaps(Slot.starts_at, Slot.ends_at, window_start, window_end))):
        busy.add(p_id, start, finish)
    for rule, start, finish in generation.offered_slots(session, rules, first_day, end_day,
                                                        window_start, window_end):
        if (rule.practitioner_id, start) in found or busy.overlaps(rule.practitioner_id, start,
                                                                   finish):
            continue
        found[(rule.practitioner_id, start)] = (finish, rule.places, rule.places, None)
    mine = [(a, b) for a, b in session.execute(select(Appointment.starts_at, Appointment.ends_at)
                                               .where(Appointment.person_id
                                                      == referral.case.person_id, live(now),
                                                      overlaps(Appointment.starts_at,
                                                               Appointment.ends_at,
                                                               window_start, window_end)))]
    out = []
    for (p_id, start), (finish, places, free, slot_id) in found.items():
        if pattern.group_only and places < 2:
            continue
        person_busy = any(a < finish and start < b for a, b in mine)
        out.append(Candidate(p_id, codes.get(p_id, ""), start, finish, places, max(free, 0),
                             slot_id, person_busy))
    out.sort(key=lambda c: (c.starts_at, c.practitioner_code))
    return out


def preview(session: Session, referral: Referral, pattern: Pattern, now: datetime) -> Preview:
    """The sessions the pattern would book, week by week from its first day: on each pattern day
    (until the week has its sessions) the earliest fitting slot with a place while the person is
    free; the pattern days that had none, each with the reason and the nearest alternatives."""
    end_day = pattern.first_day + timedelta(weeks=pattern.weeks, days=ALTERNATIVE_DAYS)
    start_day = max(pattern.first_day - timedelta(days=ALTERNATIVE_DAYS), day_of(now))
    offered = candidates(session, referral, pattern, start_day, end_day, now)
    by_day: dict[date, list[Candidate]] = defaultdict(list)
    for c in offered:
        by_day[day_of(c.starts_at)].append(c)
    calendar = workdays.calendar()
    exceptions = _exceptions(session, referral, pattern, start_day, end_day)
    chosen: list[Candidate] = []
    misses: list[Miss] = []
    for week in range(pattern.weeks):
        if len(chosen) >= pattern.sessions:
            break
        base = pattern.first_day + timedelta(weeks=week)
        days = sorted((base + timedelta(days=k) for k in range(7)),
                      key=lambda d: d)
        days = [d for d in days if d.isoweekday() in pattern.weekdays]
        placed, failed = 0, []
        for day in days:
            if placed == pattern.sessions_per_week or len(chosen) >= pattern.sessions:
                break
            pick = next((c for c in by_day.get(day, ()) if c.open and fits(pattern, c.starts_at)),
                        None)
            if pick is None:
                failed.append(day)
                continue
            chosen.append(pick)
            placed += 1
        short = min(pattern.sessions_per_week - placed, pattern.sessions - len(chosen))
        for day in failed[:max(short, 0)]:
            misses.append(Miss(week, day, _reason(day, by_day.get(day, ()), pattern, calendar,
                                                  exceptions)))
    taken_days = {day_of(c.starts_at) for c in chosen}
    for miss in misses:
        target = datetime.combine(miss.day, pattern.start_time or _part_start(pattern.part),
                                  tzinfo=zone())
        near = [c for c in offered if c.open and day_of(c.starts_at) not in taken_days
                and abs((day_of(c.starts_at) - miss.day).days) <= ALTERNATIVE_DAYS]
        # the nearest day first, then the nearest time of day
        near.sort(key=lambda c: (abs((day_of(c.starts_at) - miss.day).days),
                                 abs(_minutes(c.starts_at) - _minutes(target)), c.starts_at))
        miss.alternatives = near[:ALTERNATIVES]
    return Preview(pattern, _with_waiting_ahead(session, referral, chosen, now), misses)


def _with_waiting_ahead(session: Session, referral: Referral, chosen: list[Candidate],
                        now: datetime) -> list[Candidate]:
    """The sessions, each with how many waiting cases booking it would pass over (as book
    checks it): a slot not generated yet is asked about as the slot it will be."""
    slots = {s.id: s for s in session.scalars(select(Slot).where(
        Slot.id.in_([c.slot_id for c in chosen if c.slot_id is not None])))}
    out = []
    for c in chosen:
        slot = slots.get(c.slot_id) or SimpleNamespace(
            id=None, facility_id=referral.receiver_id, service_id=referral.service_id,
            starts_at=c.starts_at, ends_at=c.ends_at)
        ahead = waitlist.passed_over(session, referral, slot, now) if c.free > 0 else []
        out.append(replace(c, waiting_ahead=len(ahead)) if ahead else c)
    return out


def _minutes(moment: datetime) -> int:
    local = moment.astimezone(zone())
    return local.hour * 60 + local.minute


def _part_start(part: str | None) -> time:
    return {"morning": time(9), "afternoon": time(14), "evening": time(18)}.get(part, time(9))


def _exceptions(session, referral, pattern, start_day, end_day) -> list[ScheduleException]:
    start, end = local_midnight(start_day), local_midnight(end_day)
    who = [ScheduleException.facility_id == referral.receiver_id]
    if pattern.practitioner is not None:
        who.append(ScheduleException.practitioner_id == pattern.practitioner.id)
    return list(session.scalars(select(ScheduleException).where(
        or_(*who), overlaps(ScheduleException.starts_at, ScheduleException.ends_at, start, end))))


def _reason(day: date, offered, pattern: Pattern, calendar, exceptions) -> str:
    """Why no session was placed on a pattern day."""
    if calendar.is_holiday(day):
        return "holiday"
    start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
    for e in exceptions:
        if overlaps(e.starts_at, e.ends_at, start, end):
            return "closure" if e.kind == "closure" else "leave"
    fitting = [c for c in offered if fits(pattern, c.starts_at)]
    if not fitting:
        return "no_session"
    if all(c.busy for c in fitting if c.free > 0) and any(c.free > 0 for c in fitting):
        return "busy"
    return "full"


# --- booking ------------------------------------------------------------------------------------
def _ensure_slots(session: Session, referral: Referral, picks: list[tuple[int, datetime]],
                  today: date, now: datetime) -> dict[tuple, Slot]:
    """(practitioner id, starts_at) -> the open slot of each pick, generating the slots the
    rules offer up to the last pick when some are not there yet."""
    def resolve() -> dict[tuple, Slot]:
        first, last = min(p[1] for p in picks), max(p[1] for p in picks)
        rows = session.scalars(select(Slot).where(
            Slot.facility_id == referral.receiver_id, Slot.service_id == referral.service_id,
            Slot.status == "open", Slot.starts_at >= first, Slot.starts_at <= last))
        wanted = set(picks)
        return {(s.practitioner_id, s.starts_at): s for s in rows
                if (s.practitioner_id, s.starts_at) in wanted}

    found = resolve()
    if len(found) < len(set(picks)):
        rules = _rules(session, referral, lock=True)
        last_day = day_of(max(p[1] for p in picks))
        weeks = max(current_app.config["BOOKING_WINDOW_WEEKS"],
                    (last_day - today).days // 7 + 1)
        try:
            with session.begin_nested():
                generation.generate(session, today=today, now=now, weeks=weeks,
                                    rule_ids=[r.id for r in rules])
        except IntegrityError as err:
            raise conflict_for(err) from None
        found = resolve()
    return found


def book(session: Session, referral: Referral, pattern: Pattern, picks: list[dict], *,
         principal: Principal | None, now: datetime, today: date,
         jump_reason: str | None = None) -> Course:
    """Book the confirmed sessions (``picks``: starts_at and practitioner_code each) as one
    course, all or nothing. 409 (nothing booked) when a session was taken meanwhile, the person
    became busy then, or a slot is gone; the error names the session (``to_book.<i>``).

    The waitlist's rule holds for a course as for one booking (operations.book): when any
    session passes over waiting cases its slot would be offered to first, the course is refused
    (409 booking.course_jumps_waitlist, field jump_reason) unless ``jump_reason`` says why; with
    a reason it is booked, the reason kept on each session that jumped and audited once."""
    access.require_writable(principal, referral.receiver_id, "referral")
    if referral.state not in ops.BOOKABLE_REFERRAL_STATES:
        raise Conflict("booking.referral_not_bookable", state=referral.state,
                       errors=[{"field": "referral_code",
                                "rule": message("booking.state_is", state=referral.state)}])
    if not picks:
        raise field_error("to_book", "course.no_sessions")
    codes = {p["practitioner_code"] for p in picks}
    ids = dict(session.execute(select(Practitioner.code, Practitioner.id)
                               .where(Practitioner.code.in_(codes))).all())
    keys = []
    for i, p in enumerate(picks):
        if p["practitioner_code"] not in ids:
            raise field_error(f"to_book.{i}.practitioner_code", "practitioner.unknown",
                              code=p["practitioner_code"])
        keys.append((ids[p["practitioner_code"]], p["starts_at"].astimezone(UTC)))
    if len(set(keys)) != len(keys):
        raise field_error("to_book", "course.session_twice")
    last_day = pattern.first_day + timedelta(weeks=pattern.weeks, days=ALTERNATIVE_DAYS)
    for i, (_p, moment) in enumerate(keys):
        if not today <= day_of(moment) <= last_day:
            raise field_error(f"to_book.{i}.starts_at", "course.session_outside")
    order = sorted(range(len(keys)), key=lambda i: keys[i][1])
    slots = _ensure_slots(session, referral, keys, today, now)
    for i, key in enumerate(keys):
        if key not in slots:
            raise Conflict("course.session_gone", number=i + 1,
                           errors=[{"field": f"to_book.{i}",
                                    "rule": message("course.session_gone_rule")}])
    locked = _lock_slots(session, sorted(s.id for s in slots.values()))
    jumped = _passed_over(session, referral, list(locked.values()), now)
    jump_reason = (jump_reason or "").strip() or None
    if jumped and jump_reason is None:
        entries = {e.id: e for ahead in jumped.values() for e in ahead}
        first = min(jumped, key=lambda slot_id: locked[slot_id].starts_at)
        raise Conflict("booking.course_jumps_waitlist", sessions=len(jumped),
                       count=len(entries), referral=jumped[first][0].referral.code,
                       day=day_of(locked[first].starts_at).isoformat(),
                       errors=[{"field": "jump_reason",
                                "rule": message("booking.jump_reason_rule")}])
    name, user_id = actor_of(principal)
    course = Course(referral=referral, case=referral.case, person_id=referral.case.person_id,
                    facility_id=referral.receiver_id, sender_id=referral.sender_id,
                    service_id=referral.service_id,
                    practitioner_id=pattern.practitioner.id if pattern.practitioner else None,
                    weekdays=pattern.mask, part=pattern.part, start_time=pattern.start_time,
                    sessions_per_week=pattern.sessions_per_week, weeks=pattern.weeks,
                    sessions=len(keys), first_day=pattern.first_day,
                    group_only=pattern.group_only, status="active", created_by=name,
                    created_by_user_id=user_id, created_at=now, updated_at=now)
    session.add(course)
    session.flush()
    waiting = _take_all(session, referral, course, [(i, locked[slots[keys[i]].id]) for i in order],
                        pattern, now=now, name=name, user_id=user_id)
    session.flush()
    if waiting:
        ops._booked_from_waitlist(session, referral, now)
    audit.record(session, "create", "course", course.code,
                 detail={"referral": referral.code, "sessions": len(keys)})
    if jumped:
        _record_jump(session, course, jumped, jump_reason)
    notify(session, referral, "course_booked", now, facility_id=referral.sender_id)
    return course


def _passed_over(session: Session, referral: Referral, slots: list[Slot],
                 now: datetime) -> dict[int, list]:
    """slot id -> the waiting entries booking it for ``referral`` passes over
    (waitlist.passed_over), for the course's slots that have a free place (a full one is
    refused as full, not as a jump)."""
    taken = taken_places(session, [s.id for s in slots], now)
    jumped = {}
    for slot in slots:
        if taken.get(slot.id, (0, 0))[0] >= slot.places:
            continue
        ahead = waitlist.passed_over(session, referral, slot, now)
        if ahead:
            jumped[slot.id] = ahead
    return jumped


def _record_jump(session: Session, course: Course, jumped: dict[int, list],
                 reason: str) -> None:
    """The reason on every session that passed over the waitlist, and one audit event for the
    course naming how many sessions and waiting cases (the first few) it passed over."""
    appointments = session.scalars(select(Appointment).join(
        CourseSession, CourseSession.appointment_id == Appointment.id).where(
        CourseSession.course_id == course.id, Appointment.slot_id.in_(list(jumped)))).all()
    for appointment in appointments:
        appointment.jump_reason = reason
    entries = {e.id: e for ahead in jumped.values() for e in ahead}
    audit.record(session, "update", "course", course.code, reason=reason,
                 detail={"action": "jump_waitlist", "sessions": len(jumped),
                         "passed_over": len(entries),
                         "entries": [{"entry": e.id, "referral": e.referral.code}
                                     for e in list(entries.values())[:ops.JUMP_AUDIT_ENTRIES]]})
    session.flush()


def _lock_slots(session: Session, slot_ids: list[int]) -> dict[int, Slot]:
    """The course's slots, locked in id order (one statement): two courses after the same
    slots queue, and never deadlock (PostgreSQL; SQLite's writers are serialized anyway)."""
    rows = session.scalars(select(Slot).where(Slot.id.in_(slot_ids)).order_by(Slot.id)
                           .with_for_update(of=Slot)
                           .execution_options(populate_existing=True))
    return {s.id: s for s in rows}


def _take_all(session: Session, referral: Referral, course: Course,
              sessions: list[tuple[int, Slot]], pattern: Pattern, *, now: datetime,
              name: str, user_id: int | None) -> bool:
    """Take a place of each (LOCKED) slot for the course's sessions in a few statements, as
    places.take_place does for one: holds and offers past their time go first, then the lowest
    free place of every slot and the person's live appointments are read at once, and every
    appointment inserted in one flush. The checks are for a clear 409 naming the session; the
    partial unique index and the person's overlap triggers (or exclusion constraint) refuse
    whatever slipped through, failing the whole course. Returns whether the referral was on
    the waitlist."""
    person_id = referral.case.person_id
    slot_ids = [slot.id for _i, slot in sessions]
    expire_holds(session, now, slot_ids=slot_ids, person_id=person_id)
    free = dict(session.execute(
        select(SlotPlace.slot_id, func.min(SlotPlace.place))
        .where(SlotPlace.slot_id.in_(slot_ids),
               ~exists().where(Appointment.slot_id == SlotPlace.slot_id,
                               Appointment.place == SlotPlace.place,
                               Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES)))
        .group_by(SlotPlace.slot_id)).all())
    first = min(slot.starts_at for _i, slot in sessions)
    last = max(slot.ends_at for _i, slot in sessions)
    mine = list(session.execute(select(Appointment.starts_at, Appointment.ends_at).where(
        Appointment.person_id == person_id, live(now),
        overlaps(Appointment.starts_at, Appointment.ends_at, first, last))).all())
    waiting = session.scalar(select(exists().where(
        WaitlistEntry.referral_id == referral.id, WaitlistEntry.status == "waiting")))
    for number, (i, slot) in enumerate(sessions, start=1):
        try:
            if pattern.group_only and slot.places < 2:
                raise field_error("slot_id", "course.not_group")
            ops.check_bookable(referral, slot, now)
            if free.get(slot.id) is None:
                raise Conflict("booking.slot_full", errors=[
                    {"field": "slot_id", "rule": message("booking.slot_full_rule")}])
            if any(a < slot.ends_at and slot.starts_at < b for a, b in mine):
                raise Conflict("booking.person_overlap", errors=[
                    {"field": "slot_id", "rule": message("booking.person_overlap_rule")}])
        except DomainError as err:
            raise _session_refused(err, i, number) from None
        appointment = Appointment(
            slot_id=slot.id, place=free[slot.id], referral_id=referral.id,
            case_id=referral.case_id, person_id=person_id,
            practitioner_id=slot.practitioner_id, facility_id=slot.facility_id,
            service_id=slot.service_id, starts_at=slot.starts_at, ends_at=slot.ends_at,
            status="booked", created_by_user_id=user_id, created_by=name, created_at=now,
            updated_at=now, booked_at=now)
        session.add(appointment)
        session.add(CourseSession(appointment=appointment, course=course, number=number))
        mine.append((slot.starts_at, slot.ends_at))  # two sessions of the course never overlap
    try:
        session.flush()
    except IntegrityError as err:
        refused = conflict_for(err)
        raise Conflict("course.session_refused", number="?", errors=[
            {**refused.errors[0], "field": "to_book"}] if refused.errors else []) from None
    return bool(waiting)


def _session_refused(err: DomainError, index: int, number: int) -> Conflict:
    """A refusal of one session as the course's 409: which session, and the rule it broke."""
    errors = getattr(err, "errors", None) or []
    rule = errors[0]["rule"] if errors else str(err)
    out = {"field": f"to_book.{index}", "rule": rule}
    if errors and errors[0].get("constraint"):
        out["constraint"] = errors[0]["constraint"]
    return Conflict("course.session_refused", number=number, errors=[out])


# --- reading ------------------------------------------------------------------------------------
def course_filter(principal: Principal | None):
    """SQL on Course: the courses the user may read: those at their facilities (planners: of
    their region) and those their facilities sent (the family's clinic follows them)."""
    mine = acting_facilities(principal)
    own = access.facility_filter(principal, Course.facility_id)
    if not mine:
        return own
    return or_(own, Course.sender_id.in_(mine))


def get_course(session: Session, code: str, *, viewer: Principal | None) -> Course:
    course_id = course_id_of(code)
    found = None
    if course_id is not None:
        found = session.scalar(select(Course).where(Course.id == course_id,
                                                    course_filter(viewer))
                               .options(joinedload(Course.referral)))
    if found is None:
        raise NotFound("course.not_found", code=code)
    return found


def sessions_of(session: Session, course: Course) -> list[tuple[int, Appointment]]:
    """(number, appointment) of every session, in time order, the moved ones' old appointments
    included (status cancelled, reason rescheduled)."""
    rows = session.execute(select(CourseSession.number, Appointment)
                           .join(Appointment, Appointment.id == CourseSession.appointment_id)
                           .where(CourseSession.course_id == course.id)
                           .options(joinedload(Appointment.practitioner))
                           .order_by(Appointment.starts_at, Appointment.id))
    return [(n, a) for n, a in rows]


def current_sessions(session: Session, course: Course) -> dict[int, Appointment]:
    """number -> the session's appointment now (the last one made for that number)."""
    out: dict[int, Appointment] = {}
    for number, appointment in sorted(sessions_of(session, course),
                                      key=lambda r: (r[0], r[1].id)):
        out[number] = appointment
    return out


def on_leave(session: Session, appointments: list[Appointment]) -> set[int]:
    """The ids of those appointments whose practitioner is on leave then (the flagged ones)."""
    live_ones = [a for a in appointments if a.status in MOVABLE]
    if not live_ones:
        return set()
    leave = list(session.execute(select(ScheduleException.practitioner_id,
                                        ScheduleException.starts_at, ScheduleException.ends_at)
                                 .where(ScheduleException.kind == "leave",
                                        ScheduleException.practitioner_id.in_(
                                            {a.practitioner_id for a in live_ones}),
                                        ScheduleException.ends_at > min(
                                            a.starts_at for a in live_ones))))
    return {a.id for a in live_ones for p, s, e in leave
            if p == a.practitioner_id and s < a.ends_at and a.starts_at < e}


def missed_in_a_row(appointments: list[Appointment]) -> int:
    """How many of the latest recorded sessions were missed, counted back from the last."""
    n = 0
    for a in sorted((a for a in appointments if a.status in RECORDED),
                    key=lambda a: a.starts_at, reverse=True):
        if a.status != "noshow":
            break
        n += 1
    return n


def defaulters(session: Session, principal: Principal | None,
               sender_ids: set[int] | None = None) -> list[Course]:
    """Active courses whose last MISSED_IN_A_ROW recorded sessions (attended or not) were all
    missed, for the clinics that sent them (the user's, or ``sender_ids``). One query: the
    recorded sessions ranked from the last, per course (a window function, both databases)."""
    rank = func.row_number().over(partition_by=CourseSession.course_id,
                                  order_by=Appointment.starts_at.desc()).label("rank")
    recorded = (select(CourseSession.course_id, Appointment.status, rank)
                .join(Appointment, Appointment.id == CourseSession.appointment_id)
                .join(Course, Course.id == CourseSession.course_id)
                .where(Course.status == "active", Appointment.status.in_(RECORDED))
                .subquery())
    last = (select(recorded.c.course_id).where(recorded.c.rank <= MISSED_IN_A_ROW)
            .group_by(recorded.c.course_id)
            .having(func.sum(case((recorded.c.status == "noshow", 1), else_=0))
                    == MISSED_IN_A_ROW))
    stmt = (select(Course).where(Course.id.in_(last), course_filter(principal))
            .options(joinedload(Course.referral), joinedload(Course.facility),
                     joinedload(Course.sender))
            .order_by(Course.id))
    if sender_ids is not None:
        stmt = stmt.where(Course.sender_id.in_(sender_ids))
    return list(session.scalars(stmt))


# --- cancelling and moving ----------------------------------------------------------------------
def _affected(session: Session, course: Course, number: int, scope: str,
              now: datetime) -> list[tuple[int, Appointment]]:
    if scope not in SCOPES:
        raise field_error("scope", "course.scope_unknown")
    current = current_sessions(session, course)
    if number not in current:
        raise field_error("number", "course.session_unknown", number=number)
    picked = [(n, a) for n, a in sorted(current.items())
              if a.status in MOVABLE and a.starts_at > now
              and (n == number if scope == "this" else n >= number if scope == "following"
                   else True)]
    if not picked:
        raise Conflict("course.nothing_to_change",
                       errors=[{"field": "number", "rule": message("course.not_movable_rule")}])
    return picked


def cancel(session: Session, course: Course, *, number: int, scope: str, reason: str,
           note: str | None, principal: Principal | None, now: datetime) -> list[Appointment]:
    """Cancel one session, it and the following ones, or every session not begun; the whole
    course is then cancelled too (and so when no session is left to come). Freed places go to
    the waitlist; the family's clinic is told once."""
    access.require_writable(principal, course.facility_id, "course")
    COURSE.check("cancel", course.status)
    picked = _affected(session, course, number, scope, now)
    done = []
    for _n, appointment in picked:
        if release(session, appointment, reason=reason, note=note, principal=principal,
                   now=now):
            done.append(appointment)
            waitlist.offer_slot(session, appointment.slot_id, now)
    left = [a for a in current_sessions(session, course).values()
            if a.status in MOVABLE and a.starts_at > now]
    if scope == "all" or not left:
        COURSE.move(session, Course, course.id, "cancel", from_state=course.status,
                    expected_version=course.version,
                    values={"cancel_reason": reason, "cancel_note": note, "updated_at": now})
        session.refresh(course)
    audit.record(session, "update", "course", course.code, reason=reason,
                 detail={"action": "cancel", "scope": scope, "from": number,
                         "sessions": len(done)})
    if done:
        notify(session, course.referral, "appointment_cancelled", now,
               facility_id=course.sender_id)
    return done


def move(session: Session, course: Course, *, number: int, scope: str, starts_at: datetime,
         practitioner_code: str | None, principal: Principal | None, now: datetime,
         today: date) -> list[Appointment]:
    """Move one session to ``starts_at`` (with another practitioner if given), or it and the
    following ones (or every session not begun) by the same shift, in one transaction: each is
    rescheduled (the old place is given back only when the new one is taken); when one cannot
    move, nothing moves (409 naming it)."""
    access.require_writable(principal, course.facility_id, "course")
    COURSE.check("cancel", course.status)  # only a running course changes
    picked = _affected(session, course, number, scope, now)
    current = current_sessions(session, course)
    if not today <= day_of(starts_at) <= today + timedelta(weeks=MOVE_WEEKS):
        raise field_error("starts_at", "course.move_outside", weeks=MOVE_WEEKS)
    shift = starts_at.astimezone(UTC) - current[number].starts_at
    practitioner_id = None
    if practitioner_code:
        practitioner_id = session.scalar(select(Practitioner.id).where(
            Practitioner.code == practitioner_code))
        if practitioner_id is None:
            raise field_error("practitioner_code", "practitioner.unknown", code=practitioner_code)
    keys = [(practitioner_id or a.practitioner_id, a.starts_at + shift) for _n, a in picked]
    slots = _ensure_slots(session, course.referral, keys, today, now)
    moved = []
    for (n, appointment), key in zip(picked, keys, strict=True):
        slot = slots.get(key)
        if slot is None:
            raise Conflict("course.session_gone", number=n, errors=[
                {"field": "starts_at", "rule": message("course.session_gone_rule")}])
        try:
            new, _ = ops.reschedule(session, appointment, slot_id=slot.id, principal=principal,
                                    now=now)
        except DomainError as err:
            raise _session_refused(err, n - 1, n) from None
        session.add(CourseSession(appointment=new, course=course, number=n))
        moved.append(new)
    session.flush()
    audit.record(session, "update", "course", course.code,
                 detail={"action": "move", "scope": scope, "from": number,
                         "sessions": len(moved)})
    return moved


# --- leave and the referral's end ---------------------------------------------------------------
def after_leave(session: Session, exc: ScheduleException, now: datetime) -> dict:
    """A practitioner's leave: the course sessions inside it move to a colleague's slot at the
    same time and facility (a course without a fixed practitioner, a colleague not on leave with
    a place) or stay, flagged (listed on the course page to move). The family's clinic of each
    course hit is told once. Returns the codes moved and flagged."""
    hit = list(session.execute(
        select(CourseSession.course_id, Appointment)
        .join(Appointment, Appointment.id == CourseSession.appointment_id)
        .where(Appointment.practitioner_id == exc.practitioner_id,
               Appointment.status.in_(MOVABLE), Appointment.starts_at > now,
               overlaps(Appointment.starts_at, Appointment.ends_at, exc.starts_at,
                        exc.ends_at))
        .order_by(Appointment.starts_at)))
    moved, flagged, told = [], [], {}
    for course_id, appointment in hit:
        course = session.get(Course, course_id)
        told[course.id] = course
        target = None
        if course.practitioner_id is None:
            target = _colleague_slot(session, appointment, now)
        if target is not None:
            try:
                with session.begin_nested():
                    new = _move_quietly(session, appointment, target, course, now)
                moved.append(new.code)
                continue
            except (DomainError, IntegrityError):
                session.refresh(appointment)
        flagged.append(appointment.code)
    for course in told.values():
        notify(session, course.referral, "course_sessions_affected", now,
               facility_id=course.sender_id)
    return {"moved": moved, "flagged": flagged}


def _move_quietly(session: Session, appointment: Appointment, slot: Slot, course: Course,
                  now: datetime) -> Appointment:
    """A leave's move: the old place is given back without offering it to the waitlist (the
    slot is inside the leave; generation withdraws it next), the new place taken, the session
    keeps its number."""
    lock_slot(session, slot.id)
    number = session.scalar(select(CourseSession.number).where(
        CourseSession.appointment_id == appointment.id))
    step(session, appointment, "reschedule", now, cancel_reason="rescheduled",
         cancelled_at=now, hold_expires_at=None)
    new = take_place(session, referral=appointment.referral, slot=slot,
                     status=appointment.status if appointment.status != "cancelled"
                     else "booked", now=now, principal=None, rescheduled_from=appointment)
    session.add(CourseSession(appointment=new, course=course, number=number))
    session.flush()
    return new


def _colleague_slot(session: Session, appointment: Appointment, now: datetime) -> Slot | None:
    """An open slot at the same facility, service and time of another practitioner who is not
    on leave then and has a free place."""
    rows = list(session.scalars(select(Slot).where(
        Slot.facility_id == appointment.facility_id, Slot.service_id == appointment.service_id,
        Slot.starts_at == appointment.starts_at, Slot.ends_at == appointment.ends_at,
        Slot.status == "open", Slot.practitioner_id != appointment.practitioner_id,
        ~select(ScheduleException.id).where(
            ScheduleException.practitioner_id == Slot.practitioner_id,
            and_(ScheduleException.starts_at < Slot.ends_at,
                 Slot.starts_at < ScheduleException.ends_at)).exists())
        .order_by(Slot.id)))
    taken = taken_places(session, [s.id for s in rows], now) if rows else {}
    return next((s for s in rows if taken.get(s.id, (0, 0))[0] < s.places), None)


def referral_ended(session: Session, referral: Referral, action: str, now: datetime) -> None:
    """After cascades.referral_ended cancelled the referral's future appointments: its running
    courses end too, completed when the loop closed normally (acknowledged or closed),
    cancelled otherwise."""
    for course in session.scalars(select(Course).where(Course.referral_id == referral.id,
                                                       Course.status == "active")).all():
        if action in ("acknowledge", "close"):
            COURSE.move(session, Course, course.id, "complete", from_state="active",
                        values={"updated_at": now})
        else:
            COURSE.move(session, Course, course.id, "cancel", from_state="active",
                        values={"cancel_reason": "referral_closed",
                                "cancel_note": f"{referral.code} {action}", "updated_at": now})
        audit.record(session, "update", "course", course.code,
                     detail={"action": action, "referral": referral.code})
