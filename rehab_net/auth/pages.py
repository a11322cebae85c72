"""Account pages: log in and out, my account and API tokens, users (admin), the audit log
(auditor). Forms post back to the same address; every form carries a CSRF token."""
from __future__ import annotations

import math
from datetime import timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from rehab_net import access
from rehab_net.auth import audit, guard, throttle
from rehab_net.auth import operations as ops
from rehab_net.auth.labels import OBJECT_LABELS, object_label
from rehab_net.auth.models import AuditEvent
from rehab_net.auth.views import export_response, managed_user
from rehab_net.clock import local_midnight
from rehab_net.db import get_session, utcnow
from rehab_net.errors import DomainError, Invalid, field_error
from rehab_net.i18n import local_datetime
from rehab_net.messages import translate
from rehab_net.redirects import safe_redirect_target
from rehab_net.schemas import form_date, form_id, query_page
from rehab_net.vocab import AUDIT_ACTIONS, ROLES

bp = Blueprint("auth", __name__)

# endpoint -> permission, or {method: permission} (rehab_net/access.py; the guard refuses
# an endpoint not declared). Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "auth.login": access.PUBLIC,
    "auth.logout": access.PUBLIC,
    "auth.home": access.SELF_SERVICE,
    "auth.account": access.SELF_SERVICE,
    "auth.tokens": access.SELF_SERVICE,
    "auth.revoke_token": access.SELF_SERVICE,
    "auth.users": "user.manage",
    "auth.new_user": "user.manage",
    "auth.user": "user.manage",
    "auth.audit_log": "audit.read",
    "auth.audit_export": "audit.read",
}


AUDIT_PAGE_ROWS = 100


def _field_errors(exc: DomainError) -> dict[str, str]:
    return {e.get("field", "_"): e.get("rule", "") for e in exc.errors} if exc.errors else {}


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if g.get("user") is not None:
            return redirect(url_for("auth.home"))
        return render_template("auth/login.html",
                               next=safe_redirect_target(request.args.get("next"), None))
    session_ = get_session()
    username = request.form.get("username", "")
    next_ = safe_redirect_target(request.form.get("next"), None)
    try:
        user, missed = ops.authenticate(session_, username, request.form.get("password", ""),
                                        request.remote_addr or "-",
                                        rules=throttle.Rules.from_config(current_app.config))
    except ops.TooManyAttempts as exc:
        session_.flush()  # the attempt is counted; the edge commits (ending the address lock)
        message = (_("Too many failed logins from your network address. Try again in "
                     "%(wait)s.", wait=_duration(exc.retry_after)) if exc.reason == "address"
                   else _("Too many failed logins for this username from your network address. "
                          "Wait %(wait)s and try again.", wait=_duration(exc.retry_after)))
        return render_template("auth/login.html", username=username, error=message,
                               next=next_), 429, exc.headers
    except ops.LoginFailed:
        session_.flush()  # the failure is counted and audited (the edge commits)
        return render_template("auth/login.html", username=username,
                               error=_("Wrong username or password."), next=next_), 401
    session_.flush()
    guard.start_session(user)
    if missed is not None:
        flash(_("Failed login attempts since your last login: %(count)s. The last one: "
                "%(when)s, from %(where)s.", count=missed.count,
                when=local_datetime(missed.last_at), where=throttle.mask_address(missed.last_addr)),
              "warning")
    return redirect(next_ or url_for("auth.home"), code=303)


def _duration(seconds: int) -> str:
    """How long to wait, as people say it: seconds up to two minutes, then whole minutes."""
    if seconds < 120:
        return ngettext("%(num)d second", "%(num)d seconds", seconds)
    return ngettext("%(num)d minute", "%(num)d minutes", math.ceil(seconds / 60))


@bp.post("/logout")
def logout():
    """Ends the session everywhere: the user's session epoch moves on, so a copied cookie is
    worthless too."""
    uid = session.get("uid")
    session.clear()
    if uid is not None:
        from rehab_net.auth.models import User

        s = get_session()
        user = s.get(User, uid)
        if user is not None:
            user.session_epoch += 1
            audit.record(s, "logout", "user", user.username, actor=user.username,
                         user_id=user.id)
            s.flush()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"), code=303)


@bp.get("/home")
def home():
    """Where a user starts: the first part of the app their roles open."""
    me = g.user
    for permission, endpoint in (("case.read", "people_pages.cases"),
                                 ("plan.read", "planning_pages.plans_page"),
                                 ("user.manage", "auth.users"), ("network.read", "pages.index"),
                                 ("audit.read", "auth.audit_log")):
        if me.can(permission):
            return redirect(url_for(endpoint))
    return redirect(url_for("auth.account"))


@bp.get("/account")
def account():
    s = get_session()
    return render_template("auth/account.html", me=g.user,
                           tokens=ops.user_tokens(s, g.user.user), new_token=None)


@bp.post("/account/tokens")
def tokens():
    s = get_session()
    name = request.form.get("name", "").strip()
    errors = {}
    if not 1 <= len(name) <= 64:
        errors["name"] = _("Give the token a name of 1 to 64 characters.")
    days = request.form.get("expires_in_days", "90")
    if days not in ("30", "90", "365"):
        errors["expires_in_days"] = _("Choose how long the token lasts.")
    if errors:
        return render_template("auth/account.html", me=g.user, errors=errors, form=request.form,
                               tokens=ops.user_tokens(s, g.user.user), new_token=None), 422
    token, plain = ops.create_token(s, g.user.user, name, utcnow() + timedelta(days=int(days)))
    s.flush()
    return render_template("auth/account.html", me=g.user, tokens=ops.user_tokens(s, g.user.user),
                           new_token=plain)


