"""`rehab-net users ...` and `rehab-net keys ...`."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from rehab_net import protection
from rehab_net.auth.models import User
from rehab_net.cli import main
from tests.factories import create_case, create_person, tiny_network


@pytest.fixture
def net(session):
    r = tiny_network(session)
    session.commit()
    return r


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(main, list(args), input=input)


def test_create_a_user_with_roles_and_a_token(app, session, net, anonymous):
    got = run(app, "users", "create", "wang", "--name", "王", "--role", "clinic@ST150702001",
              "--role", "planner@150702", "--password", "a long password")
    assert got.exit_code == 0, got.output
    user = session.query(User).filter_by(username="wang").one()
    assert sorted(g.role for g in user.grants) == ["clinic", "planner"]
    token = run(app, "users", "token", "wang").output.strip()
    me = anonymous.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json
    assert me["username"] == "wang" and "person.write" in me["permissions"]
    assert "wang" in run(app, "users", "list").output


@pytest.mark.parametrize("args,message", [
    (("--role", "coordinator@ST150702001"), "place: a coordinator works at a centre"),
    (("--role", "clinic"), "place: a clinic is granted at a facility"),
    (("--role", "planner@NOPE"), "place: region NOPE does not exist"),
    (("--role", "boss"), "role: must be one of"),
])
def test_bad_roles_are_refused_and_nothing_is_created(app, session, net, args, message):
    got = run(app, "users", "create", "li", "--name", "李", *args, "--password", "a long password")
    assert got.exit_code == 2 and message in got.output
    assert session.query(User).filter_by(username="li").count() == 0


def test_short_passwords_are_refused(app, session, net):
    got = run(app, "users", "create", "li", "--name", "李", "--password", "short")
    assert got.exit_code == 2 and "at least 10 characters" in got.output


def test_keys_rotate_moves_every_value_to_the_current_key(app, session, net):
    ring = protection.keyring()
    protection.configure(protection.Keyring(current="t1", keys=ring.keys,
                                            index_key=ring.index_key))
    try:
        person = create_person(session, birth_date=date(2020, 1, 1))
        from rehab_net.people.identifiers import make_certificate

        create_case(session, person, certificate_number=make_certificate(
            person.resident_id, "autism", 3))
        session.commit()
    finally:
        protection.configure(ring)
    assert "t1: 2 value(s)" in run(app, "keys", "status").output
    got = run(app, "keys", "rotate")
    assert got.exit_code == 0 and "re-encrypted 2 value(s) under key t2" in got.output
    status = run(app, "keys", "status").output
    assert "t2: 2 value(s)" in status and "t1:" not in status
    raw = session.execute(text("SELECT resident_id FROM person")).scalar()
    assert raw.startswith("v1:t2:")
    session.expire_all()
    assert session.get(type(person), person.id).resident_id == person.resident_id
