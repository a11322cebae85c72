"""The places of a slot, below both booking operations and the waitlist: lock a slot, take its
lowest free place (the steps are in operations.py's docstring), give a place back, expire holds and
offers whose time is up, and the state change every appointment step goes through. Neither
operations.py nor waitlist.py is imported here; both import this.
Operations flush; the caller commits once.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from rehab_net.auth import audit
from rehab_net.auth.principal import Principal
from rehab_net.booking import access
from rehab_net.booking.constraints import conflict_for, constraint_of
from rehab_net.booking.models import Appointment, Slot, SlotPlace, WaitlistEntry, appointment_code
from rehab_net.booking.states import (
    ACTIVE_APPOINTMENT_STATUSES,
    APPOINTMENT,
    HELD_APPOINTMENT_STATUSES,
    WAITLIST,
)
from rehab_net.db import overlaps
from rehab_net.errors import Conflict, field_error
from rehab_net.messages import message
from rehab_net.referrals.models import Referral
from rehab_net.referrals.states import BOOKABLE_REFERRAL_STATES

__all__ = ["BOOKABLE_REFERRAL_STATES"]  # booking's modules import it from here


def actor_of(principal: Principal | None) -> tuple[str, int | None]:
    if principal is not None:
        return principal.username, principal.id
    return audit.current_actor()[0], None


def live(now: datetime):
    """SQL: an appointment that takes its place now (active, and not a hold past its time)."""
    return and_(Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES),
                (Appointment.hold_expires_at.is_(None)) | (Appointment.hold_expires_at > now))


def taken_places(session: Session, slot_ids, now: datetime) -> dict[int, tuple[int, int]]:
    """slot id -> (places taken, of which held or offered) by live appointments."""
    rows = session.execute(select(
        Appointment.slot_id, func.count(),
        func.sum(case((Appointment.status.in_(HELD_APPOINTMENT_STATUSES), 1), else_=0)))
        .where(Appointment.slot_id.in_(list(slot_ids)), live(now))
        .group_by(Appointment.slot_id))
    return {slot_id: (n, int(held or 0)) for slot_id, n, held in rows}


# --- holds and offers that ran out --------------------------------------------------------------
def expire_holds(session: Session, now: datetime, *, slot_id: int | None = None,
                 person_id: int | None = None, slot_ids: list[int] | None = None) -> list[int]:
    """Cancel holds (pending) and waitlist offers (proposed) past their time: of one slot (or
    the ``slot_ids`` of a course), one person, or (none given) everywhere. Their waitlist
    entries wait again. Returns the ids of the slots that got a place back."""
    # One UPDATE ... RETURNING (SQLite 3.35+ and PostgreSQL): the common case, nothing expired,
    # costs one statement.
    stmt = update(Appointment).where(
        Appointment.status.in_(HELD_APPOINTMENT_STATUSES), Appointment.hold_expires_at <= now)
    if slot_id is not None or person_id is not None or slot_ids is not None:
        conditions = []
        if slot_id is not None:
            conditions.append(Appointment.slot_id == slot_id)
        if slot_ids is not None:
            conditions.append(Appointment.slot_id.in_(slot_ids))
        if person_id is not None:
            conditions.append(Appointment.person_id == person_id)
        stmt = stmt.where(or_(*conditions))
    stmt = stmt.values(
        status="cancelled", cancelled_at=now, hold_expires_at=None, updated_at=now,
        version=Appointment.version + 1,
        cancel_reason=case((Appointment.status == "pending", "hold_expired"),
                           else_="offer_expired")).returning(
        Appointment.id, Appointment.cancel_reason, Appointment.slot_id,
        Appointment.waitlist_entry_id).execution_options(synchronize_session=False)
    expired = list(session.execute(stmt))
    freed = []
    for appt_id, reason, appt_slot, entry_id in expired:
        freed.append(appt_slot)
        audit.record(session, "update", "appointment", appointment_code(appt_id),
                     detail={"action": "expire", "to": "cancelled", "reason": reason})
        if entry_id is not None:
            entry_waits_again(session, entry_id, now)
    if expired:
        session.expire_all()
    return freed


def entry_waits_again(session: Session, entry_id: int, now: datetime) -> None:
    WAITLIST.move(session, WaitlistEntry, entry_id, "wait_again", values={"updated_at": now},
                  strict=False)


# --- taking a place -----------------------------------------------------------------------------
def lock_slot(session: Session, slot_id: int) -> Slot:
    """The slot, locked against other bookers until commit (PostgreSQL; on SQLite the whole
    database is, by BEGIN IMMEDIATE)."""
    slot = session.scalar(select(Slot).where(Slot.id == slot_id)
                          .options(joinedload(Slot.practitioner, innerjoin=True),
                                   joinedload(Slot.facility, innerjoin=True),
                                   joinedload(Slot.service, innerjoin=True))
                          .with_for_update(of=Slot)
                          .execution_options(populate_existing=True))
    if slot is None:
        raise field_error("slot_id", "booking.slot_unknown")
    return slot


def free_place(session: Session, slot: Slot) -> int | None:
    """The lowest place of the slot no active appointment holds."""
    return session.scalar(select(SlotPlace.place).where(
        SlotPlace.slot_id == slot.id,
        ~exists().where(Appointment.slot_id == SlotPlace.slot_id,
                        Appointment.place == SlotPlace.place,
                        Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES)))
        .order_by(SlotPlace.place).limit(1))


def take_place(session: Session, *, referral: Referral, slot: Slot, status: str,
               now: datetime, principal: Principal | None, hold_until: datetime | None = None,
               key: str | None = None, fingerprint: str | None = None,
               entry: WaitlistEntry | None = None,
               rescheduled_from: Appointment | None = None, savepoint: bool = False,
               jump_reason: str | None = None) -> Appointment:
    """Insert the appointment into the lowest free place of a LOCKED slot (see the module's
    docstring). 409 when no place is free or the person is busy then. With `savepoint`, a refusal
    of the database leaves the caller's transaction usable (the waitlist offers go on)."""
    expire_holds(session, now, slot_id=slot.id, person_id=referral.case.person_id)
    name, user_id = actor_of(principal)
    person_id = referral.case.person_id
    for _attempt in range(3):
        # One round trip: the lowest free place, whether the person is busy then, whether the
        # referral waits on the waitlist (it leaves it when booked).
        place, busy, waiting = session.execute(select(
            select(func.min(SlotPlace.place)).where(
                SlotPlace.slot_id == slot.id,
                ~exists().where(Appointment.slot_id == SlotPlace.slot_id,
                                Appointment.place == SlotPlace.place,
                                Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES)))
            .scalar_subquery(),
            exists().where(Appointment.person_id == person_id, live(now),
                           overlaps(Appointment.starts_at, Appointment.ends_at,
                                    slot.starts_at, slot.ends_at)),
            exists().where(WaitlistEntry.referral_id == referral.id,
                           WaitlistEntry.status == "waiting"))).one()
        if place is None:
            raise Conflict("booking.slot_full",
                           errors=[{"field": "slot_id", "rule": message("booking.slot_full_rule")}])
        if busy:
            raise Conflict("booking.person_overlap",
                           errors=[{"field": "slot_id",
                                    "rule": message("booking.person_overlap_rule")}])
        appointment = Appointment(
            slot=slot, place=place, referral=referral, case=referral.case, person_id=person_id,
            practitioner=slot.practitioner, facility=slot.facility, service=slot.service,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at, status=status, hold_expires_at=hold_until,
            waitlist_entry=entry, rescheduled_from=rescheduled_from,
            idempotency_key=key, request_hash=fingerprint, jump_reason=jump_reason,
            created_by_user_id=user_id,
            created_by=name, created_at=now, updated_at=now,
            booked_at=now if status == "booked" else None)
        appointment.referral_was_waiting = bool(waiting)  # not a column: for book() below
        if not savepoint:
            # The slot is locked: its places cannot be taken under us. Whatever the database
            # still refuses (the person's time) fails the whole transaction with a 409.
            session.add(appointment)
            try:
                session.flush()
            except IntegrityError as err:
                raise conflict_for(err) from None
            return appointment
        try:
            with session.begin_nested():
                session.add(appointment)
                session.flush()
        except IntegrityError as err:
            if appointment in session:
                session.expunge(appointment)
            if constraint_of(err) == "uq_appointment_active_place":
                continue  # taken under us: try the next place
            raise conflict_for(err) from None
        return appointment
    raise Conflict("booking.slot_full",
                   errors=[{"field": "slot_id", "rule": message("booking.slot_full_rule")}])


