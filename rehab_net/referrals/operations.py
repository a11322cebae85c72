"""The referral workflow: create, act (one conditional UPDATE per transition, so of two people
acting at once exactly one wins), deadlines and escalation, inboxes, re-referral suggestions.
Operations flush; the caller commits."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import case, func, or_, select, true, update
from sqlalchemy.orm import Session, aliased, joinedload

from rehab_net.auth import audit
from rehab_net.auth.principal import Principal
from rehab_net.errors import Conflict, DomainError, NotFound, field_error
from rehab_net.messages import code_of, message
from rehab_net.network import operations as network
from rehab_net.network.models import Facility
from rehab_net.people import operations as people
from rehab_net.people.models import Case, Person
from rehab_net.people.rules import child_birth_cutoff
from rehab_net.referrals import deadlines
from rehab_net.referrals import messages as _messages  # noqa: F401 - registers the codes
from rehab_net.referrals.models import Notification, Referral, ReferralAttachment, ReferralEvent
from rehab_net.referrals.states import (
    ACTIONS,
    BOOKABLE_REFERRAL_STATES,
    FINAL_REFERRAL_STATES,
    OPEN_REFERRAL_STATES,
    REFERRAL,
    UNANSWERED_REFERRAL_STATES,
    case_status_for,
)
from rehab_net.vocab import DECLINE_REASONS, FACILITY_ROLES

TIER_RANK = {"clinic": 0, "station": 1, "centre": 2}
ATTACHMENT_TYPES = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png",
                    b"\xff\xd8\xff": "image/jpeg"}
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
RECENT_DAYS = 30


# --- who may see and act ------------------------------------------------------------------------
def acting_facilities(principal: Principal | None) -> set[int] | None:
    """The facilities a user works for (their referral side); None = every facility (a facility
    role granted over the whole network, or no user: the CLI and jobs)."""
    if principal is None:
        return None
    ids: set[int] = set()
    for grant in principal.grants:
        if grant.role in FACILITY_ROLES:
            if grant.facility_id is None:
                return None
            ids.add(grant.facility_id)
    return ids


def visible(principal: Principal | None):
    """SQL: the referrals a user may see: those of their facilities, and for planners those
    received in their region."""
    facilities = acting_facilities(principal)
    if facilities is None:
        return true()
    conditions = [Referral.sender_id.in_(facilities), Referral.receiver_id.in_(facilities)]
    plan_scope = principal.scope("plan.read")
    if not plan_scope.nowhere:
        receiver = aliased(Facility)
        conditions.append(Referral.receiver_id.in_(
            select(receiver.id).where(plan_scope.region_filter(receiver.region_id))))
    return or_(*conditions)


def referred_person_ids(facility_ids: set[int]):
    """A select of the persons with a referral sent or received by these facilities."""
    return (select(Case.person_id).join(Referral, Referral.case_id == Case.id)
            .where(or_(Referral.sender_id.in_(facility_ids),
                       Referral.receiver_id.in_(facility_ids))))


def referral_codes_of_person(person_code: str):
    """SQL: the codes of a person's referrals (the audit log's person filter)."""
    return (select(Referral.code).join(Case, Referral.case_id == Case.id)
            .join(Person, Case.person_id == Person.id).where(Person.code == person_code))


def get_referral(session: Session, code: str, *, viewer: Principal | None = None) -> Referral:
    stmt = select(Referral).where(Referral.code == code)
    if viewer is not None:
        stmt = stmt.where(visible(viewer))
    referral = session.scalar(stmt)
    if referral is None:
        raise NotFound("referral.not_found", code=code)
    return referral


def _check_side(referral: Referral, side: str, principal: Principal | None) -> None:
    if side == "system":
        raise Conflict("referral.system_step")
    facilities = acting_facilities(principal)
    facility_id = referral.sender_id if side == "sender" else referral.receiver_id
    if facilities is not None and facility_id not in facilities:
        raise Forbidden("referral.sender_only" if side == "sender" else "referral.receiver_only")


class Forbidden(DomainError):
    status, title = 403, "Forbidden"


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
def _actor(principal: Principal | None) -> tuple[str, int | None]:
    if principal is not None:
        return principal.username, principal.id
    return audit.current_actor()[0], None


def _event(session, referral, action, from_state, to_state, principal, now, reason=None):
    name, uid = _actor(principal)
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
        _check_side(referral, rule.side, principal)
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
    _notify_after(session, referral, action, now)
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
    name, uid = _actor(principal)
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


# --- notifications ------------------------------------------------------------------------------
NOTIFY = {  # action -> (kind, who: "sender" | "receiver")
    "send": ("referral_received", "receiver"),
    "accept": ("referral_answered", "sender"),
    "decline": ("referral_answered", "sender"),
    "return": ("referral_answered", "sender"),
    "complete": ("referral_completed", "sender"),
    "expire": ("referral_expired", "sender"),
}


def _notify_after(session: Session, referral: Referral, action: str, now: datetime) -> None:
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


# --- deadlines (the scheduler's job) ------------------------------------------------------------
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


# --- inboxes ------------------------------------------------------------------------------------
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


# --- re-referral --------------------------------------------------------------------------------
def suggestions(session: Session, referral: Referral, today: date, limit: int = 10) -> list[dict]:
    """Open facilities of the right tier that offer the service with places free, nearest first
    (road km as the optimiser estimates it), leaving out the ones that declined or returned it."""
    from rehab_net.policy import road_km

    refused = set(session.scalars(select(Referral.receiver_id).where(
        Referral.case_id == referral.case_id, Referral.state.in_(("declined", "returned")))))
    home = referral.case.person.home_region
    busy = dict(session.execute(select(Referral.receiver_id, func.count()).where(
        Referral.service_id == referral.service_id,
        Referral.state.in_(BOOKABLE_REFERRAL_STATES)).group_by(Referral.receiver_id)).all())
    out = []
    for facility in session.scalars(select(Facility).where(Facility.status == "open")):
        if facility.id in refused | {referral.sender_id}:
            continue
        if (referral.direction == "up") != (TIER_RANK[facility.tier] > TIER_RANK[
                referral.sender.tier]):
            continue
        capacity = next((c for c in network.capacities_in_force(session, facility, today)
                         if c.service_id == referral.service_id), None)
        if capacity is None or capacity.weekly_intake <= 0:
            continue
        free = capacity.concurrent_places - busy.get(facility.id, 0)
        if free <= 0:
            continue
        km = float(road_km(session, home.lat, home.lon, facility.lat, facility.lon))
        out.append({"facility": facility, "road_km": round(km, 1), "free_places": free})
    return sorted(out, key=lambda s: (s["road_km"], s["facility"].code))[:limit]


def re_refer(session: Session, referral: Referral, receiver_code: str, *,
             principal: Principal | None, now: datetime, today: date) -> Referral:
    """Send a declined or returned referral to another facility in one step."""
    if referral.state not in UNANSWERED_REFERRAL_STATES:
        raise Conflict("referral.re_refer_state", state=referral.state)
    _check_side(referral, "sender", principal)
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


# --- attachments --------------------------------------------------------------------------------
def add_attachment(session: Session, referral: Referral, filename: str, data: bytes, *,
                   principal: Principal | None) -> ReferralAttachment:
    if not data:
        raise field_error("file", "referral.file_empty", location="files")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise field_error("file", "referral.file_too_large", location="files")
    kind = next((t for magic, t in ATTACHMENT_TYPES.items() if data.startswith(magic)), None)
    if kind is None:
        raise field_error("file", "referral.file_type", location="files")
    name = (filename or "attachment").replace("/", "_").replace("\\", "_")[-200:]
    attachment = ReferralAttachment(referral=referral, filename=name, content_type=kind,
                                    size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                                    data=data, created_by=_actor(principal)[0])
    session.add(attachment)
    session.flush()
    return attachment


def get_attachment(session: Session, referral: Referral, attachment_id: int, *,
                   viewer: Principal | None) -> ReferralAttachment:
    """One attachment of a referral, for staff of its sending or receiving facility only: a
    clinical document is not a planner's to read (planners see the referral, not its files).
    For anyone else it does not exist (404)."""
    facilities = acting_facilities(viewer)
    found = next((a for a in referral.attachments if a.id == attachment_id), None)
    if found is None or (facilities is not None and referral.sender_id not in facilities
                         and referral.receiver_id not in facilities):
        raise NotFound("referral.attachment_not_found", code=referral.code, id=attachment_id)
    return found



# --- FHIR ---------------------------------------------------------------------------------------
def fhir_facts(referral: Referral):
    """What the FHIR mapping needs, read off the rows (no personal data: the person by code)."""
    from rehab_net.referrals.fhir import OrgFacts, ReferralFacts

    def org(f: Facility) -> OrgFacts:
        return OrgFacts(code=f.code, name_zh=f.name_zh, name_en=f.name_en, tier=f.tier)

    return ReferralFacts(
        code=referral.code, state=referral.state, direction=referral.direction,
        urgency=referral.urgency, reason=referral.reason, service_code=referral.service.code,
        service_name=referral.service.name_zh, category=referral.service.category,
        case_code=referral.case.code, person_code=referral.case.person.code,
        sender=org(referral.sender), receiver=org(referral.receiver),
        created_at=referral.created_at, updated_at=referral.updated_at, sent_at=referral.sent_at,
        answers_code=referral.answers.code if referral.answers else None,
        home_programme=referral.home_programme, state_reason=referral.state_reason,
        outcome=referral.outcome,
        replaces_code=referral.replaces.code if referral.replaces else None)


# --- from a plan --------------------------------------------------------------------------------
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
