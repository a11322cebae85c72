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
from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from rehab_net.auth import audit
from rehab_net.auth.principal import Principal
from rehab_net.booking import access, waitlist
from rehab_net.booking.constraints import IDEMPOTENCY
from rehab_net.booking.models import Appointment, Slot, WaitlistEntry
from rehab_net.booking.places import (
    BOOKABLE_REFERRAL_STATES,
    actor_of,
    expire_holds,
    lock_slot,
    move,
    release,
    take_place,
    taken_places,
)
from rehab_net.booking.states import (
    API_ACTIONS,
    APPOINTMENT,
    HELD_APPOINTMENT_STATUSES,
    WAITLIST,
)
from rehab_net.clock import day_of
from rehab_net.errors import Conflict, NotFound, field_error
from rehab_net.messages import message
from rehab_net.referrals.models import Referral
from rehab_net.referrals.operations import visibility
from rehab_net.referrals.operations.notifications import notify
from rehab_net.referrals.operations.workflow import transition
from rehab_net.referrals.states import REFERRAL

ACTIONS = API_ACTIONS
JUMP_AUDIT_ENTRIES = 50  # entries passed over named in a jump's audit row (all are counted)
USER_CANCEL_REASONS = ("family_request", "facility_request", "practitioner_unavailable", "other")


def request_hash(*parts) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


# --- reading ------------------------------------------------------------------------------------
def get_appointment(session: Session, appointment_id: int | None, *,
                    viewer: Principal | None = None) -> Appointment:
    stmt = select(Appointment).where(Appointment.id == appointment_id)
    if viewer is not None:
        stmt = stmt.where(access.appointment_filter(viewer))
    found = session.scalar(stmt) if appointment_id is not None else None
    if found is None:
        raise NotFound("appointment.not_found")
    return found


def fhir_slot_status(slot: Slot, taken: int, held: int) -> str:
    if slot.status != "open":
        return "busy-unavailable"
    if taken < slot.places:
        return "free"
    return "busy-tentative" if held else "busy"


# --- taking a place -----------------------------------------------------------------------------
def _by_key(session: Session, key: str | None, user_id: int | None) -> Appointment | None:
    if not key:
        return None
    stmt = select(Appointment).where(Appointment.idempotency_key == key)
    stmt = stmt.where(Appointment.created_by_user_id.is_(None) if user_id is None
                      else Appointment.created_by_user_id == user_id)
    return session.scalar(stmt.execution_options(populate_existing=True))


def _replay(found: Appointment, fingerprint: str) -> Appointment:
    if found.request_hash != fingerprint:
        raise field_error("Idempotency-Key", "booking.key_reused", location="headers")
    return found


def get_referral(session: Session, code: str, *, viewer: Principal | None) -> Referral:
    """A referral the user may see, with its case and person loaded (one query)."""
    from rehab_net.people.models import Case

    return visibility.get_referral(
        session, code, viewer=viewer, not_found="booking.referral_not_found",
        options=[joinedload(Referral.case, innerjoin=True).joinedload(Case.person,
                                                                     innerjoin=True)])


def check_bookable(referral: Referral, slot: Slot, now: datetime) -> None:
    if referral.state not in BOOKABLE_REFERRAL_STATES:
        raise Conflict("booking.referral_not_bookable", state=referral.state,
                       errors=[{"field": "referral_code",
                                "rule": message("booking.state_is", state=referral.state)}])
    if slot.facility_id != referral.receiver_id:
        raise field_error("slot_id", "booking.slot_other_facility")
    if slot.service_id != referral.service_id:
        raise field_error("slot_id", "booking.slot_other_service")
    if slot.status != "open":
        raise Conflict("booking.slot_withdrawn",
                       errors=[{"field": "slot_id",
                                "rule": message("booking.slot_withdrawn_rule")}])
    if slot.starts_at <= now:
        raise Conflict("booking.slot_begun",
                       errors=[{"field": "slot_id", "rule": message("booking.slot_past_rule")}])


