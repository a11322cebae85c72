"""The pages of courses of therapy (booking/courses.py, docs/courses.md): book a course for a
referral (a pattern, its preview with the sessions not placed and their alternatives, then one
confirmation that books them all), a course's page (its sessions, attendance, cancel or move
this / this and following / the whole course) and the defaulter list of the sending clinics."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from rehab_net.access import Rule
from rehab_net.auth import audit
from rehab_net.booking import access, courses
from rehab_net.booking.operations import USER_CANCEL_REASONS, get_referral
from rehab_net.booking.schedule_pages import (
    _day,
    _number,
    _text,
    _time,
    refusal_errors,
    weekday_options,
)
from rehab_net.booking.waitlist import weekdays_of
from rehab_net.clock import today, zone
from rehab_net.db import get_session, utcnow
from rehab_net.errors import DomainError, missing_is_404
from rehab_net.masking import mask_name
from rehab_net.referrals.operations.visibility import acting_facilities
from rehab_net.vocab import DAY_PARTS, label

bp = Blueprint("course_pages", __name__)


def render_template(template: str, **context):
    """Names are masked on these pages (张**), as on the other booking pages."""
    from flask import render_template as render

    return render(template, mask_name=mask_name, **context)

PERMISSIONS: dict[str, Rule] = {
    "course_pages.book": "booking.write",
    "course_pages.course": "booking.read",
    "course_pages.change": "booking.write",
    "course_pages.defaulters": "booking.read",
}
FIELDS = ("weekdays", "part", "start_time", "sessions_per_week", "weeks", "first_day",
          "practitioner_code", "group_only")


def _referral_or_404(session, code: str):
    with missing_is_404():
        referral = get_referral(session, code, viewer=g.user)
        access.require_writable(g.user, referral.receiver_id, "referral")
    return referral


def read_pattern_form(form) -> tuple[dict, dict, dict]:
    """The pattern form: what was typed (to show again), the data, the errors by field."""
    shown = {k: _text(form, k, 40) for k in FIELDS if k != "weekdays"}
    shown["weekdays"] = form.getlist("weekdays")
    errors: dict[str, str] = {}
    data: dict = {"weekdays": [int(d) for d in shown["weekdays"] if d in "1234567" and d]}
    if not data["weekdays"]:
        errors["weekdays"] = _("Tick at least one weekday.")
    if shown["part"] and shown["part"] not in DAY_PARTS:
        errors["part"] = _("Choose a part of the day from the list.")
    data["part"] = shown["part"] or None
    data["start_time"] = _time(shown["start_time"], "start_time", errors) \
        if shown["start_time"] else None
    if shown["sessions_per_week"]:
        data["sessions_per_week"] = _number(shown["sessions_per_week"], "sessions_per_week", 1,
                                            7, errors, _("Enter 1 to 7 sessions a week."))
    data["weeks"] = _number(shown["weeks"], "weeks", 1, 104, errors,
                            _("Enter the number of weeks, 1 to 104."))
    data["first_day"] = _day(shown["first_day"], "first_day", errors, required=False)
    data["practitioner_code"] = shown["practitioner_code"] or None
    data["group_only"] = bool(shown["group_only"])
    return shown, data, errors


PAGE_TEXTS = {
    "course.part_or_time": lambda: _("Give a part of the day or a start time, not both."),
    "course.per_week_days": lambda: _("Sessions a week must not be more than the weekdays "
                                      "ticked."),
    "course.first_day_past": lambda: _("The first day must not be in the past."),
    "course.practitioner_not_here": lambda: _("This practitioner does not practise at this "
                                              "facility."),
}


def _errors(exc: DomainError) -> dict[str, str]:
    from rehab_net.messages import code_of

    out = {}
    for item in exc.errors:
        text = PAGE_TEXTS.get(code_of(item.get("rule")))
        if text is not None:
            out[item.get("field")] = text()
    return out or refusal_errors(exc, FIELDS, "weekdays")


def _book_page(referral, shown, errors, status=200, result=None):
    return render_template("booking/course_book.html", r=referral, form=shown, errors=errors,
                           weekdays=weekday_options(), parts=[(p, label(p)) for p in DAY_PARTS],
                           result=result, reasons=REASONS()), status


def REASONS() -> dict[str, str]:  # noqa: N802 - a table of texts, in the request's language
    return {"holiday": _("public holiday"), "closure": _("the facility is closed"),
            "leave": _("the practitioner is on leave"), "no_session": _("no session that day"),
            "full": _("every place is taken"), "busy": _("the person has another appointment")}


@bp.route("/referrals/<code>/course", methods=["GET", "POST"])
def book(code: str):
    """GET: the pattern form. POST step=preview: the sessions it would book and the misses with
    their alternatives; POST step=confirm: book the ticked sessions and chosen alternatives."""
    session = get_session()
    referral = _referral_or_404(session, code)
    if request.method == "GET":
        return _book_page(referral, {"weeks": "10", "weekdays": []}, {})
    shown, data, errors = read_pattern_form(request.form)
    if errors:
        return _book_page(referral, shown, errors, 422)
    try:
        pattern = courses.read_pattern(session, referral, data, today())
    except DomainError as exc:
        return _book_page(referral, shown, _errors(exc), exc.status)
    if request.form.get("step") != "confirm":
        result = courses.preview(session, referral, pattern, utcnow())
        return _book_page(referral, shown, {}, result=result)
    picks = []
    for value in request.form.getlist("session") + [
            v for k, v in request.form.items() if k.startswith("alt-") and v]:
        practitioner_code, _sep, moment = value.partition("@")
        try:
            picks.append({"practitioner_code": practitioner_code,
                          "starts_at": datetime.fromisoformat(moment)})
        except ValueError:
            abort(400)
    jump_reason = (request.form.get("jump_reason") or "").strip()[:2000] or None
    try:
        course = courses.book(session, referral, pattern, picks, principal=g.user,
                              now=utcnow(), today=today(), jump_reason=jump_reason)
        session.flush()
    except DomainError as exc:
        session.rollback()
        referral = _referral_or_404(session, code)
        pattern = courses.read_pattern(session, referral, data, today())
        result = courses.preview(session, referral, pattern, utcnow())
        if exc.code == "booking.course_jumps_waitlist":
            return _book_page(referral, shown, {"jump_reason": _(
                "%(sessions)s sessions of this course pass over %(count)s waiting cases placed "
                "before this referral on the waitlist who can come then (the first on %(day)s: "
                "referral %(referral)s). Say why this referral goes first, or change the "
                "pattern.", **exc.params)}, exc.status, result=result)
        flash(_("Nothing was booked: a session was taken meanwhile or is no longer offered. "
                "Here is the preview again.") if exc.status == 409 else str(exc.translated()),
              "error")
        return _book_page(referral, shown, {}, exc.status, result=result)
    flash(_("The course is booked: %(n)s sessions.", n=course.sessions), "success")
    return redirect(url_for("course_pages.course", code=course.code), code=303)


def _course_or_404(session, code):
    with missing_is_404():
        return courses.get_course(session, code, viewer=g.user)


@bp.get("/courses/<code>")
def course(code: str, errors=None, status=200):
    session = get_session()
    found = _course_or_404(session, code)
    audit.record_read(session, "course", found.code)
    current = courses.current_sessions(session, found)
    rows = sorted(current.items(), key=lambda r: r[1].starts_at)
    flagged = courses.on_leave(session, list(current.values()))
    mine = acting_facilities(g.user)
    can_change = (g.user.can("booking.write") and (mine is None or found.facility_id in mine)
                  and found.status == "active")
    return render_template(
        "booking/course.html", c=found, rows=rows, flagged=flagged, can_change=can_change,
        now=utcnow(), missed=courses.missed_in_a_row(list(current.values())),
        reasons=[(r, label(r)) for r in USER_CANCEL_REASONS], errors=errors or {},
        pattern_days=[dict(weekday_options())[d] for d in weekdays_of(found.weekdays)],
        movable=courses.MOVABLE), status


@bp.post("/courses/<code>/change")
def change(code: str):
    """Cancel or move a session, it and the following ones, or the whole course."""
    session = get_session()
    found = _course_or_404(session, code)
    form = request.form
    action, scope = form.get("action"), form.get("scope")
    errors: dict[str, str] = {}
    number = _number(form.get("number", ""), "number", 1, 400, errors, _("Choose a session."))
    if scope not in courses.SCOPES:
        errors["scope"] = _("Choose which sessions.")
    starts_at = None
    if action == "move":
        day = _day(_text(form, "day", 20), "day", errors, required=True)
        at = _time(_text(form, "time", 8), "time", errors)
        if day and at:
            starts_at = datetime.combine(day, at, tzinfo=zone())
    elif action == "cancel":
        if form.get("reason") not in USER_CANCEL_REASONS:
            errors["reason"] = _("Choose a reason.")
    else:
        abort(400)
    if errors:
        return course(code, errors=errors, status=422)
    try:
        if action == "cancel":
            done = courses.cancel(session, found, number=number, scope=scope,
                                  reason=form["reason"], note=_text(form, "note", 2000) or None,
                                  principal=g.user, now=utcnow())
            text = _("%(n)s sessions cancelled.", n=len(done))
        else:
            done = courses.move(session, found, number=number, scope=scope, starts_at=starts_at,
                                practitioner_code=_text(form, "practitioner_code", 32) or None,
                                principal=g.user, now=utcnow(), today=today())
            text = _("%(n)s sessions moved.", n=len(done))
        session.flush()
    except DomainError as exc:
        session.rollback()
        return course(code, errors={"change": str(exc.translated())}, status=exc.status)
    flash(text, "success")
    return redirect(url_for("course_pages.course", code=code), code=303)


@bp.get("/booking/defaulters")
def defaulters():
    """The courses my clinic sent whose last 3 recorded sessions were missed: families to
    trace."""
    session = get_session()
    rows = courses.defaulters(session, g.user, acting_facilities(g.user))
    audit.record_list(session, "course", [c.code for c in rows], {"defaulters": "true"})
    return render_template("booking/defaulters.html", rows=rows)
