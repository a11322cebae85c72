"""The persons and cases pages: masked lists in pages, the record, registering a case."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import create_case, create_person, tiny_network


@pytest.fixture
def net(session):
    r = tiny_network(session)
    r["persons"] = [create_person(session, name=f"王小{i}", birth_date=date(2021, 1, 1 + i % 28))
                    for i in range(55)]
    for p in r["persons"][:3]:
        create_case(session, p)
    session.commit()
    return r


def test_persons_list_masks_names_and_ids_and_pages(client, net):
    html = client.get("/persons").get_data(as_text=True)
    first = net["persons"][0]
    assert first.code in html and first.name not in html and "王**" in html
    assert first.resident_id not in html and first.resident_id[-4:] in html
    assert "第 1 页，共 2 页" in html
    nxt = re.search(r'href="(/persons\?page=2)"', html).group(1)
    html2 = client.get(nxt).get_data(as_text=True)
    assert net["persons"][-1].code in html2 and 'rel="prev"' in html2


def test_cases_list_is_paged_sorted_and_filtered(client, net):
    html = client.get("/cases?priority=child").get_data(as_text=True)
    assert all(c.code in html for p in net["persons"][:3] for c in p.cases)
    assert client.get("/cases?priority=nonsense").status_code == 400


def test_register_a_case_shows_errors_by_field_then_creates_it(client, net, session):
    html = client.get(f"/cases/new?person={net['persons'][5].code}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    form = {"csrf_token": token, "code": "KNEW", "person_code": net["persons"][5].code,
            "category": "physical", "grade": "2", "service_code": "autism_training",
            "registered_on": "2026-11-01", "certificate_number": ""}
    got = client.post("/cases/new", data=form)
    html = got.get_data(as_text=True)
    assert got.status_code == 422
    assert 'id="service_code-error"' in html and 'aria-invalid="true"' in html
    got = client.post("/cases/new", data={**form, "category": "autism"})
    assert got.status_code == 303 and got.headers["Location"].endswith("/cases/KNEW")
    page = client.get("/cases/KNEW").get_data(as_text=True)
    assert "KNEW" in page


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_clinic_staff_register_a_person_then_open_their_case_on_pages(app, session, net):
    """The clinic's whole first step on pages (issue 15): the person (ID checked, sex and birth
    date read from it, a child's guardian required, the village of its area), then the case."""
    from rehab_net.people.identifiers import make_resident_id
    from rehab_net.people.models import Case, Person
    from tests.factories import create_user, log_in

    staff = create_user(session, "villagestaff", grants=[("clinic", net["station"])])
    session.commit()
    client = app.test_client()
    log_in(client, staff)
    html = client.get("/persons/new").get_data(as_text=True)
    assert "150702001001" in html and "150702001002" in html  # its villages, by township
    child = make_resident_id("150702", date(2023, 4, 9), 124)  # sequence 124: even -> F
    form = {"csrf_token": _token(html), "name": "", "resident_id": child[:-1] + (
        "0" if child[-1] != "0" else "1"), "home_region_code": "", "guardian_name": "",
        "guardian_phone": "12345", "poverty_status": "none"}
    got = client.post("/persons/new", data=form)
    html = got.get_data(as_text=True)
    assert got.status_code == 422
    for field in ("name", "resident_id", "home_region_code", "guardian_phone"):
        assert f'id="{field}-error"' in html, field
    assert "校验码" in html  # the check character's rule, in Chinese
    form.update(name="李小花", resident_id=child, home_region_code="150702001002")
    got = client.post("/persons/new", data={**form, "guardian_phone": ""})
    assert got.status_code == 422 and 'id="guardian_name-error"' in got.get_data(as_text=True)
    got = client.post("/persons/new", data={**form, "guardian_name": "李强",
                                            "guardian_phone": "13900001111"})
    assert got.status_code == 303, got.get_data(as_text=True)
    assert "/cases/new?person=P" in got.headers["Location"]
    person = session.scalar(select(Person).where(Person.name == "李小花"))
    assert (person.sex, person.birth_date) == ("F", date(2023, 4, 9))
    # step 2: the case form comes with the person; the case code may be left to the system
    html = client.get(got.headers["Location"]).get_data(as_text=True)
    assert f'value="{person.code}"' in html
    got = client.post("/cases/new", data={
        "csrf_token": _token(html), "code": "", "person_code": person.code,
        "category": "autism", "grade": "2", "service_code": "autism_training",
        "registered_on": "", "certificate_number": ""})
    assert got.status_code == 303, got.get_data(as_text=True)
    case = session.scalar(select(Case).where(Case.person_id == person.id))
    assert re.fullmatch(r"K\d{6}", case.code) and got.headers["Location"].endswith(case.code)
    # the same ID number again is refused at the field, naming the registered person
    again = client.post("/persons/new", data={**form, "csrf_token": _token(html),
                                              "guardian_name": "李强", "guardian_phone": ""})
    assert again.status_code == 409 and 'id="resident_id-error"' in again.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Person).where(
        Person.name == "李小花")) == 1


