"""Booking pages: a week calendar per facility and per practitioner (an HTML table: rows are
times, columns are days; every slot a link or a button, so the keyboard reaches each one in
order), booking from a referral (hold or book, reschedule), an appointment with its steps, the
waitlist, the day's list of a facility, and a practitioner's iCalendar file. Server-rendered
forms with a CSRF token; no script."""
from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta

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
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from rehab_net.access import Rule
from rehab_net.auth import audit
from rehab_net.booking import access, places, schedules
from rehab_net.booking import operations as ops
from rehab_net.booking import waitlist as wl
from rehab_net.booking.constraints import conflict_for
from rehab_net.booking.models import (
    Appointment,
    Practitioner,
    PractitionerFacility,
    Slot,
    appointment_id_of,
)
from rehab_net.booking.states import (
    ACTIVE_APPOINTMENT_STATUSES,
    APPOINTMENT,
    APPOINTMENT_STATUSES,
    PAGE_ACTIONS,
    route_pattern,
)
from rehab_net.booking.views import decorate_entries, decorate_slots
from rehab_net.clock import day_of, local_days, local_midnight, today, zone
from rehab_net.db import get_session, utcnow
from rehab_net.errors import DomainError, missing_is_404, page_abort
from rehab_net.i18n import local_name
from rehab_net.listing import one_page
from rehab_net.messages import code_of, params_of
from rehab_net.network import operations as network
from rehab_net.network.models import Facility
from rehab_net.referrals.operations.visibility import get_referral
from rehab_net.schemas import form_date, form_id, query_page
from rehab_net.vocab import DAY_PARTS, label

bp = Blueprint("booking_pages", __name__)

# endpoint -> permission, or {method: permission} (rehab_net/access.py; the guard refuses
# an endpoint not declared). Declared by init_app.
PERMISSIONS: dict[str, Rule] = {
    "booking_pages.index": "booking.read",
    "booking_pages.facility_week": "booking.read",
    "booking_pages.practitioner_week": "booking.read",
    "booking_pages.practitioner_ical": "booking.read",
    "booking_pages.slot": "booking.read",
    "booking_pages.book": "booking.write",
    "booking_pages.add_to_waitlist": "booking.write",
    "booking_pages.appointment": "booking.read",
    "booking_pages.appointment_action": "booking.write",
    "booking_pages.waitlist": "booking.read",
    "booking_pages.remove_from_waitlist": "booking.write",
    "booking_pages.day": "booking.read",
    "booking_pages.patients": "booking.read",
}


def _render(template: str, **context):
    from rehab_net.masking import mask_name

    return render_template(template, mask_name=mask_name, **context)
DAY_ROWS = 200

ACTION_BUTTONS = {
    "confirm": _l("Confirm the booking"), "decline": _l("The family declines the offer"),
    "arrive": _l("Mark arrived"), "fulfil": _l("Mark attended"),
    "noshow": _l("Mark did not attend"),
}


@bp.app_template_global()
def booking_action_label(action: str) -> str:
    text = ACTION_BUTTONS.get(action)
    return str(text) if text is not None else action


# --- when a family can come --------------------------------------------------------------------
A_MONDAY = date(2024, 1, 1)


def weekday_name(iso_day: int, width: str = "EEEE") -> str:
    """The local language's name of an ISO weekday (1 = Monday), from the locale's calendar."""
    return format_date(A_MONDAY + timedelta(days=iso_day - 1), width)


@bp.app_template_global()
def availability_choices() -> dict:
    """The checkboxes of the waitlist form: [(value, label)] of weekdays and parts of the day."""
    return {"weekdays": [(d, weekday_name(d)) for d in range(1, 8)],
            "parts": [(p, label(p)) for p in DAY_PARTS]}


@bp.app_template_global()
def availability_text(entry) -> str:
    """When the family of a waitlist entry can come, as a page shows it."""
    days = wl.weekdays_of(entry.available_weekdays)
    parts = wl.parts_of(entry.available_parts)
    if not days and not parts:
        return _("Any time")
    from babel.lists import format_list
    from flask_babel import get_locale

    shown = [format_list([weekday_name(d) for d in days], locale=get_locale()) if days
             else _("Any day"),
             format_list([label(p) for p in parts], locale=get_locale()) if parts
             else _("any time of day")]
    return " · ".join(shown)


