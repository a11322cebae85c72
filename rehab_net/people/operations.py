"""Persons and cases: registration, updates, case status changes and the derived priority.
Operations flush; the caller commits."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rehab_net.auth import audit
from rehab_net.auth.permissions import Scope
from rehab_net.db import utcnow
from rehab_net.errors import Conflict, NotFound, field_error
from rehab_net.messages import message
from rehab_net.network import operations as network
from rehab_net.people import messages as _messages  # noqa: F401 - registers the codes
from rehab_net.people.identifiers import IdentifierError, check_certificate, parse_resident_id
from rehab_net.people.models import Case, CaseEvent, Person
from rehab_net.people.rules import SEVERE_GRADES, child_birth_cutoff
from rehab_net.people.states import CASE, FOLLOW_ACTIONS, MANUAL_ACTIONS, OPEN_CASE_STATUSES
from rehab_net.protection import blind_index


def get_person(session: Session, code: str, *, scope: Scope | None = None) -> Person:
    """A person; with a scope, one living outside it is 'not found' (never 'forbidden': the
    answer must not tell that the code exists)."""
    stmt = select(Person).where(Person.code == code)
    if scope is not None:
        stmt = stmt.where(scope.person_filter(Person.id, Person.home_region_id))
    person = session.scalar(stmt)
    if person is None:
        raise NotFound("person.not_found", code=code)
    return person


def get_held(session: Session, model, code: str, *, scope: Scope | None, not_found: str):
    """A row that belongs to a person (a case, a certificate: ``model`` has ``code`` and
    ``person_id``) by its code; with a scope, one whose person lives outside it is 'not found'
    (the ``not_found`` code), like get_person."""
    stmt = select(model).where(model.code == code)
    if scope is not None:
        stmt = stmt.join(Person, model.person_id == Person.id).where(
            scope.person_filter(Person.id, Person.home_region_id))
    found = session.scalar(stmt)
    if found is None:
        raise NotFound(not_found, code=code)
    return found


def get_case(session: Session, code: str, *, scope: Scope | None = None) -> Case:
    return get_held(session, Case, code, scope=scope, not_found="case.not_found")


def priority_expression(on: date):
    """The priority class as SQL, the same rule as rules.priority_class, for filters and sorts."""
    return sql_case(
        (Person.birth_date > child_birth_cutoff(on), "child"),
        (Case.grade.in_(SEVERE_GRADES), "severe"),
        (Person.poverty_status != "none", "poor"),
        else_="standard",
    )


def priority_rank(on: date):
    """0 for child ... 3 for standard: sorting by it puts the most urgent first."""
    return sql_case(
        (Person.birth_date > child_birth_cutoff(on), 0),
        (Case.grade.in_(SEVERE_GRADES), 1),
        (Person.poverty_status != "none", 2),
        else_=3,
    )


# --- persons ------------------------------------------------------------------------------------
def list_persons(session: Session, *, region=None, poverty_status=None, sex=None,
                 born_after=None, born_before=None, resident_id=None, scope: Scope | None = None):
    stmt = select(Person)
    if scope is not None:
        stmt = stmt.where(scope.person_filter(Person.id, Person.home_region_id))
    if region is not None:
        stmt = stmt.where(Person.home_region_id.in_(network.subtree_ids(region.id)))
    if poverty_status:
        stmt = stmt.where(Person.poverty_status == poverty_status)
    if sex:
        stmt = stmt.where(Person.sex == sex)
    if born_after:
        stmt = stmt.where(Person.birth_date > born_after)
    if born_before:
        stmt = stmt.where(Person.birth_date < born_before)
    if resident_id:
        stmt = stmt.where(Person.resident_id_index == blind_index(resident_id))
    return stmt


def person_codes_in(scope: Scope):
    """SQL: the codes of the persons living in a scope (for other modules' filters)."""
    return select(Person.code).where(scope.region_filter(Person.home_region_id))


def case_codes_in(scope: Scope):
    """SQL: the codes of the cases of persons living in a scope."""
    return (select(Case.code).join(Person, Case.person_id == Person.id)
            .where(scope.region_filter(Person.home_region_id)))


def codes_of_person(person_code: str):
    """SQL: the person's own code (the audit log's person filter)."""
    return select(Person.code).where(Person.code == person_code)


def case_codes_of_person(person_code: str):
    """SQL: the codes of a person's cases."""
    return select(Case.code).join(Person, Case.person_id == Person.id).where(
        Person.code == person_code)


def _refuse_duplicate(session: Session, person: Person, number: str, scope: Scope | None) -> None:
    """One person per resident ID number. The refusal names the existing record only to someone
    who may read it; to anyone else it says no more than "registered already" (it must refuse,
    but must not tell where or as whom), and the attempt is audited so probing shows up."""
    other = session.scalar(select(Person).where(
        Person.resident_id_index == blind_index(number), Person.id != person.id))
    if other is None:
        return
    attempt = [{"action": "duplicate_id", "object_type": "person",
                "object_code": other.code, "detail": {"attempted_code": person.code}}]
    if scope is None or scope.covers(session, other.home_region_id):
        raise Conflict("person.id_registered_as", code=other.code, audit=attempt)
    raise Conflict("person.id_registered", audit=attempt)


def _apply_identity(session: Session, person: Person, data: dict,
                    scope: Scope | None = None) -> None:
    """Check the resident ID against birth date and sex (derived when not given) and uniqueness."""
    try:
        rid = parse_resident_id(data.get("resident_id", person.resident_id))
    except IdentifierError as exc:
        raise field_error("resident_id", exc.rule) from None
    birth = data.get("birth_date", rid.birth_date if "resident_id" in data else person.birth_date)
    sex = data.get("sex", rid.sex if "resident_id" in data else person.sex)
    if birth != rid.birth_date:
        raise field_error("birth_date", "person.birth_date_mismatch")
    if sex != rid.sex:
        raise field_error("sex", "person.sex_mismatch")
    _refuse_duplicate(session, person, rid.number, scope)
    person.resident_id, person.birth_date, person.sex = rid.number, birth, sex


def _home_region(session: Session, code: str):
    try:
        region = network.get_region(session, code)
    except NotFound:
        raise field_error("home_region_code", "person.region_unknown", code=code) from None
    if region.level != "village":
        raise field_error("home_region_code", "person.region_not_village")
    return region


def _require_in_scope(session: Session, scope: Scope | None, region_id: int, field: str) -> None:
    if scope is not None and not scope.covers(session, region_id):
        raise field_error(field, "person.outside_area")


def _next_code(session: Session, column, prefix: str) -> str:
    """The code after the highest ``prefix`` + digits one (six digits or more). Two
    registrations at the same instant: the second is refused by the unique code and the user
    tries again."""
    codes = session.scalars(select(column).where(column.like(f"{prefix}%"))
                            .order_by(func.length(column).desc(), column.desc()).limit(50))
    highest = max((int(c[len(prefix):]) for c in codes if c[len(prefix):].isdigit()), default=0)
    return f"{prefix}{highest + 1:06d}"


def next_person_code(session: Session) -> str:
    """A new person's code when the user gives none: P000001 ..."""
    return _next_code(session, Person.code, "P")


def next_case_code(session: Session) -> str:
    """A new case's code when the user gives none: K000001 ..."""
    return _next_code(session, Case.code, "K")


def create_person(session: Session, data: dict, *, scope: Scope | None = None) -> Person:
    if session.scalar(select(Person.id).where(Person.code == data["code"])):
        raise Conflict("person.exists", code=data["code"])
    person = Person(code=data["code"], name=data["name"],
                    guardian_name=data.get("guardian_name"),
                    guardian_phone=data.get("guardian_phone"),
                    poverty_status=data.get("poverty_status", "none"),
                    home_region=_home_region(session, data["home_region_code"]))
    _require_in_scope(session, scope, person.home_region.id, "home_region_code")
    _apply_identity(session, person, data, scope)
    session.add(person)
    session.flush()
    return person


def update_person(session: Session, person: Person, data: dict, *,
                  scope: Scope | None = None) -> Person:
    data = dict(data)
    if "home_region_code" in data:
        person.home_region = _home_region(session, data.pop("home_region_code"))
        _require_in_scope(session, scope, person.home_region.id, "home_region_code")
    identity = {k: data.pop(k) for k in ("resident_id", "birth_date", "sex") if k in data}
    if identity:
        _apply_identity(session, person, identity, scope)
        for case in person.cases:  # certificates embed the ID number
            _check_certificate(case.certificate_number, person, case.category, case.grade)
    for key, value in data.items():
        setattr(person, key, value)
    session.flush()
    return person


# --- cases --------------------------------------------------------------------------------------
def list_cases(session: Session, *, on: date, status=None, open_only=False, category=None,
               priority=None, service=None, region=None, person=None, grade=None,
               scope: Scope | None = None):
    stmt = select(Case).join(Person, Case.person_id == Person.id)
    if scope is not None:
        stmt = stmt.where(scope.person_filter(Person.id, Person.home_region_id))
    if status:
        stmt = stmt.where(Case.status == status)
    if open_only:
        stmt = stmt.where(Case.status.in_(OPEN_CASE_STATUSES))
    if category:
        stmt = stmt.where(Case.category == category)
    if grade:
        stmt = stmt.where(Case.grade == grade)
    if priority:
        stmt = stmt.where(priority_expression(on) == priority)
    if service is not None:
        stmt = stmt.where(Case.service_id == service.id)
    if region is not None:
        stmt = stmt.where(Person.home_region_id.in_(network.subtree_ids(region.id)))
    if person is not None:
        stmt = stmt.where(Case.person_id == person.id)
    return stmt


def _check_certificate(number, person: Person, category: str, grade: int) -> str | None:
    if not number:
        return None
    try:
        check_certificate(number, resident_id=person.resident_id, category=category, grade=grade)
    except IdentifierError as exc:
        raise field_error("certificate_number", exc.rule) from None
    return number.strip().upper()


def _check_service(service, category: str) -> None:
    if service.category != category and category != "multiple":
        raise field_error("service_code", "case.service_category",
                          service_category=service.category, category=category)


def create_case(session: Session, data: dict, *, today: date,
                scope: Scope | None = None) -> Case:
    if session.scalar(select(Case.id).where(Case.code == data["code"])):
        raise Conflict("case.exists", code=data["code"])
    try:
        person = get_person(session, data["person_code"], scope=scope)
    except NotFound:
        raise field_error("person_code", "case.person_unknown", code=data["person_code"]) from None
    try:
        service = network.get_service(session, data["service_code"])
    except NotFound:
        raise field_error("service_code", "case.service_unknown", code=data["service_code"]) \
            from None
    _check_service(service, data["category"])
    _refuse_second_open_case(session, person, service)
    registered_on = data.get("registered_on") or today
    if registered_on > today:
        raise field_error("registered_on", "case.registered_future")
    if registered_on < person.birth_date:
        raise field_error("registered_on", "case.registered_before_birth")
    case = Case(code=data["code"], person=person, category=data["category"], grade=data["grade"],
                service=service, registered_on=registered_on, status="registered",
                certificate_number=_check_certificate(data.get("certificate_number"), person,
                                                      data["category"], data["grade"]))
    session.add(case)
    session.flush()
    return case


def open_case_of(session: Session, person: Person, service) -> Case | None:
    """The person's open case for the service, if there is one."""
    return session.scalar(select(Case).where(
        Case.person_id == person.id, Case.service_id == service.id,
        Case.status.in_(OPEN_CASE_STATUSES)).order_by(Case.id))


def _refuse_second_open_case(session: Session, person: Person, service) -> None:
    """One open case per person and service: a second would be planned and referred twice."""
    existing = open_case_of(session, person, service)
    if existing is not None:
        raise Conflict("case.open_exists", person=person.code, service=service.code,
                       case=existing.code,
                       errors=[{"in": "json", "field": "service_code",
                                "rule": message("case.open_exists_rule", case=existing.code),
                                "case_code": existing.code}])


def move_case(session: Session, case: Case, action: str, *, now: datetime, actor: str,
              user_id: int | None = None, cause: str | None = None) -> Case:
    """Move a case by a CASE action (people/states.py) in the caller's transaction, with its
    event row: one conditional UPDATE on the status and version read; 409 naming the status
    when the action does not leave it, or when someone else moved it first. The Case object is
    refreshed, so its version stays in step."""
    from_status = case.status
    CASE.move(session, Case, case.id, action, from_state=from_status,
              expected_version=case.version, values={"updated_at": now})
    session.add(CaseEvent(case_id=case.id, at=now, actor=actor, user_id=user_id, action=action,
                          from_status=from_status, to_status=CASE.actions[action].target,
                          cause=cause))
    session.refresh(case)
    return case


def follow(session: Session, case: Case, status: str | None, *, now: datetime, actor: str,
           user_id: int | None = None, cause: str | None = None) -> Case:
    """Bring the case to ``status`` (what its work says, e.g. referrals.states.case_status_for)
    if it is not there already: the status is moved by the work, never set in two places."""
    if status is None or status == case.status:
        return case
    return move_case(session, case, FOLLOW_ACTIONS[status], now=now, actor=actor,
                     user_id=user_id, cause=cause)


def manual_actions(status: str) -> dict[str, str]:
    """The statuses a user may move a case to by hand from ``status``: {target: action}."""
    return {CASE.actions[a].target: a for a in MANUAL_ACTIONS if CASE.can(a, status)}


def move_by_hand(session: Session, case: Case, to_status: str, *,
                 cause: str | None = None) -> Case:
    """A user moves a case to ``to_status`` (back on the waiting list, or closed: MANUAL_ACTIONS;
    the rest follows the referrals) as whoever acts now, with its event row. Refused at the
    field ``status`` when that is not a move by hand from here; a completed case that opens
    again still may not make a second open case for its service."""
    allowed = manual_actions(case.status)
    if to_status not in allowed:
        raise field_error("status", "case.status_change", status=case.status,
                          to=to_status, allowed=", ".join(sorted(allowed)) or "none")
    if case.status not in OPEN_CASE_STATUSES and to_status in OPEN_CASE_STATUSES:
        _refuse_second_open_case(session, case.person, case.service)
    name, user_id, _ = audit.current_actor()
    return move_case(session, case, allowed[to_status], now=utcnow(), actor=name,
                     user_id=user_id, cause=cause)


def update_case(session: Session, case: Case, data: dict, *, today: date) -> Case:
    """Change a case's details; a status change is a move by hand (move_by_hand: its event row
    and the version-checked UPDATE), never a plain assignment."""
    data = dict(data)
    to_status = data.pop("status", case.status)
    if to_status != case.status and to_status not in manual_actions(case.status):
        move_by_hand(session, case, to_status)  # refuses, before anything is changed
    if "service_code" in data:
        try:
            service = network.get_service(session, data.pop("service_code"))
        except NotFound as exc:
            raise field_error("service_code", exc.detail) from None
        if service.id != case.service_id and to_status in OPEN_CASE_STATUSES:
            _refuse_second_open_case(session, case.person, service)
        case.service = service
    if "registered_on" in data and data["registered_on"] > today:
        raise field_error("registered_on", "case.registered_future")
    for key, value in data.items():
        setattr(case, key, value)
    _check_service(case.service, case.category)
    if case.registered_on < case.person.birth_date:
        raise field_error("registered_on", "case.registered_before_birth")
    case.certificate_number = _check_certificate(case.certificate_number, case.person,
                                                 case.category, case.grade)
    session.flush()
    if to_status != case.status:
        move_by_hand(session, case, to_status)
    return case


def counts(session: Session, on: date) -> dict:
    """Persons, cases by status, and open cases by priority class."""
    by_status = dict(session.execute(select(Case.status, func.count()).group_by(Case.status)).all())
    prio = priority_expression(on)
    by_priority = dict(session.execute(
        select(prio, func.count()).select_from(Case).join(Person, Case.person_id == Person.id)
        .where(Case.status.in_(OPEN_CASE_STATUSES)).group_by(prio)).all())
    return {
        "persons": session.scalar(select(func.count()).select_from(Person)),
        "cases": by_status,
        "open_by_priority": by_priority,
    }



