"""The waitlist of each facility (NHS e-RS's appointment-slot-issues list is the model): a
referral for which no slot fitted waits here, visible to the receiving facility, until it is
booked or someone removes it with a reason. Nothing leaves it silently.

When a place frees (a cancellation, an expired hold, a reschedule, new slots), the best-placed
waiting case is offered it: a `proposed` appointment holding the place until BOOKING_OFFER_HOURS
later (never later than the lead time before the slot). Best-placed = priority class (children
0-6, severe, poor, standard), then the time waited since the case's first referral
(Referral.waiting_since), then the time on this list. An offer declined or expired goes to the
next; an entry is never offered the same slot twice."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, select, update
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
from rehab_net.clock import day_of
from rehab_net.db import overlaps
from rehab_net.errors import Conflict, NotFound
from rehab_net.messages import message
from rehab_net.people.models import Case, Person
from rehab_net.people.operations import priority_rank
from rehab_net.referrals.models import Referral

FILL_LIMIT = 200  # waiting entries looked at per clean-up run


def add(session: Session, referral: Referral, *, note: str | None, principal: Principal | None,
        now: datetime) -> tuple[WaitlistEntry, bool]:
    """Put a referral on its receiving facility's waitlist (once: a second call returns the open
    entry). Returns (entry, created)."""
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
                          created_at=now, updated_at=now, created_by=actor_of(principal)[0])
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


def _candidates(slot: Slot, now: datetime):
    """Waiting entries that fit the slot: same facility and service, referral still bookable,
    never offered this slot, the person free at that time; best-placed first."""
    return ordered(select(WaitlistEntry).where(
        WaitlistEntry.facility_id == slot.facility_id,
        WaitlistEntry.service_id == slot.service_id, WaitlistEntry.status == "waiting",
        Referral.state.in_(BOOKABLE_REFERRAL_STATES),
        ~exists().where(Appointment.waitlist_entry_id == WaitlistEntry.id,
                        Appointment.slot_id == slot.id),
        ~exists().where(Appointment.person_id == WaitlistEntry.person_id, live(now),
                        overlaps(Appointment.starts_at, Appointment.ends_at,
                                 slot.starts_at, slot.ends_at))), day_of(now))


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
        slots = list(session.scalars(select(Slot).where(
            Slot.facility_id == entry.facility_id, Slot.service_id == entry.service_id,
            Slot.status == "open", Slot.starts_at > lead, Slot.starts_at < horizon,
            ~exists().where(Appointment.waitlist_entry_id == entry.id,
                            Appointment.slot_id == Slot.id),
            ~exists().where(Appointment.person_id == entry.person_id, live(now),
                            overlaps(Appointment.starts_at, Appointment.ends_at,
                                     Slot.starts_at, Slot.ends_at)))
            .order_by(Slot.starts_at, Slot.id).limit(20)))
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
