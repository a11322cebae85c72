"""Referral pages: the inbox and outbox of the user's facilities, a referral with its history and
the steps the user may take now, sending a declined or returned one elsewhere, a new referral,
and the notifications. Server-rendered forms, no script; every form carries a CSRF token.

The rules live in operations.py and states.py; these pages only ask them. A form carries the
version it showed, so a step taken on a stale page is refused (409) and the page says what
happened meanwhile."""
from __future__ import annotations

import logging
from io import BytesIO

from flask import (
    Blueprint,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import contains_eager

from rehab_net import access
from rehab_net.auth import audit
from rehab_net.auth.guard import scope
from rehab_net.clock import today
from rehab_net.db import get_session, utcnow
from rehab_net.downloads import safe_filename
from rehab_net.errors import Conflict, DomainError, Invalid, NotFound, page_abort
from rehab_net.i18n import local_name
from rehab_net.messages import translate
from rehab_net.network.models import Capacity, Facility, Service, capacities_on
from rehab_net.people import operations as people
from rehab_net.people.models import Case
from rehab_net.people.rules import child_birth_cutoff
from rehab_net.referrals import notices
from rehab_net.referrals.models import Referral
from rehab_net.referrals.operations import attachments, workflow  # views share their names
from rehab_net.referrals.operations.inbox import BOXES, box, box_counts
from rehab_net.referrals.operations.notifications import mark_all_read, mark_read, notifications_for
from rehab_net.referrals.operations.suggestions import suggestions
from rehab_net.referrals.operations.visibility import (
    Forbidden,
    acting_facilities,
    get_referral,
    visible,
)
from rehab_net.referrals.states import (
    ACTIONS,
    BOOKABLE_REFERRAL_STATES,
    OPEN_REFERRAL_STATES,
    REFERS_DOWN_STATES,
    UNANSWERED_REFERRAL_STATES,
    USER_ACTIONS,
    allowed_actions,
)
from rehab_net.vocab import (
    DECLINE_REASONS,
    DIRECTIONS,
    TIERS,
    URGENCIES,
    label,
)

log = logging.getLogger(__name__)
bp = Blueprint("referral_pages", __name__)

# endpoint -> permission, or {method: permission} (rehab_net/access.py; the guard refuses
# an endpoint not declared). Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "referral_pages.inbox": "referral.read",
    "referral_pages.outbox": "referral.read",
    "referral_pages.referral": "referral.read",
    "referral_pages.attachment": "referral.read",
    "referral_pages.add_attachment": "referral.write",  # as the API's upload
    "referral_pages.act": "referral.write",
    "referral_pages.re_refer": "referral.write",
    "referral_pages.new_referral": "referral.write",
    "referral_pages.notifications": "referral.read",
    # marking read, like the API's NotificationRead: planners (read only) get escalations too
    "referral_pages.notification_read": "referral.read",
    "referral_pages.notifications_read_all": "referral.read",
}


BOX_ROWS = 50
NOTIFICATION_ROWS = 100
REASON_MAX, OUTCOME_MAX = 2000, 4000
RE_REFERABLE = UNANSWERED_REFERRAL_STATES

BOX_TITLES = {
    "needs_action": _l("Needs your action"),
    "awaiting_others": _l("Waiting for the other facility"),
    "overdue": _l("Overdue"),
    "recently_closed": _l("Closed in the last 30 days"),
}
# What each step is called: in the history (what happened) and on its button (what to do).
ACTION_LABELS = {
    "create": _lp("referral action", "Created"), "send": _lp("referral action", "Sent"),
    "receive": _lp("referral action", "Received"), "accept": _lp("referral action", "Accepted"),
    "decline": _lp("referral action", "Declined"), "return": _lp("referral action", "Returned"),
    "start": _lp("referral action", "Rehabilitation started"),
    "complete": _lp("referral action", "Completed"),
    "acknowledge": _lp("referral action", "Outcome acknowledged"),
    "cancel": _lp("referral action", "Cancelled"),
    "expire": _lp("referral action", "Expired (no answer in time)"),
    "close": _lp("referral action", "Closed (loop complete)"),
}
ACTION_BUTTONS = {
    "send": _l("Send the referral"), "receive": _l("Confirm receipt"),
    "accept": _l("Accept the referral"), "decline": _l("Decline the referral"),
    "return": _l("Return it to the sender"), "start": _l("Start rehabilitation"),
    "complete": _l("Record completion"), "acknowledge": _l("Acknowledge the outcome"),
    "cancel": _l("Cancel the referral"),
}
ACTION_HELP = {
    "decline": _l("Say why your facility cannot take this referral; the sender can then send it "
                  "elsewhere."),
    "return": _l("Send it back with advice, for example what the sender should do first."),
    "cancel": _l("Withdraw the referral; the receiving facility is no longer asked to act. Its "
                 "future appointments are cancelled and its waitlist place given up; sessions "
                 "already attended stay in its history."),
    "complete": _l("Record the outcome for the sender: what was done and what comes next."),
}


