"""Who may do what, where: role x endpoint x in-scope / out-of-scope, all asserted. An object
outside the caller's scope answers 404 (never its data); a missing permission answers 403."""
from __future__ import annotations

from datetime import date

import pytest

from rehab_net import access
from tests.factories import (
    create_plan,
    create_user,
    log_in,
    token_for,
)
from tests.permission_world import call
from tests.planning_helpers import solve_here


def facility_body(code, region):
    return dict(code=code, name_zh="新站", name_en="New station", tier="station",
                region_code=region, lat=49.2, lon=119.7, ownership="public", designated=False,
                status="open")


SERVICE = dict(category="hearing", kind="training", name_zh="听力训练", name_en="Hearing training",
               tiers=["centre"], home_ok=False, duration_minutes=45)


def case_body(code, person):
    # physical follow-up: the world's persons hold an open autism-training case already, and a
    # second open case for the same service is refused (409)
    return dict(code=code, person_code=person, category="physical", grade=3,
                service_code="physical_follow_up", registered_on="2026-10-01")


# (role, method, url or (in-scope url, out-of-scope url), body (in, out), in status, out status)
TABLE = [
    # persons: read by the centre's coordinator (its district) and the station's staff
    ("coordinator", "GET", ("/api/v1/persons/PIN", "/api/v1/persons/POUT"), None, 200, 404),
    ("clinic", "GET", ("/api/v1/persons/PIN", "/api/v1/persons/POUT"), None, 200, 404),
    ("planner", "GET", ("/api/v1/persons/PIN", "/api/v1/persons/POUT"), None, 403, 403),
    ("admin", "GET", ("/api/v1/persons/PIN", "/api/v1/persons/POUT"), None, 403, 403),
    ("auditor", "GET", ("/api/v1/persons/PIN", "/api/v1/persons/POUT"), None, 403, 403),
    # revealing an ID number: only where the person may be read
    ("clinic", "POST", ("/api/v1/persons/PIN/reveal", "/api/v1/persons/POUT/reveal"),
     ({"reason": "verify identity"},) * 2, 200, 404),
    ("coordinator", "POST", ("/api/v1/persons/PIN/reveal", "/api/v1/persons/POUT/reveal"),
     ({"reason": "verify identity"},) * 2, 200, 404),
    ("planner", "POST", ("/api/v1/persons/PIN/reveal", "/api/v1/persons/POUT/reveal"),
     ({"reason": "verify identity"},) * 2, 403, 403),
    # cases
    ("coordinator", "GET", ("/api/v1/cases/KIN", "/api/v1/cases/KOUT"), None, 200, 404),
    ("clinic", "GET", ("/api/v1/cases/KIN", "/api/v1/cases/KOUT"), None, 200, 404),
    ("planner", "GET", ("/api/v1/cases/KIN", "/api/v1/cases/KOUT"), None, 403, 403),
    ("auditor", "GET", ("/api/v1/cases/KIN", "/api/v1/cases/KOUT"), None, 403, 403),
    # registering a case: clinic staff, for persons of their area only
    ("clinic", "POST", "/api/v1/cases", (case_body("KNEW1", "PIN"), case_body("KNEW2", "POUT")),
     201, 422),
    ("coordinator", "POST", "/api/v1/cases",
     (case_body("KNEW1", "PIN"), case_body("KNEW2", "POUT")), 403, 403),
    # registering a person: in the staff's area only
    ("clinic", "POST", "/api/v1/persons", "persons", 201, 422),
    # the network: readable by every role but the auditor; changed by admins in their region
    ("coordinator", "GET", ("/api/v1/facilities/CT01", "/api/v1/facilities/ST150727001"), None,
     200, 200),
    ("auditor", "GET", ("/api/v1/facilities/CT01", "/api/v1/facilities/ST150727001"), None,
     403, 403),
    ("admin", "POST", "/api/v1/facilities",
     (facility_body("STNEW1", "150702001"), facility_body("STNEW2", "150727001")), 201, 403),
    ("clinic", "POST", "/api/v1/facilities",
     (facility_body("STNEW1", "150702001"), facility_body("STNEW2", "150727001")), 403, 403),
    ("admin", "POST", ("/api/v1/services", "/api/v1/services"), (SERVICE, SERVICE), 403, 403),
    # users: admins manage users whose roles lie in their region
    ("admin", "GET", ("/api/v1/users/managed", "/api/v1/users/unmanaged"), None, 200, 404),
    ("admin", "POST", ("/api/v1/users/managed/grants", "/api/v1/users/managed/grants"),
     ({"role": "planner", "place": "150702001"}, {"role": "planner", "place": "150727001"}),
     201, 422),
    # ... and never a role that reads personal data (only a network administrator grants it)
    ("admin", "POST", ("/api/v1/users/managed/grants", "/api/v1/users/managed/grants"),
     ({"role": "clinic", "place": "ST150702001"}, {"role": "auditor", "place": "150702"}),
     422, 422),
    ("planner", "GET", ("/api/v1/users/managed", "/api/v1/users/unmanaged"), None, 403, 403),
    # the audit log: auditors only
    ("auditor", "GET", ("/api/v1/audit-events", "/api/v1/audit-events"), None, 200, 200),
    ("admin", "GET", ("/api/v1/audit-events", "/api/v1/audit-events"), None, 403, 403),
    ("clinic", "GET", ("/api/v1/audit-events/export", "/api/v1/audit-events/export"), None,
     403, 403),
    # plans: planners read; only a planner of the whole network starts one
    ("planner", "GET", ("/api/v1/plans", "/api/v1/plans"), None, 200, 200),
    ("clinic", "GET", ("/api/v1/plans", "/api/v1/plans"), None, 403, 403),
    ("planner", "POST", ("/api/v1/plans", "/api/v1/plans"), ({}, {}), 403, 403),
    ("planner", "PUT", ("/api/v1/policy", "/api/v1/policy"), ({}, {}), 403, 403),
]


