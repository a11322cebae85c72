"""Certificates: issue, reissue, renew, a holder's move out and transfer, cancelling by hand, and
the daily date rules (freeze, lapse, expire). Every state change is one conditional UPDATE
(states.CERTIFICATE.move) with its event row and an audit entry. Operations flush; the caller
commits."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from rehab_net.auth import audit
from rehab_net.auth.permissions import Scope
from rehab_net.certificates import messages as _messages  # noqa: F401 - registers the codes
from rehab_net.certificates import rules
from rehab_net.certificates.models import Certificate, CertificateEvent
from rehab_net.certificates.states import CERTIFICATE, LIVE_STATES
from rehab_net.errors import Conflict, NotFound, field_error
from rehab_net.messages import message
from rehab_net.network import operations as network
from rehab_net.people import operations as people
from rehab_net.people.models import Person


# --- reading ------------------------------------------------------------------------------------
def get_certificate(session: Session, code: str, *, scope: Scope | None = None) -> Certificate:
    """A certificate; with a scope, one whose holder lives outside it is 'not found'."""
    return people.get_held(session, Certificate, code, scope=scope,
                           not_found="certificate.not_found")


def list_certificates(session: Session, *, state=None, region=None, person=None,
                      renewal_due_by: date | None = None, scope: Scope | None = None):
    """A select of certificates: by state, by the holder's region (and below), by holder, or
    those in force whose renewal opens by ``renewal_due_by`` (due for renewal soon)."""
    stmt = select(Certificate).join(Person, Certificate.person_id == Person.id)
    if scope is not None:
        stmt = stmt.where(scope.person_filter(Person.id, Person.home_region_id))
    if state:
        stmt = stmt.where(Certificate.state == state)
    if region is not None:
        stmt = stmt.where(Person.home_region_id.in_(network.subtree_ids(region.id)))
    if person is not None:
        stmt = stmt.where(Certificate.person_id == person.id)
    if renewal_due_by is not None:
        stmt = stmt.where(Certificate.state.in_(LIVE_STATES), Certificate.valid_until
                          <= renewal_due_by + timedelta(days=rules.RENEWAL_NOTICE_DAYS))
    return stmt


def certificates_of(session: Session, person: Person) -> list[Certificate]:
    """A person's certificates, newest first (the person page)."""
    return list(session.scalars(select(Certificate).where(Certificate.person_id == person.id)
                                .order_by(Certificate.issued_on.desc(), Certificate.id.desc())))


def live_certificate(session: Session, person_id: int) -> Certificate | None:
    return session.scalar(select(Certificate).where(Certificate.person_id == person_id,
                                                    Certificate.state.in_(LIVE_STATES)))


def certificate_codes_in(scope: Scope):
    """SQL: the codes of the certificates of persons living in a scope (the audit log)."""
    return (select(Certificate.code).join(Person, Certificate.person_id == Person.id)
            .where(scope.region_filter(Person.home_region_id)))


def certificate_codes_of_person(person_code: str):
    return (select(Certificate.code).join(Person, Certificate.person_id == Person.id)
            .where(Person.code == person_code))


def next_code(session: Session) -> str:
    """A new certificate's code (the number is personal data, never in a URL): C000001 ..."""
    codes = session.scalars(select(Certificate.code).where(Certificate.code.like("C%"))
                            .order_by(func.length(Certificate.code).desc(),
                                      Certificate.code.desc()).limit(50))
    highest = max((int(c[1:]) for c in codes if c[1:].isdigit()), default=0)
    return f"C{highest + 1:06d}"


def renewal_opens(cert: Certificate) -> date:
    return rules.renewal_opens(cert.valid_until)


# --- moving -------------------------------------------------------------------------------------
def _move(session: Session, cert: Certificate, action: str, *, on: date, now: datetime,
          cause: str | None = None, values: dict | None = None) -> Certificate:
    """One CERTIFICATE step from the state read (409 naming the state otherwise, or when someone
    moved it first), its event row and its audit entry, in the caller's transaction. ``cause``
    is the user's own words (a reason); a rule's step is named by its action."""
    from_state = cert.state
    rule = CERTIFICATE.check(action, from_state)
    changes = {"updated_at": now, **(values or {})}
    if rule.target in CERTIFICATE.final:
        changes.setdefault("ended_on", on)
        changes.setdefault("end_reason", cause)
    CERTIFICATE.move(session, Certificate, cert.id, action, from_state=from_state,
                     expected_version=cert.version, values=changes)
    actor, user_id, _addr = audit.current_actor()
    session.add(CertificateEvent(certificate_id=cert.id, at=now, on=on, actor=actor,
                                 user_id=user_id, action=action, from_state=from_state,
                                 to_state=rule.target, cause=cause))
    audit.record(session, "update", "certificate", cert.code,
                 detail={"action": action, "from": from_state, "to": rule.target,
                         "on": on.isoformat()})
    session.flush()
    session.refresh(cert)
    return cert


