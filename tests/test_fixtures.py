"""The suite's own fixtures (tests/conftest.py): no app context is pushed around a test, so a
request of the test client never sees the test body's `g`, nor one user's request the `g` of
another's (Flask-WTF's cached CSRF token, the guard's principal, the locale)."""
from __future__ import annotations

import re

import pytest
from flask import g, has_app_context, request_finished, request_started
from sqlalchemy import select

from rehab_net.auth.models import User
from tests.factories import create_user, log_in


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_the_test_body_runs_in_no_app_context(app, session):
    assert not has_app_context()
    with app.app_context():
        assert has_app_context()
    assert not has_app_context()


def test_a_request_never_sees_the_test_bodys_g(app, client):
    seen = []

    def look(_sender, **_kw):
        seen.append((g.get("x"), g.get("csrf_token"), g.get("user")))

    with request_started.connected_to(look, app):
        with app.app_context():
            g.x = "the test body's"
            with pytest.raises(RuntimeError, match="share its `g`"):
                client.get("/account")
        assert seen == []  # refused before it started
        assert client.get("/account").status_code == 200
        assert client.get("/account").status_code == 200
    # Each request starts with a `g` of its own: nothing of the test body's, nor of the request
    # before (which cached a CSRF token and a principal in its `g`).
    assert seen == [(None, None, None), (None, None, None)]


def test_two_users_requests_in_one_test_have_their_own_csrf_token_and_principal(
        app, session, client, operator):
    other = app.test_client()
    log_in(other, create_user(session, "someone", grants=[("auditor", None)]))
    session.commit()
    principals, tokens = [], []

    def look(_sender, **_kw):
        principals.append(g.user.user.username)
        tokens.append(g.get("csrf_token"))

    with request_finished.connected_to(look, app):
        pages = [c.get("/account").get_data(as_text=True) for c in (client, other, client)]
    assert principals == ["operator", "someone", "operator"]
    assert tokens[0] != tokens[1] and tokens[1] != tokens[2]  # each cached in its own `g`
    form = [_csrf(html) for html in pages]
    assert form[0] != form[1]
    crossed = client.post("/account/tokens", data={"name": "x", "csrf_token": form[1]})
    assert crossed.status_code == 400 and "CSRF" in crossed.get_data(as_text=True)
    assert client.post("/account/tokens", data={"name": "x", "csrf_token": form[2]}).status_code \
        == 200


def test_what_the_test_read_holds_up_no_request_and_what_it_wrote_is_seen_once_committed(
        session, client, operator):
    assert session.scalar(select(User.username).where(User.id == operator.id)) == "operator"
    assert client.get("/api/v1/me").json["username"] == "operator"  # no wait for a lock
    operator.display_name = "Renamed"
    session.commit()
    assert client.get("/api/v1/me").json["display_name"] == "Renamed"
    got = client.patch("/api/v1/users/operator", json={"display_name": "By the app"})
    assert got.status_code == 200, got.json
    assert operator.display_name == "Renamed"  # what the test loaded keeps its values ...
    session.expire_all()
    assert operator.display_name == "By the app"  # ... until it reads again
