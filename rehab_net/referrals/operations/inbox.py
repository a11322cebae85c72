"""A facility's inbox (what it received) and outbox (what it sent), in boxes: needs_action,
awaiting_others, overdue, recently_closed."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, joinedload

from rehab_net.errors import field_error
from rehab_net.people import operations as people
from rehab_net.people.models import Case, Person
from rehab_net.referrals.models import Referral
from rehab_net.referrals.states import OPEN_REFERRAL_STATES

RECENT_DAYS = 30
URGENCY_ORDER = case((Referral.urgency == "emergency", 0), (Referral.urgency == "urgent", 1),
                     else_=2)


def box(session: Session, facility_ids: set[int] | None, name: str, *, incoming: bool,
        now: datetime):
    """One box of a facility's inbox (incoming) or outbox: needs_action, awaiting_others,
    overdue, recently_closed. Sorted by urgency, then priority class (children 0-6 first), then
    age."""
    side = Referral.receiver_id if incoming else Referral.sender_id
    # The states in which the next step is this side's own.
    mine = ("sent", "received", "accepted", "in_progress") if incoming else ("draft", "completed")
    stmt = (select(Referral).join(Case, Referral.case_id == Case.id)
            .join(Person, Case.person_id == Person.id)
            .options(joinedload(Referral.sender), joinedload(Referral.receiver),
                     joinedload(Referral.service)))
    if facility_ids is not None:
        stmt = stmt.where(side.in_(facility_ids))
    open_ = Referral.state.in_(OPEN_REFERRAL_STATES)
    if name == "needs_action":
        stmt = stmt.where(Referral.state.in_(mine))
    elif name == "awaiting_others":
        stmt = stmt.where(open_, Referral.state.not_in(mine))
    elif name == "overdue":
        stmt = stmt.where(open_, Referral.due_at <= now)
    elif name == "recently_closed":
        stmt = stmt.where(~open_, Referral.updated_at >= now - timedelta(days=RECENT_DAYS))
    else:
        raise field_error("box", "referral.box_unknown", location="query")
    order = ((Referral.updated_at.desc(),) if name == "recently_closed" else
             (URGENCY_ORDER, people.priority_rank(now.date()), Referral.created_at, Referral.id))
    return stmt.order_by(*order)


BOXES = ("needs_action", "awaiting_others", "overdue", "recently_closed")


def box_counts(session: Session, facility_ids: set[int] | None, *, incoming: bool,
               now: datetime) -> dict[str, int]:
    return {name: session.scalar(select(func.count()).select_from(
        box(session, facility_ids, name, incoming=incoming, now=now).order_by(None).subquery()))
        for name in BOXES}
