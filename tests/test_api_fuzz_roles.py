"""Fuzzing as each kind of user: schemathesis over the whole API with a real token of every role,
on a seeded world (referrals in several states, slots, a booked appointment, a waitlist entry).
Without a token a fuzzer only ever meets 401; with one it reaches the code that reads input.
No input from any role may produce a server error, every error is problem+json, and every
response (status, content type, headers, body) is what /api/v1/openapi.json says it is.

Bounded (a few examples per operation and role, PostgreSQL only: production's database) so
`make test` stays well inside CI's limit; tests/test_api_fuzz.py covers SQLite without a token."""
from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from rehab_net.booking import operations as booking
from rehab_net.booking import waitlist
from rehab_net.referrals.operations.workflow import transition
from tests.booking_world import (
    at,
    make_slot,
    new_child_referral,
    next_monday,
)
from tests.conformance import violations
from tests.factories import create_user, token_for

FUZZ = settings(max_examples=4, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
ROLES = ("coordinator", "clinic", "planner", "admin", "auditor", "multi")


@pytest.fixture
def seeded(app, session, w):
    """The booking world plus: a booked appointment, a waitlist entry, a draft and a declined
    referral, and a user of every role (one with three grants of different roles and places)."""
    if app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("role fuzzing runs on PostgreSQL (the token-less fuzz covers SQLite)")
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    slot = make_slot(session, w, at(next_monday(), 9))
    booking.book(session, referral=w["referrals"][0], slot_id=slot.id, hold=False,
                 principal=None, now=now)
    waitlist.add(session, w["referrals"][1], note=None, principal=None, now=now)
    extra = new_child_referral(session, w)
    transition(session, extra, "start", principal=None, now=now + timedelta(hours=1))
    users = {
        "coordinator": [("coordinator", w["centre"])],
        "clinic": [("clinic", w["station"])],
        "planner": [("planner", w["district"])],
        "admin": [("admin", w["district"])],
        "auditor": [("auditor", w["district"])],
        "multi": [("clinic", w["station"]), ("coordinator", w["centre"]),
                  ("planner", w["district"])],
    }
    tokens = {}
    for role, grants in users.items():
        user = create_user(session, f"fuzz-{role}", grants=grants)
        session.commit()
        tokens[role] = token_for(session, user)
    return tokens


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_no_role_meets_a_server_error(app, seeded, role):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    headers = {"Authorization": f"Bearer {seeded[role]}"}
    failures = []
    for operation in operations:
        failures.extend(fuzz_operation(operation, headers))
    distinct = sorted({f"{where[0]} {where[1]} {where[2]}: {what}" for where, *what in failures})
    assert not distinct, f"{len(distinct)} distinct failures:\n" + "\n".join(distinct)


def fuzz_operation(operation, headers) -> list:
    found = []

    @FUZZ
    @given(case=operation.as_strategy())
    def fuzz(case):
        response = case.call(headers=headers)
        where = (operation.method.upper(), operation.path, response.status_code)
        if response.status_code >= 500:
            found.append((where, response.text[:200]))
        elif response.status_code >= 400 and response.status_code != 304:
            kind = {k.lower(): v for k, v in response.headers.items()}.get("content-type", [""])
            kind = kind[0] if isinstance(kind, list) else kind
            if not kind.startswith("application/problem+json"):
                found.append((where, "not problem+json", kind))
        found.extend((where, v) for v in violations(case, response))

    fuzz()
    return found
