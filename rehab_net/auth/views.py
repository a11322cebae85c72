"""Accounts over the JSON API: who am I, my tokens, users and grants (admin), the audit log
(auditor)."""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from flask import Response, g
from flask.views import MethodView

from rehab_net import access
from rehab_net.api import Blueprint
from rehab_net.auth import audit
from rehab_net.auth import operations as ops
from rehab_net.auth import schemas as s
from rehab_net.auth.guard import scope
from rehab_net.auth.models import AuditEvent, User
from rehab_net.auth.permissions import permissions_of
from rehab_net.db import get_session, utcnow
from rehab_net.downloads import attachment
from rehab_net.errors import NotFound
from rehab_net.listing import apply_sort, page_of
from rehab_net.openapi import TEXT_BODY
from rehab_net.schemas import PageArgs

blp = Blueprint("auth_api", __name__, url_prefix="/api/v1",
                description="Accounts: tokens, users and role grants, the audit log")

# endpoint -> permission, or {method: permission} (rehab_net/access.py; the guard refuses
# an endpoint not declared). Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "auth_api.Me": access.SELF_SERVICE,
    "auth_api.Tokens": access.SELF_SERVICE,
    "auth_api.TokenItem": access.SELF_SERVICE,
    "auth_api.Users": "user.manage",
    "auth_api.UserItem": "user.manage",
    "auth_api.UserGrants": "user.manage",
    "auth_api.UserGrantItem": "user.manage",
    "auth_api.AuditEvents": "audit.read",
    "auth_api.AuditExport": "audit.read",
}


AUDIT_COLUMNS = ("id", "at", "actor", "action", "object_type", "object_code", "remote_addr",
                 "reason", "detail")


def managed_user(username: str) -> User:
    """A user the current admin may manage; anyone else is 'not found'."""
    session = get_session()
    stmt = ops.list_users(scope=scope("user.manage")).where(User.username == username.lower())
    user = session.scalar(stmt)
    if user is None:
        raise NotFound("auth.user_not_found", username=username)
    return user


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, s.MeSchema)
    def get(self):
        """The caller: username, roles with their places, and the permissions they give."""
        me = g.user
        return {"username": me.username, "display_name": me.display_name, "grants": me.grants,
                "permissions": sorted(p for p in permissions_of(me.grants) if me.can(p))}


@blp.route("/tokens")
class Tokens(MethodView):
    @blp.response(200, s.TokenSchema(many=True))
    def get(self):
        """My API tokens (never their values)."""
        return ops.user_tokens(get_session(), g.user.user)

    @blp.arguments(s.CreateTokenSchema)
    @blp.response(201, s.NewTokenSchema)
    def post(self, data):
        """Create a token; its value is in this answer only."""
        session = get_session()
        days = data["expires_in_days"]
        token, plain = ops.create_token(session, g.user.user, data["name"],
                                        utcnow() + timedelta(days=days) if days else None)
        session.flush()
        token.token = plain  # for this answer only; never stored
        return token


@blp.route("/tokens/<int:token_id>")
class TokenItem(MethodView):
    @blp.response(204)
    def delete(self, token_id):
        """Revoke one of my tokens (at once, for every request after this one)."""
        session = get_session()
        ops.revoke_token(session, ops.get_token(session, g.user.user, token_id))
        session.flush()


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, s.UserSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Users whose roles all lie in the region you administer."""
        stmt = ops.list_users(scope=scope("user.manage"))
        return page_of(get_session(), stmt.order_by(None).order_by(User.username),
                       pagination_parameters)

    @blp.arguments(s.CreateUserSchema)
    @blp.response(201, s.UserSchema)
    def post(self, data):
        """Create a user with an initial password and roles."""
        session = get_session()
        user = ops.create_user(session, username=data["username"],
                               display_name=data["display_name"], password=data["password"])
        for grant in data["grants"]:
            ops.grant(session, user, grant["role"], grant["place"],
                      within=scope("user.manage"), by=g.user.user)
        session.flush()
        return user


@blp.route("/users/<username>")
class UserItem(MethodView):
    @blp.response(200, s.UserSchema)
    def get(self, username):
        """One user."""
        return managed_user(username)

    @blp.arguments(s.UpdateUserSchema)
    @blp.response(200, s.UserSchema)
    def patch(self, data, username):
        """Rename, (de)activate, or set a new password (which ends the user's sessions)."""
        session = get_session()
        user = managed_user(username)
        if "display_name" in data:
            user.display_name = data["display_name"]
        if "password" in data:
            ops.check_may_take_over(session, g.user.user, user, scope("user.manage"))
            ops.set_password(session, user, data["password"])
        if "active" in data:
            ops.set_active(session, user, data["active"])
        session.flush()
        return user


@blp.route("/users/<username>/grants")
class UserGrants(MethodView):
    @blp.arguments(s.GrantInput)
    @blp.response(201, s.GrantSchema)
    def post(self, data, username):
        """Grant a role at a place (inside the region you administer)."""
        session = get_session()
        grant = ops.grant(session, managed_user(username), data["role"], data["place"],
                          within=scope("user.manage"), by=g.user.user)
        session.flush()
        return grant


@blp.route("/users/<username>/grants/<int:grant_id>")
class UserGrantItem(MethodView):
    @blp.response(204)
    def delete(self, username, grant_id):
        """Take a role away."""
        session = get_session()
        ops.revoke_grant(session, managed_user(username), grant_id, by=g.user.user)
        session.flush()


def _audit_query(args):
    filters = {k: args.get(k) for k in ("actor", "action", "object_type", "object_code",
                                        "person", "since", "until")}
    stmt = ops.list_audit_events(**filters, scope=scope("audit.read"))
    return apply_sort(stmt, args.get("sort"), {"at": AuditEvent.at, "id": AuditEvent.id},
                      (AuditEvent.id.desc(),))


@blp.route("/audit-events")
class AuditEvents(MethodView):
    @blp.arguments(s.AuditListArgs, location="query")
    @blp.response(200, s.AuditEventSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Search the audit log (newest first)."""
        return page_of(get_session(), _audit_query(args), pagination_parameters)


def audit_csv(events) -> str:
    from rehab_net import spreadsheet

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(spreadsheet.row(AUDIT_COLUMNS))
    for e in events:
        writer.writerow(spreadsheet.row([e.id, e.at.isoformat(), e.actor, e.action, e.object_type,
                         e.object_code or "", e.remote_addr or "", e.reason or "",
                         json.dumps(e.detail, ensure_ascii=False) if e.detail else ""]))
    return out.getvalue()


def export_response(args) -> Response:
    """The filtered log as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese);
    the export itself is audited."""
    session = get_session()
    events = list(session.scalars(_audit_query(args).limit(100_000)))
    body = "\ufeff" + audit_csv(events)
    audit.record(session, "export", "audit_event", None,
                 detail={"count": len(events),
                         "filters": {k: str(v) for k, v in args.items() if v}})
    session.flush()
    return Response(body, mimetype="text/csv", headers=attachment("audit-log.csv"))


@blp.route("/audit-events/export")
class AuditExport(MethodView):
    @blp.arguments(s.AuditFilterArgs, location="query")
    @blp.response(200, TEXT_BODY, content_type="text/csv")
    def get(self, args):
        """The filtered audit log as a CSV file (up to 100,000 events)."""
        return export_response(args)
