"""Personal data protection: IDs encrypted at rest, audited reads and reveals, the append-only
log, CSRF, login throttling, token revocation, session expiry, headers."""
from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from rehab_net import protection
from rehab_net.auth.models import AuditEvent
from rehab_net.people.identifiers import make_resident_id
from tests.factories import (
    TEST_PASSWORD,
    create_case,
    create_person,
    create_user,
    log_in,
    tiny_network,
    token_for,
)

NUMBER = make_resident_id("150702", date(2021, 6, 1), 123)


@pytest.fixture
def net(session):
    r = tiny_network(session)
    r["person"] = create_person(session, code="P1", resident_id=NUMBER,
                                birth_date=date(2021, 6, 1))
    session.commit()
    return r


def events(session, **where):
    stmt = session.query(AuditEvent).filter_by(**where).order_by(AuditEvent.id)
    return stmt.all()


def test_the_id_number_is_not_readable_in_the_database(app, session, net):
    raw = session.execute(text("SELECT resident_id, resident_id_index FROM person")).one()
    assert NUMBER not in raw[0] and raw[0].startswith("v1:t2:")
    assert NUMBER not in raw[1] and len(raw[1]) == 64
    assert NUMBER[:14] not in raw[0]  # not even the birth-date part
    if session.bind.dialect.name == "sqlite":  # the bytes on disk: the file and its WAL
        path = Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
        for f in (path, path.with_name(path.name + "-wal")):
            assert NUMBER.encode() not in f.read_bytes()
    # ... and the application reads it back, finds it by exact number, refuses a duplicate
    session.expire_all()
    assert session.get(type(net["person"]), net["person"].id).resident_id == NUMBER


def test_exact_lookup_and_uniqueness_work_through_the_blind_index(client, net):
    got = client.post("/api/v1/persons/lookup", json={"resident_id": NUMBER.lower()})
    assert got.status_code == 200 and got.json["code"] == "P1"
    dup = client.post("/api/v1/persons", json=dict(code="P2", name="重复", resident_id=NUMBER,
                                                   home_region_code="150702001001"))
    assert dup.status_code == 409


def test_a_tampered_or_foreign_ciphertext_does_not_decrypt(app):  # app: configures the keys
    sealed = protection.encrypt(NUMBER, "person.resident_id")
    with pytest.raises(protection.KeyError_):
        protection.decrypt(sealed, "case.certificate_number")  # moved to another column
    prefix, kid, body = sealed.split(":")
    flipped = body[:-4] + ("AAAA" if body[-4:] != "AAAA" else "BBBB")
    with pytest.raises(protection.KeyError_):
        protection.decrypt(f"{prefix}:{kid}:{flipped}", "person.resident_id")


def test_values_under_a_retired_key_still_decrypt_and_new_ones_use_the_current(app):
    ring = protection.keyring()
    old = protection.Keyring(current="t1", keys=ring.keys, index_key=ring.index_key)
    protection.configure(old)
    try:
        sealed = protection.encrypt(NUMBER, "person.resident_id")
    finally:
        protection.configure(ring)
    assert protection.key_id_of(sealed) == "t1"
    assert protection.decrypt(sealed, "person.resident_id") == NUMBER
    assert protection.key_id_of(protection.encrypt(NUMBER, "x")) == "t2"


def test_ids_are_masked_by_default_and_a_reveal_needs_a_reason_and_is_audited(client, session,
                                                                            net):
    got = client.get("/api/v1/persons/P1")
    assert got.json["resident_id"] == NUMBER[:3] + "*" * 11 + NUMBER[-4:]
    assert [e.action for e in events(session, object_code="P1")] == ["create", "read"]
    refused = client.post("/api/v1/persons/P1/reveal", json={})
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "reason"
    got = client.post("/api/v1/persons/P1/reveal", json={"reason": "verify with the mother"})
    assert got.status_code == 200 and got.json["resident_id"] == NUMBER
    reveal = events(session, action="reveal")
    assert len(reveal) == 1 and reveal[0].reason == "verify with the mother"
    assert reveal[0].actor == "operator" and reveal[0].remote_addr == "127.0.0.1"