def book(session: Session, *, referral: Referral, slot_id: int, hold: bool,
         principal: Principal | None, now: datetime, key: str | None = None,
         jump_reason: str | None = None) -> tuple[Appointment, bool]:
    """Book (or, with ``hold``, hold for BOOKING_HOLD_MINUTES) a place of a slot for a referral.
    With an idempotency key, a repeat of the same request returns the first one's appointment
    (created False) and never books twice. Returns (appointment, created).

    A booking that passes over waiting cases the slot would have been offered to first
    (waitlist.passed_over: better placed, able to come then, free then) is refused (409, field
    jump_reason) unless it says why in ``jump_reason``; with a reason it is made, the reason kept
    on the appointment and audited with the entries passed over."""
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
    # A full slot is refused as full (take_place), not as a jump; holds past their time are
    # not counted as taking a place.
    full = taken_places(session, [slot.id], now).get(slot.id, (0, 0))[0] >= slot.places
    ahead = [] if full else waitlist.passed_over(session, referral, slot, now)
    jump_reason = (jump_reason or "").strip() or None
    if ahead and jump_reason is None:
        raise Conflict("booking.jumps_waitlist", count=len(ahead),
                       referral=ahead[0].referral.code,
                       errors=[{"field": "jump_reason",
                                "rule": message("booking.jump_reason_rule")}])
    hold_until = (now + timedelta(minutes=current_app.config["BOOKING_HOLD_MINUTES"]) if hold
                  else None)
    appointment = take_place(session, referral=referral, slot=slot,
                             status="pending" if hold else "booked", now=now,
                             principal=principal, hold_until=hold_until, key=key,
                             fingerprint=fingerprint,
                             jump_reason=jump_reason if ahead else None)
    if ahead:
        audit.record(session, "update", "appointment", appointment.code, reason=jump_reason,
                     detail={"action": "jump_waitlist", "passed_over": len(ahead),
                             "entries": [{"entry": e.id, "referral": e.referral.code}
                                         for e in ahead[:JUMP_AUDIT_ENTRIES]]})
    if appointment.referral_was_waiting:
        _booked_from_waitlist(session, referral, now)
    if not hold:
        tell_sender(session, appointment, "appointment_booked", now)
    return appointment, True


def tell_sender(session: Session, appointment: Appointment, kind: str, now: datetime) -> None:
    """The facility that sent the referral learns of its patient's appointment: booked, moved
    or cancelled (holds and waitlist offers are not appointments yet)."""
    referral = appointment.referral
    notify(session, referral, kind, now, facility_id=referral.sender_id)


def _booked_from_waitlist(session: Session, referral: Referral, now: datetime) -> None:
    """A referral booked while on the waitlist leaves it (as booked)."""
    session.execute(update(WaitlistEntry).where(
        WaitlistEntry.referral_id == referral.id, WaitlistEntry.status == "waiting").values(
        status=WAITLIST.action("book").target, updated_at=now,
        version=WaitlistEntry.version + 1)
        .execution_options(synchronize_session=False))


# --- the steps after ----------------------------------------------------------------------------
def confirm(session: Session, appointment: Appointment, *, principal: Principal | None,
            now: datetime) -> Appointment:
    """A hold (pending) or a waitlist offer (proposed) becomes booked, if still in time."""
    access.require_writable(principal, appointment.facility_id)
    if appointment.status == "booked":
        return appointment  # a repeated confirmation changes nothing
    if appointment.status == "cancelled" and appointment.cancel_reason in ("hold_expired",
                                                                            "offer_expired"):
        raise Conflict("booking.hold_expired",
                       errors=[{"field": "status", "rule": message("booking.hold_expired_rule")}])
    if appointment.status in HELD_APPOINTMENT_STATUSES and appointment.hold_expires_at <= now:
        expire_holds(session, now, slot_id=appointment.slot_id)
        session.refresh(appointment)
        raise Conflict("booking.hold_expired",
                       errors=[{"field": "status", "rule": message("booking.hold_expired_rule")}])
    move(session, appointment, "confirm", now, hold_expires_at=None, booked_at=now)
    tell_sender(session, appointment, "appointment_booked", now)
    if appointment.waitlist_entry_id is not None:
        WAITLIST.move(session, WaitlistEntry, appointment.waitlist_entry_id, "book",
                      values={"updated_at": now}, strict=False)
    return appointment


