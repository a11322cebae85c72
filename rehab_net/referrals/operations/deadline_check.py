"""The referral deadlines as the scheduler's job (referrals/jobs.py): overdue, escalated, expired.
What the deadlines are is referrals/deadlines.py; each step sets them (workflow.transition)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rehab_net.network import operations as network
from rehab_net.referrals.models import Referral
from rehab_net.referrals.operations.notifications import notify
from rehab_net.referrals.operations.workflow import transition
from rehab_net.referrals.states import OPEN_REFERRAL_STATES


def check_deadlines(session: Session, now: datetime) -> dict:
    """Mark overdue referrals and tell the receiving facility; escalate to the district's planners
    after the second deadline; expire referrals never received or answered. Idempotent: each
    step is done once per state entered (overdue_at, escalated_at), and expiry is a transition."""
    counts = {"overdue": 0, "escalated": 0, "expired": 0}
    open_states = [s for s in OPEN_REFERRAL_STATES if s != "draft"]
    for referral in session.scalars(select(Referral).where(
            Referral.state.in_(open_states), Referral.expires_at <= now)):
        transition(session, referral, "expire", principal=None, now=now,
                   reason="no answer before the deadlines lapsed")
        counts["expired"] += 1
    for referral in session.scalars(select(Referral).where(
            Referral.state.in_(open_states), Referral.due_at <= now,
            Referral.overdue_at.is_(None))):
        referral.overdue_at = now
        notify(session, referral, "referral_overdue", now, facility_id=referral.receiver_id
               if referral.state != "completed" else referral.sender_id)
        counts["overdue"] += 1
    for referral in session.scalars(select(Referral).where(
            Referral.state.in_(open_states), Referral.escalate_at <= now,
            Referral.escalated_at.is_(None))):
        referral.escalated_at = now
        notify(session, referral, "referral_escalated", now,
               region_id=network.district_of(referral.receiver.region).id)
        counts["escalated"] += 1
    session.flush()
    return counts