def test_the_reveal_page_records_the_reason(client, session, net):
    page = client.get("/persons/P1").get_data(as_text=True)
    assert NUMBER not in page and NUMBER[-4:] in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    got = client.post("/persons/P1/reveal", data={"csrf_token": token, "reason": "other"})
    assert got.status_code == 422 and NUMBER not in got.get_data(as_text=True)
    assert 'aria-invalid="true"' in got.get_data(as_text=True)
    got = client.post("/persons/P1/reveal", data={"csrf_token": token,
                                                  "reason": "certificate_check"})
    assert got.status_code == 200 and NUMBER in got.get_data(as_text=True)
    assert got.headers["Cache-Control"] == "no-store"
    assert [e.reason for e in events(session, action="reveal")] == ["certificate_check"]


def test_lists_and_changes_are_audited_without_personal_values(client, session, net):
    create_case(session, net["person"], code="K1")
    session.commit()
    client.get("/api/v1/cases")
    listed = events(session, action="list", object_type="case")
    assert listed[-1].detail["codes"] == ["K1"] and listed[-1].actor == "operator"
    person = client.get("/api/v1/persons/P1")
    got = client.patch("/api/v1/persons/P1", json={"guardian_phone": "13800138000"},
                       headers={"If-Match": person.headers["ETag"]})
    assert got.status_code == 200
    change = events(session, action="update", object_type="person")[-1]
    assert change.detail == {"fields": ["guardian_phone"]} and change.actor == "operator"
    everything = " ".join(str(e.detail) + str(e.reason) for e in events(session))
    assert "13800138000" not in everything and NUMBER not in everything