@bp.app_template_global()
def event_reason(event) -> str:
    """A history row's reason in the user's words: a decline's code ("no_capacity: full until
    March", as stored) shown as its label, the free text as written."""
    reason = event.reason or ""
    if event.action == "decline":
        code, _sep, text = reason.partition(": ")
        if code in DECLINE_REASONS:
            return f"{label(code)}: {text}" if text else label(code)
    return reason or "—"


@bp.app_template_global()
def referral_action_label(action: str) -> str:
    text = ACTION_LABELS.get(action)
    return str(text) if text is not None else action


@bp.app_context_processor
def _inbox_badge():
    """The count of unread notifications next to "Inbox" in the navigation."""
    user = g.get("user")
    if user is None or not user.can("referral.read"):
        return {"inbox_unread": None}
    session = get_session()
    try:
        unread = session.scalar(select(func.count()).select_from(
            notifications_for(user, unread_only=True).order_by(None).subquery()))
    except SQLAlchemyError:  # an error page must still render when the database fails
        session.rollback()
        log.warning("unread notifications not counted", exc_info=True)
        unread = None
    return {"inbox_unread": unread}


def _overdue(referral: Referral, now) -> bool:
    return (referral.due_at is not None and referral.due_at <= now
            and referral.state in OPEN_REFERRAL_STATES)


# --- inbox and outbox ---------------------------------------------------------------------------
def _box_page(incoming: bool):
    session = get_session()
    mine = acting_facilities(g.user)
    choices = [] if mine is None else list(session.scalars(
        select(Facility).where(Facility.id.in_(mine)).order_by(Facility.code)))
    code = request.args.get("facility", "").strip()
    facilities, chosen, errors = mine, None, {}
    if code:
        chosen = session.scalar(select(Facility).where(Facility.code == code[:32]))
        if chosen is None or (mine is not None and chosen.id not in mine):
            errors["facility"] = _("Choose one of your facilities.")
            chosen = None
        else:
            facilities = {chosen.id}
    now = utcnow()
    boxes = []
    if not errors:
        counts = box_counts(session, facilities, incoming=incoming, now=now)
        for name in BOXES:
            stmt = (box(session, facilities, name, incoming=incoming, now=now)
                    .options(contains_eager(Referral.case).contains_eager(Case.person))
                    .limit(BOX_ROWS))
            boxes.append({"name": name, "title": BOX_TITLES[name], "total": counts[name],
                          "rows": list(session.scalars(stmt))})
    template = "referrals/inbox.html" if incoming else "referrals/outbox.html"
    return render_template(template, boxes=boxes, errors=errors, choices=choices,
                           network_wide=mine is None, chosen=chosen, code=code, now=now,
                           limit=BOX_ROWS, overdue=_overdue, re_referable=RE_REFERABLE), (
        422 if errors else 200)


@bp.get("/inbox")
def inbox():
    return _box_page(incoming=True)


@bp.get("/outbox")
def outbox():
    return _box_page(incoming=False)


# --- one referral -------------------------------------------------------------------------------
def _sides(referral: Referral) -> dict[str, bool]:
    """Which sides of the referral the user acts for (a network-wide role: both)."""
    mine = acting_facilities(g.user)
    return {"sender": mine is None or referral.sender_id in mine,
            "receiver": mine is None or referral.receiver_id in mine}


