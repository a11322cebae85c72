"""The persons and cases pages: masked lists in pages, the record, registering a case."""
from __future__ import annotations

import re
from datetime import date

import pytest

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