def _availability_form(form) -> tuple[list[int], list[str], dict]:
    """The weekdays and parts of the day ticked on a waitlist form, and an error per field
    given a value the form never offers."""
    errors = {}
    days = form.getlist("available_weekdays")
    if not all(d in {str(i) for i in range(1, 8)} for d in days):
        errors["available_weekdays"] = _("Tick the days the family can come.")
    parts = form.getlist("available_parts")
    if not all(p in DAY_PARTS for p in parts):
        errors["available_parts"] = _("Tick the times of day the family can come.")
    if errors:
        return [], [], errors
    return [int(d) for d in days], parts, {}


# --- the week -----------------------------------------------------------------------------------
def week_start(value: str | None) -> date:
    """The Monday of the week holding ?start= (default: this week)."""
    try:
        day = form_date(value) if value else today()
    except ValueError as exc:
        page_abort(400, str(exc))
    return day - timedelta(days=day.weekday())


def week_bounds(monday: date) -> tuple[datetime, datetime]:
    return local_days(monday, monday + timedelta(days=6))


def week_grid(slots: list[Slot], monday: date) -> dict:
    """{"days": [(date, label)], "rows": [(time label, [[slots of day 0], ...])]}."""
    tz = zone()
    cells: dict[str, list[list[Slot]]] = defaultdict(lambda: [[] for _ in range(7)])
    for slot in slots:
        local = slot.starts_at.astimezone(tz)
        cells[local.strftime("%H:%M")][(local.date() - monday).days].append(slot)
    days = [monday + timedelta(days=i) for i in range(7)]
    return {"days": [(d, format_date(d, "EEE MM-dd"), format_date(d, "EEEE yyyy-MM-dd"))
                     for d in days],
            "rows": sorted(cells.items())}


def week_nav(monday: date) -> dict:
    return {"previous": (monday - timedelta(days=7)).isoformat(),
            "next": (monday + timedelta(days=7)).isoformat(),
            "this": today().isoformat(), "monday": monday,
            "sunday": monday + timedelta(days=6)}


def _slots_between(session, first, last, **where):
    stmt = select(Slot).where(Slot.starts_at >= first, Slot.starts_at < last,
                              Slot.status == "open")
    for key, value in where.items():
        stmt = stmt.where(getattr(Slot, key) == value)
    return list(session.scalars(stmt.order_by(Slot.starts_at, Slot.id)))


# --- index, calendars ---------------------------------------------------------------------------
@bp.get("/booking")
def index():
    """The user's facilities (searched by name or code, a page at a time: a network-wide role
    has hundreds) with their calendars, and the practitioners of the facilities shown."""
    session = get_session()
    q = request.args.get("q", "").strip()[:64]
    page = query_page(request.args)
    facilities, total, pages = access.find_my_facilities(session, g.user, q, page)
    practitioners = list(session.scalars(select(Practitioner).where(
        Practitioner.active, Practitioner.sites.any(PractitionerFacility.facility_id.in_(
            [f.id for f in facilities]))).order_by(Practitioner.code).limit(200)))
    return _render("booking/index.html", facilities=facilities, total=total, q=q, page=page,
                   pages=pages,
                   searchable=bool(q) or total > access.FACILITY_LIST_BOX_LIMIT,
                   practitioners=practitioners, today=today())


def _week_page(endpoint: str, *, facility=None, practitioner=None):
    """The week calendar (?start=) of one facility or one practitioner."""
    session = get_session()
    monday = week_start(request.args.get("start"))
    first, last = week_bounds(monday)
    where = ({"facility_id": facility.id} if facility is not None
             else {"practitioner_id": practitioner.id})
    slots = decorate_slots(session, _slots_between(session, first, last, **where), utcnow())
    return _render("booking/week.html", facility=facility, practitioner=practitioner,
                   grid=week_grid(slots, monday), nav=week_nav(monday), endpoint=endpoint,
                   code=(facility or practitioner).code)


@bp.get("/booking/facilities/<code>/week")
def facility_week(code: str):
    with missing_is_404():
        facility = network.get_facility(get_session(), code)
    return _week_page("booking_pages.facility_week", facility=facility)


