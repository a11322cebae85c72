"""Issue 11, defects 2, 5 and 10: the grant rules (no self-grant, a regional administrator never
reaches personal data), a regional auditor's view of the log, names in API lists, and no
existence oracle on persons. Every test here failed on df29d45."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from rehab_net.auth.models import AuditEvent, User
from rehab_net.people.identifiers import make_resident_id
from tests.factories import (
    create_case,
    create_person,
    create_user,
    log_in,
    token_for,
    two_district_network,
)


@pytest.fixture
def world(app, session):
    """Hailar (150702) with the centre CT01 and station ST150702001; New Barag (150727) with the
    station ST150727001. A network admin, a Hailar admin, a Hailar auditor and a network
    auditor; a clinic worker in each district; one person in each district."""
    r = two_district_network(session)
    r["in"] = create_person(session, code="PIN", name="张三丰", guardian_name="张大山",
                            home_region_code="150702001001")
    r["out"] = create_person(session, code="POUT", name="巴特尔",
                             home_region_code="150727001001",
                             resident_id=make_resident_id("150727", date(2020, 2, 2), 77))
    create_case(session, r["in"], code="KIN")
    create_case(session, r["out"], code="KOUT")
    u = r["users"] = {
        "netadmin": create_user(session, "netadmin", grants=[("admin", None)]),
        "admin": create_user(session, "dadmin", grants=[("admin", r["district"])]),
        "auditor": create_user(session, "dauditor", grants=[("auditor", r["district"])]),
        "netauditor": create_user(session, "netauditor", grants=[("auditor", None)]),
        "staff_in": create_user(session, "staffin", grants=[("clinic", r["station"])]),
        "staff_out": create_user(session, "staffout", grants=[("clinic", r["station2"])]),
        "planner_in": create_user(session, "plannerin", grants=[("planner", r["township"])]),
        "fresh": create_user(session, "fresh"),
    }
    session.commit()
    r["tokens"] = {name: token_for(session, user) for name, user in u.items()}
    return r


def api(client, world, who, method, url, body=None):
    return client.open(url, method=method, json=body,
                       headers={"Authorization": f"Bearer {world['tokens'][who]}"})


def grants_of(session, username):
    session.expire_all()
    user = session.scalar(select(User).where(User.username == username))
    return sorted((g.role, (g.facility or g.region).code if (g.facility or g.region) else None)
                  for g in user.grants)


# --- nobody grants to themselves ------------------------------------------------------------------
@pytest.mark.parametrize("who,body", [
    ("admin", {"role": "auditor", "place": "150702"}),
    ("admin", {"role": "coordinator", "place": "CT01"}),
    ("admin", {"role": "planner", "place": "150702001"}),
    ("admin", {"role": "admin", "place": "150702001"}),
    ("netadmin", {"role": "auditor", "place": None}),
    ("netadmin", {"role": "clinic", "place": "ST150702001"}),
])
def test_nobody_grants_a_role_to_themselves(anonymous, world, session, who, body):
    me = world["users"][who].username
    before = grants_of(session, me)
    got = api(anonymous, world, who, "POST", f"/api/v1/users/{me}/grants", body)
    assert got.status_code == 403, got.get_json()
    assert got.mimetype == "application/problem+json"
    assert grants_of(session, me) == before


# --- a regional administrator never reaches personal data ----------------------------------------
@pytest.mark.parametrize("body", [
    {"role": "auditor", "place": "150702"},
    {"role": "auditor", "place": None},
    {"role": "coordinator", "place": "CT01"},
    {"role": "clinic", "place": "ST150702001"},
    {"role": "admin", "place": None},          # the whole network: outside its region
    {"role": "planner", "place": "150700"},    # the city: above its region
    {"role": "planner", "place": "150727"},    # the other district
])
def test_a_regional_admin_grants_no_role_that_reads_personal_data(anonymous, world, session, body):
    got = api(anonymous, world, "admin", "POST", "/api/v1/users/fresh/grants", body)
    assert got.status_code == 422, got.get_json()
    assert got.get_json()["errors"][0]["field"] in ("role", "place")
    assert grants_of(session, "fresh") == []


def test_a_regional_admin_grants_planner_and_admin_roles_in_its_region(anonymous, world, session):
    for body in ({"role": "planner", "place": "150702001"}, {"role": "admin", "place": "150702"}):
        got = api(anonymous, world, "admin", "POST", "/api/v1/users/fresh/grants", body)
        assert got.status_code == 201, got.get_json()
    assert grants_of(session, "fresh") == [("admin", "150702"), ("planner", "150702001")]


def test_a_regional_admin_cannot_create_a_puppet_with_a_personal_data_role(anonymous, world,
                                                                            session):
    got = api(anonymous, world, "admin", "POST", "/api/v1/users", {
        "username": "puppet", "display_name": "Puppet", "password": "a long password 1",
        "grants": [{"role": "coordinator", "place": "CT01"}]})
    assert got.status_code == 422, got.get_json()
    assert session.scalar(select(User).where(User.username == "puppet")) is None


def test_a_regional_admin_cannot_take_over_a_clinic_account_by_its_password(anonymous, world):
    got = api(anonymous, world, "admin", "PATCH", "/api/v1/users/staffin",
              {"password": "taken over at last"})
    assert got.status_code == 403, got.get_json()
    got = api(anonymous, world, "admin", "PATCH", "/api/v1/users/plannerin",
              {"password": "a new planner password"})
    assert got.status_code == 200, got.get_json()
    # A network administrator may (it could grant the role itself).
    got = api(anonymous, world, "netadmin", "PATCH", "/api/v1/users/staffin",
              {"password": "reset by the network admin"})
    assert got.status_code == 200, got.get_json()


def test_the_network_admin_grants_auditor_and_the_grant_and_revoke_are_audited(
        anonymous, world, session):
    got = api(anonymous, world, "netadmin", "POST", "/api/v1/users/fresh/grants",
              {"role": "auditor", "place": "150702"})
    assert got.status_code == 201, got.get_json()
    grant_id = got.get_json()["id"]
    got = api(anonymous, world, "netadmin", "DELETE", f"/api/v1/users/fresh/grants/{grant_id}")
    assert got.status_code == 204
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(("grant", "revoke"))).order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor, e.object_code, e.detail) for e in events] == [
        ("grant", "netadmin", "fresh", {"role": "auditor", "place": "150702"}),
        ("revoke", "netadmin", "fresh", {"role": "auditor", "place": "150702"}),
    ]


def test_an_admin_cannot_take_its_own_admin_role_away(anonymous, world, session):
    me = world["users"]["admin"]
    got = api(anonymous, world, "admin", "DELETE",
              f"/api/v1/users/dadmin/grants/{me.grants[0].id}")
    assert got.status_code == 403
    assert grants_of(session, "dadmin") == [("admin", "150702")]


def test_the_users_page_refuses_a_self_grant_in_chinese_and_odd_grant_ids(app, world, session):
    c = app.test_client()
    log_in(c, world["users"]["admin"])
    page = c.get("/admin/users/dadmin")
    assert page.status_code == 200
    import re
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    token = csrf.group(1) if csrf else ""
    got = c.post("/admin/users/dadmin", data={"action": "grant", "role": "auditor",
                                              "place": "150702", "csrf_token": token})
    assert got.status_code == 422
    assert "任何人都不能给自己授予角色" in got.get_data(as_text=True)
    for odd in ("abc", "9" * 40, "-1", ""):
        got = c.post("/admin/users/dadmin", data={"action": "revoke", "grant_id": odd,
                                                  "csrf_token": token})
        assert got.status_code == 422, odd
    assert grants_of(session, "dadmin") == [("admin", "150702")]


# --- a regional auditor reads its region's events ------------------------------------------------
def test_a_regional_auditor_reads_only_its_regions_events(anonymous, world, session):
    for who, code in (("staff_in", "PIN"), ("staff_out", "POUT")):
        assert api(anonymous, world, who, "GET", f"/api/v1/persons/{code}").status_code == 200

    def seen(who, url="/api/v1/audit-events?page_size=100"):
        got = api(anonymous, world, who, "GET", url)
        assert got.status_code == 200, got.get_json()
        return {(e["actor"], e["action"], e["object_code"]) for e in got.get_json()}

    regional = seen("auditor")
    assert ("staffin", "read", "PIN") in regional
    assert not {e for e in regional if e[0] == "staffout" or e[2] in ("POUT", "KOUT")}
    network_wide = seen("netauditor")
    assert {("staffin", "read", "PIN"), ("staffout", "read", "POUT")} <= network_wide
    # The filters cannot widen it, and the CSV export is the same view.
    assert not seen("auditor", "/api/v1/audit-events?actor=staffout")
    csv = api(anonymous, world, "auditor", "GET", "/api/v1/audit-events/export")
    assert csv.status_code == 200
    text = csv.get_data(as_text=True)
    assert "staffin" in text and "staffout" not in text and "POUT" not in text


def test_the_audit_page_of_a_regional_auditor_is_scoped_too(app, world):
    c = app.test_client()
    api(app.test_client(), world, "staff_out", "GET", "/api/v1/persons/POUT")
    api(app.test_client(), world, "staff_in", "GET", "/api/v1/persons/PIN")
    log_in(c, world["users"]["auditor"])
    html = c.get("/audit").get_data(as_text=True)
    assert "staffin" in html and "staffout" not in html


# --- names in API lists ---------------------------------------------------------------------------
def test_person_lists_show_the_surname_only_and_the_record_the_full_name(anonymous, world):
    got = api(anonymous, world, "staff_in", "GET", "/api/v1/persons")
    assert got.status_code == 200
    row = next(p for p in got.get_json() if p["code"] == "PIN")
    assert (row["name"], row["guardian_name"]) == ("张**", "张**")
    assert "三丰" not in got.get_data(as_text=True) and "大山" not in got.get_data(as_text=True)
    one = api(anonymous, world, "staff_in", "GET", "/api/v1/persons/PIN").get_json()
    assert (one["name"], one["guardian_name"]) == ("张三丰", "张大山")


# --- no existence oracle --------------------------------------------------------------------------
def test_a_person_filter_outside_the_scope_answers_like_an_unknown_code(anonymous, world):
    other = api(anonymous, world, "staff_in", "GET", "/api/v1/cases?person=POUT")
    unknown = api(anonymous, world, "staff_in", "GET", "/api/v1/cases?person=PNOBODY")
    assert other.status_code == unknown.status_code == 422
    assert other.get_json()["errors"][0]["field"] == unknown.get_json()["errors"][0]["field"]
    mine = api(anonymous, world, "staff_in", "GET", "/api/v1/cases?person=PIN")
    assert [c["code"] for c in mine.get_json()] == ["KIN"]


def _person(code, resident_id):
    return {"code": code, "name": "王五", "resident_id": resident_id,
            "home_region_code": "150702001001"}


def test_a_duplicate_id_of_another_district_is_refused_without_detail_and_audited(
        anonymous, world, session):
    out_id = world["out"].resident_id
    got = api(anonymous, world, "staff_in", "POST", "/api/v1/persons", _person("PDUP", out_id))
    assert got.status_code == 409
    body = got.get_data(as_text=True)
    assert "POUT" not in body and "150727" not in body and "巴特尔" not in body
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "duplicate_id"))
    assert (event.actor, event.object_code, event.detail) == ("staffin", "POUT",
                                                               {"attempted_code": "PDUP"})
    assert api(anonymous, world, "staff_in", "GET", "/api/v1/persons/PDUP").status_code == 404


def test_a_duplicate_id_in_ones_own_area_names_the_record(anonymous, world):
    got = api(anonymous, world, "staff_in", "POST", "/api/v1/persons",
              _person("PDUP", world["in"].resident_id))
    assert got.status_code == 409
    assert "PIN" in got.get_json()["detail"]


def test_a_regional_auditor_sees_the_duplicate_attempt_on_its_person(anonymous, world):
    api(anonymous, world, "staff_out", "POST", "/api/v1/persons",
        {**_person("PDUP2", world["in"].resident_id), "home_region_code": "150727001001"})
    seen = api(anonymous, world, "auditor", "GET", "/api/v1/audit-events?action=duplicate_id")
    assert [(e["actor"], e["object_code"]) for e in seen.get_json()] == [("staffout", "PIN")]