# --- leaving a place ----------------------------------------------------------------------------
def move(session: Session, appointment: Appointment, action: str, now: datetime,
         **values) -> Appointment:
    """An APPOINTMENT step, one conditional UPDATE: of two people acting at once, one wins; the
    other gets 409 naming the status it is in now."""
    before = appointment.status
    rule = APPOINTMENT.check(action, before)
    APPOINTMENT.move(session, Appointment, appointment.id, action, from_state=before,
                     expected_version=appointment.version,
                     values={"updated_at": now, **values})
    session.refresh(appointment)
    audit.record(session, "update", "appointment", appointment.code,
                 detail={"action": rule.done, "from": before, "to": rule.target})
    return appointment


def release(session: Session, appointment: Appointment, *, reason: str, note: str | None,
            principal: Principal | None, now: datetime) -> bool:
    """Cancel with a reason, giving the place back (its waitlist entry, if an offer, waits again).
    False when it was cancelled already. Offering the freed place on is the caller's step (the
    waitlist, above this module)."""
    access.require_writable(principal, appointment.facility_id)
    if appointment.status == "cancelled":
        return False
    move(session, appointment, "decline" if reason == "offer_declined" else "cancel", now,
         cancel_reason=reason, cancel_note=note, cancelled_at=now, hold_expires_at=None)
    if appointment.waitlist_entry_id is not None:
        entry_waits_again(session, appointment.waitlist_entry_id, now)
    return True