@bp.get("/booking/practitioners/<code>/week")
def practitioner_week(code: str):
    with missing_is_404():
        practitioner = schedules.get_practitioner(get_session(), code)
    return _week_page("booking_pages.practitioner_week", practitioner=practitioner)


@bp.get("/booking/practitioners/<code>/calendar.ics")
def practitioner_ical(code: str):
    from rehab_net.booking.ical import practitioner_calendar

    session = get_session()
    with missing_is_404():
        practitioner = schedules.get_practitioner(session, code)
    return practitioner_calendar(session, practitioner, viewer=g.user, now=utcnow())


@bp.get("/booking/slots/<int:slot_id>")
def slot(slot_id: int):
    session = get_session()
    found = session.get(Slot, slot_id)
    if found is None:
        abort(404)
    now = utcnow()
    decorate_slots(session, [found], now)
    appointments = list(session.scalars(select(Appointment).where(
        Appointment.slot_id == found.id, access.facility_filter(g.user, Appointment.facility_id))
        .order_by(Appointment.place, Appointment.id)))
    if appointments:
        audit.record_list(session, "appointment", [a.code for a in appointments],
                          {"slot": str(found.id)})
    return _render("booking/slot.html", s=found, appointments=appointments, now=now)


# --- booking from a referral --------------------------------------------------------------------
def _bookable_referral(session, code: str):
    with missing_is_404():
        referral = get_referral(session, code, viewer=g.user)
        access.require_writable(g.user, referral.receiver_id, "referral")
    return referral


def _book_page(code: str, *, errors=None, status: int = 200, jump=None):
    session = get_session()
    with missing_is_404():
        referral = get_referral(session, code, viewer=g.user)
    mine = access.writable_facilities(g.user)
    can_book = mine is None or referral.receiver_id in mine
    if not can_book and not access.sent_by_mine(g.user, referral):
        abort(404)  # the sender follows its patient's appointments; nobody else sees them
    monday = week_start(request.values.get("start"))
    first, last = week_bounds(monday)
    now = utcnow()
    slots = decorate_slots(session, [s for s in _slots_between(
        session, first, last, facility_id=referral.receiver_id,
        service_id=referral.service_id) if s.starts_at > now], now)
    moving = None
    if request.values.get("reschedule"):
        with missing_is_404():
            moving = ops.get_appointment(session, appointment_id_of(
                request.values["reschedule"][:16]), viewer=g.user)
        if moving.referral_id != referral.id:
            abort(404)
    current = list(session.scalars(select(Appointment).where(
        Appointment.referral_id == referral.id).order_by(Appointment.starts_at.desc())))
    entry = wl.open_entry(session, referral.id)
    audit.record_read(session, "referral", referral.code)
    return _render(
        "booking/book.html", r=referral, grid=week_grid(slots, monday), nav=week_nav(monday),
        endpoint="booking_pages.book", code=referral.code, moving=moving, current=current,
        entry=entry, errors=errors or {}, key=uuid.uuid4().hex, jump=jump,
        mode=request.values.get("mode", "hold"),
        ticked={k: request.values.getlist(k) for k in ("available_weekdays",
                                                       "available_parts")},
        hold_minutes=current_app.config["BOOKING_HOLD_MINUTES"], any_free=any(
            s.free_places for s in slots), can_book=can_book,
        bookable=referral.state in places.BOOKABLE_REFERRAL_STATES), status


