"""Persons and cases over the API on both databases: identifiers validated and masked, priority
derived, certificates checked, status transitions enforced, personal data never cached."""
from datetime import date

import pytest
from sqlalchemy import select

from rehab_net.people.identifiers import make_certificate, make_resident_id
from rehab_net.people.models import Case, CaseEvent
from tests.factories import create_case, create_person, tiny_network
from tests.responses import csrf_token, fields_of, problem

CHILD_ID = make_resident_id("150702", date(2021, 4, 5), 31)  # 5 years old on 2026-11-16


@pytest.fixture
def net(session):
    r = tiny_network(session)
    session.commit()
    return r


def new_person(client, **overrides):
    body = dict(code="P1", name="张小明", resident_id=CHILD_ID, home_region_code="150702001001",
                guardian_name="张伟", guardian_phone="13912345678", poverty_status="dibao")
    body.update(overrides)
    return client.post("/api/v1/persons", json=body)


def test_register_person_derives_birth_date_and_sex_and_masks(client, net):
    resp = new_person(client)
    assert resp.status_code == 201, resp.get_json()
    p = resp.get_json()
    assert p["birth_date"] == "2021-04-05" and p["sex"] == "M" and p["age"] == 5
    assert p["resident_id"] == CHILD_ID[:3] + "*" * 11 + CHILD_ID[-4:]
    assert p["guardian_phone"] == "139****5678"
    assert CHILD_ID not in resp.get_data(as_text=True)
    assert resp.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("overrides, field, rule", [
    ({"resident_id": CHILD_ID[:17] + ("0" if CHILD_ID[-1] != "0" else "1")}, "resident_id",
     "check character"),
    ({"birth_date": "2021-04-06"}, "birth_date", "does not match"),
    ({"sex": "F"}, "sex", "does not match"),
    ({"home_region_code": "150702001"}, "home_region_code", "village-level"),
    ({"guardian_phone": "12345"}, "guardian_phone", "11-digit"),
    ({"poverty_status": "rich"}, "poverty_status", "Must be one of"),
])
def test_person_validation_names_field_and_rule(client, net, overrides, field, rule):
    body = problem(new_person(client, **overrides), 422)
    assert rule in fields_of(body)[field]
    assert client.get("/api/v1/persons").get_json() == []


def test_duplicate_resident_id_is_a_conflict(client, net):
    assert new_person(client).status_code == 201
    body = problem(new_person(client, code="P2"), 409)
    assert CHILD_ID not in body["detail"]


def test_lookup_by_resident_id_is_a_post(client, net):
    new_person(client)
    resp = client.post("/api/v1/persons/lookup", json={"resident_id": CHILD_ID.lower()})
    assert resp.status_code == 200 and resp.get_json()["code"] == "P1"
    problem(client.post("/api/v1/persons/lookup", json={"resident_id": GB_OTHER}), 404)


GB_OTHER = make_resident_id("150702", date(1990, 1, 1), 1)


def test_case_priority_is_derived(client, net):
    new_person(client)
    resp = client.post("/api/v1/cases", json=dict(
        code="K1", person_code="P1", category="autism", grade=3, service_code="autism_training",
        certificate_number=make_certificate(CHILD_ID, "autism", 3)))
    assert resp.status_code == 201, resp.get_json()
    case = resp.get_json()
    assert case["priority"] == "child" and case["status"] == "registered"
    assert case["registered_on"] == "2026-11-16"  # today (pinned in tests)
    assert case["certificate_number"].startswith(CHILD_ID[:3] + "*")
    # priority is derived, never typed in: sending one is refused
    err = problem(client.post("/api/v1/cases", json=dict(
        code="K2", person_code="P1", category="autism", grade=3,
        service_code="autism_training", priority="standard")), 422)
    assert fields_of(err) == {"priority": "Unknown field."}


def test_case_priority_filter_and_sort(client, net, session):
    adult_severe = create_person(session, birth_date=date(1970, 1, 1))
    adult_poor = create_person(session, birth_date=date(1975, 1, 1), poverty_status="jiandang")
    child = create_person(session, birth_date=date(2020, 2, 29))
    create_case(session, adult_poor, code="K-poor", category="physical",
                service_code="physical_follow_up", grade=3)
    create_case(session, adult_severe, code="K-severe", category="physical",
                service_code="physical_follow_up", grade=1)
    create_case(session, child, code="K-child", grade=4)
    session.commit()
    rows = client.get("/api/v1/cases?sort=priority").get_json()
    assert [(c["code"], c["priority"]) for c in rows] == [
        ("K-child", "child"), ("K-severe", "severe"), ("K-poor", "poor")]
    assert [c["code"] for c in client.get("/api/v1/cases?priority=child").get_json()] == \
        ["K-child"]
    # the leap-day child turns 7 on 2027-03-01
    client.application.config["TODAY"] = "2027-03-01"
    assert client.get("/api/v1/cases?priority=child").get_json() == []
    client.application.config["TODAY"] = "2027-02-28"
    assert len(client.get("/api/v1/cases?priority=child").get_json()) == 1


@pytest.mark.parametrize("overrides, field, rule", [
    ({"certificate_number": make_certificate(CHILD_ID, "autism", 2)}, "certificate_number",
     "grade digit 2"),
    ({"certificate_number": make_certificate(GB_OTHER, "autism", 3)}, "certificate_number",
     "person's resident ID"),
    ({"service_code": "physical_follow_up"}, "service_code", "is a physical service"),
    ({"registered_on": "2026-11-17"}, "registered_on", "in the future"),
    ({"registered_on": "2020-01-01"}, "registered_on", "before the person's birth"),
    ({"grade": 5}, "grade", "less than or equal to 4"),
    ({"grade": "2"}, "grade", "Not a valid integer"),
    ({"person_code": "P404"}, "person_code", "does not exist"),
])
def test_case_validation(client, net, overrides, field, rule):
    new_person(client)
    body = dict(code="K1", person_code="P1", category="autism", grade=3,
                service_code="autism_training")
    body.update(overrides)
    err = problem(client.post("/api/v1/cases", json=body), 422)
    assert rule in fields_of(err)[field]