def _referral_page(code: str, *, errors=None, form=None, form_action=None, conflict=None,
                   status: int = 200):
    session = get_session()
    referral = get_referral(session, code, viewer=g.user)
    audit.record_read(session, "referral", referral.code)
    sides = _sides(referral)
    can_write = g.user.can("referral.write")
    actions = [name for name in allowed_actions(referral.state)
               if can_write and sides[ACTIONS[name].side]]
    can_re_refer = can_write and sides["sender"] and referral.state in RE_REFERABLE
    later = list(session.scalars(select(Referral).where(
        (Referral.replaces_id == referral.id) | (Referral.answers_id == referral.id),
        visible(g.user)).order_by(Referral.id)))
    case_readable = scope("case.read").covers(session, referral.case.person.home_region_id)
    return render_template(
        "referrals/referral.html", r=referral, actions=actions, sides=sides,
        errors=errors or {}, form=form or {}, form_action=form_action, conflict=conflict,
        can_re_refer=can_re_refer,
        suggestions=_suggestion_options(session, referral) if can_re_refer else [],
        replaced_by=[x for x in later if x.replaces_id == referral.id],
        answered_by=[x for x in later if x.answers_id == referral.id],
        can_refer_down=(can_write and sides["receiver"] and referral.direction == "up"
                        and referral.state in REFERS_DOWN_STATES),
        can_book=referral.state in BOOKABLE_REFERRAL_STATES,
        unanswered=referral.state in UNANSWERED_REFERRAL_STATES,
        case_readable=case_readable, now=utcnow(), overdue=_overdue,
        can_attach=can_write, can_download=sides["sender"] or sides["receiver"],
        attachment_types=ATTACHMENT_KINDS, max_attachment_mb=MAX_ATTACHMENT_MB,
        decline_reasons=[(c, label(c)) for c in DECLINE_REASONS], decline_codes=DECLINE_REASONS,
        buttons=ACTION_BUTTONS, action_help=ACTION_HELP, needs=ACTIONS), status


def _suggestion_options(session, referral: Referral) -> list[tuple[str, str]]:
    return [(s["facility"].code, _("%(name)s (%(code)s): %(km)s km by road, %(free)d places free",
                                   name=local_name(s["facility"]), code=s["facility"].code,
                                   km=s["road_km"], free=s["free_places"]))
            for s in suggestions(session, referral, today())]


@bp.get("/referrals/<code>")
def referral(code: str):
    return _referral_page(code)


def _conflict_message(referral: Referral) -> str:
    return _("Someone else changed this referral before your step was saved: it is now "
             "“%(state)s”. Nothing was changed by you. Look at its state and history below and "
             "act again if it is still needed.", state=label(referral.state))


def _form_version() -> int:
    try:
        return int(request.form.get("version", ""))
    except ValueError:
        page_abort(400, _("The form lacks the version of the referral it showed: reload the "
                           "referral and act again."))


@bp.post("/referrals/<code>/act")
def act(code: str):
    session = get_session()
    referral = get_referral(session, code, viewer=g.user)
    action = request.form.get("action", "")
    if action not in USER_ACTIONS:
        page_abort(400, _("This is not a step a referral can take: reload the referral and "
                           "choose one of its buttons."))
    version = _form_version()
    form = {k: request.form.get(k, "").strip() for k in ("reason_code", "reason", "outcome")}
    errors = {}
    if form["reason_code"] and form["reason_code"] not in DECLINE_REASONS:
        errors[f"{action}-reason_code"] = _("Choose a reason from the list.")
    if len(form["reason"]) > REASON_MAX:
        errors[f"{action}-reason"] = _("Write at most %(n)d characters.", n=REASON_MAX)
    if len(form["outcome"]) > OUTCOME_MAX:
        errors[f"{action}-outcome"] = _("Write at most %(n)d characters.", n=OUTCOME_MAX)
    if not errors:
        try:
            workflow.transition(session, referral, action, principal=g.user, now=utcnow(),
                                reason=form["reason"] or None,
                                reason_code=form["reason_code"] or None,
                                outcome=form["outcome"] or None, expected_version=version)
            session.flush()
        except Invalid as exc:
            session.rollback()
            errors = {f"{action}-{e.get('field', 'reason')}": translate(e.get("rule", ""))
                      for e in exc.errors}
        except Conflict:
            session.rollback()
            fresh = get_referral(session, code, viewer=g.user)
            return _referral_page(code, conflict=_conflict_message(fresh), status=409)
        else:
            flash(_("Referral %(code)s is now “%(state)s”.", code=referral.code,
                    state=label(referral.state)), "success")
            return redirect(url_for("referral_pages.referral", code=referral.code), code=303)
    return _referral_page(code, errors=errors, form=form, form_action=action, status=422)


