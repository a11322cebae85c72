"""The booking index of a user with many facilities (a network-wide role: 1,474 in the sample):
searched by name or code and paged, so every facility is reachable (the list stopped at 200)."""
from __future__ import annotations

import re

import pytest

from tests.factories import add_clinics, tiny_network

pytestmark = pytest.mark.parametrize("app", ["sqlite"], indirect=True)


def _codes(html: str) -> list[str]:
    return re.findall(r'/booking/facilities/([A-Z0-9]+)/week', html)


def test_many_facilities_are_searched_and_paged(client, session):
    tiny_network(session)
    add_clinics(session, 230)
    session.commit()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    first = client.get("/booking").get_data(as_text=True)
    assert 'id="q"' in first and len(_codes(first)) == 50
    assert "232 facilities" in first and 'rel="next"' in first
    last = client.get("/booking?page=5").get_data(as_text=True)
    assert _codes(last) == ["CL201", "CL202", "CL203", "CL204", "CL205", "CL206", "CL207",
                            "CL208", "CL209", "CL210", "CL211", "CL212", "CL213", "CL214",
                            "CL215", "CL216", "CL217", "CL218", "CL219", "CL220", "CL221",
                            "CL222", "CL223", "CL224", "CL225", "CL226", "CL227", "CL228",
                            "CL229", "CL230", "CT01", "ST150702001"]
    by_name = client.get("/booking?q=Clinic 229").get_data(as_text=True)
    assert _codes(by_name) == ["CL229"]
    by_code = client.get("/booking", query_string={"q": "CT0"}).get_data(as_text=True)
    assert _codes(by_code) == ["CT01"]
    in_chinese = client.get("/booking", query_string={"q": "卫生室22"}).get_data(as_text=True)
    assert _codes(in_chinese) == ["CL022", *(f"CL{i}" for i in range(220, 230))]
    none = client.get("/booking", query_string={"q": "%_"}).get_data(as_text=True)
    assert _codes(none) == [] and "None of your facilities has that code or name." in none
    assert client.get("/booking?q=" + "x" * 5000).status_code == 200
    assert client.get("/booking?page=0").status_code == 422


def test_a_user_with_few_facilities_gets_no_search(app, session):
    from tests.factories import create_user, log_in

    net = tiny_network(session)
    add_clinics(session, 60)
    user = create_user(session, "coord1", grants=[("coordinator", net["centre"])])
    session.commit()
    own = app.test_client()
    log_in(own, user)
    html = own.get("/booking").get_data(as_text=True)
    assert 'id="q"' not in html and _codes(html) == ["CT01"]