def test_a_village_outside_the_area_is_refused(app, session, net):
    from rehab_net.network import operations as network
    from rehab_net.people.identifiers import make_resident_id
    from tests.factories import create_user, log_in

    network.create_region(session, dict(code="150703", parent_code="150700", level="district",
                                        kind="district", name_zh="扎赉诺尔区",
                                        name_en="Zhalainuoer", lat=49.5, lon=117.7))
    network.create_region(session, dict(code="150703001", parent_code="150703",
                                        level="township", kind="street", name_zh="外街道",
                                        name_en="Outer street", lat=49.5, lon=117.7))
    network.create_region(session, dict(code="150703001001", parent_code="150703001",
                                        level="village", kind="community", name_zh="外社区",
                                        name_en="Outer community", lat=49.5, lon=117.7))
    staff = create_user(session, "areastaff", grants=[("clinic", net["station"])])
    session.commit()
    client = app.test_client()
    log_in(client, staff)
    html = client.get("/persons/new").get_data(as_text=True)
    assert "150703001001" not in html  # not offered
    got = client.post("/persons/new", data={
        "csrf_token": _token(html), "name": "赵大", "home_region_code": "150703001001",
        "resident_id": make_resident_id("150702", date(1970, 1, 1), 11),
        "guardian_name": "", "guardian_phone": "", "poverty_status": "none"})
    assert got.status_code == 422 and 'id="home_region_code-error"' in got.get_data(as_text=True)


def test_clinic_staff_put_a_case_back_on_the_waiting_list_then_close_it_on_its_page(
        app, session, net):
    """The case's status by hand on its page: the allowed moves only, a reason kept in the
    history, a stale page refused, roles that may not write see no buttons and get 403."""
    from rehab_net.people.models import Case, CaseEvent
    from tests.factories import create_user, log_in

    staff = create_user(session, "casestaff", grants=[("clinic", net["station"])])
    coordinator = create_user(session, "casecoord", grants=[("coordinator", net["centre"])])
    session.commit()
    code = net["persons"][0].cases[0].code
    client = app.test_client()
    log_in(client, staff)
    html = client.get(f"/cases/{code}").get_data(as_text=True)
    assert 'value="waiting"' in html and 'value="closed"' in html
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    form = {"csrf_token": _token(html), "version": version, "cause": "家属要求暂缓"}
    got = client.post(f"/cases/{code}/status", data={**form, "status": "waiting"})
    assert got.status_code == 303 and got.headers["Location"].endswith(f"/cases/{code}")
    html = client.get(got.headers["Location"]).get_data(as_text=True)
    assert "家属要求暂缓" in html and 'value="waiting"' not in html  # in the history; no repeat
    # the page read before the move is stale now: refused, nothing changed
    stale = client.post(f"/cases/{code}/status", data={**form, "status": "closed"})
    assert stale.status_code == 409 and 'id="status-error"' in stale.get_data(as_text=True)
    # a move the table does not allow by hand is refused at the field
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    bad = client.post(f"/cases/{code}/status", data={**form, "version": version,
                                                     "status": "completed"})
    assert bad.status_code == 422 and 'id="status-error"' in bad.get_data(as_text=True)
    session.expire_all()
    case = session.scalar(select(Case).where(Case.code == code))
    assert case.status == "waiting"
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
    assert [(e.action, e.actor, e.cause) for e in events] == [("wait", "casestaff", "家属要求暂缓")]
    # the centre's coordinator reads the case but may not move it
    other = app.test_client()
    log_in(other, coordinator)
    got = other.get(f"/cases/{code}")
    assert got.status_code == 200 and 'name="version"' not in got.get_data(as_text=True)
    refused = other.post(f"/cases/{code}/status", data={
        "csrf_token": _token(other.get("/cases").get_data(as_text=True)),
        "version": version, "status": "closed"})
    assert refused.status_code == 403
    session.expire_all()
    assert session.scalar(select(Case.status).where(Case.code == code)) == "waiting"


def test_clinic_staff_change_a_persons_details_on_a_page(app, session, net):
    """The person's details on a form, prefilled (the read audited), saved with the change
    audited by field, errors at the field, a stale form refused; roles without person.write
    get 403."""
    from rehab_net.auth.models import AuditEvent
    from rehab_net.people.models import Person
    from tests.factories import create_user, log_in

    staff = create_user(session, "editstaff", grants=[("clinic", net["station"])])
    coordinator = create_user(session, "editcoord", grants=[("coordinator", net["centre"])])
    session.commit()
    person = net["persons"][0]
    code, url = person.code, f"/persons/{person.code}/edit"
    client = app.test_client()
    log_in(client, staff)
    assert f'href="{url}"' in client.get(f"/persons/{code}").get_data(as_text=True)
    html = client.get(url).get_data(as_text=True)
    assert 'value="王小0"' in html and person.resident_id not in html  # the ID stays masked
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    form = {"csrf_token": _token(html), "version": version, "name": "王小零",
            "home_region_code": "150702001002", "guardian_name": "", "guardian_phone": "12",
            "poverty_status": "dibao"}
    bad = client.post(url, data=form)
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'id="guardian_phone-error"' in text
    assert 'id="guardian_name-error"' in text  # a child needs a guardian
    session.expire_all()
    assert session.scalar(select(Person.name).where(Person.code == code)) == "王小0"
    good = client.post(url, data={**form, "guardian_name": "王大", "guardian_phone": "13900001111"})
    assert good.status_code == 303 and good.headers["Location"].endswith(f"/persons/{code}")
    session.expire_all()
    saved = session.scalar(select(Person).where(Person.code == code))
    assert (saved.name, saved.home_region.code, saved.guardian_phone, saved.poverty_status) == \
        ("王小零", "150702001002", "13900001111", "dibao")
    updates = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "update", AuditEvent.object_code == code)).all()
    assert {"name", "home_region", "guardian_name", "guardian_phone", "poverty_status"} <= \
        {f for u in updates for f in u.detail["fields"]}, [u.detail for u in updates]
    # the form read before the save is stale now
    stale = client.post(url, data={**form, "guardian_name": "王大"})
    assert stale.status_code == 409
    # a coordinator reads persons but does not change them
    other = app.test_client()
    log_in(other, coordinator)
    assert f'href="{url}"' not in other.get(f"/persons/{code}").get_data(as_text=True)
    assert other.get(url).status_code == 403
