"""Who is asking, and may they? Runs before every request.

- The API (/api/...) authenticates with personal tokens only (``Authorization: Bearer rn_...``);
  it ignores the session cookie, so a browser cannot be tricked into calling it (no CSRF there).
- Pages authenticate with the session cookie, which expires after an idle time and after an
  absolute lifetime; forms carry a CSRF token (Flask-WTF).
- Every endpoint must appear in ENDPOINT_PERMISSIONS (or PUBLIC): an endpoint nobody declared is
  refused for everyone (fail closed), and tests/test_permissions.py walks the whole table.
"""
from __future__ import annotations

import time

from flask import Flask, abort, current_app, g, redirect, request, session, url_for

from rehab_net.auth import operations as ops
from rehab_net.auth.models import User
from rehab_net.auth.permissions import NOWHERE, Scope

# Principal and SELF_SERVICE are re-exported: most callers import them from here.
from rehab_net.auth.principal import SELF_SERVICE, Principal  # noqa: F401
from rehab_net.db import get_session, transactional
from rehab_net.errors import DomainError, Forbidden  # noqa: F401  (Forbidden re-exported)

PUBLIC = frozenset({"static", "auth.login", "auth.logout", "i18n.switch_language",
                    "api-docs.openapi_json"})
# Pages and calls any logged-in user may use (their own account): SELF_SERVICE (auth/principal.py).

# endpoint -> permission, or {method: permission}. HEAD and OPTIONS count as GET.
ENDPOINT_PERMISSIONS: dict[str, str | dict[str, str]] = {
    # network (API)
    "network.Regions": {"GET": "network.read", "POST": "network.write"},
    "network.RegionItem": {"GET": "network.read", "PATCH": "network.write"},
    "network.Facilities": {"GET": "network.read", "POST": "network.write"},
    "network.FacilityItem": {"GET": "network.read", "PATCH": "network.write"},
    "network.FacilityCapacities": {"GET": "network.read", "POST": "network.write"},
    "network.Services": {"GET": "network.read", "POST": "network.write"},
    "network.ServiceItem": {"GET": "network.read", "PATCH": "network.write"},
    "network.Summary": "network.read",
    # persons and cases (API)
    "people.Persons": {"GET": "person.read", "POST": "person.write"},
    "people.PersonLookup": "person.read",
    "people.PersonItem": {"GET": "person.read", "PATCH": "person.write"},
    "people.PersonReveal": "person.read",
    "people.Cases": {"GET": "case.read", "POST": "case.write"},
    "people.CaseItem": {"GET": "case.read", "PATCH": "case.write"},
    # plans (API)
    "planning.Policy": {"GET": "plan.read", "PUT": "policy.write"},
    "planning.Plans": {"GET": "plan.read", "POST": "plan.run"},
    "planning.PlanItem": "plan.read",
    "planning.PlanCancel": "plan.run",
    "planning.PlanApply": "plan.run",
    "planning.PlanCompare": "plan.read",
    "planning.Scenarios": {"GET": "plan.read", "POST": "plan.run"},
    "planning.ScenarioItem": {"GET": "plan.read", "PATCH": "plan.run"},
    "planning.ScenarioCopy": "plan.run",
    "planning.ScenarioRun": "plan.run",
    "planning.ScaleUps": "plan.run",
    "planning.PlanAssignments": "plan.read",
    "planning.PlanFacilities": "plan.read",
    "planning.PlanDistricts": "plan.read",
    "planning.PlanShadowPrices": "plan.read",
    # referrals (API)
    "referrals.Referrals": {"GET": "referral.read", "POST": "referral.write"},
    "referrals.ReferralCounts": "referral.read",
    "referrals.ReferralItem": "referral.read",
    "referrals.ReferralAction": "referral.write",
    "referrals.ReferralSuggestions": "referral.read",
    "referrals.ReferralReRefer": "referral.write",
    "referrals.ReferralAttachments": "referral.write",
    "referrals.ReferralAttachmentItem": "referral.read",
    "referrals.ReferralFhir": "referral.read",
    "referrals.Notifications": "referral.read",
    "referrals.NotificationRead": "referral.read",
    # booking (API)
    "booking.Practitioners": {"GET": "booking.read", "POST": "booking.write"},
    "booking.PractitionerItem": {"GET": "booking.read", "PATCH": "booking.write"},
    "booking.PractitionerSites": "booking.write",
    "booking.PractitionerCalendar": "booking.read",
    "booking.ScheduleRules": {"GET": "booking.read", "POST": "booking.write"},
    "booking.ScheduleRuleItem": {"GET": "booking.read", "PATCH": "booking.write"},
    "booking.ScheduleExceptions": {"GET": "booking.read", "POST": "booking.write"},
    "booking.ScheduleExceptionItem": {"GET": "booking.read", "DELETE": "booking.write"},
    "booking.Holidays": "booking.read",
    "booking.SlotGeneration": "booking.write",
    "booking.Slots": "booking.read",
    "booking.SlotItem": "booking.read",
    "booking.Availability": "booking.read",
    "booking.Appointments": {"GET": "booking.read", "POST": "booking.write"},
    "booking.AppointmentItem": "booking.read",
    "booking.AppointmentAction": "booking.write",
    "booking.Waitlist": {"GET": "booking.read", "POST": "booking.write"},
    "booking.WaitlistItem": "booking.read",
    "booking.WaitlistRemove": "booking.write",
    # quarterly reports
    "reports.Reports": "plan.read",
    "reports.ReportItem": {"GET": "plan.read", "PUT": "plan.run"},  # writing: network-wide
    "report_pages.reports_page": "plan.read",
    "report_pages.report_page": "plan.read",
    "report_pages.report_xlsx": "plan.read",
    # accounts, users, audit (API)
    "auth_api.Me": SELF_SERVICE,
    "auth_api.Tokens": SELF_SERVICE,
    "auth_api.TokenItem": SELF_SERVICE,
    "auth_api.Users": "user.manage",
    "auth_api.UserItem": "user.manage",
    "auth_api.UserGrants": "user.manage",
    "auth_api.UserGrantItem": "user.manage",
    "auth_api.AuditEvents": "audit.read",
    "auth_api.AuditExport": "audit.read",
    # pages
    "pages.index": "network.read",
    "pages.regions": "network.read",
    "pages.facilities": "network.read",
    "pages.facility": "network.read",
    "planning_pages.plans_page": "plan.read",
    "planning_pages.plan_page": "plan.read",
    "scenario_pages.scenarios_page": "plan.read",
    "scenario_pages.new_scenario": "plan.run",
    "scenario_pages.run_baseline": "plan.run",
    "scenario_pages.scenario": "plan.read",
    "scenario_pages.add_change": "plan.run",
    "scenario_pages.remove_change": "plan.run",
    "scenario_pages.copy": "plan.run",
    "scenario_pages.run": "plan.run",
    "scenario_pages.changes_csv": "plan.read",
    "scenario_pages.compare": "plan.read",
    "scenario_pages.compare_csv": "plan.read",
    "scenario_pages.compare_xlsx": "plan.read",
    "people_pages.persons": "person.read",
    "people_pages.person": "person.read",
    "people_pages.reveal": "person.read",
    "people_pages.cases": "case.read",
    "people_pages.case": "case.read",
    "people_pages.new_case": "case.write",
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
    "referral_pages.inbox": "referral.read",
    "referral_pages.outbox": "referral.read",
    "referral_pages.referral": "referral.read",
    "referral_pages.attachment": "referral.read",
    "referral_pages.act": "referral.write",
    "referral_pages.re_refer": "referral.write",
    "referral_pages.new_referral": "referral.write",
    "referral_pages.notifications": "referral.read",
    # marking read, like the API's NotificationRead: planners (read only) get escalations too
    "referral_pages.notification_read": "referral.read",
    "referral_pages.notifications_read_all": "referral.read",
    "auth.home": SELF_SERVICE,
    "auth.account": SELF_SERVICE,
    "auth.tokens": SELF_SERVICE,
    "auth.revoke_token": SELF_SERVICE,
    "auth.users": "user.manage",
    "auth.new_user": "user.manage",
    "auth.user": "user.manage",
    "auth.audit_log": "audit.read",
    "auth.audit_export": "audit.read",
}


