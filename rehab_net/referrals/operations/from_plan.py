"""Referrals from a plan's proposals: one per proposal, from the case's home clinic to the
facility the plan proposes; and the plans referrals were made from (plan retention keeps them)."""
from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rehab_net.auth.principal import Principal
from rehab_net.errors import DomainError
from rehab_net.messages import code_of, message
from rehab_net.network.models import Facility
from rehab_net.people.models import Case
from rehab_net.referrals.models import Referral
from rehab_net.referrals.operations.workflow import TIER_RANK, create_referral
from rehab_net.referrals.states import OPEN_REFERRAL_STATES


def home_facility(session: Session, case_: Case) -> Facility | None:
    """The case's home clinic (an open clinic of the home village), else the station of its
    township: who sends the referral a plan proposes."""
    village = case_.person.home_region
    for region, tier in ((village, "clinic"), (village.parent, "station")):
        if region is None:
            continue
        found = session.scalar(select(Facility).where(
            Facility.region_id == region.id, Facility.tier == tier, Facility.status == "open")
            .order_by(Facility.code))
        if found is not None:
            return found
    return None


# A referral made from a plan's proposal names the plan in its reason; plan retention keeps every
# plan a referral names (plans_cited), for as long as the referral exists.
PLAN_REASON = "proposed by plan {plan_id}: start in week {week}"
_PLAN_NAMED = re.compile(r"^proposed by plan ([0-9]+):")


def plans_cited(session: Session) -> set[int]:
    """The ids of the plans referrals were made from (referrals_from_plan), whatever their state."""
    reasons = session.scalars(select(Referral.reason).where(
        Referral.reason.like("proposed by plan %")))
    return {int(m[1]) for r in reasons if (m := _PLAN_NAMED.match(r))}


def _skipped(case_: Case, code: str) -> dict:
    """A proposal applying a plan passed over: the case, the English reason, its code."""
    return {"case_code": case_.code, "reason": message(code), "code": code}


def referrals_from_plan(session: Session, assignments, *, principal: Principal | None,
                        now: datetime, today: date, send: bool) -> dict:
    """A draft (or, with ``send``, a sent) up- or down-referral per proposal, from the case's
    home clinic to the facility the plan proposes. Cases already referred there, or with an open
    referral, or proposed to their own clinic, are skipped with the reason."""
    created, skipped = [], []
    for a in assignments:
        case_ = a.case
        if a.facility is None:
            skipped.append(_skipped(case_, "plan_apply.no_facility"))
            continue
        home = home_facility(session, case_)
        if home is None:
            skipped.append(_skipped(case_, "plan_apply.no_home_clinic"))
            continue
        if home.id == a.facility_id or TIER_RANK[home.tier] == TIER_RANK[a.facility.tier]:
            skipped.append(_skipped(case_, "plan_apply.home_tier"))
            continue
        if session.scalar(select(Referral.id).where(
                Referral.case_id == case_.id, Referral.state.in_(OPEN_REFERRAL_STATES))):
            skipped.append(_skipped(case_, "plan_apply.open_referral"))
            continue
        up = TIER_RANK[a.facility.tier] > TIER_RANK[home.tier]
        data = {"sender_code": home.code, "receiver_code": a.facility.code,
                "case_code": case_.code, "service_code": a.service.code,
                "direction": "up" if up else "down",
                "urgency": "urgent" if a.priority in ("child", "severe") else "routine",
                "reason": PLAN_REASON.format(plan_id=a.plan_id, week=a.week)}
        if not up:  # a plan proposes care, it does not answer an up-referral
            skipped.append(_skipped(case_, "plan_apply.lower_tier"))
            continue
        try:
            with session.begin_nested():
                referral = create_referral(session, data, principal=None, now=now, today=today,
                                           send=send)
        except DomainError as exc:
            rule = exc.errors[0]["rule"] if exc.errors else exc.detail
            skipped.append({"case_code": case_.code, "reason": rule,
                            "code": code_of(rule) or exc.code})
            continue
        created.append(referral.code)
    return {"created": created, "skipped": skipped}
