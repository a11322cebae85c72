"""The waitlist of each facility (NHS e-RS's appointment-slot-issues list is the model): a
referral for which no slot fitted waits here, visible to the receiving facility, until it is
booked or someone removes it with a reason. Nothing leaves it silently.

When a place frees (a cancellation, an expired hold, a reschedule, new slots), the best-placed
waiting case is offered it: a `proposed` appointment holding the place until BOOKING_OFFER_HOURS
later (never later than the lead time before the slot). Best-placed = priority class (children
0-6, severe, poor, standard), then the time waited since the case's first referral
(Referral.waiting_since), then the time on this list. An offer declined or expired goes to the
next; an entry is never offered the same slot twice.

The family says when it can come: weekdays and parts of the day (vocab.DAY_PARTS: morning before
12:00, afternoon 12:00-18:00, evening from 18:00), read in the configured local zone at the time a
slot starts; none given = any time. Only a slot inside both is offered (`fits`).

A coordinator booking a slot directly (operations.book) passes over every waiting entry that
would have been offered it before the referral booked (`passed_over`): the booking then needs a
reason, which is audited."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session

from rehab_net.auth import audit
from rehab_net.auth.principal import Principal
from rehab_net.booking import access
from rehab_net.booking.models import Appointment, Slot, WaitlistEntry
from rehab_net.booking.places import (
    BOOKABLE_REFERRAL_STATES,
    actor_of,
    free_place,
    live,
    lock_slot,
    release,
    take_place,
    taken_places,
)
from rehab_net.booking.states import OPEN_WAITLIST_STATUSES, WAITLIST
from rehab_net.clock import day_of, zone
from rehab_net.db import overlaps
from rehab_net.errors import Conflict, NotFound
from rehab_net.messages import message
from rehab_net.people.models import Case, Person
from rehab_net.people.operations import priority_rank
from rehab_net.referrals.models import Referral
from rehab_net.vocab import DAY_PART_ENDS, DAY_PARTS

FILL_LIMIT = 200  # waiting entries looked at per clean-up run
FILL_SLOTS = 20  # free slots looked at per waiting entry
FILL_SCAN = 500  # slots of the window scanned for an entry that can come only at some times


# --- when the family can come -------------------------------------------------------------------
def weekday_mask(weekdays: Iterable[int] | None) -> int:
    """ISO weekdays (1 = Monday ... 7 = Sunday) as a mask (Monday = bit 0); none = 0 (any)."""
    return sum({1 << (d - 1) for d in weekdays or ()})


def part_mask(parts: Iterable[str] | None) -> int:
    """Parts of the day (vocab.DAY_PARTS) as a mask (morning = bit 0); none = 0 (any)."""
    return sum({1 << DAY_PARTS.index(p) for p in parts or ()})


def weekdays_of(mask: int) -> list[int]:
    return [d + 1 for d in range(7) if mask & (1 << d)]


def parts_of(mask: int) -> list[str]:
    return [p for i, p in enumerate(DAY_PARTS) if mask & (1 << i)]


def part_of_day(moment: datetime) -> str:
    """The part of the local day a moment falls in (a slot's: when it starts)."""
    hour = moment.astimezone(zone()).hour
    return next(p for p in DAY_PARTS if hour < DAY_PART_ENDS[p])


def _slot_bits(slot: Slot) -> tuple[int, int]:
    local = slot.starts_at.astimezone(zone())
    return 1 << local.weekday(), 1 << DAY_PARTS.index(part_of_day(slot.starts_at))


def fits(slot: Slot):
    """SQL: the entry's family can come at the slot's local weekday and part of the day."""
    day, part = _slot_bits(slot)
    return and_(or_(WaitlistEntry.available_weekdays == 0,
                    WaitlistEntry.available_weekdays.op("&")(day) != 0),
                or_(WaitlistEntry.available_parts == 0,
                    WaitlistEntry.available_parts.op("&")(part) != 0))


def entry_fits(entry: WaitlistEntry, slot: Slot) -> bool:
    """`fits`, for one entry in hand."""
    day, part = _slot_bits(slot)
    return ((not entry.available_weekdays or bool(entry.available_weekdays & day))
            and (not entry.available_parts or bool(entry.available_parts & part)))


# --- the list -----------------------------------------------------------------------------------
def add(session: Session, referral: Referral, *, note: str | None, principal: Principal | None,
        now: datetime, weekdays: Iterable[int] | None = None,
        parts: Iterable[str] | None = None) -> tuple[WaitlistEntry, bool]:
    """Put a referral on its receiving facility's waitlist (once: a second call returns the open
    entry), with when the family can come: ISO `weekdays` and `parts` of the day (none = any
    time). Returns (entry, created)."""
    access.require_writable(principal, referral.receiver_id, "referral")
    if referral.state not in BOOKABLE_REFERRAL_STATES:
        raise Conflict("waitlist.referral_state", state=referral.state,
                       errors=[{"field": "referral_code",
                                "rule": message("booking.state_is", state=referral.state)}])
    found = open_entry(session, referral.id)
    if found is not None:
        return found, False
    entry = WaitlistEntry(facility_id=referral.receiver_id, service_id=referral.service_id,
                          referral_id=referral.id, case_id=referral.case_id,
                          person_id=referral.case.person_id, status="waiting", note=note,
                          available_weekdays=weekday_mask(weekdays),
                          available_parts=part_mask(parts), created_at=now, updated_at=now,
                          created_by=actor_of(principal)[0])
    from sqlalchemy.exc import IntegrityError

    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except IntegrityError:  # a twin request put it there first
        found = open_entry(session, referral.id)
        if found is None:
            raise
        return found, False
    return entry, True


def open_entry(session: Session, referral_id: int) -> WaitlistEntry | None:
    return session.scalar(select(WaitlistEntry).where(
        WaitlistEntry.referral_id == referral_id,
        WaitlistEntry.status.in_(OPEN_WAITLIST_STATUSES))
        .execution_options(populate_existing=True))


def remove(session: Session, entry: WaitlistEntry, *, reason: str, principal: Principal | None,
           now: datetime) -> WaitlistEntry:
    """Take an entry off the list, saying why (an open offer is cancelled and passed on)."""
    access.require_writable(principal, entry.facility_id, "waitlist entry")
    WAITLIST.check("remove", entry.status)
    offer = session.scalar(select(Appointment).where(
        Appointment.waitlist_entry_id == entry.id, Appointment.status == "proposed"))
    WAITLIST.move(session, WaitlistEntry, entry.id, "remove", from_state=entry.status,
                  expected_version=entry.version,
                  values={"removed_reason": reason, "updated_at": now})
    session.refresh(entry)
    audit.record(session, "update", "waitlist_entry", str(entry.id),
                 detail={"action": "remove"}, reason=reason)
    if offer is not None and release(session, offer, reason="offer_declined", note=reason,
                                     principal=principal, now=now):
        offer_slot(session, offer.slot_id, now)
    return entry


def ordered(stmt, on):
    """Best-placed first: priority class, waiting since the first referral, time listed."""
    return (stmt.join(Referral, WaitlistEntry.referral_id == Referral.id)
            .join(Case, WaitlistEntry.case_id == Case.id)
            .join(Person, WaitlistEntry.person_id == Person.id)
            .order_by(priority_rank(on), Referral.waiting_since.is_(None),
                      Referral.waiting_since, WaitlistEntry.created_at, WaitlistEntry.id))


def entries(principal: Principal | None, *, facility_ids=None, status=None, on):
    stmt = select(WaitlistEntry).where(access.facility_filter(principal,
                                                              WaitlistEntry.facility_id))
    if facility_ids is not None:
        stmt = stmt.where(WaitlistEntry.facility_id.in_(facility_ids))
    if status:
        stmt = stmt.where(WaitlistEntry.status == status)
    else:
        stmt = stmt.where(WaitlistEntry.status.in_(OPEN_WAITLIST_STATUSES))
    return ordered(stmt, on)


def get_entry(session: Session, entry_id: int, *, viewer: Principal | None) -> WaitlistEntry:
    found = session.scalar(select(WaitlistEntry).where(
        WaitlistEntry.id == entry_id, access.facility_filter(viewer, WaitlistEntry.facility_id)))
    if found is None:
        raise NotFound("waitlist.not_found", id=entry_id)
    return found


def _offer_until(slot: Slot, now: datetime) -> datetime | None:
    latest = slot.starts_at - timedelta(hours=current_app.config["BOOKING_OFFER_LEAD_HOURS"])
    if latest <= now:
        return None
    return min(now + timedelta(hours=current_app.config["BOOKING_OFFER_HOURS"]), latest)


def _candidates(slot: Slot, now: datetime, *columns):
    """Waiting entries that fit the slot: same facility and service, referral still bookable,
    the family able to come then, never offered this slot, the person free at that time;
    best-placed first."""
    return ordered(select(WaitlistEntry, *columns).where(
        WaitlistEntry.facility_id == slot.facility_id,
        WaitlistEntry.service_id == slot.service_id, WaitlistEntry.status == "waiting",
        Referral.state.in_(BOOKABLE_REFERRAL_STATES), fits(slot),
        ~exists().where(Appointment.waitlist_entry_id == WaitlistEntry.id,
                        Appointment.slot_id == slot.id),
        ~exists().where(Appointment.person_id == WaitlistEntry.person_id, live(now),
                        overlaps(Appointment.starts_at, Appointment.ends_at,
                                 slot.starts_at, slot.ends_at))), day_of(now))


def passed_over(session: Session, referral: Referral, slot: Slot,
                now: datetime) -> list[WaitlistEntry]:
    """The waiting entries a booking of `slot` for `referral` passes over: those the slot would
    be offered to (`_candidates`) that stand before the referral in the waitlist's order
    (`ordered`), best-placed first. The referral stands where its own open entry is; a referral
    not on the list stands where it would if listed now. So booking for the best-placed entry,
    or for a referral no fitting entry stands before, passes over nobody."""
    on = day_of(now)
    rank = priority_rank(on).label("rank")

    def key(rank_, waiting_since, created_at, entry_id):  # the order of `ordered`
        return rank_, waiting_since is None, waiting_since, created_at, entry_id

    own = open_entry(session, referral.id)
    if own is not None:
        row = session.execute(ordered(select(WaitlistEntry.id, rank, Referral.waiting_since).where(
            WaitlistEntry.id == own.id), on)).one()
        mine = key(row.rank, row.waiting_since, own.created_at, own.id)
    else:
        own_rank = session.scalar(select(rank).select_from(Case).join(
            Person, Case.person_id == Person.id).where(Case.id == referral.case_id))
        mine = key(own_rank, referral.waiting_since, now, float("inf"))
    ahead = []
    for entry, entry_rank, waiting_since in session.execute(_candidates(
            slot, now, rank, Referral.waiting_since).where(
            WaitlistEntry.referral_id != referral.id)):
        if key(entry_rank, waiting_since, entry.created_at, entry.id) >= mine:
            break  # best-placed first: nobody after stands before the referral either
        ahead.append(entry)
    return ahead


def offer_slot(session: Session, slot_id: int, now: datetime) -> Appointment | None:
    """Offer a free place of the slot to the best-placed waiting case, if any."""
    slot = session.get(Slot, slot_id)
    if slot is None or slot.status != "open":
        return None
    until = _offer_until(slot, now)
    if until is None:
        return None
    entry = session.scalar(_candidates(slot, now).limit(1))
    if entry is None:
        return None
    slot = lock_slot(session, slot_id)
    if free_place(session, slot) is None:
        return None
    return _offer(session, entry, slot, until, now)


def _offer(session: Session, entry: WaitlistEntry, slot: Slot, until: datetime,
           now: datetime) -> Appointment | None:
    if not WAITLIST.move(session, WaitlistEntry, entry.id, "offer", strict=False,
                         values={"offers": WaitlistEntry.offers + 1, "updated_at": now}):
        return None
    session.refresh(entry)
    try:
        return take_place(session, referral=entry.referral, slot=slot, status="proposed",
                          now=now, principal=None, hold_until=until, entry=entry,
                          savepoint=True)
    except Conflict:
        session.execute(update(WaitlistEntry).where(WaitlistEntry.id == entry.id).values(
            status="waiting", offers=WaitlistEntry.offers - 1)
            .execution_options(synchronize_session=False))
        return None


def fill(session: Session, now: datetime, limit: int = FILL_LIMIT) -> int:
    """Offer each waiting case (best-placed first) the soonest free slot that fits it."""
    offered = 0
    waiting = list(session.scalars(ordered(select(WaitlistEntry).where(
        WaitlistEntry.status == "waiting", Referral.state.in_(BOOKABLE_REFERRAL_STATES)),
        day_of(now)).limit(limit)))
    horizon = now + timedelta(weeks=current_app.config["BOOKING_WINDOW_WEEKS"])
    lead = now + timedelta(hours=current_app.config["BOOKING_OFFER_LEAD_HOURS"])
    for entry in waiting:
        choosy = bool(entry.available_weekdays or entry.available_parts)
        slots = list(session.scalars(select(Slot).where(
            Slot.facility_id == entry.facility_id, Slot.service_id == entry.service_id,
            Slot.status == "open", Slot.starts_at > lead, Slot.starts_at < horizon,
            ~exists().where(Appointment.waitlist_entry_id == entry.id,
                            Appointment.slot_id == Slot.id),
            ~exists().where(Appointment.person_id == entry.person_id, live(now),
                            overlaps(Appointment.starts_at, Appointment.ends_at,
                                     Slot.starts_at, Slot.ends_at)))
            .order_by(Slot.starts_at, Slot.id).limit(FILL_SCAN if choosy else FILL_SLOTS)))
        if choosy:  # only the times the family can come
            slots = [s for s in slots if entry_fits(entry, s)][:FILL_SLOTS]
        taken = taken_places(session, [s.id for s in slots], now)
        for slot in slots:
            if taken.get(slot.id, (0, 0))[0] >= slot.places:
                continue
            until = _offer_until(slot, now)
            locked = lock_slot(session, slot.id)
            if until is None or free_place(session, locked) is None:
                continue
            if _offer(session, entry, locked, until, now) is not None:
                offered += 1
            break
    return offered