def test_multiple_disability_case_may_ask_any_service(client, net):
    new_person(client)
    resp = client.post("/api/v1/cases", json=dict(
        code="K1", person_code="P1", category="multiple", grade=2,
        service_code="physical_follow_up"))
    assert resp.status_code == 201


def test_case_status_transitions(client, net, session):
    create_case(session, code="K1")
    session.commit()
    url = "/api/v1/cases/K1"

    def patch(**body):
        return client.patch(url, json=body, headers={"If-Match": client.get(url).headers["ETag"]})

    assert patch(status="waiting").status_code == 200
    err = problem(patch(status="completed"), 422)
    assert "cannot change from waiting to completed" in fields_of(err)["status"]
    # referred, accepted, in service, completed follow the referrals: never set by hand
    err = problem(patch(status="referred"), 422)
    assert "allowed: closed" in fields_of(err)["status"]
    assert patch(status="closed").status_code == 200
    err = problem(patch(status="waiting"), 422)
    assert "allowed: none" in fields_of(err)["status"]


def test_a_status_changed_by_hand_is_a_move_with_its_event_row(client, net, session):
    create_case(session, code="K1")
    session.commit()
    url = "/api/v1/cases/K1"
    etag = client.get(url).headers["ETag"]
    moved = client.patch(url, json={"status": "waiting"}, headers={"If-Match": etag})
    assert moved.status_code == 200
    session.expire_all()
    events = session.scalars(select(CaseEvent).join(Case).where(Case.code == "K1")).all()
    assert [(e.action, e.from_status, e.to_status, e.actor) for e in events] == \
        [("wait", "registered", "waiting", "operator")]
    # the old ETag is stale: the move raised the version
    problem(client.patch(url, json={"status": "closed"}, headers={"If-Match": etag}), 412)


def test_a_service_change_may_not_make_a_second_open_case(client, net, session):
    person = create_person(session)
    create_case(session, person, code="K1", service_code="autism_training")
    create_case(session, person, code="K2", category="physical", grade=2,
                service_code="physical_follow_up")
    session.commit()
    url = "/api/v1/cases/K2"
    err = problem(client.patch(url, json={"service_code": "autism_training", "category": "autism"},
                               headers={"If-Match": client.get(url).headers["ETag"]}), 409)
    assert err["errors"][0]["field"] == "service_code" and err["errors"][0]["case_code"] == "K1"
    assert client.get(url).get_json()["service_code"] == "physical_follow_up"  # nothing written


def test_a_completed_case_put_back_on_the_waiting_list_may_not_make_a_second_open_case(
        client, net, session):
    person = create_person(session)
    create_case(session, person, code="K1").status = "completed"
    session.flush()
    create_case(session, person, code="K2")
    session.commit()
    url = "/api/v1/cases/K1"
    err = problem(client.patch(url, json={"status": "waiting"},
                               headers={"If-Match": client.get(url).headers["ETag"]}), 409)
    assert err["errors"][0]["case_code"] == "K2"
    assert client.get(url).get_json()["status"] == "completed"


def test_changing_grade_rechecks_the_certificate(client, net):
    new_person(client)
    client.post("/api/v1/cases", json=dict(
        code="K1", person_code="P1", category="autism", grade=3, service_code="autism_training",
        certificate_number=make_certificate(CHILD_ID, "autism", 3)))
    url = "/api/v1/cases/K1"
    err = problem(client.patch(url, json={"grade": 2},
                               headers={"If-Match": client.get(url).headers["ETag"]}), 422)
    assert "grade digit 3" in fields_of(err)["certificate_number"]
    assert client.get(url).get_json()["grade"] == 3


def test_person_and_case_listing_filters(client, net, session):
    create_case(session, create_person(session, home_region_code="150702001002"), code="K2")
    create_case(session, code="K1")
    session.commit()
    assert [c["code"] for c in client.get("/api/v1/cases?region=150702001002").get_json()] == \
        ["K2"]
    assert len(client.get("/api/v1/persons?region=150702").get_json()) == 2
    problem(client.get("/api/v1/cases?region=nope"), 422)
    problem(client.get("/api/v1/cases?priority=vip"), 422)


def test_a_second_open_case_for_the_same_person_and_service_is_refused(client, net, session):
    new_person(client)
    body = dict(person_code="P1", category="autism", grade=2, service_code="autism_training")
    assert client.post("/api/v1/cases", json={**body, "code": "K1"}).status_code == 201
    err = problem(client.post("/api/v1/cases", json={**body, "code": "K2"}), 409)
    assert err["errors"][0]["case_code"] == "K1" and "K1" in err["detail"]
    assert client.get("/api/v1/cases/K2").status_code == 404  # nothing written
    # the page says so, next to the service, and links the open case
    page = client.post("/cases/new", data={
        **body, "code": "K3", "registered_on": "2026-11-01",
        "csrf_token": csrf_token(client.get("/cases/new").get_data(as_text=True))})
    html = page.get_data(as_text=True)
    assert page.status_code == 409 and 'href="/cases/K1"' in html
    # once the first is closed, a new case for the same service may open
    session.expire_all()
    case = session.scalar(select(Case).where(Case.code == "K1"))
    case.status = "closed"
    session.commit()
    assert client.post("/api/v1/cases", json={**body, "code": "K4"}).status_code == 201
