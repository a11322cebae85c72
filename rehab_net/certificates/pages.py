"""Pages of certificates: the staff list (filter by state and district, due for renewal soon),
one certificate with its history and the steps the user may take, issuing one, and the section
of the person page. Numbers are masked; holders' names show the surname only; reads audited."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from rehab_net import access
from rehab_net.auth import audit
from rehab_net.auth.guard import scope
from rehab_net.certificates import operations as ops
from rehab_net.certificates.models import Certificate, CertificateEvent
from rehab_net.certificates.rules import RENEWAL_NOTICE_DAYS
from rehab_net.certificates.states import CERTIFICATE_STATES, LIVE_STATES
from rehab_net.clock import today
from rehab_net.db import get_session, utcnow
from rehab_net.errors import DomainError, Invalid
from rehab_net.listing import one_page
from rehab_net.masking import mask, mask_name
from rehab_net.messages import translate
from rehab_net.network.models import Region
from rehab_net.schemas import form_date, query_page
from rehab_net.vocab import CATEGORIES

bp = Blueprint("certificate_pages", __name__)

# endpoint -> permission, or {method: permission} (rehab_net/access.py). Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "certificate_pages.certificates": "person.read",
    "certificate_pages.certificate": "person.read",
    "certificate_pages.step": "certificate.write",
    "certificate_pages.new_certificate": "certificate.write",
}

PAGE_ROWS = 50
STEPS = ("reissue", "renew", "move_out", "transfer", "cancel")


def step_labels() -> dict[str, str]:
    return {"reissue": _("Reissue (lost or damaged)"), "renew": _("Renew"),
            "move_out": _("Record a move out of the region"),
            "transfer": _("Record the transfer to the new place"), "cancel": _("Cancel")}


def event_labels() -> dict[str, str]:
    """The history's steps (states.CERTIFICATE's actions and "issue")."""
    return {"issue": _("Issued"), "cancel": _("Cancelled by hand"),
            "unfreeze": _("Unfrozen: transferred to the new place"),
            "replace": _("Replaced by a reissue or renewal"),
            "freeze": _("Frozen: not transferred within 6 months of the move out"),
            "lapse": _("Cancelled: frozen for a year"),
            "expire": _("Expired: end of the 10-year validity")}


def steps_for(cert: Certificate) -> list[str]:
    """The steps the page offers for a certificate in its state (the operations check again)."""
    if cert.state == "valid":
        pending = cert.moved_out_on is not None and cert.transferred_on is None
        return ["reissue", "renew", "transfer" if pending else "move_out", "cancel"]
    if cert.state == "frozen":
        return ["transfer", "cancel"]
    if cert.state == "expired":
        return ["renew"]
    return []


def _districts(session) -> list[Region]:
    return list(session.scalars(select(Region).where(
        Region.level == "district", scope("person.read").region_filter(Region.id))
        .order_by(Region.code)))


@bp.get("/certificates")
def certificates():
    session = get_session()
    state = request.args.get("state", "")
    district_code = request.args.get("district", "")
    due = request.args.get("due") == "1"
    if state and state not in CERTIFICATE_STATES:
        abort(400)
    districts = _districts(session)
    district = next((d for d in districts if d.code == district_code), None)
    if district_code and district is None:
        abort(400)
    stmt = ops.list_certificates(session, state=state or None, region=district,
                                 renewal_due_by=today() if due else None,
                                 scope=scope("person.read"))
    page = query_page(request.args)
    order = (Certificate.valid_until, Certificate.code) if due else (Certificate.code,)
    rows, total, pages = one_page(session, stmt.order_by(*order), page, PAGE_ROWS)
    filters = {k: v for k, v in (("state", state), ("district", district_code),
                                 ("due", "1" if due else "")) if v}
    audit.record_list(session, "certificate", [c.code for c in rows], filters)
    return render_template("certificates/list.html", certificates=rows, total=total, page=page,
                           pages=pages, states=CERTIFICATE_STATES,
                           districts=districts, state=state, district=district_code, due=due,
                           notice_days=RENEWAL_NOTICE_DAYS, mask=mask, mask_name=mask_name,
                           renewal_opens=ops.renewal_opens)


def _certificate_page(code: str, *, errors=None, open_step: str | None = None, form=None,
                      status: int = 200):
    session = get_session()
    cert = ops.get_certificate(session, code, scope=scope("person.read"))
    audit.record_read(session, "certificate", cert.code)
    events = list(session.scalars(select(CertificateEvent).where(
        CertificateEvent.certificate_id == cert.id).order_by(CertificateEvent.id)))
    may_write = scope("certificate.write").covers(session, cert.person.home_region_id)
    return render_template("certificates/certificate.html", c=cert, events=events,
                           steps=steps_for(cert) if may_write else [], labels=step_labels(),
                           event_labels=event_labels(),
                           errors=errors or {}, open_step=open_step, form=form or {},
                           categories=_category_options(), mask=mask, mask_name=mask_name,
                           today=today(), renewal_opens=ops.renewal_opens(cert),
                           can_read_person=scope("person.read").covers(
                               session, cert.person.home_region_id)), status


@bp.get("/certificates/<code>")
def certificate(code: str):
    """?step=cancel (or another of STEPS) shows that step's form."""
    step_name = request.args.get("step", "")
    if step_name and step_name not in STEPS:
        abort(400)
    return _certificate_page(code, open_step=step_name or None)