@bp.post("/referrals/<code>/re-refer")
def re_refer(code: str):
    session = get_session()
    referral = get_referral(session, code, viewer=g.user)
    if not _sides(referral)["sender"]:
        raise Forbidden("referral.sender_only")
    receiver = request.form.get("receiver_code", "").strip()
    errors = {}
    if not receiver:
        errors["receiver_code"] = _("Choose where to send it.")
    else:
        waiting = session.scalar(select(Referral).where(
            Referral.replaces_id == referral.id, Referral.state.in_(OPEN_REFERRAL_STATES)))
        if waiting is not None:  # a second press of the button, or a colleague was quicker
            return _referral_page(code, status=409, conflict=_(
                "This referral was already sent elsewhere as %(code)s, which is still open.",
                code=waiting.code))
        try:
            new = workflow.re_refer(session, referral, receiver[:32], principal=g.user,
                                    now=utcnow(), today=today())
            session.flush()
        except Invalid as exc:
            session.rollback()
            errors["receiver_code"] = "; ".join(translate(e.get("rule", ""))
                                                for e in exc.errors)
        except Conflict:
            session.rollback()
            fresh = get_referral(session, code, viewer=g.user)
            return _referral_page(code, status=409, conflict=_(
                "This referral is “%(state)s” now: only a declined, returned or expired referral "
                "is sent elsewhere.", state=label(fresh.state)))
        else:
            flash(_("Referral %(code)s is sent to %(facility)s.", code=new.code,
                    facility=_facility_name(new.receiver)), "success")
            return redirect(url_for("referral_pages.referral", code=new.code), code=303)
    return _referral_page(code, errors=errors, form={"receiver_code": receiver}, status=422)


def _facility_name(facility: Facility) -> str:
    return f"{local_name(facility)} ({facility.code})"


@bp.get("/referrals/<code>/attachments/<int:attachment_id>")
def attachment(code: str, attachment_id: int):
    """An attachment for a browser (the API's download needs a token); the read is audited."""
    session = get_session()
    referral = get_referral(session, code, viewer=g.user)
    found = attachments.get_attachment(session, referral, attachment_id, viewer=g.user)
    audit.record_read(session, "referral_attachment", f"{referral.code}/{attachment_id}")
    return send_file(BytesIO(found.data), mimetype=found.content_type, as_attachment=True,
                     download_name=safe_filename(found.filename, f"attachment-{found.id}"),
                     etag=False)


ATTACHMENT_KINDS = "PDF, PNG, JPEG"  # the API's rules: attachments.ATTACHMENT_TYPES
MAX_ATTACHMENT_MB = attachments.MAX_ATTACHMENT_BYTES // (1024 * 1024)


@bp.post("/referrals/<code>/attachments")
def add_attachment(code: str):
    """Attach a file from the referral page (multipart, CSRF like every form); the same rules as
    the API's upload (operations.add_attachment), its refusals shown at the field. The new row is
    in the audit log like every change (auth/audit.py's flush listener)."""
    session = get_session()
    referral = get_referral(session, code, viewer=g.user)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _referral_page(code, errors={"file": _("Choose a file to attach.")},
                              form_action="attach", status=422)
    try:
        added = attachments.add_attachment(
            session, referral, upload.filename,
            upload.read(attachments.MAX_ATTACHMENT_BYTES + 1), principal=g.user)
        session.flush()
    except Invalid as exc:
        session.rollback()
        rules = "; ".join(str(translate(e.get("rule", ""))) for e in exc.errors)
        return _referral_page(code, errors={"file": _("The file %(rule)s.", rule=rules)},
                              form_action="attach", status=422)
    flash(_("%(name)s is attached to referral %(code)s.", name=added.filename,
            code=referral.code), "success")
    return redirect(url_for("referral_pages.referral", code=referral.code,
                            _anchor="attachments"), code=303)


# --- a new referral -----------------------------------------------------------------------------
NEW_FIELDS = ("case_code", "sender_code", "receiver_code", "service_code", "direction", "urgency",
              "reason", "answers_code", "home_programme")
# Domain rules about fields the form does not show, and the field they belong to on the form.
FORM_FIELD: dict[str, str] = {}


def _referable_case(session, code: str) -> Case | None:
    """A case the user may see: in their case.read area, or already referred by or to them."""
    if not code:
        return None
    try:
        return people.get_case(session, code, scope=scope("case.read"))
    except NotFound:
        return session.scalar(select(Case).where(
            Case.code == code, Case.id.in_(select(Referral.case_id).where(visible(g.user)))))


