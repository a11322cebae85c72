"""Booking: hold or book a place for a referral, confirm, cancel, reschedule, record attendance
or no-show; expire holds and waitlist offers.

How a place is taken, on both databases:
1. the slot row is locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's writers are already
   serialized by BEGIN IMMEDIATE), so bookings of one slot queue up;
2. holds and offers of that slot (and of the person) whose time is up are cancelled first: an
   expired hold never blocks anyone;
3. the lowest free place is chosen and the appointment inserted inside a savepoint. The partial
   unique index over the active appointments of (slot, place) and the exclusion constraint (or
   triggers) over the person's time refuse whatever slipped through: an IntegrityError becomes a
   409 naming the rule. Counting first and inserting after is NOT what guarantees anything.
Operations flush; the caller commits once.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from rehab_net.auth import audit
from rehab_net.auth.guard import Principal
from rehab_net.booking import access
from rehab_net.booking.constraints import IDEMPOTENCY, conflict_for, constraint_of
from rehab_net.booking.models import Appointment, Slot, SlotPlace, WaitlistEntry
from rehab_net.clock import day_of
from rehab_net.db import overlaps
from rehab_net.errors import Conflict, NotFound, field_error
from rehab_net.referrals import operations as referrals
from rehab_net.referrals.models import Referral
from rehab_net.vocab import ACTIVE_APPOINTMENT_STATUSES, HELD_APPOINTMENT_STATUSES

BOOKABLE_REFERRAL_STATES = ("accepted", "in_progress")
ACTIONS = ("confirm", "decline", "cancel", "reschedule", "arrive", "fulfil", "noshow")
USER_CANCEL_REASONS = ("family_request", "facility_request", "practitioner_unavailable", "other")


def actor_of(principal: Principal | None) -> tuple[str, int | None]:
    if principal is not None:
        return principal.username, principal.id
    return audit.current_actor()[0], None


def request_hash(*parts) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


# --- reading ------------------------------------------------------------------------------------
def get_appointment(session: Session, appointment_id: int | None, *,
                    viewer: Principal | None = None) -> Appointment:
    stmt = select(Appointment).where(Appointment.id == appointment_id)
    if viewer is not None:
        stmt = stmt.where(access.facility_filter(viewer, Appointment.facility_id))
    found = session.scalar(stmt) if appointment_id is not None else None
    if found is None:
        raise NotFound("There is no such appointment.")
    return found


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


def fhir_slot_status(slot: Slot, taken: int, held: int) -> str:
    if slot.status != "open":
        return "busy-unavailable"
    if taken < slot.places:
        return "free"
    return "busy-tentative" if held else "busy"


# --- holds and offers that ran out --------------------------------------------------------------
def expire_holds(session: Session, now: datetime, *, slot_id: int | None = None,
                 person_id: int | None = None) -> list[int]:
    """Cancel holds (pending) and waitlist offers (proposed) past their time: of one slot, one
    person, or (neither given) everywhere. Their waitlist entries wait again. Returns the ids of
    the slots that got a place back."""
    # One UPDATE ... RETURNING (SQLite 3.35+ and PostgreSQL): the common case, nothing expired,
    # costs one statement.
    stmt = update(Appointment).where(
        Appointment.status.in_(HELD_APPOINTMENT_STATUSES), Appointment.hold_expires_at <= now)
    if slot_id is not None or person_id is not None:
        conditions = []
        if slot_id is not None:
            conditions.append(Appointment.slot_id == slot_id)
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
        audit.record(session, "update", "appointment", f"A{appt_id:07d}",
                     detail={"action": "expire", "to": "cancelled", "reason": reason})
        if entry_id is not None:
            _entry_waits_again(session, entry_id, now)
    if expired:
        session.expire_all()
    return freed


def _entry_waits_again(session: Session, entry_id: int, now: datetime) -> None:
    session.execute(update(WaitlistEntry).where(
        WaitlistEntry.id == entry_id, WaitlistEntry.status == "offered").values(
        status="waiting", updated_at=now, version=WaitlistEntry.version + 1)
        .execution_options(synchronize_session=False))


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
        raise field_error("slot_id", "no such slot")
    return slot


def free_place(session: Session, slot: Slot) -> int | None:
    """The lowest place of the slot no active appointment holds."""
    return session.scalar(select(SlotPlace.place).where(
        SlotPlace.slot_id == slot.id,
        ~exists().where(Appointment.slot_id == SlotPlace.slot_id,
                        Appointment.place == SlotPlace.place,
                        Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES)))
        .order_by(SlotPlace.place).limit(1))


def _by_key(session: Session, key: str | None, user_id: int | None) -> Appointment | None:
    if not key:
        return None
    stmt = select(Appointment).where(Appointment.idempotency_key == key)
    stmt = stmt.where(Appointment.created_by_user_id.is_(None) if user_id is None
                      else Appointment.created_by_user_id == user_id)
    return session.scalar(stmt.execution_options(populate_existing=True))


def _replay(found: Appointment, fingerprint: str) -> Appointment:
    if found.request_hash != fingerprint:
        raise field_error("Idempotency-Key", "was used for another request", location="headers")
    return found


def get_referral(session: Session, code: str, *, viewer: Principal | None) -> Referral:
    """A referral the user may see, with its case and person loaded (one query)."""
    from rehab_net.people.models import Case

    stmt = (select(Referral).where(Referral.code == code)
            .options(joinedload(Referral.case, innerjoin=True).joinedload(Case.person,
                                                                          innerjoin=True)))
    if viewer is not None:
        stmt = stmt.where(referrals.visible(viewer))
    found = session.scalar(stmt)
    if found is None:
        raise NotFound(f"There is no referral {code}.")
    return found


def check_bookable(referral: Referral, slot: Slot, now: datetime) -> None:
    if referral.state not in BOOKABLE_REFERRAL_STATES:
        raise Conflict(f"Only an accepted referral (or one in rehabilitation) is booked; this one "
                       f"is {referral.state}.",
                       errors=[{"field": "referral_code", "rule": f"is {referral.state}"}])
    if slot.facility_id != referral.receiver_id:
        raise field_error("slot_id", "is not at the facility that received the referral")
    if slot.service_id != referral.service_id:
        raise field_error("slot_id", "is not for the referral's service")
    if slot.status != "open":
        raise Conflict("The slot was withdrawn from the schedule.",
                       errors=[{"field": "slot_id", "rule": "is withdrawn"}])
    if slot.starts_at <= now:
        raise Conflict("The slot has already begun.",
                       errors=[{"field": "slot_id", "rule": "is in the past"}])


def take_place(session: Session, *, referral: Referral, slot: Slot, status: str,
               now: datetime, principal: Principal | None, hold_until: datetime | None = None,
               key: str | None = None, fingerprint: str | None = None,
               entry: WaitlistEntry | None = None,
               rescheduled_from: Appointment | None = None, savepoint: bool = False) -> Appointment:
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
            raise Conflict("Every place of this slot is taken.",
                           errors=[{"field": "slot_id", "rule": "has no free place"}])
        if busy:
            raise Conflict("The person already has an appointment at an overlapping time.",
                           errors=[{"field": "slot_id",
                                    "rule": "overlaps another appointment of the person"}])
        appointment = Appointment(
            slot=slot, place=place, referral=referral, case=referral.case, person_id=person_id,
            practitioner=slot.practitioner, facility=slot.facility, service=slot.service,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at, status=status, hold_expires_at=hold_until,
            waitlist_entry=entry, rescheduled_from=rescheduled_from,
            idempotency_key=key, request_hash=fingerprint, created_by_user_id=user_id,
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
    raise Conflict("Every place of this slot is taken.",
                   errors=[{"field": "slot_id", "rule": "has no free place"}])


def book(session: Session, *, referral: Referral, slot_id: int, hold: bool,
         principal: Principal | None, now: datetime, key: str | None = None) -> tuple[
        Appointment, bool]:
    """Book (or, with ``hold``, hold for BOOKING_HOLD_MINUTES) a place of a slot for a referral.
    With an idempotency key, a repeat of the same request returns the first one's appointment
    (created False) and never books twice. Returns (appointment, created)."""
    access.require_writable(principal, referral.receiver_id, "referral")
    fingerprint = request_hash("book", referral.id, slot_id, hold)
    _, user_id = actor_of(principal)
    slot = lock_slot(session, slot_id)
    # Looked up after the lock: a twin request on this slot has committed by now. (A twin with
    # the same key on another slot meets the unique constraint: 409.)
    found = _by_key(session, key, user_id)
    if found is not None:
        return _replay(found, fingerprint), False
    check_bookable(referral, slot, now)
    hold_until = (now + timedelta(minutes=current_app.config["BOOKING_HOLD_MINUTES"]) if hold
                  else None)
    appointment = take_place(session, referral=referral, slot=slot,
                             status="pending" if hold else "booked", now=now,
                             principal=principal, hold_until=hold_until, key=key,
                             fingerprint=fingerprint)
    if appointment.referral_was_waiting:
        _booked_from_waitlist(session, referral, now)
    return appointment, True


def _booked_from_waitlist(session: Session, referral: Referral, now: datetime) -> None:
    """A referral booked while on the waitlist leaves it (as booked)."""
    session.execute(update(WaitlistEntry).where(
        WaitlistEntry.referral_id == referral.id, WaitlistEntry.status == "waiting").values(
        status="booked", updated_at=now, version=WaitlistEntry.version + 1)
        .execution_options(synchronize_session=False))


# --- the steps after ----------------------------------------------------------------------------
def _move(session: Session, appointment: Appointment, sources: tuple[str, ...], target: str,
          now: datetime, action: str, **values) -> Appointment:
    """A conditional UPDATE: of two people acting at once, one wins; the other gets 409."""
    if appointment.status not in sources:
        raise Conflict(f"An appointment that is {appointment.status} cannot be {action}.",
                       errors=[{"field": "status", "rule": f"is {appointment.status}"}])
    result = session.execute(update(Appointment).where(
        Appointment.id == appointment.id, Appointment.status == appointment.status,
        Appointment.version == appointment.version).values(
        status=target, updated_at=now, version=appointment.version + 1, **values)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        fresh = session.execute(select(Appointment.status).where(
            Appointment.id == appointment.id)).scalar()
        raise Conflict(f"Someone else changed this appointment first: it is now {fresh}.",
                       errors=[{"field": "status", "rule": f"is now {fresh}"}])
    before = appointment.status
    session.refresh(appointment)
    audit.record(session, "update", "appointment", appointment.code,
                 detail={"action": action, "from": before, "to": target})
    return appointment


def confirm(session: Session, appointment: Appointment, *, principal: Principal | None,
            now: datetime) -> Appointment:
    """A hold (pending) or a waitlist offer (proposed) becomes booked, if still in time."""
    access.require_writable(principal, appointment.facility_id)
    if appointment.status == "booked":
        return appointment  # a repeated confirmation changes nothing
    if appointment.status == "cancelled" and appointment.cancel_reason in ("hold_expired",
                                                                            "offer_expired"):
        raise Conflict("The hold expired before it was confirmed; book again.",
                       errors=[{"field": "status", "rule": "hold expired"}])
    if appointment.status in HELD_APPOINTMENT_STATUSES and appointment.hold_expires_at <= now:
        expire_holds(session, now, slot_id=appointment.slot_id)
        session.refresh(appointment)
        raise Conflict("The hold expired before it was confirmed; book again.",
                       errors=[{"field": "status", "rule": "hold expired"}])
    _move(session, appointment, HELD_APPOINTMENT_STATUSES, "booked", now, "confirmed",
          hold_expires_at=None, booked_at=now)
    if appointment.waitlist_entry_id is not None:
        session.execute(update(WaitlistEntry).where(
            WaitlistEntry.id == appointment.waitlist_entry_id).values(
            status="booked", updated_at=now, version=WaitlistEntry.version + 1)
            .execution_options(synchronize_session=False))
    return appointment


def cancel(session: Session, appointment: Appointment, *, reason: str, note: str | None,
           principal: Principal | None, now: datetime, offer: bool = True) -> Appointment:
    """Cancel with a reason; the freed place is offered to the waitlist."""
    access.require_writable(principal, appointment.facility_id)
    if appointment.status == "cancelled":
        return appointment
    sources = ("proposed",) if reason == "offer_declined" else ("proposed", "pending", "booked")
    _move(session, appointment, sources, "cancelled", now, "cancelled", cancel_reason=reason,
          cancel_note=note, cancelled_at=now, hold_expires_at=None)
    if appointment.waitlist_entry_id is not None:
        _entry_waits_again(session, appointment.waitlist_entry_id, now)
    if offer:
        from rehab_net.booking import waitlist

        waitlist.offer_slot(session, appointment.slot_id, now)
    return appointment


def decline(session: Session, appointment: Appointment, *, note: str | None,
            principal: Principal | None, now: datetime) -> Appointment:
    """The family declines a waitlist offer: the entry waits again, the place goes to the next."""
    if appointment.status != "proposed":
        raise Conflict(f"Only a waitlist offer is declined; this appointment is "
                       f"{appointment.status}.",
                       errors=[{"field": "status", "rule": f"is {appointment.status}"}])
    return cancel(session, appointment, reason="offer_declined", note=note, principal=principal,
                  now=now)


def reschedule(session: Session, appointment: Appointment, *, slot_id: int,
               principal: Principal | None, now: datetime, key: str | None = None) -> tuple[
        Appointment, bool]:
    """Move a held or booked appointment to another slot, atomically: in ONE transaction the old
    one is cancelled (reason rescheduled) and the new place taken; when the new place cannot be
    taken the whole transaction is rolled back and the old place was never released."""
    access.require_writable(principal, appointment.facility_id)
    fingerprint = request_hash("reschedule", appointment.id, slot_id)
    _, user_id = actor_of(principal)
    if slot_id == appointment.slot_id:
        raise field_error("slot_id", "is the slot the appointment already has")
    # Lock both slots in id order, so two reschedules between the same slots cannot deadlock.
    slots = {s: lock_slot(session, s) for s in sorted((slot_id, appointment.slot_id))}
    new_slot = slots[slot_id]
    found = _by_key(session, key, user_id)
    if found is not None:
        return _replay(found, fingerprint), False
    session.refresh(appointment)
    referral = appointment.referral
    check_bookable(referral, new_slot, now)
    status = appointment.status
    if status not in ("pending", "booked"):
        raise Conflict(f"An appointment that is {status} cannot be rescheduled.",
                       errors=[{"field": "status", "rule": f"is {status}"}])
    if status == "pending" and appointment.hold_expires_at <= now:
        raise Conflict("The hold expired before it was confirmed; book again.",
                       errors=[{"field": "status", "rule": "hold expired"}])
    hold_until = (now + timedelta(minutes=current_app.config["BOOKING_HOLD_MINUTES"])
                  if status == "pending" else None)
    old_slot_id = appointment.slot_id
    _move(session, appointment, ("pending", "booked"), "cancelled", now, "rescheduled",
          cancel_reason="rescheduled", cancelled_at=now, hold_expires_at=None)
    new = take_place(session, referral=referral, slot=new_slot, status=status, now=now,
                     principal=principal, hold_until=hold_until, key=key,
                     fingerprint=fingerprint, rescheduled_from=appointment)
    from rehab_net.booking import waitlist

    waitlist.offer_slot(session, old_slot_id, now)
    return new, True


def arrive(session: Session, appointment: Appointment, *, principal: Principal | None,
           now: datetime) -> Appointment:
    access.require_writable(principal, appointment.facility_id)
    if day_of(appointment.starts_at) > day_of(now):
        raise Conflict("Arrival is recorded on the day of the appointment.",
                       errors=[{"field": "status", "rule": "is on a later day"}])
    return _move(session, appointment, ("booked",), "arrived", now, "marked arrived",
                 arrived_at=now)


def fulfil(session: Session, appointment: Appointment, *, principal: Principal | None,
           now: datetime) -> Appointment:
    """Attended. The referral follows: an accepted referral is now in rehabilitation."""
    access.require_writable(principal, appointment.facility_id)
    if day_of(appointment.starts_at) > day_of(now):
        raise Conflict("Attendance is recorded on the day of the appointment or later.",
                       errors=[{"field": "status", "rule": "is on a later day"}])
    _move(session, appointment, ("booked", "arrived"), "fulfilled", now, "marked attended",
          attended_at=now)
    referral = appointment.referral
    if referral.state == "accepted":
        referrals.transition(session, referral, "start", principal=principal, now=now)
    return appointment


def noshow(session: Session, appointment: Appointment, *, principal: Principal | None,
           now: datetime) -> Appointment:
    access.require_writable(principal, appointment.facility_id)
    if appointment.starts_at > now:
        raise Conflict("A no-show is recorded once the appointment has begun.",
                       errors=[{"field": "status", "rule": "has not begun"}])
    return _move(session, appointment, ("booked",), "noshow", now, "marked no-show")


def expire_and_offer(session: Session, now: datetime) -> dict:
    """The periodic clean-up (scheduler, every minute): holds and offers past their time are
    cancelled, and each freed place, and any free place a waiting case fits, is offered on."""
    from rehab_net.booking import waitlist

    freed = expire_holds(session, now)
    offered = 0
    for slot_id in dict.fromkeys(freed):
        offered += waitlist.offer_slot(session, slot_id, now) is not None
    offered += waitlist.fill(session, now)
    session.flush()
    return {"expired": len(freed), "offered": offered}


__all__ = ["IDEMPOTENCY", "book", "cancel", "confirm", "reschedule"]
