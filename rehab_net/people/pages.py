"""Pages of persons and cases: lists (names masked), a person's record (the read is audited;
the full ID number only after a reason is given), cases, and registering a case."""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from rehab_net import access
from rehab_net.auth import audit
from rehab_net.auth.guard import scope
from rehab_net.clock import today
from rehab_net.db import get_session
from rehab_net.errors import DomainError, Invalid
from rehab_net.listing import one_page
from rehab_net.masking import mask, mask_name
from rehab_net.messages import message, translate
from rehab_net.network import operations as network
from rehab_net.network.models import Service
from rehab_net.people import operations as ops
from rehab_net.people.models import Case, CaseEvent, Person
from rehab_net.people.rules import priority_class
from rehab_net.people.states import CASE_STATUSES, MANUAL_ACTIONS
from rehab_net.schemas import form_date, query_page
from rehab_net.vocab import CATEGORIES, PRIORITY_CLASSES, label

bp = Blueprint("people_pages", __name__)

# endpoint -> permission, or {method: permission} (rehab_net/access.py; the guard refuses
# an endpoint not declared). Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "people_pages.persons": "person.read",
    "people_pages.person": "person.read",
    "people_pages.reveal": "person.read",
    "people_pages.cases": "case.read",
    "people_pages.case": "case.read",
    "people_pages.case_status": "case.write",
    "people_pages.new_case": "case.write",
    "people_pages.new_person": "person.write",
    "people_pages.edit_person": "person.write",
}


PAGE_ROWS = 50

# name -> render(session, person, revealed) -> HTML: the sections modules above people add to
# the person page (certificates), registered by their init_app so the imports still point down.
# Keyed by name: building the app again registers a section once.
_PERSON_SECTIONS: dict[str, Callable[[object, Person, bool], str]] = {}


def add_person_section(name: str, render: Callable[[object, Person, bool], str]) -> None:
    """Show ``render(session, person, revealed)`` (safe HTML) on the person page, after the
    cases, in the order of registration."""
    _PERSON_SECTIONS[name] = render


# name -> render(session, case) -> HTML: the sections modules above people add to the case page
# (the catalogue's items against what was delivered), registered the same way.
_CASE_SECTIONS: dict[str, Callable[[object, Case], str]] = {}


def add_case_section(name: str, render: Callable[[object, Case], str]) -> None:
    """Show ``render(session, case)`` (safe HTML) on the case page, after its facts, in the
    order of registration (the case's read is audited by the page)."""
    _CASE_SECTIONS[name] = render


@bp.app_template_global()
def priority_of(case: Case) -> str:
    p = case.person
    return priority_class(birth_date=p.birth_date, grade=case.grade,
                          poverty_status=p.poverty_status, on=today())


def _page_number() -> int:
    """?page= of a list page, through the API's bounded field: 1 when absent, a 422 when out of
    range (an offset past what the database can count was a 500)."""
    return query_page(request.args)


@bp.get("/persons")
def persons():
    session = get_session()
    region = None
    code = request.args.get("region", "").strip()
    if code:
        try:
            region = network.get_region(session, code)
        except DomainError:
            abort(404)
    stmt = ops.list_persons(session, region=region, scope=scope("person.read"))
    page = _page_number()
    rows, total, pages = one_page(session, stmt.order_by(Person.code), page, PAGE_ROWS)
    audit.record_list(session, "person", [p.code for p in rows],
                      {"region": code} if code else {})
    return render_template("people/persons.html", persons=rows, total=total, page=page,
                           pages=pages, region=region,
                           mask_name=mask_name, mask=mask)


def _person_page(code: str, *, revealed: bool = False, errors=None, status: int = 200):
    session = get_session()
    person = ops.get_person(session, code, scope=scope("person.read"))
    if not revealed:
        audit.record_read(session, "person", person.code)
    sections = [render(session, person, revealed) for render in _PERSON_SECTIONS.values()]
    return render_template("people/person.html", p=person, revealed=revealed, mask=mask,
                           errors=errors or {}, sections=sections,
                           can_write=scope("case.write").covers(
                               session, person.home_region_id),
                           can_edit=scope("person.write").covers(
                               session, person.home_region_id)), status


@bp.get("/persons/<code>")
def person(code: str):
    return _person_page(code)


