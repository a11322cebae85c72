"""Practitioners, the facilities where they practise, schedule rules (weekly and one-off
sessions) and exceptions (leave, closures). Every change regenerates the slots it concerns, in the
same transaction; the caller commits."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rehab_net.auth import audit
from rehab_net.auth.principal import Principal
from rehab_net.booking import access, courses, generation
from rehab_net.booking.constraints import conflict_for
from rehab_net.booking.models import (
    Practitioner,
    PractitionerFacility,
    ScheduleException,
    ScheduleRule,
)
from rehab_net.errors import Conflict, NotFound, field_error
from rehab_net.listing import get_or_404
from rehab_net.messages import message
from rehab_net.network import operations as network
from rehab_net.network.models import Facility, Service

ALL_DAYS = 127


def get_practitioner(session: Session, code: str) -> Practitioner:
    found = session.scalar(select(Practitioner).where(Practitioner.code == code))
    if found is None:
        raise NotFound("practitioner.not_found", code=code)
    return found


def _facility(session: Session, code: str, field: str, principal: Principal | None) -> Facility:
    try:
        facility = network.get_facility(session, code)
    except NotFound:
        raise field_error(field, "booking.facility_unknown", code=code) from None
    mine = access.writable_facilities(principal)
    if mine is not None and facility.id not in mine:
        raise field_error(field, "booking.facility_not_yours")
    return facility


def create_practitioner(session: Session, data: dict, *, principal: Principal | None,
                        today: date) -> Practitioner:
    if session.scalar(select(Practitioner.id).where(Practitioner.code == data["code"])):
        raise Conflict("practitioner.exists", code=data["code"],
                       errors=[{"field": "code", "rule": message("practitioner.code_taken_rule")}])
    codes = data.get("facility_codes") or []
    if not codes:
        raise field_error("facility_codes", "practitioner.facility_needed")
    practitioner = Practitioner(code=data["code"], name=data["name"],
                                profession=data["profession"], active=True)
    session.add(practitioner)
    session.flush()
    for code in dict.fromkeys(codes):
        _add_site(session, practitioner, code, principal=principal, today=today)
    return practitioner


def update_practitioner(session: Session, practitioner: Practitioner, data: dict, *,
                        principal: Principal | None, today: date, now: datetime) -> Practitioner:
    access.require_practitioner_writable(principal, practitioner)
    for key in ("name", "profession", "active"):
        if key in data:
            setattr(practitioner, key, data[key])
    session.flush()
    if data.get("active") is False:
        for rule in session.scalars(select(ScheduleRule).where(
                ScheduleRule.practitioner_id == practitioner.id, ScheduleRule.active)):
            rule.active = False
        session.flush()
        generation.generate(session, today=today, now=now,
                            practitioner_ids=[practitioner.id])
    return practitioner


def add_site(session: Session, practitioner: Practitioner, facility_code: str, *,
             principal: Principal | None, today: date) -> PractitionerFacility:
    """Record that the practitioner also practises at a facility (multi-site practice): for a
    user who books at one of their sites already, and at the new one."""
    access.require_practitioner_writable(principal, practitioner)
    return _add_site(session, practitioner, facility_code, principal=principal, today=today)


def _add_site(session: Session, practitioner: Practitioner, facility_code: str, *,
              principal: Principal | None, today: date) -> PractitionerFacility:
    facility = _facility(session, facility_code, "facility_code", principal)
    site = session.get(PractitionerFacility, (practitioner.id, facility.id))
    if site is None:
        site = PractitionerFacility(practitioner=practitioner, facility=facility, since=today)
        session.add(site)
        session.flush()
    return site


def remove_site(session: Session, practitioner: Practitioner, facility_code: str, *,
                principal: Principal | None) -> None:
    """The practitioner no longer practises at one of the user's facilities. Refused while they
    have a schedule rule there, even an ended one (the rules and their slots keep the pair as
    history: the database's foreign key), and for their last site (nobody could manage them)."""
    access.require_practitioner_writable(principal, practitioner)
    facility = _facility(session, facility_code, "facility_code", principal)
    site = session.get(PractitionerFacility, (practitioner.id, facility.id))
    if site is None:
        raise field_error("facility_code", "practitioner.not_at_facility",
                          practitioner=practitioner.code, facility=facility.code)
    if len(practitioner.sites) <= 1:
        raise Conflict("practitioner.last_site", errors=[
            {"field": "facility_code", "rule": message("practitioner.last_site_rule")}])
    if session.scalar(select(ScheduleRule.id).where(
            ScheduleRule.practitioner_id == practitioner.id,
            ScheduleRule.facility_id == facility.id).limit(1)) is not None:
        raise Conflict("practitioner.site_has_rules", errors=[
            {"field": "facility_code", "rule": message("practitioner.site_has_rules_rule")}])
    session.delete(site)
    session.flush()
    session.expire(practitioner, ["sites"])


# --- rules --------------------------------------------------------------------------------------
def weekday_mask(days) -> int:
    """[1, 3, 5] (ISO: Monday = 1) -> the mask (Monday = bit 0)."""
    mask = 0
    for d in days:
        mask |= 1 << (int(d) - 1)
    return mask


def weekdays_of(mask: int) -> list[int]:
    return [d + 1 for d in range(7) if mask & (1 << d)]


def _rule_facts(session: Session, data: dict, principal: Principal | None,
                rule: ScheduleRule | None = None) -> dict:
    values = {}
    if "practitioner_code" in data:
        try:
            values["practitioner"] = get_practitioner(session, data["practitioner_code"])
        except NotFound:
            raise field_error("practitioner_code", "practitioner.unknown",
                              code=data["practitioner_code"]) from None
    if "facility_code" in data:
        values["facility"] = _facility(session, data["facility_code"], "facility_code",
                                       principal)
    if "service_code" in data:
        values["service"] = network._reference(session, network.get_service,
                                               data["service_code"], "service_code")
    practitioner = values.get("practitioner") or (rule.practitioner if rule else None)
    facility = values.get("facility") or (rule.facility if rule else None)
    service: Service = values.get("service") or (rule.service if rule else None)
    if practitioner is not None and facility is not None and session.get(
            PractitionerFacility, (practitioner.id, facility.id)) is None:
        raise field_error("facility_code", "practitioner.not_at_facility",
                          practitioner=practitioner.code, facility=facility.code)
    if practitioner is not None and not practitioner.active:
        raise field_error("practitioner_code", "practitioner.inactive")
    if service is not None and facility is not None and facility.tier not in service.tiers:
        raise field_error("service_code", "schedule.service_tier", service=service.code,
                          tier=facility.tier)
    return values


def _check_shape(kind: str, data: dict) -> None:
    start, end = data["start_time"], data["end_time"]
    if end <= start:
        raise field_error("end_time", "schedule.end_before_start")
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    if minutes < data["slot_minutes"]:
        raise field_error("slot_minutes", "schedule.slot_too_long")
    if kind == "weekly" and not data.get("weekdays"):
        raise field_error("weekdays", "schedule.weekday_needed")
    if data.get("valid_until") and data["valid_until"] < data["valid_from"]:
        raise field_error("valid_until", "schedule.until_before_from")


def create_rule(session: Session, data: dict, *, principal: Principal | None, today: date,
                now: datetime) -> tuple[ScheduleRule, dict]:
    """A weekly rule, or a one-off session (kind "session", date `on`); then its slots."""
    kind = data.get("kind", "weekly")
    if kind == "session":
        if not data.get("on"):
            raise field_error("on", "schedule.session_date")
        data = {**data, "valid_from": data["on"], "valid_until": data["on"],
                "weekdays": [data["on"].isoweekday()]}
    elif not data.get("valid_from"):
        data = {**data, "valid_from": today}
    _check_shape(kind, data)
    facts = _rule_facts(session, data, principal)
    rule = ScheduleRule(kind=kind, practitioner=facts["practitioner"], facility=facts["facility"],
                        service=facts["service"], weekdays=weekday_mask(data["weekdays"]),
                        start_time=data["start_time"], end_time=data["end_time"],
                        slot_minutes=data["slot_minutes"], places=data.get("places", 1),
                        valid_from=data["valid_from"], valid_until=data.get("valid_until"),
                        makeup_days=data.get("makeup_days", False), note=data.get("note"),
                        active=True, created_at=now, updated_at=now)
    session.add(rule)
    session.flush()
    counts = _regenerate(session, [rule.id], today=today, now=now)
    if kind == "session" and counts["skipped_overlap"]:
        raise Conflict("practitioner.overlap", errors=[
            {"field": "start_time", "rule": message("practitioner.overlap_rule")}])
    return rule, counts


def _regenerate(session: Session, rule_ids, *, today: date, now: datetime) -> dict:
    try:
        with session.begin_nested():
            return generation.generate(session, today=today, now=now, rule_ids=rule_ids)
    except IntegrityError as err:
        raise conflict_for(err) from None


def update_rule(session: Session, rule: ScheduleRule, data: dict, *, principal: Principal | None,
                today: date, now: datetime) -> tuple[ScheduleRule, dict]:
    """Change a rule (or retire it: active false); its future slots follow, booked ones stay."""
    access.require_writable(principal, rule.facility_id, "schedule rule")
    if rule.kind == "session" and "on" in data:
        data = {**data, "valid_from": data["on"], "valid_until": data["on"],
                "weekdays": [data["on"].isoweekday()]}
    merged = {"start_time": rule.start_time, "end_time": rule.end_time,
              "slot_minutes": rule.slot_minutes, "weekdays": weekdays_of(rule.weekdays),
              "valid_from": rule.valid_from, "valid_until": rule.valid_until, **data}
    _check_shape(rule.kind, merged)
    facts = _rule_facts(session, data, principal, rule)
    for key, value in facts.items():
        setattr(rule, key, value)
    for key in ("start_time", "end_time", "slot_minutes", "places", "valid_from", "valid_until",
                "makeup_days", "note", "active"):
        if key in data:
            setattr(rule, key, data[key])
    if "weekdays" in data:
        rule.weekdays = weekday_mask(data["weekdays"])
    rule.updated_at = now
    session.flush()
    return rule, _regenerate(session, [rule.id], today=today, now=now)


def get_rule(session: Session, rule_id: int, principal: Principal | None) -> ScheduleRule:
    return get_or_404(session, ScheduleRule, rule_id, "schedule rule")


# --- exceptions ---------------------------------------------------------------------------------
def create_exception(session: Session, data: dict, *, principal: Principal | None, today: date,
                     now: datetime) -> tuple[ScheduleException, dict]:
    """Leave of a practitioner or closure of a facility: no slots inside it any more (booked ones
    are kept and listed in `to_move`)."""
    kind = data["kind"]
    exc = ScheduleException(kind=kind, starts_at=data["starts_at"], ends_at=data["ends_at"],
                            reason=data.get("reason"), created_at=now,
                            created_by=audit.current_actor()[0])
    if data["ends_at"] <= data["starts_at"]:
        raise field_error("ends_at", "exception.end_before_start")
    if kind == "leave":
        if not data.get("practitioner_code") or data.get("facility_code"):
            raise field_error("practitioner_code", "exception.leave_place")
        try:
            practitioner = get_practitioner(session, data["practitioner_code"])
        except NotFound:
            raise field_error("practitioner_code", "practitioner.unknown",
                              code=data["practitioner_code"]) from None
        access.require_practitioner_writable(principal, practitioner)
        exc.practitioner = practitioner
        scope = {"practitioner_ids": [practitioner.id]}
        inside = {"practitioner_id": practitioner.id}
    else:
        if not data.get("facility_code") or data.get("practitioner_code"):
            raise field_error("facility_code", "exception.closure_place")
        facility = _facility(session, data["facility_code"], "facility_code", principal)
        exc.facility = facility
        scope = {"facility_ids": [facility.id]}
        inside = {"facility_id": facility.id}
    session.add(exc)
    session.flush()
    # Course sessions move to a colleague or are flagged first (courses.py), so that the slots
    # they leave inside the leave are withdrawn by the generation that follows.
    hit = courses.after_leave(session, exc, now) if kind == "leave" else None
    counts = generation.generate(session, today=today, now=now, **scope)
    if hit is not None:
        counts["courses"] = hit
    counts["to_move"] = [a.code for a in generation.appointments_inside(
        session, starts_at=exc.starts_at, ends_at=exc.ends_at, **inside)]
    return exc, counts


def delete_exception(session: Session, exc: ScheduleException, *, principal: Principal | None,
                     today: date, now: datetime) -> dict:
    if exc.facility_id is not None:
        access.require_writable(principal, exc.facility_id, "exception")
        scope = {"facility_ids": [exc.facility_id]}
    else:
        access.require_practitioner_writable(principal, exc.practitioner)
        scope = {"practitioner_ids": [exc.practitioner_id]}
    session.delete(exc)
    session.flush()
    return generation.generate(session, today=today, now=now, **scope)