def _person_body(code, village, seq):
    from rehab_net.people.identifiers import make_resident_id

    return dict(code=code, name="测试", home_region_code=village,
                resident_id=make_resident_id("150702", date(2022, 3, 4), seq))


@pytest.mark.parametrize("role,method,url,body,in_status,out_status", TABLE,
                         ids=[f"{r[0]}-{r[1]}-{r[2] if isinstance(r[2], str) else r[2][0]}"
                              for r in TABLE])
def test_permission_table(anonymous, world, role, method, url, body, in_status, out_status):
    urls = (url, url) if isinstance(url, str) else url
    if body == "persons":
        body = (_person_body("PNEW1", "150702001001", 901), _person_body("PNEW2", "150727001001",
                                                                         902))
    bodies = body or (None, None)
    got_in = call(anonymous, world, role, method, urls[0], bodies[0])
    got_out = call(anonymous, world, role, method, urls[1], bodies[1])
    assert (got_in.status_code, got_out.status_code) == (in_status, out_status), (
        got_in.get_json(), got_out.get_json())
    if out_status in (403, 404):
        text = got_out.get_data(as_text=True)
        assert world["out"].name not in text and world["out"].resident_id[-4:] not in text


@pytest.mark.parametrize("role,visible,hidden", [
    ("coordinator", {"PIN"}, {"POUT"}), ("clinic", {"PIN"}, {"POUT"}),
])
def test_lists_hold_only_the_callers_area(anonymous, world, role, visible, hidden):
    persons = {p["code"] for p in call(anonymous, world, role, "GET", "/api/v1/persons").json}
    cases = {c["person_code"] for c in call(anonymous, world, role, "GET", "/api/v1/cases").json}
    assert persons == visible and cases == visible
    assert not (persons | cases) & hidden


def test_lookup_by_id_number_outside_the_area_is_not_found(anonymous, world):
    number = world["out"].resident_id
    got = call(anonymous, world, "clinic", "POST", "/api/v1/persons/lookup",
               {"resident_id": number})
    assert got.status_code == 404
    got = call(anonymous, world, "clinic", "POST", "/api/v1/persons/lookup",
               {"resident_id": world["in"].resident_id})
    assert got.status_code == 200 and got.json["code"] == "PIN"


def test_district_planner_sees_only_the_district_in_plan_results(app, anonymous, world, session):
    from rehab_net.clock import today

    with app.app_context():  # the app's today
        plan = create_plan(session, today=today())
    session.commit()
    plan_id = plan.id
    solve_here(session, plan_id)
    rows = call(anonymous, world, "planner", "GET", f"/api/v1/plans/{plan_id}/assignments").json
    assert rows and {r["district_code"] for r in rows} == {"150702"}
    districts = call(anonymous, world, "planner", "GET", f"/api/v1/plans/{plan_id}/districts").json
    assert [d["district_code"] for d in districts] == ["150702"]


