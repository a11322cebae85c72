"""The coordinator's schedule pages (issue 15): the practitioners of my facilities and where they
practise, their weekly rules and one-off sessions, their leave, my facilities' closures, and the
search of free slots at other facilities near a referral's patient. Server-rendered forms that
post back to their page: 422 (409 for a refusal of the data) with each error at its field, 303
and a flash on success. The operations are booking/schedules.py's; every page checks the same
scope as the API (access.py): another facility's practitioner or rule answers 404."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from rehab_net.access import Rule
from rehab_net.auth import audit
from rehab_net.booking import access, generation, schedules
from rehab_net.booking.availability import Near, search
from rehab_net.booking.constraints import conflict_for
from rehab_net.booking.models import (
    Appointment,
    Practitioner,
    PractitionerFacility,
    ScheduleException,
    ScheduleRule,
)
from rehab_net.booking.views import decorate_slots
from rehab_net.clock import local_days, today, zone
from rehab_net.csvimport import CODE
from rehab_net.db import get_session, utcnow
from rehab_net.errors import DomainError, missing_is_404
from rehab_net.messages import code_of, params_of, translate
from rehab_net.network.models import Facility, Service
from rehab_net.referrals.operations.visibility import get_referral
from rehab_net.schemas import form_date
from rehab_net.vocab import PROFESSIONS, label

bp = Blueprint("schedule_pages", __name__)

# endpoint -> permission (rehab_net/access.py; the guard refuses an endpoint not declared).
# Declared by booking's init_app.
PERMISSIONS: dict[str, Rule] = {
    "schedule_pages.practitioners": "booking.write",
    "schedule_pages.practitioner": "booking.write",
    "schedule_pages.add_site": "booking.write",
    "schedule_pages.remove_site": "booking.write",
    "schedule_pages.add_rule": "booking.write",
    "schedule_pages.rule": "booking.write",
    "schedule_pages.end_rule": "booking.write",
    "schedule_pages.add_leave": "booking.write",
    "schedule_pages.closures": "booking.write",
    "schedule_pages.delete_exception": "booking.write",
    "schedule_pages.availability": "booking.read",
}

TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
LIST_ROWS = 200
SEARCH_ROWS = 50
DEFAULT_KM = 30


def _render(template: str, status: int = 200, **context):
    return render_template(f"booking/schedules/{template}", **context), status


@bp.app_template_filter("facility_option")
def facility_option(facility: Facility) -> tuple[str, str]:
    from rehab_net.i18n import local_name

    return facility.code, f"{local_name(facility)} ({facility.code})"


@bp.app_template_filter("profession_option")
def profession_option(profession: str) -> tuple[str, str]:
    return profession, label(profession)


@bp.app_template_filter("service_tier_option")
def service_tier_option(service: Service) -> tuple[str, str]:
    """A service as a choice, with the kinds of facility that give it."""
    from rehab_net.i18n import local_name

    return service.code, f"{local_name(service)} ({'、'.join(label(t) for t in service.tiers)})"


@bp.app_template_filter("end_day")
def end_day(moment: datetime) -> str:
    """The last local day of a leave or closure that ends at a midnight."""
    from rehab_net.i18n import local_date

    return local_date((moment.astimezone(zone()) - timedelta(seconds=1)).date())


# --- what a refusal says on a page --------------------------------------------------------------
def said(rule) -> str:
    """An operation's rule (a coded message) as a page says it, in the user's language."""
    code, p = code_of(rule), params_of(rule)
    texts = {
        "schedule.end_before_start": lambda: _("The end time must be after the start time."),
        "schedule.slot_too_long": lambda: _("One slot must fit between the start and the end "
                                            "time."),
        "schedule.weekday_needed": lambda: _("Tick at least one weekday."),
        "schedule.weekday_schema": lambda: _("Tick at least one weekday."),
        "schedule.until_before_from": lambda: _("“Valid until” must not be before “valid "
                                                "from”."),
        "schedule.session_date": lambda: _("Enter the date of the session."),
        "schedule.service_tier": lambda: _(
            "This facility (a %(tier)s) does not offer this service: choose a service given at "
            "a %(tier)s.", tier=label(p.get("tier"))),
        "practitioner.not_at_facility": lambda: _(
            "The practitioner does not practise at this facility: add it to their facilities "
            "first."),
        "practitioner.inactive": lambda: _("The practitioner is not active: make them active "
                                           "first."),
        "practitioner.overlap_rule": lambda: _(
            "This overlaps time the practitioner already has at this or another facility. "
            "Change the day or the hours."),
        "practitioner.busy_rule": lambda: _(
            "This overlaps time the practitioner already has at this or another facility. "
            "Change the day or the hours."),
        "practitioner.code_taken_rule": lambda: _("This code is taken: choose another."),
        "practitioner.facility_needed": lambda: _("Tick at least one facility where they "
                                                  "practise."),
        "practitioner.last_site_rule": lambda: _(
            "This is the practitioner's only facility: add another one before removing it."),
        "practitioner.site_has_rules_rule": lambda: _(
            "The practitioner has schedule rules here, which stay on record with this facility. "
            "End the rules to stop their slots."),
        "booking.facility_unknown": lambda: _("Choose a facility from the list."),
        "booking.facility_not_yours": lambda: _("Choose one of your facilities."),
        "exception.end_before_start": lambda: _("The last day must not be before the first "
                                                "day."),
        "booking.db_conflict": lambda: _("The change conflicts with existing data; reload the "
                                         "page and try again."),
    }
    text = texts.get(code)
    return text() if text is not None else str(translate(rule))


def refusal_errors(exc: DomainError, fields: tuple[str, ...], default: str) -> dict[str, str]:
    """A refusal's errors by the form's fields (a field the form lacks goes to `default`)."""
    errors: dict[str, str] = {}
    for item in exc.errors:
        field = item.get("field")
        errors.setdefault(field if field in fields else default, said(item.get("rule")))
    if not errors:
        errors[default] = str(exc.translated())
    return errors


# --- reading a form -----------------------------------------------------------------------------
def _text(form, name: str, limit: int) -> str:
    return (form.get(name) or "").strip()[:limit]


def _day(value: str, name: str, errors: dict, *, required: bool, message: str | None = None):
    if not value:
        if required:
            errors[name] = message or _("Enter a date as YYYY-MM-DD.")
        return None
    try:
        return form_date(value)
    except ValueError as exc:
        errors[name] = str(exc)
        return None


def _time(value: str, name: str, errors: dict):
    if not TIME.match(value):
        errors[name] = _("Enter a time as HH:MM, e.g. 08:30.")
        return None
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _number(value: str, name: str, low: int, high: int, errors: dict, message: str):
    if not re.fullmatch(r"[0-9]{1,4}", value) or not low <= int(value) <= high:
        errors[name] = message
        return None
    return int(value)


def _services(session) -> list[Service]:
    return list(session.scalars(select(Service).order_by(Service.code)))


# --- practitioners ------------------------------------------------------------------------------
def _my_practitioners(session, mine: list[Facility]):
    stmt = select(Practitioner).order_by(Practitioner.code).limit(LIST_ROWS)
    if access.writable_facilities(g.user) is not None:
        stmt = stmt.where(Practitioner.sites.any(PractitionerFacility.facility_id.in_(
            [f.id for f in mine])))
    return list(session.scalars(stmt))


PRACTITIONER_FIELDS = ("code", "name", "profession", "facility_codes")


@bp.route("/booking/practitioners", methods=["GET", "POST"])
def practitioners():
    session = get_session()
    mine = access.my_facilities(session, g.user)
    if request.method == "GET":
        return _practitioners_page(session, mine, {"facility_codes": [mine[0].code]}
                                   if len(mine) == 1 else {}, {})
    form = {k: _text(request.form, k, 80) for k in ("code", "name", "profession")}
    form["facility_codes"] = request.form.getlist("facility_codes")[:20]
    errors = {}
    if not CODE.match(form["code"]):
        errors["code"] = _("Enter a code: 1-32 letters, digits, _ or -.")
    if not form["name"] or len(form["name"]) > 64:
        errors["name"] = _("Enter the practitioner's name (up to 64 characters).")
    if form["profession"] not in PROFESSIONS:
        errors["profession"] = _("Choose the profession.")
    offered = {f.code for f in mine}
    if not form["facility_codes"] or not set(form["facility_codes"]) <= offered:
        errors["facility_codes"] = _("Tick at least one of your facilities where they "
                                     "practise.")
    if errors:
        return _practitioners_page(session, mine, form, errors, 422)
    try:
        created = schedules.create_practitioner(session, dict(form), principal=g.user,
                                                today=today())
        session.flush()
    except DomainError as exc:
        session.rollback()
        return _practitioners_page(session, mine, form, refusal_errors(
            exc, PRACTITIONER_FIELDS, "code"), exc.status)
    flash(_("Practitioner %(name)s (%(code)s) is added. Now give them their weekly hours.",
            name=created.name, code=created.code), "success")
    return redirect(url_for("schedule_pages.practitioner", code=created.code), code=303)


def _practitioners_page(session, mine, form, errors, status: int = 200):
    return _render("practitioners.html", status, rows=_my_practitioners(session, mine),
                   facilities=mine, form=form, errors=errors, professions=PROFESSIONS)


def _practitioner_or_404(session, code: str) -> Practitioner:
    with missing_is_404():
        practitioner = schedules.get_practitioner(session, code[:32])
        access.require_practitioner_writable(g.user, practitioner)
    return practitioner


def _hits(session, exc: ScheduleException) -> list[Appointment]:
    return generation.appointments_inside(
        session, starts_at=exc.starts_at, ends_at=exc.ends_at,
        practitioner_id=exc.practitioner_id, facility_id=exc.facility_id)


def _with_hits(session, exceptions: list[ScheduleException]) -> list[tuple]:
    """(exception, its appointments the user may open, how many more at other facilities); the
    appointments shown are audited as a list."""
    mine = access.writable_facilities(g.user)
    rows, shown = [], []
    for exc in exceptions:
        hits = _hits(session, exc)
        own = [a for a in hits if mine is None or a.facility_id in mine]
        rows.append((exc, own, len(hits) - len(own)))
        shown.extend(a.code for a in own)
    if shown:
        audit.record_list(session, "appointment", shown, {"hit_by": "leave_or_closure"})
    return rows


def _practitioner_page(code: str, *, form=None, errors=None, which: str | None = None,
                       status: int = 200):
    session = get_session()
    practitioner = _practitioner_or_404(session, code)
    mine = access.my_facilities(session, g.user)
    mine_ids = access.writable_facilities(g.user)
    site_ids = {s.facility_id for s in practitioner.sites}
    rules = list(session.scalars(select(ScheduleRule).where(
        ScheduleRule.practitioner_id == practitioner.id).order_by(
        ScheduleRule.active.desc(), ScheduleRule.kind.desc(), ScheduleRule.valid_from,
        ScheduleRule.id).limit(LIST_ROWS)))
    leave = list(session.scalars(select(ScheduleException).where(
        ScheduleException.practitioner_id == practitioner.id,
        ScheduleException.ends_at > utcnow()).order_by(ScheduleException.starts_at)
        .limit(LIST_ROWS)))
    my_sites = [s.facility for s in practitioner.sites
                if mine_ids is None or s.facility_id in mine_ids]
    defaults = {"details": {"name": practitioner.name, "profession": practitioner.profession,
                            "active": "1" if practitioner.active else ""},
                "rule": {"start_time": "08:30", "end_time": "11:30", "slot_minutes": "60",
                         "places": "1", "valid_from": today().isoformat(),
                         "facility_code": my_sites[0].code if len(my_sites) == 1 else ""},
                "session": {"start_time": "09:00", "end_time": "12:00", "slot_minutes": "60",
                            "places": "1",
                            "facility_code": my_sites[0].code if len(my_sites) == 1 else ""},
                "leave": {}, "site": {}}
    if which is not None:
        defaults[which] = form or {}
    return _render(
        "practitioner.html", status, p=practitioner, rules=rules, leave=_with_hits(session, leave),
        forms=defaults, errors=errors or {}, which=which, professions=PROFESSIONS,
        services=_services(session), my_sites=my_sites,
        addable=[f for f in mine if f.id not in site_ids],
        removable={s.facility_id for s in practitioner.sites
                   if mine_ids is None or s.facility_id in mine_ids},
        weekdays=weekday_options(), rule_days=schedules.weekdays_of)


def weekday_options() -> list[tuple[int, str]]:
    from rehab_net.booking.pages import weekday_name

    return [(d, weekday_name(d)) for d in range(1, 8)]


@bp.route("/booking/practitioners/<code>", methods=["GET", "POST"])
def practitioner(code: str):
    if request.method == "GET":
        return _practitioner_page(code)
    session = get_session()
    found = _practitioner_or_404(session, code)
    form = {"name": _text(request.form, "name", 80),
            "profession": _text(request.form, "profession", 20),
            "active": "1" if request.form.get("active") else ""}
    errors = {}
    if not form["name"] or len(form["name"]) > 64:
        errors["name"] = _("Enter the practitioner's name (up to 64 characters).")
    if form["profession"] not in PROFESSIONS:
        errors["profession"] = _("Choose the profession.")
    if errors:
        return _practitioner_page(code, form=form, errors=errors, which="details", status=422)
    was_active = found.active
    schedules.update_practitioner(session, found, {
        "name": form["name"], "profession": form["profession"], "active": bool(form["active"])},
        principal=g.user, today=today(), now=utcnow())
    session.flush()
    if was_active and not found.active:
        flash(_("Saved. %(name)s is no longer active: their rules are ended and their free "
                "slots gone; booked appointments stay.", name=found.name), "success")
    else:
        flash(_("Saved."), "success")
    return redirect(url_for("schedule_pages.practitioner", code=found.code), code=303)


@bp.post("/booking/practitioners/<code>/sites")
def add_site(code: str):
    session = get_session()
    found = _practitioner_or_404(session, code)
    facility_code = _text(request.form, "facility_code", 32)
    if not facility_code:
        return _practitioner_page(code, form={}, which="site", status=422, errors={
            "facility_code": _("Choose one of your facilities.")})
    try:
        schedules.add_site(session, found, facility_code, principal=g.user, today=today())
        session.flush()
    except DomainError as exc:
        session.rollback()
        return _practitioner_page(code, form={"facility_code": facility_code}, which="site",
                                  status=exc.status, errors=refusal_errors(
                                      exc, ("facility_code",), "facility_code"))
    flash(_("%(name)s now also practises at %(facility)s.", name=found.name,
            facility=facility_code), "success")
    return redirect(url_for("schedule_pages.practitioner", code=found.code), code=303)


@bp.post("/booking/practitioners/<code>/sites/<facility>/remove")
def remove_site(code: str, facility: str):
    session = get_session()
    found = _practitioner_or_404(session, code)
    try:
        schedules.remove_site(session, found, facility[:32], principal=g.user)
        session.flush()
    except DomainError as exc:
        session.rollback()
        if exc.status == 404:
            abort(404)
        flash(refusal_errors(exc, ("facility_code",), "facility_code")["facility_code"],
              "error")
    else:
        flash(_("%(name)s no longer practises at %(facility)s.", name=found.name,
                facility=facility[:32]), "success")
    return redirect(url_for("schedule_pages.practitioner", code=found.code), code=303)


# --- rules and one-off sessions -----------------------------------------------------------------
RULE_FIELDS = ("facility_code", "service_code", "weekdays", "start_time", "end_time",
               "slot_minutes", "places", "valid_from", "valid_until", "on", "makeup_days")


def read_rule_form(form, kind: str) -> tuple[dict, dict, dict]:
    """(the values as typed, to show again; the data for the operation; errors by field)."""
    shown = {k: _text(form, k, 40) for k in RULE_FIELDS if k != "weekdays"}
    shown["weekdays"] = form.getlist("weekdays")[:7]
    errors: dict[str, str] = {}
    data: dict = {"kind": kind}
    if not shown["facility_code"]:
        errors["facility_code"] = _("Choose the facility.")
    if not shown["service_code"]:
        errors["service_code"] = _("Choose the service offered there.")
    data["facility_code"], data["service_code"] = shown["facility_code"], shown["service_code"]
    data["start_time"] = _time(shown["start_time"], "start_time", errors)
    data["end_time"] = _time(shown["end_time"], "end_time", errors)
    data["slot_minutes"] = _number(shown["slot_minutes"], "slot_minutes", 5, 480, errors,
                                   _("Enter the minutes of one slot, 5 to 480."))
    data["places"] = _number(shown["places"], "places", 1, 100, errors,
                             _("Enter the places of one slot, 1 to 100 (1 for individual "
                               "therapy)."))
    if kind == "weekly":
        if not shown["weekdays"] or not set(shown["weekdays"]) <= {str(d) for d in range(1, 8)}:
            errors["weekdays"] = _("Tick at least one weekday.")
        else:
            data["weekdays"] = sorted({int(d) for d in shown["weekdays"]})
        data["valid_from"] = _day(shown["valid_from"], "valid_from", errors, required=False)
        data["valid_until"] = _day(shown["valid_until"], "valid_until", errors, required=False)
        data["makeup_days"] = bool(shown["makeup_days"])
        if data["valid_from"] is None:
            data.pop("valid_from")
    else:
        data["on"] = _day(shown["on"], "on", errors, required=True,
                          message=_("Enter the date of the session."))
    return shown, data, errors


def _overlap_error(counts: dict) -> str | None:
    if counts.get("skipped_overlap"):
        return _("%(n)s of these slots would overlap time the practitioner already has at this "
                 "or another facility. Change the days or the hours; nothing was saved.",
                 n=counts["skipped_overlap"])
    return None


def _slots_said(counts: dict) -> str:
    text = _("%(n)s slots made.", n=counts.get("created", 0))
    kept = counts.get("booked_outside") or counts.get("to_move") or []
    if kept:
        text += " " + _("These booked appointments are outside the schedule now; move them if "
                        "needed: %(codes)s.", codes=", ".join(kept[:20]))
    return text


@bp.post("/booking/practitioners/<code>/rules")
def add_rule(code: str):
    session = get_session()
    found = _practitioner_or_404(session, code)
    kind = "session" if request.form.get("kind") == "session" else "weekly"
    which = "session" if kind == "session" else "rule"
    shown, data, errors = read_rule_form(request.form, kind)
    if errors:
        return _practitioner_page(code, form=shown, errors=errors, which=which, status=422)
    try:
        rule, counts = schedules.create_rule(session, {**data, "practitioner_code": found.code},
                                             principal=g.user, today=today(), now=utcnow())
        overlap = _overlap_error(counts)
        if overlap:
            session.rollback()
            return _practitioner_page(code, form=shown, which=which, status=409,
                                      errors={"start_time": overlap})
        session.flush()
    except IntegrityError as err:  # the database refused (another writer got in first)
        session.rollback()
        exc = conflict_for(err)
        return _practitioner_page(code, form=shown, which=which, status=409,
                                  errors=refusal_errors(exc, RULE_FIELDS, "start_time"))
    except DomainError as exc:
        session.rollback()
        return _practitioner_page(code, form=shown, which=which, status=exc.status,
                                  errors=refusal_errors(exc, RULE_FIELDS, "start_time"))
    flash((_("The one-off session is added.") if kind == "session" else
           _("The weekly rule is added.")) + " " + _slots_said(counts), "success")
    return redirect(url_for("schedule_pages.practitioner", code=found.code, _anchor="rules"),
                    code=303)


def _rule_or_404(session, rule_id: int) -> ScheduleRule:
    with missing_is_404():
        rule = schedules.get_rule(session, rule_id, g.user)
        access.require_writable(g.user, rule.facility_id, "schedule rule")
    return rule


def _rule_form_of(rule: ScheduleRule) -> dict:
    return {"facility_code": rule.facility.code, "service_code": rule.service.code,
            "weekdays": [str(d) for d in schedules.weekdays_of(rule.weekdays)],
            "start_time": rule.start_time.strftime("%H:%M"),
            "end_time": rule.end_time.strftime("%H:%M"), "slot_minutes": str(rule.slot_minutes),
            "places": str(rule.places), "valid_from": rule.valid_from.isoformat(),
            "valid_until": rule.valid_until.isoformat() if rule.valid_until else "",
            "on": rule.valid_from.isoformat(), "makeup_days": "1" if rule.makeup_days else ""}


def _rule_page(session, rule, form, errors, status=200):
    mine_ids = access.writable_facilities(g.user)
    sites = [s.facility for s in rule.practitioner.sites
             if mine_ids is None or s.facility_id in mine_ids]
    return _render("rule.html", status, rule=rule, form=form, errors=errors, sites=sites,
                   services=_services(session), weekdays=weekday_options(),
                   rule_days=schedules.weekdays_of)


@bp.route("/booking/rules/<int:rule_id>", methods=["GET", "POST"])
def rule(rule_id: int):
    session = get_session()
    found = _rule_or_404(session, rule_id)
    if request.method == "GET":
        return _rule_page(session, found, _rule_form_of(found), {})
    shown, data, errors = read_rule_form(request.form, found.kind)
    if errors:
        return _rule_page(session, found, shown, errors, 422)
    data.pop("kind")
    if found.kind == "weekly":
        data.setdefault("valid_from", found.valid_from)
    try:
        _rule, counts = schedules.update_rule(session, found, data, principal=g.user,
                                              today=today(), now=utcnow())
        overlap = _overlap_error(counts)
        if overlap:
            session.rollback()
            return _rule_page(session, _rule_or_404(session, rule_id), shown,
                              {"start_time": overlap}, 409)
        session.flush()
    except IntegrityError as err:
        session.rollback()
        return _rule_page(session, _rule_or_404(session, rule_id), shown, refusal_errors(
            conflict_for(err), RULE_FIELDS, "start_time"), 409)
    except DomainError as exc:
        session.rollback()
        return _rule_page(session, _rule_or_404(session, rule_id), shown, refusal_errors(
            exc, RULE_FIELDS, "start_time"), exc.status)
    flash(_("The rule is changed.") + " " + _slots_said(counts), "success")
    return redirect(url_for("schedule_pages.practitioner", code=found.practitioner.code,
                            _anchor="rules"), code=303)


@bp.post("/booking/rules/<int:rule_id>/end")
def end_rule(rule_id: int):
    session = get_session()
    found = _rule_or_404(session, rule_id)
    back = url_for("schedule_pages.practitioner", code=found.practitioner.code, _anchor="rules")
    try:
        _rule, counts = schedules.update_rule(session, found, {"active": False},
                                              principal=g.user, today=today(), now=utcnow())
        session.flush()
    except DomainError as exc:
        session.rollback()
        flash(refusal_errors(exc, (), "rule")["rule"], "error")
        return redirect(back, code=303)
    text = _("The rule is ended: its free slots are gone.")
    if counts.get("booked_outside"):
        text += " " + _("These booked appointments stay; move them if needed: %(codes)s.",
                        codes=", ".join(counts["booked_outside"][:20]))
    flash(text, "success")
    return redirect(back, code=303)


# --- leave and closures -------------------------------------------------------------------------
def read_period_form(form) -> tuple[dict, dict, dict]:
    shown = {k: _text(form, k, 2000 if k == "reason" else 40)
             for k in ("first_day", "last_day", "reason", "facility_code")}
    errors: dict[str, str] = {}
    first = _day(shown["first_day"], "first_day", errors, required=True,
                 message=_("Enter the first day."))
    last = _day(shown["last_day"], "last_day", errors, required=True,
                message=_("Enter the last day (the same as the first for one day)."))
    if first and last and last < first:
        errors["last_day"] = _("The last day must not be before the first day.")
    data = {"reason": shown["reason"] or None}
    if not errors:
        data["starts_at"], data["ends_at"] = local_days(first, last)
    return shown, data, errors


def _period_said(kind: str, hits: list[str]) -> str:
    text = _("The leave is recorded: no slots in it any more.") if kind == "leave" else \
        _("The closure is recorded: no slots in it any more.")
    if hits:
        text += " " + _("%(n)s booked appointments fall in it: move them (listed below).",
                        n=len(hits))
    return text


@bp.post("/booking/practitioners/<code>/leave")
def add_leave(code: str):
    session = get_session()
    found = _practitioner_or_404(session, code)
    shown, data, errors = read_period_form(request.form)
    if errors:
        return _practitioner_page(code, form=shown, errors=errors, which="leave", status=422)
    try:
        _exc, counts = schedules.create_exception(session, {
            **data, "kind": "leave", "practitioner_code": found.code}, principal=g.user,
            today=today(), now=utcnow())
        session.flush()
    except DomainError as exc:
        session.rollback()
        return _practitioner_page(code, form=shown, which="leave", status=exc.status,
                                  errors=refusal_errors(exc, ("first_day", "last_day"),
                                                        "last_day"))
    text = _period_said("leave", counts["to_move"])
    hit = counts.get("courses") or {}
    if hit.get("moved") or hit.get("flagged"):
        text += " " + _("Course sessions: %(moved)s moved to a colleague, %(flagged)s to move "
                        "(flagged on their course pages); the families' clinics are told.",
                        moved=len(hit.get("moved", ())), flagged=len(hit.get("flagged", ())))
    flash(text, "success")
    return redirect(url_for("schedule_pages.practitioner", code=found.code, _anchor="leave"),
                    code=303)


@bp.route("/booking/closures", methods=["GET", "POST"])
def closures():
    session = get_session()
    mine = access.my_facilities(session, g.user)
    if request.method == "GET":
        return _closures_page(session, mine, {"facility_code": mine[0].code}
                              if len(mine) == 1 else {}, {})
    shown, data, errors = read_period_form(request.form)
    if shown["facility_code"] not in {f.code for f in mine}:
        errors["facility_code"] = _("Choose one of your facilities.")
    if errors:
        return _closures_page(session, mine, shown, errors, 422)
    try:
        _exc, counts = schedules.create_exception(session, {
            **data, "kind": "closure", "facility_code": shown["facility_code"]},
            principal=g.user, today=today(), now=utcnow())
        session.flush()
    except DomainError as exc:
        session.rollback()
        return _closures_page(session, mine, shown, refusal_errors(
            exc, ("facility_code", "first_day", "last_day"), "facility_code"), exc.status)
    flash(_period_said("closure", counts["to_move"]), "success")
    return redirect(url_for("schedule_pages.closures"), code=303)


def _closures_page(session, mine, form, errors, status=200):
    rows = list(session.scalars(select(ScheduleException).where(
        ScheduleException.kind == "closure",
        ScheduleException.facility_id.in_([f.id for f in mine]),
        ScheduleException.ends_at > utcnow()).order_by(ScheduleException.starts_at)
        .limit(LIST_ROWS)))
    return _render("closures.html", status, rows=_with_hits(session, rows), facilities=mine,
                   form=form, errors=errors)


@bp.post("/booking/exceptions/<int:exception_id>/delete")
def delete_exception(exception_id: int):
    session = get_session()
    found = session.get(ScheduleException, exception_id)
    if found is None:
        abort(404)
    practitioner = found.practitioner
    with missing_is_404():
        schedules.delete_exception(session, found, principal=g.user, today=today(),
                                   now=utcnow())
    session.flush()
    if practitioner is not None:
        flash(_("The leave is withdrawn: the slots are back."), "success")
        return redirect(url_for("schedule_pages.practitioner", code=practitioner.code,
                                _anchor="leave"), code=303)
    flash(_("The closure is withdrawn: the slots are back."), "success")
    return redirect(url_for("schedule_pages.closures"), code=303)


# --- free slots at other facilities near the patient --------------------------------------------
@bp.get("/referrals/<code>/availability")
def availability(code: str):
    session = get_session()
    with missing_is_404():
        referral = get_referral(session, code[:32], viewer=g.user)
    mine = access.writable_facilities(g.user)
    if not (mine is None or referral.receiver_id in mine
            or access.sent_by_mine(g.user, referral)):
        abort(404)
    audit.record_read(session, "referral", referral.code)
    args = request.args
    form = {"max_km": _text(args, "max_km", 8) or str(DEFAULT_KM),
            "from": _text(args, "from", 10) or today().isoformat(),
            "to": _text(args, "to", 10) or (today() + timedelta(days=13)).isoformat()}
    errors: dict[str, str] = {}
    max_km = _number(form["max_km"], "max_km", 1, 500, errors,
                     _("Enter the distance in km, 1 to 500."))
    first = _day(form["from"], "from", errors, required=True)
    last = _day(form["to"], "to", errors, required=True)
    if first and last and not errors:
        if last < first:
            errors["to"] = _("The last day must not be before the first day.")
        elif (last - first).days > 7 * current_app.config["BOOKING_WINDOW_WEEKS"]:
            errors["to"] = _("Search at most %(n)s weeks at a time.",
                             n=current_app.config["BOOKING_WINDOW_WEEKS"])
    region = referral.case.person.home_region
    slots, nearby = [], 0
    if not errors:
        now = utcnow()
        starts, ends = local_days(first, last)
        stmt, km = search(session, service=referral.service, starts=starts, ends=ends, now=now,
                          near=Near(region.lat, region.lon, float(max_km)))
        slots = decorate_slots(session, [row[0] for row in session.execute(
            stmt.limit(SEARCH_ROWS)).all()], now, km)
        nearby = sum(1 for k in km.values() if k <= max_km)
    return _render("availability.html", 422 if errors else 200, r=referral, region=region,
                   form=form, errors=errors, slots=slots, nearby=nearby)
