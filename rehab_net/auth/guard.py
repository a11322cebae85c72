"""Who is asking, and may they? Runs before every request.

- The API (/api/...) authenticates with personal tokens only (``Authorization: Bearer rn_...``);
  it ignores the session cookie, so a browser cannot be tricked into calling it (no CSRF there).
- Pages authenticate with the session cookie, which expires after an idle time and after an
  absolute lifetime; forms carry a CSRF token (Flask-WTF).
- Every endpoint must be declared with its permission (or PUBLIC) in rehab_net/access.py's table,
  by the module that defines it (a ``PERMISSIONS`` dict beside its routes, handed over by its
  ``init_app``): an endpoint nobody declared is refused for everyone (fail closed), and
  tests/test_permissions.py walks the whole table.
"""
from __future__ import annotations

import time

from flask import Flask, abort, current_app, g, redirect, request, session, url_for

from rehab_net import access
from rehab_net.auth import operations as ops
from rehab_net.auth.models import User
from rehab_net.auth.permissions import NOWHERE, Scope

# Principal and SELF_SERVICE are re-exported: most callers import them from here.
from rehab_net.auth.principal import SELF_SERVICE, Principal  # noqa: F401
from rehab_net.db import get_session, transactional
from rehab_net.errors import DomainError, Forbidden  # noqa: F401  (Forbidden re-exported)


def current_principal() -> Principal | None:
    return access.current_principal()


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
    if access.is_public(endpoint):
        return None
    if g.user is None:
        if _is_api():
            raise Unauthenticated("auth.token_needed",
                                  headers={"WWW-Authenticate": 'Bearer realm="rehab-net"'})
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    permission = access.required_permission(endpoint, request.method)
    if permission is None:  # undeclared endpoint: refuse (fail closed)
        raise Forbidden("auth.no_permission_declared")
    if not g.user.can(permission):
        if _is_api():
            raise Forbidden("auth.permission_missing", permission=permission)
        abort(403)
    return None


def init_app(app: Flask) -> None:
    app.before_request(_check)

    @app.context_processor
    def _user():
        return {"current_user": g.get("user"), "session_expired": g.get("session_expired")}