@bp.post("/persons/<code>/reveal")
def reveal(code: str):
    """Show the full numbers once, for a stated reason; the reveal is in the audit log."""
    session = get_session()
    person = ops.get_person(session, code, scope=scope("person.read"))
    reason = request.form.get("reason", "").strip()
    detail = request.form.get("reason_detail", "").strip()
    full = f"{reason}: {detail}" if detail else reason
    if reason not in REVEAL_REASONS or (reason == "other" and len(detail) < 5):
        errors = {"reason": _("Choose why you need the full number."), } if reason not in \
            REVEAL_REASONS else {"reason_detail": _("Describe the reason (at least 5 "
                                                    "characters).")}
        return _person_page(code, errors=errors, status=422)
    audit.record(session, "reveal", "person", person.code, reason=full)
    session.flush()
    return _person_page(code, revealed=True)


REVEAL_REASONS = ("verify_identity", "certificate_check", "insurance_claim", "other")


@bp.app_template_global()
def reveal_reasons():
    return [("verify_identity", _("Verify identity with the family")),
            ("certificate_check", _("Check the disability certificate")),
            ("insurance_claim", _("Medical insurance or subsidy claim")),
            ("other", _("Other (describe)"))]


@bp.get("/cases")
def cases():
    session = get_session()
    on = today()
    filters = {k: request.args.get(k) for k in ("status", "category", "priority")
               if request.args.get(k)}
    if (filters.get("status", CASE_STATUSES[0]) not in CASE_STATUSES
            or filters.get("category", CATEGORIES[0]) not in CATEGORIES
            or filters.get("priority", PRIORITY_CLASSES[0]) not in PRIORITY_CLASSES):
        abort(400)
    open_only = request.args.get("open", "1") == "1" and "status" not in filters
    stmt = ops.list_cases(session, on=on, open_only=open_only, scope=scope("case.read"),
                          **filters)
    page = _page_number()
    rows, total, pages = one_page(session, stmt.order_by(
        ops.priority_rank(on), Case.registered_on, Case.code), page, PAGE_ROWS)
    audit.record_list(session, "case", [c.code for c in rows], filters)
    return render_template("people/cases.html", cases=rows, total=total, page=page,
                           pages=pages, filters=filters,
                           open_only=open_only, statuses=CASE_STATUSES, categories=CATEGORIES,
                           priorities=PRIORITY_CLASSES, mask_name=mask_name)


@bp.get("/cases/<code>")
def case(code: str):
    return _case_page(code)


def _case_page(code: str, *, errors=None, form=None, status: int = 200):
    session = get_session()
    c = ops.get_case(session, code, scope=scope("case.read"))
    audit.record_read(session, "case", c.code)
    sections = [render(session, c) for render in _CASE_SECTIONS.values()]
    may_move = scope("case.write").covers(session, c.person.home_region_id)
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == c.id)
                             .order_by(CaseEvent.at, CaseEvent.id)).all()
    return render_template("people/case.html", c=c, mask=mask, mask_name=mask_name,
                           sections=sections, errors=errors or {}, form=form or {},
                           events=events, manual_actions=MANUAL_ACTIONS,
                           moves=_moves(c.status) if may_move else [],
                           can_read_person=scope("person.read").covers(
                               session, c.person.home_region_id)), status


def _moves(status: str) -> list[tuple[str, str]]:
    """The status changes a user may make by hand from ``status`` (people/states.py's manual
    actions), with the button's words."""
    words = {"waiting": _("Put back on the waiting list"), "closed": _("Close the case")}
    return [(target, words.get(target, target)) for target in ops.manual_actions(status)]


@bp.post("/cases/<code>/status")
def case_status(code: str):
    """Put a case back on the waiting list or close it, with an optional reason (its event
    row keeps it); the version read with the page guards against a change made meanwhile."""
    session = get_session()
    c = ops.get_case(session, code, scope=scope("case.write"))
    form = {k: request.form.get(k, "").strip() for k in ("status", "cause", "version")}
    if form["version"] != str(c.version):
        return _case_page(code, form=form, status=409, errors={"status": _(
            "Someone else changed this case after you opened the page; it is shown as it is "
            "now. Check it and try again.")})
    if len(form["cause"]) > 500:
        return _case_page(code, form=form, status=422,
                          errors={"cause": _("Keep the reason under 500 characters.")})
    try:
        ops.move_by_hand(session, c, form["status"], cause=form["cause"] or None)
    except DomainError as exc:
        session.rollback()
        return _case_page(code, form=form, status=exc.status,
                          errors={"status": exc.translated()})
    flash(_("Case %(code)s is now: %(status)s.", code=c.code, status=label(c.status)), "info")
    return redirect(url_for("people_pages.case", code=c.code), code=303)


FORM_FIELDS = ("code", "person_code", "category", "grade", "service_code", "registered_on",
               "certificate_number")


