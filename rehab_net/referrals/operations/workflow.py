"""The referral workflow: create, act (one conditional UPDATE per transition, so of two people
acting at once exactly one wins), the deadlines each step sets, the case following its referrals,
re-referral. Flush only; the caller commits."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime

from flask import current_app, has_app_context
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rehab_net.auth import audit
from rehab_net.auth.principal import Principal
from rehab_net.errors import Conflict, NotFound, field_error
from rehab_net.network import operations as network
from rehab_net.network.models import Facility
from rehab_net.people import operations as people
from rehab_net.people.models import Case, Person
from rehab_net.people.rules import child_birth_cutoff
from rehab_net.referrals import deadlines
from rehab_net.referrals.models import Referral, ReferralEvent
from rehab_net.referrals.operations.notifications import notify_after
from rehab_net.referrals.operations.visibility import acting_facilities, check_side
from rehab_net.referrals.states import (
    ACTIONS,
    FINAL_REFERRAL_STATES,
    REFERRAL,
    UNANSWERED_REFERRAL_STATES,
    case_status_for,
)
from rehab_net.vocab import DECLINE_REASONS

TIER_RANK = {"clinic": 0, "station": 1, "centre": 2}


# --- creating -----------------------------------------------------------------------------------
def _facility(session: Session, code: str | None, field: str) -> Facility:
    try:
        facility = network.get_facility(session, code or "")
    except NotFound:
        raise field_error(field, "referral.facility_unknown", code=code) from None
    if facility.status != "open":
        raise field_error(field, "referral.facility_not_open", code=code)
    return facility


def offers(session: Session, facility: Facility, service_id: int, on: date) -> bool:
    return any(c.service_id == service_id and c.weekly_intake > 0
               for c in network.capacities_in_force(session, facility, on))


def _sender_for(session: Session, data: dict, principal: Principal | None) -> Facility:
    facilities = acting_facilities(principal)
    code = data.get("sender_code")
    if code is None:
        if facilities is None or len(facilities) != 1:
            raise field_error("sender_code", "referral.sender_needed")
        return session.get(Facility, next(iter(facilities)))
    sender = _facility(session, code, "sender_code")
    if facilities is not None and sender.id not in facilities:
        raise field_error("sender_code", "referral.sender_not_yours")
    return sender


def create_referral(session: Session, data: dict, *, principal: Principal | None, now: datetime,
                    today: date, send: bool = False) -> Referral:
    sender = _sender_for(session, data, principal)
    receiver = _facility(session, data["receiver_code"], "receiver_code")
    if receiver.id == sender.id:
        raise field_error("receiver_code", "referral.same_facility")
    direction = data["direction"]
    if direction == "up" and TIER_RANK[receiver.tier] <= TIER_RANK[sender.tier]:
        raise field_error("direction", "referral.wrong_tier_up")
    if direction == "down" and TIER_RANK[receiver.tier] >= TIER_RANK[sender.tier]:
        raise field_error("direction", "referral.wrong_tier_down")
    try:  # staff refer the cases they may read (their area, or already referred to or by them)
        case_ = people.get_case(session, data["case_code"], scope=principal.scope("case.read")
                                if principal is not None else None)
    except NotFound:
        raise field_error("case_code", "referral.case_unknown", code=data["case_code"]) from None
    service = network._reference(session, network.get_service,
                                 data.get("service_code") or case_.service.code, "service_code")
    if not offers(session, receiver, service.id, today):
        raise field_error("service_code", "referral.service_not_offered", code=receiver.code,
                          service=service.code)
    answers = None
    if direction == "down":
        if not data.get("answers_code"):
            raise field_error("answers_code", "referral.answers_needed")
        if not (data.get("home_programme") or "").strip():
            raise field_error("home_programme", "referral.plan_needed")
        answers = session.scalar(select(Referral).where(Referral.code == data["answers_code"]))
        if (answers is None or answers.case_id != case_.id or answers.direction != "up"
                or answers.receiver_id != sender.id):
            raise field_error("answers_code", "referral.answers_wrong")
    elif data.get("answers_code"):
        raise field_error("answers_code", "referral.answers_not_down")
    provisional = hashlib.sha1(str(now.timestamp()).encode()).hexdigest()[:12]
    # Children 0-6 are never handled slower than urgent: store what the deadlines use.
    urgency = deadlines.effective_urgency(
        data.get("urgency", "routine"), case_.person.birth_date > child_birth_cutoff(today))
    referral = Referral(
        code=f"{audit.PROVISIONAL_PREFIX}{provisional}",
        case=case_, sender=sender, receiver=receiver, service=service, direction=direction,
        urgency=urgency, reason=data["reason"], answers=answers,
        home_programme=data.get("home_programme"), replaces=data.get("replaces"),
        state="draft", created_at=now, updated_at=now)
    session.add(referral)
    session.flush()
    referral.code = f"R{referral.id:06d}"  # readable codes from the row id
    _event(session, referral, "create", None, "draft", principal, now)
    session.flush()
    if send:
        transition(session, referral, "send", principal=principal, now=now)
    return referral


# --- acting -------------------------------------------------------------------------------------
def actor(principal: Principal | None) -> tuple[str, int | None]:
    """Who a step is recorded as done by: the user, else the CLI's or job's system actor."""
    if principal is not None:
        return principal.username, principal.id
    return audit.current_actor()[0], None


def _event(session, referral, action, from_state, to_state, principal, now, reason=None):
    name, uid = actor(principal)
    session.add(ReferralEvent(referral=referral, at=now, actor=name, user_id=uid, action=action,
                              from_state=from_state, to_state=to_state, reason=reason))


def _is_child(session: Session, referral: Referral, on: date) -> bool:
    birth = session.scalar(select(Person.birth_date).join(Case, Case.person_id == Person.id)
                           .where(Case.id == referral.case_id))
    return birth > child_birth_cutoff(on)


def _deadline_table() -> dict:
    value = current_app.config.get("REFERRAL_DEADLINES") if has_app_context() else None
    return deadlines.parse(value)


def transition(session: Session, referral: Referral, action: str, *,
               principal: Principal | None, now: datetime, reason: str | None = None,
               reason_code: str | None = None, outcome: str | None = None,
               expected_version: int | None = None) -> Referral:
    """Move a referral by ``action`` (REFERRAL's table). The UPDATE is conditional on the state
    (and version) read: when someone else moved it first, nothing is written and the caller gets
    409 with the state it is in now."""
    rule = ACTIONS.get(action)
    if rule is None:
        raise NotFound("referral.action_unknown", action=action)
    if rule.side != "system" or principal is not None:
        check_side(referral, rule.side, principal)
    if expected_version is not None and expected_version != referral.version:
        raise _conflict(session, referral)
    REFERRAL.check(action, referral.state)
    text = (reason or "").strip() or None
    if rule.needs_reason and action == "decline" and reason_code not in DECLINE_REASONS:
        raise field_error("reason_code", "referral.decline_reason_needed")
    if rule.needs_reason and action != "decline" and not text:
        raise field_error("reason", "referral.reason_needed" if action == "cancel" else
                          "referral.advice_needed")
    if rule.needs_outcome and not (outcome or "").strip():
        raise field_error("outcome", "referral.outcome_needed")
    values: dict = {"updated_at": now, "overdue_at": None, "escalated_at": None}
    due, escalate, expire = deadlines.deadlines_for(
        rule.target, referral.urgency, _is_child(session, referral, now.date()), now,
        _deadline_table())
    values.update(due_at=due, escalate_at=escalate, expires_at=expire)
    if action == "send":
        values.update(sent_at=now, waiting_since=_waiting_since(session, referral, now))
    elif action == "receive":
        values.update(received_at=now, answer_due_at=due)
    elif action in ("accept", "decline", "return"):
        values["answered_at"] = now
        if action == "accept":
            values["accepted_at"] = now
    if action in ("decline", "return", "cancel"):
        values.update(state_reason=text, decline_reason=reason_code if action == "decline"
                      else None)
    if action == "complete":
        values["outcome"] = outcome.strip()
    if rule.target in FINAL_REFERRAL_STATES:
        values["closed_at"] = now
    from_state = referral.state
    REFERRAL.move(session, Referral, referral.id, action, from_state=from_state,
                  expected_version=referral.version, values=values)
    session.refresh(referral)
    why = ": ".join(p for p in (reason_code if action == "decline" else None, text) if p)
    _event(session, referral, action, from_state, rule.target, principal, now,
           reason=why or (outcome.strip() if outcome else None))
    audit.record(session, "update", "referral", referral.code,
                 detail={"action": action, "from": from_state, "to": rule.target})
    notify_after(session, referral, action, now)
    if rule.target in FINAL_REFERRAL_STATES:
        for follow in _ENDED.values():  # booking: its future appointments and waitlist entries
            follow(session, referral, action, now)
    case_follows(session, referral, action, principal, now)
    if action == "accept" and referral.answers is not None \
            and referral.answers.state == "completed":
        transition(session, referral.answers, "close", principal=None, now=now,
                   reason=f"down-referral {referral.code} accepted")
    session.flush()
    return referral


# What a referral's end (a final state) does to the modules above this one: booking registers
# "cancel its future appointments, take it off the waitlist" at app init (booking.init_app), so
# the arrow of imports still points down. In the transition's transaction, before the case follows.
_ENDED: dict[str, Callable[[Session, Referral, str, datetime], None]] = {}


def add_end_follower(name: str, follow: Callable[[Session, Referral, str, datetime], None]
                     ) -> None:
    """Call ``follow(session, referral, action, now)`` when a referral reaches a final state."""
    _ENDED[name] = follow


def case_follows(session: Session, referral: Referral, action: str,
                 principal: Principal | None, now: datetime) -> None:
    """The case's status follows its referrals (states.case_status_for), in this transaction,
    with the case's event row naming the referral step that moved it."""
    states = session.scalars(select(Referral.state).where(Referral.case_id == referral.case_id))
    name, uid = actor(principal)
    people.follow(session, referral.case, case_status_for(states), now=now, actor=name,
                  user_id=uid, cause=f"referral {referral.code} {REFERRAL.actions[action].done}")


def _conflict(session: Session, referral: Referral) -> Conflict:
    """The state someone else left it in (a fresh statement sees their commit)."""
    return REFERRAL.raced(session.execute(select(Referral.state, Referral.version)
                                          .where(Referral.id == referral.id)).one())


def _waiting_since(session: Session, referral: Referral, now: datetime) -> date:
    """The case waits from its first referral on, through returns and re-referrals."""
    first = session.scalar(select(func.min(Referral.waiting_since))
                           .where(Referral.case_id == referral.case_id))
    return min(first, now.date()) if first else now.date()


# --- re-referral --------------------------------------------------------------------------------
def re_refer(session: Session, referral: Referral, receiver_code: str, *,
             principal: Principal | None, now: datetime, today: date) -> Referral:
    """Send a declined or returned referral to another facility in one step."""
    if referral.state not in UNANSWERED_REFERRAL_STATES:
        raise Conflict("referral.re_refer_state", state=referral.state)
    check_side(referral, "sender", principal)
    again = session.scalar(select(Referral.code).where(Referral.replaces_id == referral.id))
    if again is not None:
        raise Conflict("referral.re_referred_already", code=referral.code, again=again)
    data = {"sender_code": referral.sender.code, "receiver_code": receiver_code,
            "case_code": referral.case.code, "service_code": referral.service.code,
            "direction": referral.direction, "urgency": referral.urgency,
            "reason": referral.reason, "home_programme": referral.home_programme,
            "answers_code": referral.answers.code if referral.answers else None,
            "replaces": referral}
    return create_referral(session, data, principal=principal, now=now, today=today, send=True)
