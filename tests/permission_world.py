"""The permission tests' world, the fixture `world` (registered as a plugin in tests/conftest.py):
two districts, a person and a case in each, one user per role scoped to Hailar, users a district
admin may and may not manage, with their tokens; `call` acts as one of them."""
from __future__ import annotations

import pytest

from tests.factories import create_case, create_person, create_user, token_for, two_district_network


@pytest.fixture
def world(app, session):
    """Two districts. Hailar (150702) holds the centre CT01, the station ST150702001 and person
    IN; New Barag (150727) holds the station ST150727001 and person OUT."""
    r = two_district_network(session)
    r["in"] = create_person(session, code="PIN", home_region_code="150702001001")
    r["out"] = create_person(session, code="POUT", home_region_code="150727001001")
    r["case_in"] = create_case(session, r["in"], code="KIN")
    r["case_out"] = create_case(session, r["out"], code="KOUT")
    users = {
        "coordinator": create_user(session, "coord", grants=[("coordinator", r["centre"])]),
        "clinic": create_user(session, "staff", grants=[("clinic", r["station"])]),
        "planner": create_user(session, "dplanner", grants=[("planner", r["district"])]),
        "admin": create_user(session, "dadmin", grants=[("admin", r["district"])]),
        "auditor": create_user(session, "auditor1", grants=[("auditor", None)]),
    }
    # Users the district admin may (in) and may not (out) manage.
    users["managed"] = create_user(session, "managed", grants=[("clinic", r["station"])])
    users["unmanaged"] = create_user(session, "unmanaged", grants=[("clinic", r["station2"])])
    session.commit()
    r["tokens"] = {name: token_for(session, u) for name, u in users.items()}
    r["users"] = users
    return r


def call(client, world, role, method, url, body=None):
    headers = {"Authorization": f"Bearer {world['tokens'][role]}"}
    return client.open(url, method=method, json=body, headers=headers)
