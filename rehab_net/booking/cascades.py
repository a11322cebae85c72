"""What a referral's end does to its bookings (issue 14): when a referral is closed, cancelled,
expired, declined or returned, its future appointments are cancelled (reason referral_closed),
its waitlist entries removed, the freed places offered to the waitlist, and the facilities whose
practitioners held them told; its running courses end (completed or cancelled: courses.py).
Attended history (arrived, fulfilled, no-show, anything already begun) is never touched.

Registered with referrals at app init (booking.init_app): referrals sits below booking and calls
``referral_ended`` from its transition, in the same transaction.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rehab_net.auth import audit
from rehab_net.booking import courses, waitlist
from rehab_net.booking.models import Appointment, WaitlistEntry
from rehab_net.booking.places import release
from rehab_net.booking.states import APPOINTMENT, OPEN_WAITLIST_STATUSES, WAITLIST
from rehab_net.referrals.models import Referral
from rehab_net.referrals.operations.notifications import notify

REASON = "referral_closed"
# The appointments a referral's end cancels: the ones a cancel may take (offered, held, booked),
# none begun or attended.
CANCELLED_ON_END = APPOINTMENT.action("cancel").sources


def referral_ended(session: Session, referral: Referral, action: str, now: datetime) -> None:
    """Cancel the referral's future appointments and take it off the waitlist (the transition
    has already moved the referral to its final state, so the waitlist no longer offers it)."""
    note = f"{referral.code} {action}"
    future = list(session.scalars(
        select(Appointment).where(Appointment.referral_id == referral.id,
                                  Appointment.status.in_(CANCELLED_ON_END),
                                  Appointment.starts_at > now)
        .order_by(Appointment.starts_at)
        .execution_options(populate_existing=True)))
    told: set[int] = set()
    freed: list[int] = []
    for appointment in future:
        # The system acts: whoever ended the referral was allowed to, and the appointments may
        # be at a facility they do not book for (a clinic cancelling its referral to a centre).
        if release(session, appointment, reason=REASON, note=note, principal=None, now=now):
            freed.append(appointment.slot_id)
            told.add(appointment.facility_id)
    for entry in session.scalars(select(WaitlistEntry).where(
            WaitlistEntry.referral_id == referral.id,
            WaitlistEntry.status.in_(OPEN_WAITLIST_STATUSES))
            .execution_options(populate_existing=True)).all():
        WAITLIST.move(session, WaitlistEntry, entry.id, "remove", from_state=entry.status,
                      values={"removed_reason": REASON, "updated_at": now}, strict=False)
        audit.record(session, "update", "waitlist_entry", str(entry.id),
                     detail={"action": "remove", "referral": referral.code}, reason=REASON)
        told.add(entry.facility_id)
    for slot_id in freed:  # the places go to the next waiting case, best placed first
        waitlist.offer_slot(session, slot_id, now)
    for facility_id in sorted(told):
        notify(session, referral, "referral_bookings_cancelled", now,
               facility_id=facility_id)
    courses.referral_ended(session, referral, action, now)  # its courses end with it