def cancel(session: Session, appointment: Appointment, *, reason: str, note: str | None,
           principal: Principal | None, now: datetime, offer: bool = True) -> Appointment:
    """Cancel with a reason; the freed place is offered to the waitlist, and the sending
    facility told when a booked appointment is cancelled."""
    was_booked = appointment.status == "booked"
    released = release(session, appointment, reason=reason, note=note, principal=principal,
                       now=now)
    if released and was_booked:
        tell_sender(session, appointment, "appointment_cancelled", now)
    if released and offer:
        waitlist.offer_slot(session, appointment.slot_id, now)
    return appointment


def decline(session: Session, appointment: Appointment, *, note: str | None,
            principal: Principal | None, now: datetime) -> Appointment:
    """The family declines a waitlist offer: the entry waits again, the place goes to the next."""
    if not APPOINTMENT.can("decline", appointment.status):
        raise Conflict("booking.decline_not_offer", status=appointment.status,
                       errors=[{"field": "status", "rule": message(
                           "booking.status_is", status=appointment.status)}])
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
        raise field_error("slot_id", "booking.same_slot")
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
    APPOINTMENT.check("reschedule", status)
    if status == "pending" and appointment.hold_expires_at <= now:
        raise Conflict("booking.hold_expired",
                       errors=[{"field": "status", "rule": message("booking.hold_expired_rule")}])
    hold_until = (now + timedelta(minutes=current_app.config["BOOKING_HOLD_MINUTES"])
                  if status == "pending" else None)
    old_slot_id = appointment.slot_id
    move(session, appointment, "reschedule", now, cancel_reason="rescheduled", cancelled_at=now,
         hold_expires_at=None)
    new = take_place(session, referral=referral, slot=new_slot, status=status, now=now,
                     principal=principal, hold_until=hold_until, key=key,
                     fingerprint=fingerprint, rescheduled_from=appointment)
    waitlist.offer_slot(session, old_slot_id, now)
    if status == "booked":
        tell_sender(session, new, "appointment_moved", now)
    return new, True


def can_record_yet(appointment: Appointment, action: str, now: datetime) -> bool:
    """Whether an attendance step may be recorded at ``now``: arrival and attendance on the
    appointment's day or later, a no-show once it has begun. Pages offer only these; arrive,
    fulfil and noshow refuse the rest."""
    if action in ("arrive", "fulfil"):
        return day_of(appointment.starts_at) <= day_of(now)
    if action == "noshow":
        return appointment.starts_at <= now
    return True


def arrive(session: Session, appointment: Appointment, *, principal: Principal | None,
           now: datetime) -> Appointment:
    access.require_writable(principal, appointment.facility_id)
    if not can_record_yet(appointment, "arrive", now):
        raise Conflict("booking.arrival_day",
                       errors=[{"field": "status", "rule": message("booking.later_day_rule")}])
    return move(session, appointment, "arrive", now, arrived_at=now)


def fulfil(session: Session, appointment: Appointment, *, principal: Principal | None,
           now: datetime) -> Appointment:
    """Attended. The referral follows: an accepted referral is now in rehabilitation."""
    access.require_writable(principal, appointment.facility_id)
    if not can_record_yet(appointment, "fulfil", now):
        raise Conflict("booking.attendance_day",
                       errors=[{"field": "status", "rule": message("booking.later_day_rule")}])
    move(session, appointment, "fulfil", now, attended_at=now)
    referral = appointment.referral
    if REFERRAL.can("start", referral.state):
        transition(session, referral, "start", principal=principal, now=now)
    return appointment


def noshow(session: Session, appointment: Appointment, *, principal: Principal | None,
           now: datetime) -> Appointment:
    access.require_writable(principal, appointment.facility_id)
    if not can_record_yet(appointment, "noshow", now):
        raise Conflict("booking.no_show_early",
                       errors=[{"field": "status", "rule": message("booking.not_begun_rule")}])
    return move(session, appointment, "noshow", now)


def expire_and_offer(session: Session, now: datetime) -> dict:
    """The periodic clean-up (scheduler, every minute): holds and offers past their time are
    cancelled, and each freed place, and any free place a waiting case fits, is offered on."""
    freed = expire_holds(session, now)
    offered = 0
    for slot_id in dict.fromkeys(freed):
        offered += waitlist.offer_slot(session, slot_id, now) is not None
    offered += waitlist.fill(session, now)
    session.flush()
    return {"expired": len(freed), "offered": offered}


__all__ = ["IDEMPOTENCY", "book", "cancel", "confirm", "reschedule"]