def _check_day(field: str, day: date, *, today: date, not_before: date | None = None,
               before_rule: str = "certificate.date_before_issue", **params) -> None:
    if day > today:
        raise field_error(field, "certificate.date_future")
    if not_before is not None and day < not_before:
        raise field_error(field, before_rule, **params)


def _refuse_second_live(session: Session, person: Person, *, but: Certificate | None = None):
    live = live_certificate(session, person.id)
    if live is not None and live is not but:
        raise Conflict("certificate.live_exists", person=person.code, certificate=live.code,
                       state=live.state,
                       errors=[{"in": "json", "field": "person_code",
                                "rule": message("certificate.live_exists_rule",
                                                certificate=live.code),
                                "certificate_code": live.code}])


def _new(session: Session, person: Person, *, code: str | None, category_digit: int,
         grade: int, reissue: int, issued_on: date, until: date,
         replaces: Certificate | None = None, now: datetime) -> Certificate:
    code = code or next_code(session)
    if session.scalar(select(Certificate.id).where(Certificate.code == code)):
        raise Conflict("certificate.exists", code=code)
    cert = Certificate(code=code, person=person, category_digit=category_digit, grade=grade,
                       reissue=reissue, issued_on=issued_on, valid_until=until, state="valid",
                       replaces=replaces, created_at=now, updated_at=now)
    session.add(cert)
    session.flush()
    actor, user_id, _addr = audit.current_actor()
    session.add(CertificateEvent(certificate_id=cert.id, at=now, on=issued_on, actor=actor,
                                 user_id=user_id, action="issue", from_state=None,
                                 to_state="valid"))
    session.flush()
    return cert


def issue(session: Session, data: dict, *, today: date, now: datetime,
          scope: Scope | None = None) -> Certificate:
    """A first certificate for a person (category as a case's, autism certified as mental 6),
    valid 10 years from ``issued_on``; refused while the person holds one in force."""
    try:
        person = people.get_person(session, data["person_code"], scope=scope)
    except NotFound:
        raise field_error("person_code", "certificate.person_unknown",
                          code=data["person_code"]) from None
    issued_on = data.get("issued_on") or today
    if issued_on > today:
        raise field_error("issued_on", "certificate.issued_future")
    if issued_on < person.birth_date:
        raise field_error("issued_on", "certificate.issued_before_birth")
    _refuse_second_live(session, person)
    return _new(session, person, code=data.get("code"),
                category_digit=rules.category_digit(data["category"]), grade=data["grade"],
                reissue=0, issued_on=issued_on, until=rules.valid_until(issued_on), now=now)


def reissue(session: Session, cert: Certificate, *, on: date, today: date, now: datetime,
            reason: str | None = None) -> Certificate:
    """A lost or damaged certificate reissued: the same category, grade and validity, the next
    suffix (B1, B2 ...); the old one is cancelled (replaced). Only a valid one: a frozen one is
    transferred first, an expired one renewed."""
    CERTIFICATE.check("replace", cert.state)
    _check_day("on", on, today=today, not_before=cert.issued_on)
    _move(session, cert, "replace", on=on, now=now, cause=(reason or "").strip() or None)
    new = _new(session, cert.person, code=None, category_digit=cert.category_digit,
               grade=cert.grade, reissue=cert.reissue + 1, issued_on=on, until=cert.valid_until,
               replaces=cert, now=now)
    new.moved_out_on, new.freeze_on = cert.moved_out_on, cert.freeze_on  # a pending move stays
    session.flush()
    return new


def renew(session: Session, cert: Certificate, *, on: date, today: date, now: datetime,
          category: str | None = None, grade: int | None = None) -> Certificate:
    """A new 10-year certificate from ``on``, once renewal has opened (90 days before the end of
    validity) or after expiry; a re-assessment may change category or grade (a new number). A
    valid old one is replaced; an expired one stays expired."""
    if cert.state not in ("valid", "expired"):
        raise CERTIFICATE.refused("replace", cert.state)
    _check_day("on", on, today=today, not_before=cert.issued_on)
    if cert.state == "valid" and on < renewal_opens(cert):
        raise field_error("on", "certificate.renew_not_due", on=renewal_opens(cert).isoformat(),
                          days=rules.RENEWAL_NOTICE_DAYS)
    digit = rules.category_digit(category) if category else cert.category_digit
    new_grade = grade or cert.grade
    if cert.state == "valid":
        _move(session, cert, "replace", on=on, now=now)
    else:
        _refuse_second_live(session, cert.person)
    return _new(session, cert.person, code=None, category_digit=digit, grade=new_grade,
                reissue=0, issued_on=on, until=rules.valid_until(on), replaces=cert, now=now)


