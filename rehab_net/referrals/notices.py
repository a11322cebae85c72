"""What a notification says (issue 15): not only its kind ("referral answered") but what
happened, by whom and why: "R000001 accepted by 呼伦贝尔市康复中心", "R000002 declined by ...:
No free places. Full until March". No personal data: the referral's code and facilities only.

The step a notification tells of is the referral event written in the same transaction (same
referral, same instant), found for a page of notifications in one query."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from rehab_net.i18n import local_name
from rehab_net.referrals.models import Notification, ReferralEvent
from rehab_net.vocab import label


def steps_of(session: Session, notifications: list[Notification]) -> dict[int, str]:
    """Notification id -> the action of the referral step it tells of (accept, decline ...)."""
    keys = {(n.referral_id, n.created_at) for n in notifications}
    if not keys:
        return {}
    found = {(e.referral_id, e.at): e.action for e in session.execute(
        select(ReferralEvent.referral_id, ReferralEvent.at, ReferralEvent.action)
        .where(tuple_(ReferralEvent.referral_id, ReferralEvent.at).in_(list(keys))))}
    return {n.id: found[(n.referral_id, n.created_at)] for n in notifications
            if (n.referral_id, n.created_at) in found}


def _why(referral) -> str:
    parts = [label(referral.decline_reason) if referral.decline_reason else None,
             referral.state_reason]
    return "; ".join(p for p in parts if p)


def summary(n: Notification, step: str | None = None) -> str:
    """One sentence in the user's language saying what happened."""
    r = n.referral
    code, sender, receiver = r.code, local_name(r.sender), local_name(r.receiver)
    service = local_name(r.service)
    kind = n.kind
    if kind == "referral_received":
        return _("%(code)s from %(sender)s: %(service)s, %(urgency)s.", code=code, sender=sender,
                 service=service, urgency=label(r.urgency))
    if kind == "referral_answered":
        if step == "accept" or (step is None and r.accepted_at is not None):
            return _("%(code)s accepted by %(receiver)s.", code=code, receiver=receiver)
        if step == "return" or (step is None and r.state == "returned"):
            return _("%(code)s returned by %(receiver)s with advice: %(why)s", code=code,
                     receiver=receiver, why=_why(r) or "—")
        return _("%(code)s declined by %(receiver)s: %(why)s", code=code, receiver=receiver,
                 why=_why(r) or "—")
    if kind == "referral_overdue":
        return _("%(code)s to %(receiver)s is overdue: no answer yet.", code=code,
                 receiver=receiver)
    if kind == "referral_escalated":
        return _("%(code)s from %(sender)s to %(receiver)s is overdue and escalated to the "
                 "planners.", code=code, sender=sender, receiver=receiver)
    if kind == "referral_expired":
        return _("%(code)s to %(receiver)s expired unanswered: send it elsewhere.", code=code,
                 receiver=receiver)
    if kind == "referral_completed":
        return _("%(code)s completed by %(receiver)s. Outcome: %(outcome)s", code=code,
                 receiver=receiver, outcome=r.outcome or "—")
    if kind == "appointment_booked":
        return _("An appointment at %(receiver)s was booked for %(code)s.", code=code,
                 receiver=receiver)
    if kind == "appointment_moved":
        return _("An appointment at %(receiver)s for %(code)s was moved to another time.",
                 code=code, receiver=receiver)
    if kind == "appointment_cancelled":
        return _("An appointment at %(receiver)s for %(code)s was cancelled.", code=code,
                 receiver=receiver)
    if kind == "referral_bookings_cancelled":
        return _("%(code)s ended (%(state)s): its future appointments and waitlist places "
                 "here were cancelled.", code=code, state=label(r.state))
    return label(kind)