def test_a_read_answered_304_not_modified_is_audited_too(app, client, session, net):
    # flask-smorest raises the 304: the request's transaction still commits the read.
    first = client.get("/api/v1/persons/P1")
    again = client.get("/api/v1/persons/P1", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    with app.extensions["rehab_engine"].connect() as other:  # what is committed
        reads = other.scalar(text("SELECT count(*) FROM audit_event WHERE action = 'read' "
                                  "AND object_type = 'person' AND object_code = 'P1'"))
    assert reads == 2


def test_the_audit_log_is_append_only(session, net):
    session.add(AuditEvent(actor="x", action="read", object_type="person", object_code="P1"))
    session.commit()
    for statement in ("UPDATE audit_event SET actor = 'someone else'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    assert session.query(AuditEvent).filter_by(actor="x").count() == 1


def test_auditors_search_and_export_the_log(client, session, net):
    client.get("/api/v1/persons/P1")
    got = client.get("/api/v1/audit-events?action=read&object_type=person")
    assert got.status_code == 200 and [e["object_code"] for e in got.json] == ["P1"]
    csv = client.get("/api/v1/audit-events/export?object_code=P1")
    assert csv.mimetype == "text/csv" and "operator,read,person,P1" in csv.get_data(as_text=True)
    assert events(session, action="export")[-1].detail["count"] == 2  # created, read
    page = client.get("/audit?object_code=P1").get_data(as_text=True)
    assert "P1" in page and "operator" in page


def _csrf(client, url="/account"):
    return re.search(r'name="csrf_token" value="([^"]+)"',
                     client.get(url).get_data(as_text=True)).group(1)


@pytest.mark.parametrize("token", [None, "tampered"])
def test_forms_without_a_valid_csrf_token_are_refused(client, session, net, token):
    data = {"name": "script"}
    if token:
        data["csrf_token"] = _csrf(client)[:-3] + "xyz"
    got = client.post("/account/tokens", data=data)
    assert got.status_code == 400 and "CSRF" in got.get_data(as_text=True)
    assert client.get("/api/v1/tokens").json == [
        t for t in client.get("/api/v1/tokens").json if t["name"] != "script"]
    got = client.post("/account/tokens", data={**data, "csrf_token": _csrf(client)})
    assert got.status_code == 200


def test_each_browser_gets_its_own_csrf_token_and_it_works_only_for_it(app):
    """Two browsers side by side (as two users at one desk): each form carries the token of its
    own session; one browser's token is refused in the other's. (Every request of the test client
    has an app context and a `g` of its own, as in production: tests/test_fixtures.py.)"""
    first, second = app.test_client(), app.test_client()
    token_1 = re.search(r'name="csrf_token" value="([^"]+)"',
                        first.get("/login").get_data(as_text=True)).group(1)
    token_2 = re.search(r'name="csrf_token" value="([^"]+)"',
                        second.get("/login").get_data(as_text=True)).group(1)
    assert token_1 != token_2
    crossed = second.post("/login", data={"csrf_token": token_1, "username": "x", "password": "y"})
    assert crossed.status_code == 400 and "CSRF" in crossed.get_data(as_text=True)


def _login(client, username, password):
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    return client.post("/login", data={"csrf_token": token, "username": username,
                                       "password": password})


def test_login_logout_and_the_session(anonymous, session, net):
    create_user(session, "staff", grants=[("clinic", net["station"])])
    session.commit()
    assert _login(anonymous, "staff", "wrong password").status_code == 401
    got = _login(anonymous, "STAFF ", TEST_PASSWORD)
    assert got.status_code == 303 and anonymous.get("/persons").status_code == 200
    logins = [e.action for e in events(session, object_code="staff") if "log" in e.action]
    assert logins == ["login_failed", "login"]
    got = anonymous.post("/logout", data={"csrf_token": _csrf(anonymous)})
    assert got.status_code == 303 and anonymous.get("/persons").status_code == 302


def test_logins_are_slowed_per_username_and_address_never_locked(anonymous, app, session, net):
    create_user(session, "staff", grants=[("clinic", net["station"])])
    session.commit()
    app.config["LOGIN_DELAY_SECONDS"] = 60  # longer than the test takes (real time runs here)
    for _ in range(app.config["LOGIN_FREE_FAILURES"]):
        assert _login(anonymous, "staff", "wrong password").status_code == 401
    got = _login(anonymous, "staff", TEST_PASSWORD)  # right, but from where the guesses came
    assert got.status_code == 429 and 0 < int(got.headers["Retry-After"]) <= 60
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert _login(elsewhere, "staff", TEST_PASSWORD).status_code == 303  # the owner gets in


def test_sessions_expire_when_idle_and_when_the_password_changes(app, session, net):
    user = create_user(session, "staff", grants=[("clinic", net["station"])])
    session.commit()
    client = app.test_client()
    log_in(client, user)
    assert client.get("/persons").status_code == 200
    with client.session_transaction() as s:
        s["seen"] = time.time() - app.config["SESSION_IDLE_MINUTES"] * 60 - 1
    got = client.get("/persons")
    assert got.status_code == 302 and "/login" in got.headers["Location"]
    log_in(client, user)
    from rehab_net.auth import operations as ops

    ops.set_password(session, user, "another long password")
    session.commit()
    assert client.get("/persons").status_code == 302


def test_revoked_and_expired_tokens_stop_working(anonymous, client, session, net):
    made = client.post("/api/v1/tokens", json={"name": "script", "expires_in_days": 1}).json
    headers = {"Authorization": f"Bearer {made['token']}"}
    assert anonymous.get("/api/v1/me", headers=headers).status_code == 200
    assert client.delete(f"/api/v1/tokens/{made['id']}").status_code == 204
    assert anonymous.get("/api/v1/me", headers=headers).status_code == 401
    listed = {t["id"]: t for t in client.get("/api/v1/tokens").json}
    assert listed[made["id"]]["revoked_at"] and "token" not in listed[made["id"]]


def test_a_refused_request_still_stamps_the_tokens_last_use(app, anonymous, session, net):
    # The stamp is committed before the view's transaction, which the refusal rolls back.
    user = create_user(session, "no-roles")
    headers = {"Authorization": f"Bearer {token_for(session, user)}"}
    assert anonymous.get("/api/v1/persons", headers=headers).status_code == 403
    with app.extensions["rehab_engine"].connect() as other:  # what is committed
        used = other.scalar(text("SELECT last_used_at FROM api_token WHERE user_id = :u"),
                            {"u": user.id})
    assert used is not None


def test_security_headers(client, net):
    got = client.get("/persons/P1")
    csp = got.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Referrer-Policy"] == "no-referrer"
    assert got.headers["Cache-Control"] == "no-store"
    assert "<script>" not in got.get_data(as_text=True)  # no inline scripts at all