def record_move_out(session: Session, cert: Certificate, *, on: date, today: date,
                    now: datetime) -> Certificate:
    """The holder moved out of the region on ``on``: unless the certificate is transferred
    within 6 months, the daily job freezes it on ``rules.freeze_on(on)``."""
    if cert.state != "valid":
        raise CERTIFICATE.refused("freeze", cert.state)
    if cert.moved_out_on is not None and cert.transferred_on is None:
        raise field_error("on", "certificate.moved_out_already", on=cert.moved_out_on.isoformat())
    _check_day("on", on, today=today, not_before=cert.issued_on)
    cert.moved_out_on, cert.transferred_on = on, None
    cert.freeze_on = rules.freeze_on(on)
    cert.updated_at = now
    session.flush()
    audit.record(session, "update", "certificate", cert.code,
                 detail={"action": "move_out", "on": on.isoformat()})
    # a move recorded late: the rules of the days already past apply at once
    apply_dates(session, today, now, ids=[cert.id])
    session.refresh(cert)
    return cert


def transfer(session: Session, cert: Certificate, *, on: date, today: date,
             now: datetime) -> Certificate:
    """The certificate was transferred to the holder's new place (transfer-in done): the
    pending freeze is off, and a frozen certificate is unfrozen."""
    if cert.state not in LIVE_STATES:
        raise CERTIFICATE.refused("unfreeze", cert.state)
    if cert.moved_out_on is None or cert.transferred_on is not None:
        raise field_error("on", "certificate.no_move")
    _check_day("on", on, today=today, not_before=cert.moved_out_on,
               before_rule="certificate.transfer_before_move", on=cert.moved_out_on.isoformat())
    values = {"transferred_on": on, "freeze_on": None, "lapse_on": None}
    if cert.state == "frozen":
        _move(session, cert, "unfreeze", on=on, now=now,
              values=values | {"frozen_on": None})
    else:
        for key, value in values.items():
            setattr(cert, key, value)
        cert.updated_at = now
        session.flush()
        audit.record(session, "update", "certificate", cert.code,
                     detail={"action": "transfer", "on": on.isoformat()})
    return cert


def cancel(session: Session, cert: Certificate, *, reason: str, on: date, today: date,
           now: datetime) -> Certificate:
    """Cancelled by hand (the holder died, the certificate was revoked ...): a reason needed."""
    CERTIFICATE.check("cancel", cert.state)
    if not (reason or "").strip():
        raise field_error("reason", "certificate.reason_needed")
    _check_day("on", on, today=today, not_before=cert.issued_on)
    return _move(session, cert, "cancel", on=on, now=now, cause=reason.strip())


# --- the date rules (the daily job) -----------------------------------------------------------
def apply_dates(session: Session, today: date, now: datetime, *, ids=None) -> dict[str, int]:
    """Bring every certificate in force to what its dates say on ``today``, each step dated the
    day its rule took effect (so a late run, or a move recorded late, gives the same history):
    expire after ``valid_until``, freeze on ``freeze_on``, cancel (lapse) on ``lapse_on``,
    whichever comes first, repeatedly. Idempotent: run twice, it does nothing the second time."""
    counts = {"frozen": 0, "cancelled": 0, "expired": 0}
    due = or_(Certificate.valid_until < today,
              and_(Certificate.state == "valid", Certificate.freeze_on <= today),
              and_(Certificate.state == "frozen", Certificate.lapse_on <= today))
    stmt = select(Certificate).where(Certificate.state.in_(LIVE_STATES), due) \
        .order_by(Certificate.id)
    if ids is not None:
        stmt = stmt.where(Certificate.id.in_(ids))
    for cert in session.scalars(stmt).all():
        while cert.state in LIVE_STATES:
            step = rules.next_step(cert.state, cert.valid_until, cert.freeze_on,
                                   cert.lapse_on, today)
            if step is None:
                break
            action, on = step
            values = {}
            if action == "freeze":
                values = {"frozen_on": on, "lapse_on": rules.lapse_on(on)}
            # the step names its rule (the page labels it); no free text
            _move(session, cert, action, on=on, now=now, values=values)
            counts[rules.TARGETS[action]] += 1
    return counts