@bp.route("/referrals/<code>/book", methods=["GET", "POST"])
def book(code: str):
    if request.method == "GET":
        return _book_page(code)
    session = get_session()
    referral = _bookable_referral(session, code)
    slot_id = form_id(request.form.get("slot_id"))
    if slot_id is None:
        return _book_page(code, errors={"slot": _("Choose a free slot.")}, status=422)
    key = (request.form.get("idempotency_key") or "")[:80] or None
    jump_reason = (request.form.get("jump_reason") or "").strip()[:2000] or None
    now = utcnow()
    try:
        if request.form.get("reschedule"):
            old = ops.get_appointment(session, appointment_id_of(
                request.form["reschedule"][:16]), viewer=g.user)
            appointment, _created = ops.reschedule(session, old, slot_id=slot_id,
                                                   principal=g.user, now=now, key=key)
            message = _("Moved to %(when)s.", when=_when(appointment))
        else:
            hold = request.form.get("mode", "hold") == "hold"
            appointment, _created = ops.book(session, referral=referral, slot_id=slot_id,
                                             hold=hold, principal=g.user, now=now, key=key,
                                             jump_reason=jump_reason)
            message = (_("Held until %(until)s: confirm it with the family.",
                         until=_clock(appointment.hold_expires_at)) if hold else
                       _("Booked for %(when)s.", when=_when(appointment)))
        session.flush()
    except IntegrityError as err:
        session.rollback()
        return _book_page(code, errors={"slot": _refusal(conflict_for(err))}, status=409)
    except DomainError as exc:
        session.rollback()
        if exc.code == "booking.jumps_waitlist":
            return _book_page(code, status=exc.status, jump={
                "slot_id": slot_id, "message": _(
                    "Booking this slot passes over %(count)s waiting cases placed before this "
                    "referral on the waitlist who can come then (the first: referral "
                    "%(referral)s). Say why this referral goes first, or choose another slot.",
                    count=exc.params["count"], referral=exc.params["referral"])})
        return _book_page(code, errors={"slot": _refusal(exc)}, status=exc.status)
    flash(message, "success")
    return redirect(url_for("booking_pages.appointment", code=appointment.code), code=303)


def _refusal(exc: DomainError) -> str:
    """A refusal in the user's language, from the rule the operation named."""
    rule = exc.errors[0].get("rule") if exc.errors else None
    known = {
        "booking.slot_full_rule": _("Every place of this slot was taken meanwhile. Choose "
                                    "another slot, or put the referral on the waitlist."),
        "booking.person_overlap_rule": _("The person already has an appointment at that time."),
        "booking.slot_past_rule": _("That slot has already begun."),
        "booking.slot_withdrawn_rule": _("That slot was taken off the schedule."),
        "booking.hold_expired_rule": _("The hold expired before it was confirmed. Book again."),
    }
    code, params = code_of(rule), params_of(rule)
    if code in known:
        return known[code]
    if code in ("booking.state_is", "booking.status_is", "booking.status_is_now"):
        return _("This cannot be done now (%(state)s). Reload the page.",
                 state=label(params.get("state") or params.get("status")))
    return _("This cannot be done: %(detail)s", detail=exc.translated())


def _when(appointment: Appointment) -> str:
    from rehab_net.i18n import local_datetime

    return local_datetime(appointment.starts_at)


def _clock(moment) -> str:
    from rehab_net.i18n import local_datetime

    return local_datetime(moment, "HH:mm")


@bp.post("/referrals/<code>/waitlist")
def add_to_waitlist(code: str):
    session = get_session()
    referral = _bookable_referral(session, code)
    note = (request.form.get("note") or "").strip()[:2000] or None
    weekdays, parts, errors = _availability_form(request.form)
    if errors:
        return _book_page(code, errors=errors, status=422)
    try:
        entry, created = wl.add(session, referral, note=note, principal=g.user, now=utcnow(),
                                weekdays=weekdays, parts=parts)
        session.flush()
    except DomainError as exc:
        session.rollback()
        return _book_page(code, errors={"waitlist": _refusal(exc)}, status=exc.status)
    if created:
        flash(_("The referral is on the waitlist of %(facility)s.",
                facility=local_name(referral.receiver)), "success")
    else:
        flash(_("The referral was already on the waitlist."), "info")
    return redirect(url_for("booking_pages.waitlist", facility=referral.receiver.code), code=303)


# --- one appointment ----------------------------------------------------------------------------
def _appointment_or_404(session, code: str) -> Appointment:
    with missing_is_404():
        return ops.get_appointment(session, appointment_id_of(code[:16]), viewer=g.user)


def _appointment_page(code: str, *, errors=None, status: int = 200):
    session = get_session()
    appt = _appointment_or_404(session, code)
    audit.record_read(session, "appointment", appt.code)
    mine = access.writable_facilities(g.user)
    can_write = g.user.can("booking.write") and (mine is None or appt.facility_id in mine)
    later = session.scalar(select(Appointment).where(Appointment.rescheduled_from_id
                                                     == appt.id))
    return _render("booking/appointment.html", a=appt, errors=errors or {},
                           can_write=can_write, actions=_actions(appt) if can_write else [],
                           can_reschedule=APPOINTMENT.can("reschedule", appt.status),
                           reasons=ops.USER_CANCEL_REASONS, later=later, now=utcnow()), status