def _services_for(session, case: Case | None) -> list[Service]:
    """The services a referral of the case may ask for: the case's own, and the others of its
    category (a down-referral asks for follow-up at the lower tier, not the centre's training)."""
    if case is None:
        return []
    stmt = select(Service).where(or_(Service.id == case.service_id,
                                     Service.category == case.category)).order_by(Service.code)
    return list(session.scalars(stmt))


def _default_service(case: Case | None, services: list[Service], direction: str) -> str:
    """The case's service going up; its category's follow-up going down (when there is one)."""
    if case is None:
        return ""
    if direction == "down":
        follow_up = [s for s in services if s.category == case.category and s.kind == "follow_up"]
        if follow_up:
            return follow_up[0].code
    return case.service.code


def _receivers(session, service_code: str, senders: set[int] | None, direction: str,
               sender: Facility | None) -> list[tuple[str, list]]:
    """Open facilities offering the service today, by tier (highest first), without the user's
    own ones, and for a known sender only the tiers the direction allows (up: higher, down:
    lower): [(tier label, [(code, text), ...]), ...]."""
    service = session.scalar(select(Service).where(Service.code == service_code))
    if service is None:
        return []
    in_force = capacities_on(today()).where(Capacity.service_id == service.id,
                                            Capacity.weekly_intake > 0).subquery()
    stmt = (select(Facility).join(in_force, in_force.c.facility_id == Facility.id)
            .where(Facility.status == "open").order_by(Facility.code))
    if senders:
        stmt = stmt.where(Facility.id.not_in(senders))
    facilities = list(session.scalars(stmt))
    if sender is not None:
        rank = workflow.TIER_RANK[sender.tier]
        facilities = [f for f in facilities if (workflow.TIER_RANK[f.tier] > rank) == (
            direction == "up") and workflow.TIER_RANK[f.tier] != rank]
    return [(label(tier), [(f.code, f"{local_name(f)} ({f.code})") for f in facilities
                           if f.tier == tier]) for tier in TIERS
            if any(f.tier == tier for f in facilities)]


def _new_page(session, form: dict, errors: dict, status: int = 200):
    mine = acting_facilities(g.user)
    senders = [] if mine is None else [(f.code, f"{local_name(f)} ({f.code})") for f in
                                        session.scalars(select(Facility).where(
                                            Facility.id.in_(mine)).order_by(Facility.code))]
    case = None if errors.get("case_code") else _referable_case(session, form.get("case_code"))
    services = _services_for(session, case)
    direction = form.get("direction") if form.get("direction") in DIRECTIONS else "up"
    if not form.get("service_code"):
        form["service_code"] = _default_service(case, services, direction)
    sender = _form_sender(session, form, mine)
    receivers = _receivers(session, form["service_code"], mine, direction, sender)
    offered = {code for _tier, items in receivers for code, _text in items}
    if form.get("receiver_code") and form["receiver_code"] not in offered:
        # named by a link or kept from a refused form: keep it visible and chosen, so the user
        # sees what was meant (the domain rules still decide)
        chosen = session.scalar(select(Facility).where(Facility.code == form["receiver_code"]))
        if chosen is not None:
            receivers.append((label(chosen.tier), [(chosen.code,
                                                    f"{local_name(chosen)} ({chosen.code})")]))
    return render_template(
        "referrals/new.html", form=form, errors=errors, case=case,
        services=[(s.code, f"{local_name(s)} ({s.code})") for s in services],
        receivers=receivers, senders=senders,
        ask_sender=mine is None or len(mine) != 1, directions=DIRECTIONS,
        urgencies=[(u, label(u)) for u in URGENCIES]), status


def _form_sender(session, form: dict, mine: set[int] | None) -> Facility | None:
    """The sending facility, when it is known: the user's only facility, or the one chosen."""
    if mine is not None and len(mine) == 1:
        return session.get(Facility, next(iter(mine)))
    if form.get("sender_code"):
        return session.scalar(select(Facility).where(Facility.code == form["sender_code"]))
    return None


def _check_new_form(form: dict) -> dict[str, str]:
    """The form's own rules, in the user's language, before the domain's run."""
    errors = {}
    if not form["case_code"]:
        errors["case_code"] = _("Enter the case code.")
    if not form["receiver_code"]:
        errors["receiver_code"] = _("Choose the receiving facility.")
    if form["direction"] not in DIRECTIONS:
        errors["direction"] = _("Choose up or down.")
    if form["urgency"] not in URGENCIES:
        errors["urgency"] = _("Choose the urgency.")
    if not form["reason"]:
        errors["reason"] = _("Write why the person is referred.")
    elif len(form["reason"]) > REASON_MAX:
        errors["reason"] = _("Write at most %(n)d characters.", n=REASON_MAX)
    if len(form["home_programme"]) > OUTCOME_MAX:
        errors["home_programme"] = _("Write at most %(n)d characters.", n=OUTCOME_MAX)
    for key in ("case_code", "sender_code", "receiver_code", "service_code", "answers_code"):
        if len(form[key]) > 32 and key not in errors:
            errors[key] = _("A code has at most 32 characters.")
    return errors