@pytest.mark.parametrize("role,url,in_status,out_status", [
    ("clinic", ("/persons/PIN", "/persons/POUT"), 200, 404),
    ("coordinator", ("/cases/KIN", "/cases/KOUT"), 200, 404),
    ("planner", ("/persons/PIN", "/persons/POUT"), 403, 403),
    ("auditor", ("/audit", "/audit"), 200, 200),
    ("admin", ("/audit", "/audit"), 403, 403),
    ("admin", ("/admin/users/managed", "/admin/users/unmanaged"), 200, 404),
    ("clinic", ("/admin/users", "/admin/users"), 403, 403),
    ("auditor", ("/", "/facilities"), 403, 403),
])
def test_pages_check_roles_and_scope(app, world, role, url, in_status, out_status):
    client = app.test_client()
    log_in(client, world["users"][role])
    assert client.get(url[0]).status_code == in_status
    got = client.get(url[1])
    assert got.status_code == out_status
    assert world["out"].name not in got.get_data(as_text=True)


def test_anonymous_api_is_401_and_pages_redirect_to_login(anonymous, world):
    got = anonymous.get("/api/v1/facilities")
    assert got.status_code == 401 and got.mimetype == "application/problem+json"
    assert got.headers["WWW-Authenticate"].startswith("Bearer")
    got = anonymous.get("/persons/PIN")
    assert got.status_code == 302 and got.headers["Location"].startswith("/login?next=")


def test_the_api_ignores_the_session_cookie(app, world):
    """A logged-in browser cannot be made to call the API (that would need CSRF protection)."""
    client = app.test_client()
    log_in(client, world["users"]["clinic"])
    assert client.get("/api/v1/persons/PIN").status_code == 401


def test_every_endpoint_declares_a_permission(app):
    """Each module's init_app declares its endpoints (PUBLIC ones too) in access's table."""
    declared = access.table(app)
    undeclared = sorted(r.endpoint for r in app.url_map.iter_rules() if r.endpoint not in declared)
    assert undeclared == []
    stale = sorted(set(declared) - {r.endpoint for r in app.url_map.iter_rules()})
    assert stale == []


# --- users with two and three grants of different roles and places -------------------------------
@pytest.fixture
def multi(world, session):
    """``two``: clinic staff at both stations (Hailar and New Barag). ``three``: clinic staff in
    Hailar, planner of New Barag, auditor of Hailar: each permission has its own scope."""
    world["users"]["two"] = create_user(session, "two", grants=[
        ("clinic", world["station"]), ("clinic", world["station2"])])
    world["users"]["three"] = create_user(session, "three", grants=[
        ("clinic", world["station"]), ("planner", world["district2"]),
        ("auditor", world["district"])])
    session.commit()
    for name in ("two", "three"):
        world["tokens"][name] = token_for(session, world["users"][name])
    return world


@pytest.mark.parametrize("who,method,url,body,status", [
    ("two", "GET", "/api/v1/persons/PIN", None, 200),
    ("two", "GET", "/api/v1/persons/POUT", None, 200),
    ("two", "GET", "/api/v1/cases/KOUT", None, 200),
    ("two", "GET", "/api/v1/cases?region=150727", None, 200),
    ("two", "POST", "/api/v1/cases", case_body("KNEW9", "POUT"), 201),
    ("three", "GET", "/api/v1/persons/PIN", None, 200),
    ("three", "GET", "/api/v1/persons/POUT", None, 404),   # a planner there reads no persons
    ("three", "GET", "/api/v1/cases/KOUT", None, 404),
    ("three", "GET", "/api/v1/persons?region=150702", None, 200),
    ("three", "POST", "/api/v1/cases", case_body("KNEW9", "POUT"), 422),
    ("three", "GET", "/api/v1/plans", None, 200),
    ("three", "POST", "/api/v1/plans", {}, 403),            # plan.run: network-wide only
    ("three", "GET", "/api/v1/audit-events", None, 200),
    ("three", "GET", "/api/v1/users", None, 403),
])
def test_users_with_several_grants(anonymous, multi, who, method, url, body, status):
    got = call(anonymous, multi, who, method, url, body)
    assert got.status_code == status, got.get_json()


def test_several_grants_give_the_union_of_their_areas_in_lists(anonymous, multi):
    persons = {p["code"] for p in call(anonymous, multi, "two", "GET", "/api/v1/persons").json}
    assert persons == {"PIN", "POUT"}
    persons = {p["code"] for p in call(anonymous, multi, "three", "GET", "/api/v1/persons").json}
    assert persons == {"PIN"}