def _form_day(form: dict, field: str, errors: dict[str, str]):
    """The day typed in ``form[field]``, today when left blank; a wrong one goes to ``errors``
    (the answer is then today, unused: the form is shown again)."""
    if not form[field]:
        return today()
    try:
        return form_date(form[field])
    except ValueError as exc:
        errors[field] = str(exc)
        return today()


def _form_errors(exc: DomainError) -> dict[str, str]:
    if isinstance(exc, Invalid) and exc.errors:
        return {e["field"]: translate(e["rule"]) for e in exc.errors}
    return {"step": exc.translated()}


@bp.post("/certificates/<code>/<any(reissue, renew, move_out, transfer, cancel):step_name>")
def step(code: str, step_name: str):
    """One step from the certificate page; errors shown in place, in the user's language."""
    session = get_session()
    cert = ops.get_certificate(session, code, scope=scope("certificate.write"))
    form = {k: request.form.get(k, "").strip() for k in ("on", "reason", "category", "grade")}
    errors: dict[str, str] = {}
    on = _form_day(form, "on", errors)
    if step_name == "cancel" and not form["reason"]:
        errors["reason"] = _("Give the reason for cancelling.")
    if form["category"] and form["category"] not in CATEGORIES:
        errors["category"] = _("Choose the disability category.")
    if form["grade"] and form["grade"] not in ("1", "2", "3", "4"):
        errors["grade"] = _("Choose the grade (1-4).")
    if errors:
        return _certificate_page(code, errors=errors, open_step=step_name, form=form,
                                 status=422)
    kw = {"on": on, "today": today(), "now": utcnow()}
    try:
        if step_name == "reissue":
            result = ops.reissue(session, cert, reason=form["reason"] or None, **kw)
        elif step_name == "renew":
            result = ops.renew(session, cert, category=form["category"] or None,
                               grade=int(form["grade"]) if form["grade"] else None, **kw)
        elif step_name == "move_out":
            result = ops.record_move_out(session, cert, **kw)
        elif step_name == "transfer":
            result = ops.transfer(session, cert, **kw)
        else:
            result = ops.cancel(session, cert, reason=form["reason"], **kw)
        session.flush()
    except DomainError as exc:
        session.rollback()
        return _certificate_page(code, errors=_form_errors(exc), open_step=step_name,
                                 form=form, status=exc.status)
    flash(_("Certificate %(code)s: %(state)s.", code=result.code,
            state=_state_label(result.state)), "success")
    return redirect(url_for("certificate_pages.certificate", code=result.code), code=303)


def _category_options() -> list[tuple[str, str]]:
    from rehab_net.vocab import label

    return [(c, label(c)) for c in CATEGORIES]


def _state_label(state: str) -> str:
    from rehab_net.vocab import label

    return label(state)


@bp.route("/certificates/new", methods=["GET", "POST"])
def new_certificate():
    """Issue a first certificate to a person of the user's area."""
    session = get_session()
    if request.method == "GET":
        form = {"person_code": request.args.get("person", ""), "issued_on": today().isoformat()}
        return render_template("certificates/new.html", form=form, errors={},
                               categories=_category_options())
    form = {k: request.form.get(k, "").strip()
            for k in ("person_code", "category", "grade", "issued_on")}
    errors = {}
    if not form["person_code"]:
        errors["person_code"] = _("Enter the person's code.")
    if form["category"] not in CATEGORIES:
        errors["category"] = _("Choose the disability category.")
    if form["grade"] not in ("1", "2", "3", "4"):
        errors["grade"] = _("Choose the grade (1-4).")
    issued_on = _form_day(form, "issued_on", errors)
    if not errors:
        try:
            cert = ops.issue(session, {"person_code": form["person_code"],
                                       "category": form["category"], "grade": int(form["grade"]),
                                       "issued_on": issued_on},
                             today=today(), now=utcnow(), scope=scope("certificate.write"))
            session.flush()
            flash(_("Certificate %(code)s is issued.", code=cert.code), "success")
            return redirect(url_for("certificate_pages.certificate", code=cert.code), code=303)
        except Invalid as exc:
            session.rollback()
            errors = {e["field"]: translate(e["rule"]) for e in exc.errors}
        except DomainError as exc:
            session.rollback()
            errors = {"person_code": exc.translated()}
            return render_template("certificates/new.html", form=form, errors=errors,
                                   categories=_category_options()), exc.status
    return render_template("certificates/new.html", form=form, errors=errors,
                           categories=_category_options()), 422


def person_section(session, person, revealed: bool) -> Markup:
    """The person page's certificates: each with its state and renewal date (people/pages.py
    add_person_section; the person's read is audited there)."""
    certs = ops.certificates_of(session, person)
    may_issue = (scope("certificate.write").covers(session, person.home_region_id)
                 and not any(c.state in LIVE_STATES for c in certs))
    return Markup(render_template("certificates/_person.html", certificates=certs,
                                  revealed=revealed, mask=mask, person=person,
                                  may_issue=may_issue, renewal_opens=ops.renewal_opens))