def _actions(appt: Appointment) -> list[str]:
    """The page's buttons: the steps the table allows from the appointment's status, and
    attendance only once it can be recorded (no "arrived" button on next week's appointment)."""
    now = utcnow()
    return [a for a in APPOINTMENT.actions_from(appt.status)
            if a in PAGE_ACTIONS and ops.can_record_yet(appt, a, now)]


@bp.get("/appointments/<code>")
def appointment(code: str):
    return _appointment_page(code)


@bp.post(f"/appointments/<code>/{route_pattern(PAGE_ACTIONS)}")
def appointment_action(code: str, action: str):
    session = get_session()
    appt = _appointment_or_404(session, code)
    now = utcnow()
    try:
        if action == "cancel":
            reason = request.form.get("reason", "")
            if reason not in ops.USER_CANCEL_REASONS:
                return _appointment_page(code, errors={"reason": _("Choose why it is "
                                                                   "cancelled.")}, status=422)
            note = (request.form.get("note") or "").strip()[:2000] or None
            ops.cancel(session, appt, reason=reason, note=note, principal=g.user, now=now)
        elif action == "decline":
            ops.decline(session, appt, note=None, principal=g.user, now=now)
        else:
            step = {"confirm": ops.confirm, "arrive": ops.arrive, "fulfil": ops.fulfil,
                    "noshow": ops.noshow}[action]
            step(session, appt, principal=g.user, now=now)
        session.flush()
    except DomainError as exc:
        session.rollback()
        return _appointment_page(code, errors={"action": _refusal(exc)}, status=exc.status)
    flash(_("Saved: %(status)s.", status=_status_label(appt.status)), "success")
    back = request.form.get("back")
    if back == "day":
        return redirect(url_for("booking_pages.day", facility=appt.facility.code,
                                date=day_of(appt.starts_at).isoformat()),
                        code=303)
    return redirect(url_for("booking_pages.appointment", code=appt.code), code=303)


def _status_label(status: str) -> str:
    return label(status)


# --- the waitlist and the day's list ------------------------------------------------------------
def _chosen_facility(session):
    """(facilities to show, the one chosen or None, an error)."""
    mine = access.my_facilities(session, g.user)
    code = request.args.get("facility", "").strip()[:32]
    if not code:
        return mine, None, None
    chosen = next((f for f in mine if f.code == code), None)
    if chosen is None:
        chosen = session.scalar(select(Facility).where(Facility.code == code))
        visible = chosen is not None and session.scalar(select(Facility.id).where(
            Facility.id == chosen.id, access.facility_filter(g.user, Facility.id)))
        if not visible:
            return mine, None, _("Choose one of your facilities.")
    return mine, chosen, None


@bp.get("/booking/waitlist")
def waitlist():
    session = get_session()
    mine, chosen, error = _chosen_facility(session)
    rows = []
    if not error:
        stmt = wl.entries(g.user, facility_ids=[chosen.id] if chosen else None, on=today())
        rows = decorate_entries(session, list(session.scalars(stmt.limit(DAY_ROWS))))
        audit.record_list(session, "waitlist_entry", [str(e.id) for e in rows],
                          {"facility": chosen.code} if chosen else {})
    offers = {a.waitlist_entry_id: a for a in session.scalars(select(Appointment).where(
        Appointment.waitlist_entry_id.in_([e.id for e in rows]),
        Appointment.status == "proposed"))} if rows else {}
    return _render("booking/waitlist.html", rows=rows, facilities=mine, chosen=chosen,
                           error=error, offers=offers), (422 if error else 200)