@bp.route("/referrals/new", methods=["GET", "POST"])
def new_referral():
    session = get_session()
    if request.method == "GET":
        args = request.args
        form = {"case_code": args.get("case", "").strip()[:32],
                "answers_code": args.get("answers", "").strip()[:32],
                "receiver_code": args.get("receiver", "").strip()[:32],
                "direction": args.get("direction") if args.get("direction") in DIRECTIONS
                else "up", "urgency": "routine", "send": True}
        case_ = _referable_case(session, form["case_code"]) if form["case_code"] else None
        if case_ is not None and case_.person.birth_date > child_birth_cutoff(today()):
            form["urgency"] = "urgent"  # what the deadlines use for a child 0-6 anyway
        return _new_page(session, form, {})
    form = {k: request.form.get(k, "").strip() for k in NEW_FIELDS}
    form["send"] = request.form.get("send") == "1"
    if request.form.get("refresh"):
        # "show the facilities": the direction or service changed; offer the matching receivers
        if form["receiver_code"] and request.form.get("refresh") == "service":
            form["receiver_code"] = ""
        return _new_page(session, form, {})
    errors = _check_new_form(form)
    if "case_code" not in errors and _referable_case(session, form["case_code"]) is None:
        errors["case_code"] = _("There is no case %(code)s that you may refer.",
                                code=form["case_code"])
    if not errors:
        data = {"case_code": form["case_code"], "receiver_code": form["receiver_code"],
                "direction": form["direction"], "urgency": form["urgency"],
                "reason": form["reason"]}
        if form["service_code"]:
            data["service_code"] = form["service_code"]
        if form["sender_code"]:
            data["sender_code"] = form["sender_code"]
        if form["direction"] == "down":
            data.update(answers_code=form["answers_code"] or None,
                        home_programme=form["home_programme"] or None)
        elif form["answers_code"]:
            data["answers_code"] = form["answers_code"]
        try:
            created = workflow.create_referral(session, data, principal=g.user, now=utcnow(),
                                               today=today(), send=form["send"])
            session.flush()
        except Invalid as exc:
            session.rollback()
            errors = {}
            for e in exc.errors:
                key = FORM_FIELD.get(e.get("field"), e.get("field"))
                errors.setdefault(key, translate(e.get("rule", "")))
        except DomainError as exc:
            session.rollback()
            errors = {"receiver_code": exc.translated()}
        else:
            flash(_("Referral %(code)s is sent.", code=created.code) if form["send"] else
                  _("Referral %(code)s is saved as a draft; send it from its page.",
                    code=created.code), "success")
            return redirect(url_for("referral_pages.referral", code=created.code), code=303)
    return _new_page(session, form, errors, 422)


# --- notifications ------------------------------------------------------------------------------
@bp.get("/notifications")
def notifications():
    session = get_session()
    rows = list(session.scalars(notifications_for(g.user).limit(NOTIFICATION_ROWS)))
    total = session.scalar(select(func.count()).select_from(
        notifications_for(g.user).order_by(None).subquery()))
    steps = notices.steps_of(session, rows)
    return render_template("referrals/notifications.html", rows=rows, total=total,
                           limit=NOTIFICATION_ROWS,
                           summaries={n.id: notices.summary(n, steps.get(n.id)) for n in rows})


@bp.post("/notifications/<int:notification_id>/read")
def notification_read(notification_id: int):
    """Mark one notification read (for everyone it went to: the facility or the region)."""
    session = get_session()
    mark_read(session, g.user, notification_id, utcnow())
    session.flush()
    flash(_("The notification is marked read."), "success")
    return redirect(url_for("referral_pages.notifications"), code=303)


@bp.post("/notifications/read")
def notifications_read_all():
    session = get_session()
    done = mark_all_read(session, g.user, utcnow())
    session.flush()
    flash(_("All notifications are marked read (%(n)d).", n=done), "success")
    return redirect(url_for("referral_pages.notifications"), code=303)