def _services(session):
    return list(session.scalars(select(Service).order_by(Service.category, Service.code)))


# --- registering a person, then their case -------------------------------------------------------
PERSON_FIELDS = ("name", "resident_id", "home_region_code", "guardian_name", "guardian_phone",
                 "poverty_status")
NAME_MAX = 64
ADULT_AGE = 18  # younger persons are registered with a guardian


def _villages(session) -> list[tuple[str, str]]:
    """The villages (gacha, communities) of the user's area, each named with its township."""
    from sqlalchemy.orm import aliased

    from rehab_net.i18n import local_name
    from rehab_net.network.models import Region

    township = aliased(Region)
    rows = session.execute(
        select(Region, township).join(township, Region.parent_id == township.id)
        .where(Region.level == "village", scope("person.write").region_filter(Region.id))
        .order_by(township.code, Region.code)).all()
    return [(v.code, f"{local_name(t)} · {local_name(v)} ({v.code})") for v, t in rows]


def _check_person_form(form: dict, *, birth_date=None) -> dict[str, str]:
    """The form's own rules, in the user's language; the resident ID's checks are the domain's.
    With ``birth_date`` (a registered person's edit form) the ID number is not on the form."""
    import re

    from rehab_net.people.importer import PHONE
    from rehab_net.people.rules import age_on
    from rehab_net.vocab import POVERTY_STATUSES

    errors = {}
    if not form["name"]:
        errors["name"] = _("Enter the person's name.")
    elif len(form["name"]) > NAME_MAX:
        errors["name"] = _("Write at most %(n)d characters.", n=NAME_MAX)
    if birth_date is None:
        birth_date = _birth_date_from(form["resident_id"], errors)
    minor = birth_date is not None and age_on(birth_date, today()) < ADULT_AGE
    if not form["home_region_code"]:
        errors["home_region_code"] = _("Choose the village where the person lives.")
    if len(form["guardian_name"]) > NAME_MAX:
        errors["guardian_name"] = _("Write at most %(n)d characters.", n=NAME_MAX)
    elif minor and not form["guardian_name"]:
        errors["guardian_name"] = _("A child or young person under 18 needs a guardian.")
    if form["guardian_phone"] and not re.fullmatch(PHONE, form["guardian_phone"]):
        errors["guardian_phone"] = translate(message("person.phone_format"))
    if form["poverty_status"] not in POVERTY_STATUSES:
        errors["poverty_status"] = _("Choose from the list.")
    return errors


def _birth_date_from(resident_id: str, errors: dict):
    """The birth date the typed resident ID number carries, or None with its error set."""
    from rehab_net.people.identifiers import IdentifierError, parse_resident_id

    if not resident_id:
        errors["resident_id"] = _("Enter the 18-character resident ID number.")
        return None
    try:
        return parse_resident_id(resident_id).birth_date
    except IdentifierError as exc:
        errors["resident_id"] = translate(exc.rule)
        return None


def _person_form(session, form, errors, status=200):
    from rehab_net.vocab import POVERTY_STATUSES, label

    return render_template("people/person_new.html", form=form, errors=errors,
                           villages=_villages(session),
                           poverty=[(p, label(p)) for p in POVERTY_STATUSES]), status


@bp.route("/persons/new", methods=["GET", "POST"])
def new_person():
    """Register a person (birth date and sex read from the resident ID), then open their case:
    the next page is the case form with the person filled in."""
    session = get_session()
    if request.method == "GET":
        return _person_form(session, {"poverty_status": "none"}, {})
    form = {k: request.form.get(k, "").strip() for k in PERSON_FIELDS}
    errors = _check_person_form(form)
    if errors:
        return _person_form(session, form, errors, 422)
    data = {k: v or None for k, v in form.items()} | {"code": ops.next_person_code(session)}
    try:
        person = ops.create_person(session, data, scope=scope("person.write"))
        session.flush()
    except Invalid as exc:
        session.rollback()
        return _person_form(session, form, {e["field"]: translate(e["rule"])
                                            for e in exc.errors}, 422)
    except DomainError as exc:  # the ID number is registered already (named if readable)
        session.rollback()
        return _person_form(session, form, {"resident_id": exc.translated()}, 409)
    flash(_("%(name)s is registered as %(code)s. Now open the case: what they need.",
            name=mask_name(person.name), code=person.code), "success")
    return redirect(url_for("people_pages.new_case", person=person.code), code=303)


EDIT_PERSON_FIELDS = ("name", "home_region_code", "guardian_name", "guardian_phone",
                      "poverty_status")


