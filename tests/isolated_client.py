"""A test client whose every request has an application context (and so a `g`) of its own, as
in production, while still sharing the test's database session.

The `app` fixture keeps one app context open for the whole test so tests and factories can call
get_session(). A request made inside it would reuse that context, and with it `g`: Flask-WTF's
cached CSRF token, the guard's principal and the locale would pass from one user's request to
the next. Each request here runs in a fresh contextvars context with an app context of its
own, into which the test's session is lent (and taken back before the context ends, so the
request's teardown does not close the test's session)."""
from __future__ import annotations

import contextvars

from flask import g, has_app_context
from flask.testing import FlaskClient


class IsolatedClient(FlaskClient):
    def open(self, *args, **kwargs):
        lent = g.get("db_session") if has_app_context() else None

        def in_own_context():
            with self.application.app_context():
                if lent is not None:
                    g.db_session = lent
                try:
                    return FlaskClient.open(self, *args, **kwargs)
                finally:
                    if g.get("db_session") is lent:
                        g.pop("db_session", None)

        return contextvars.Context().run(in_own_context)