@bp.post("/booking/waitlist/<int:entry_id>/remove")
def remove_from_waitlist(entry_id: int):
    session = get_session()
    with missing_is_404():
        entry = wl.get_entry(session, entry_id, viewer=g.user)
    reason = (request.form.get("reason") or "").strip()[:2000]
    if not reason:
        flash(_("Say why the referral leaves the waitlist."), "error")
        return redirect(url_for("booking_pages.waitlist", facility=entry.facility.code),
                        code=303)
    try:
        wl.remove(session, entry, reason=reason, principal=g.user, now=utcnow())
        session.flush()
    except DomainError as exc:
        session.rollback()
        flash(_refusal(exc), "error")
    else:
        flash(_("Removed from the waitlist."), "success")
    return redirect(url_for("booking_pages.waitlist", facility=entry.facility.code), code=303)


def staff_of(principal, facility_id: int) -> bool:
    """Whether the user works at this facility (a coordinator's or clinic grant naming it): the
    day's list shows them the patients' full names; anyone else sees them masked."""
    from rehab_net.vocab import FACILITY_ROLES

    return principal is not None and any(
        grant.role in FACILITY_ROLES and grant.facility_id == facility_id
        for grant in principal.grants)


@bp.get("/booking/day")
def day():
    session = get_session()
    mine, chosen, error = _chosen_facility(session)
    if chosen is None and not error and len(mine) == 1:
        chosen = mine[0]
    try:
        on = form_date(request.args["date"]) if request.args.get("date") else today()
    except ValueError as exc:
        error = str(exc)
        on = today()
    rows = []
    if chosen is not None and not error:
        first = local_midnight(on)
        last = first + timedelta(days=1)
        rows = list(session.scalars(select(Appointment).where(
            Appointment.facility_id == chosen.id, Appointment.starts_at >= first,
            Appointment.starts_at < last,
            Appointment.status.in_(("proposed", "pending", "booked", "arrived", "fulfilled",
                                    "noshow")),
            access.facility_filter(g.user, Appointment.facility_id))
            .order_by(Appointment.starts_at, Appointment.id).limit(DAY_ROWS)))
        audit.record_list(session, "appointment", [a.code for a in rows],
                          {"facility": chosen.code, "date": on.isoformat()})
    full_names = chosen is not None and staff_of(g.user, chosen.id)
    if full_names and rows:  # the front desk reads who is coming: the names shown, audited
        audit.record_list(session, "person", list(dict.fromkeys(
            a.case.person.code for a in rows)), {"facility": chosen.code,
                                                 "date": on.isoformat(), "names": "full"})
    mine_ids = access.writable_facilities(g.user)
    can_write = chosen is not None and g.user.can("booking.write") and (
        mine_ids is None or chosen.id in mine_ids)
    return _render("booking/day.html", rows=rows, facilities=mine, chosen=chosen,
                           error=error, on=on, can_write=can_write, actions=_actions,
                           full_names=full_names, previous=(on - timedelta(days=1)).isoformat(),
                           next=(on + timedelta(days=1)).isoformat()), (422 if error else 200)


# --- our patients' appointments -----------------------------------------------------------------
PATIENT_ROWS = 50


@bp.get("/booking/patients")
def patients():
    """The appointments of the user's patients, soonest first from a day on (today unless
    chosen): those at their facilities and those of the referrals their facilities sent, so a
    village clinic follows its patients at the centre (the API's /appointments, the same filter).
    Names masked as in every list; the list is audited."""
    session = get_session()
    errors = {}
    status = request.args.get("status", "")
    if status and status not in APPOINTMENT_STATUSES:
        errors["status"] = _("Choose a status from the list.")
        status = ""
    try:
        since = form_date(request.args["from"]) if request.args.get("from") else today()
    except ValueError as exc:
        errors["from"] = str(exc)
        since = today()
    page = query_page(request.args)
    stmt = select(Appointment).where(
        access.appointment_filter(g.user),
        Appointment.starts_at >= datetime.combine(since, datetime.min.time(), tzinfo=zone()),
        Appointment.status == status if status else
        Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES))
    rows, total, pages = one_page(session, stmt.order_by(Appointment.starts_at, Appointment.id),
                                  page, PATIENT_ROWS)
    audit.record_list(session, "appointment", [a.code for a in rows],
                      {"from": since.isoformat(), **({"status": status} if status else {})})
    return _render("booking/patients.html", rows=rows, total=total, page=page,
                   pages=pages, since=since, status=status,
                   statuses=APPOINTMENT_STATUSES, errors=errors), (422 if errors else 200)