@bp.route("/persons/<code>/edit", methods=["GET", "POST"])
def edit_person(code: str):
    """Change a registered person's details (the read is audited; the change too, field by
    field). The resident ID number is not changed here: a wrong number is corrected through
    the API, where it is checked again against every certificate."""
    session = get_session()
    person = ops.get_person(session, code, scope=scope("person.write"))
    if request.method == "GET":
        audit.record_read(session, "person", person.code)
        form = {k: getattr(person, k) or "" for k in EDIT_PERSON_FIELDS if k != "home_region_code"}
        form |= {"home_region_code": person.home_region.code, "version": str(person.version)}
        return _edit_person_form(session, person, form, {})
    form = {k: request.form.get(k, "").strip() for k in (*EDIT_PERSON_FIELDS, "version")}
    if form["version"] != str(person.version):
        return _edit_person_form(session, person, form, {"name": _(
            "Someone else changed this person after you opened the page. Reload the page to "
            "see the details as they are now.")}, 409)
    errors = _check_person_form(form, birth_date=person.birth_date)
    if errors:
        return _edit_person_form(session, person, form, errors, 422)
    data = {k: form[k] or None for k in EDIT_PERSON_FIELDS}
    try:
        ops.update_person(session, person, data, scope=scope("person.write"))
    except Invalid as exc:
        session.rollback()
        return _edit_person_form(session, person, form, {e["field"]: translate(e["rule"])
                                                         for e in exc.errors}, 422)
    flash(_("The details of %(code)s are saved.", code=person.code), "success")
    return redirect(url_for("people_pages.person", code=person.code), code=303)


def _edit_person_form(session, person, form, errors, status=200):
    from rehab_net.vocab import POVERTY_STATUSES

    return render_template("people/person_edit.html", p=person, form=form, errors=errors,
                           mask=mask, villages=_villages(session),
                           poverty=[(p, label(p)) for p in POVERTY_STATUSES]), status


@bp.route("/cases/new", methods=["GET", "POST"])
def new_case():
    session = get_session()
    if request.method == "GET":
        form = {"person_code": request.args.get("person", ""),
                "registered_on": today().isoformat()}
        return render_template("people/case_new.html", form=form, errors={},
                               services=_services(session), categories=CATEGORIES)
    form = {k: request.form.get(k, "").strip() for k in FORM_FIELDS}
    errors = _check_case_form(form)
    if not errors:
        from rehab_net.people.schemas import CreateCaseSchema

        data = CreateCaseSchema().load({k: v for k, v in form.items() if v != ""}
                                       | {"grade": int(form["grade"]),
                                          "code": form["code"] or ops.next_case_code(session)})
        try:
            created = ops.create_case(session, data, today=today(), scope=scope("case.write"))
            session.flush()
            flash(_("Case %(code)s is registered.", code=created.code), "info")
            return redirect(url_for("people_pages.case", code=created.code), code=303)
        except Invalid as exc:
            session.rollback()
            errors = {e["field"]: translate(e["rule"]) for e in exc.errors}
        except DomainError as exc:
            session.rollback()
            open_case = next((e["case_code"] for e in exc.errors if "case_code" in e), None)
            if open_case:
                errors = {"service_code": _("This person has an open case for this service "
                                            "already: %(code)s.", code=open_case)}
                return render_template("people/case_new.html", form=form, errors=errors,
                                       services=_services(session), categories=CATEGORIES,
                                       open_case=open_case), 409
            errors = {"code": exc.translated()}
    return render_template("people/case_new.html", form=form, errors=errors,
                           services=_services(session), categories=CATEGORIES), 422


def _check_case_form(form: dict) -> dict[str, str]:
    """The form's own rules, in the user's language, before the domain rules run."""
    import re

    from rehab_net.csvimport import CODE

    errors = {}
    if form["code"] and not re.match(CODE, form["code"]):
        errors["code"] = _("Enter a case code: 1-32 letters, digits, _ or -.")
    if not form["person_code"]:
        errors["person_code"] = _("Enter the person's code.")
    if form["category"] not in CATEGORIES:
        errors["category"] = _("Choose the disability category.")
    if form["grade"] not in ("1", "2", "3", "4"):
        errors["grade"] = _("Choose the grade (1-4).")
    if not form["service_code"]:
        errors["service_code"] = _("Choose the service the case needs.")
    if form["registered_on"]:
        try:
            form_date(form["registered_on"])
        except ValueError as exc:
            errors["registered_on"] = str(exc)
    if form["certificate_number"] and len(form["certificate_number"]) != 20:
        errors["certificate_number"] = _("The certificate number has 20 characters.")
    return errors
