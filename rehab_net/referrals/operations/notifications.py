"""Notifications: which referral step tells which side (NOTIFY), the lists a user sees, read
marks, and the outbox an SMS or e-mail sender would deliver from. What a notification says is
referrals/notices.py."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, joinedload

from rehab_net.auth.principal import Principal
from rehab_net.errors import NotFound
from rehab_net.referrals.models import Notification, Referral
from rehab_net.referrals.operations.visibility import acting_facilities

NOTIFY = {  # action -> (kind, who: "sender" | "receiver")
    "send": ("referral_received", "receiver"),
    "accept": ("referral_answered", "sender"),
    "decline": ("referral_answered", "sender"),
    "return": ("referral_answered", "sender"),
    "complete": ("referral_completed", "sender"),
    "expire": ("referral_expired", "sender"),
}


def notify_after(session: Session, referral: Referral, action: str, now: datetime) -> None:
    """The notification a referral step sends (workflow.transition calls it), if any."""
    if action in NOTIFY:
        kind, who = NOTIFY[action]
        notify(session, referral, kind, now,
               facility_id=referral.sender_id if who == "sender" else referral.receiver_id)


def notify(session: Session, referral: Referral, kind: str, now: datetime, *,
           facility_id: int | None = None, region_id: int | None = None) -> Notification:
    note = Notification(kind=kind, referral=referral, facility_id=facility_id,
                        region_id=region_id, created_at=now)
    session.add(note)
    return note


def notifications_for(principal: Principal | None, *, unread_only: bool = False):
    facilities = acting_facilities(principal)
    stmt = select(Notification).options(joinedload(Notification.referral))
    if facilities is not None:
        conditions = [Notification.facility_id.in_(facilities)]
        plan_scope = principal.scope("plan.read")
        if not plan_scope.nowhere:
            conditions.append(plan_scope.region_filter(Notification.region_id))
        stmt = stmt.where(or_(*conditions))
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return stmt.order_by(Notification.id.desc())


def mark_read(session: Session, principal: Principal | None, notification_id: int,
              now: datetime) -> None:
    """Mark one notification read, for everyone it went to (the facility or the region); one the
    principal cannot see is a 404. Marking it again keeps the first time."""
    visible = notifications_for(principal).where(Notification.id == notification_id)
    if session.scalar(visible) is None:
        raise NotFound("referral.notification_not_found", id=notification_id)
    session.execute(update(Notification).where(Notification.id == notification_id,
                                               Notification.read_at.is_(None))
                    .values(read_at=now))


def mark_all_read(session: Session, principal: Principal | None, now: datetime) -> int:
    """Mark every unread notification the principal sees read; how many were."""
    unread = notifications_for(principal, unread_only=True).order_by(None).subquery()
    return session.execute(update(Notification).where(
        Notification.id.in_(select(unread.c.id)), Notification.read_at.is_(None))
        .values(read_at=now).execution_options(synchronize_session=False)).rowcount


def pending_deliveries(session: Session, limit: int = 100) -> list[Notification]:
    """The outbox: notifications no SMS or e-mail sender has delivered yet, oldest first."""
    return list(session.scalars(select(Notification).where(Notification.delivered_at.is_(None))
                                .order_by(Notification.id).limit(limit)))