@bp.post("/account/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    s = get_session()
    ops.revoke_token(s, ops.get_token(s, g.user.user, token_id))
    s.flush()
    flash(_("The token is revoked."), "info")
    return redirect(url_for("auth.account"), code=303)


# --- users (admin) ------------------------------------------------------------------------------
@bp.get("/admin/users")
def users():
    s = get_session()
    rows = list(s.scalars(ops.list_users(scope=guard.scope("user.manage"))))
    return render_template("auth/users.html", users=rows)


@bp.route("/admin/users/new", methods=["GET", "POST"])
def new_user():
    if request.method == "GET":
        return render_template("auth/user_new.html", form={}, errors={}, roles=ROLES)
    s = get_session()
    form = request.form
    errors: dict[str, str] = {}
    import re

    from rehab_net.auth.schemas import USERNAME

    if not re.match(USERNAME, form.get("username", "")):
        errors["username"] = _("2-64 characters: lower-case letters, digits, dot, underscore or "
                               "hyphen.")
    if not form.get("display_name", "").strip():
        errors["display_name"] = _("Enter the person's name.")
    if form.get("role") not in ROLES:
        errors["role"] = _("Choose a role.")
    if not errors:
        try:
            user = ops.create_user(s, username=form["username"],
                                   display_name=form["display_name"],
                                   password=form.get("password", ""))
            ops.grant(s, user, form["role"], form.get("place", "").strip() or None,
                      within=guard.scope("user.manage"), by=guard.current_principal().user)
            s.flush()
            flash(_("User %(name)s is created.", name=user.username), "info")
            return redirect(url_for("auth.user", username=user.username), code=303)
        except Invalid as exc:
            s.rollback()
            errors.update({k: translate(v) for k, v in _field_errors(exc).items()})
        except DomainError as exc:
            s.rollback()
            errors["username"] = exc.translated()
    return render_template("auth/user_new.html", form=form, errors=errors, roles=ROLES), 422


@bp.route("/admin/users/<username>", methods=["GET", "POST"])
def user(username: str):
    s = get_session()
    target = managed_user(username)
    me = guard.current_principal().user
    errors: dict[str, str] = {}
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "grant":
                ops.grant(s, target, request.form.get("role", ""),
                          request.form.get("place", "").strip() or None,
                          within=guard.scope("user.manage"), by=me)
                flash(_("The role is granted."), "info")
            elif action == "revoke":
                ops.revoke_grant(s, target, form_id(request.form.get("grant_id")) or 0, by=me)
                flash(_("The role is taken away."), "info")
            elif action in ("activate", "deactivate"):
                ops.set_active(s, target, action == "activate")
                flash(_("The account is active.") if action == "activate"
                      else _("The account is deactivated; its sessions and tokens ended."),
                      "info")
            elif action == "password":
                ops.check_may_take_over(s, me, target, guard.scope("user.manage"))
                ops.set_password(s, target, request.form.get("password", ""))
                flash(_("The password is changed; the user's sessions ended."), "info")
            else:
                raise field_error("action", "auth.action_unknown")
            s.flush()
            return redirect(url_for("auth.user", username=target.username), code=303)
        except Invalid as exc:
            s.rollback()
            errors = {k: translate(v) for k, v in _field_errors(exc).items()}
        except DomainError as exc:
            s.rollback()
            errors = {"place": exc.translated()}
        target = managed_user(username)
    return render_template("auth/user.html", target=target, roles=ROLES, errors=errors,
                           form=request.form), (422 if errors else 200)


# --- the audit log (auditor) --------------------------------------------------------------------
def _audit_args() -> tuple[dict, dict[str, str]]:
    """Filters from the query string, dates read as local days (the configured zone)."""
    args, errors = {}, {}
    for key in ("actor", "object_type", "object_code", "person"):
        value = request.args.get(key, "").strip()
        if value:
            args[key] = value[:80]
    action = request.args.get("action", "")
    if action:
        if action in AUDIT_ACTIONS:
            args["action"] = action
        else:
            errors["action"] = _("Choose an action from the list.")
    for key, shift in (("since", 0), ("until", 1)):
        value = request.args.get(key, "")
        if value:
            try:
                day = form_date(value) + timedelta(days=shift)
                args[key] = local_midnight(day)
            except ValueError as exc:
                errors[key] = str(exc)
    return args, errors


@bp.get("/audit")
def audit_log():
    """The whole log, newest first, a page at a time (?page=), filtered."""
    args, errors = _audit_args()
    page = query_page(request.args)
    s = get_session()
    events, total = [], 0
    if not errors:
        found = ops.list_audit_events(**args, scope=guard.scope("audit.read"))
        total = s.scalar(select(ops.count_of(found)))
        events = list(s.scalars(found.order_by(AuditEvent.id.desc())
                                .offset((page - 1) * AUDIT_PAGE_ROWS).limit(AUDIT_PAGE_ROWS)))
    pages = max(1, -(-total // AUDIT_PAGE_ROWS))
    return render_template("auth/audit.html", events=events, errors=errors, args=request.args,
                           filters={k: v for k, v in request.args.items() if k != "page"},
                           actions=AUDIT_ACTIONS, total=total, page=page, pages=pages,
                           object_types=sorted(((k, object_label(k)) for k in OBJECT_LABELS),
                                               key=lambda kv: kv[1]),
                           first=(page - 1) * AUDIT_PAGE_ROWS + 1), (422 if errors else 200)


@bp.get("/audit/export.csv")
def audit_export():
    args, errors = _audit_args()
    if errors:
        return audit_log()
    return export_response(args)