def required_permission(endpoint: str, method: str) -> str | None:
    rule = ENDPOINT_PERMISSIONS.get(endpoint)
    if isinstance(rule, dict):
        return rule.get("GET" if method in ("HEAD", "OPTIONS") else method)
    return rule


def current_principal() -> Principal | None:
    return g.get("user")


def scope(permission: str) -> Scope:
    """The current user's scope of a permission (NOWHERE outside a request or logged out)."""
    user = current_principal()
    return user.scope(permission) if user is not None else NOWHERE


class Unauthenticated(DomainError):
    status, title = 401, "Unauthorized"


def _principal(user: User | None, via: str) -> Principal | None:
    if user is None or not user.active:
        return None
    return Principal(user=user, grants=list(user.grants), via=via)


def _from_token() -> Principal | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    with transactional():  # the token's last use stays stamped even if the request then fails
        user = ops.user_for_token(get_session(), value.strip())
    return _principal(user, "token")


def _from_session() -> Principal | None:
    uid = session.get("uid")
    if uid is None:
        return None
    now = time.time()
    cfg = current_app.config
    if (now - session.get("seen", 0) > cfg["SESSION_IDLE_MINUTES"] * 60
            or now - session.get("since", 0) > cfg["SESSION_MAX_HOURS"] * 3600):
        session.clear()
        g.session_expired = True
        return None
    user = get_session().get(User, uid)
    if user is None or user.session_epoch != session.get("epoch"):
        session.clear()
        return None
    session["seen"] = now
    return _principal(user, "session")


def start_session(user: User) -> None:
    """A fresh session (nothing carried over from before the login, the CSRF secret included)."""
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF caches the token of the old session here
    now = time.time()
    session.update(uid=user.id, epoch=user.session_epoch, since=now, seen=now)
    session.permanent = True


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _check():
    endpoint = request.endpoint
    if endpoint is None:  # no route: the 404 handler answers
        return None
    g.session_expired = False
    g.user = _from_token() if _is_api() else _from_session()
    if endpoint in PUBLIC:
        return None
    if g.user is None:
        if _is_api():
            raise Unauthenticated("Send a personal API token: Authorization: Bearer <token>.",
                                  headers={"WWW-Authenticate": 'Bearer realm="rehab-net"'})
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    permission = required_permission(endpoint, request.method)
    if permission is None:  # undeclared endpoint: refuse (fail closed)
        raise Forbidden("This endpoint declares no permission.")
    if not g.user.can(permission):
        if _is_api():
            raise Forbidden(f"Your roles do not include {permission}.")
        abort(403)
    return None


def init_app(app: Flask) -> None:
    app.before_request(_check)

    @app.context_processor
    def _user():
        return {"current_user": g.get("user"), "session_expired": g.get("session_expired")}
