"""The network's pages for an admin: a facility's capacity set from a date on, on a page as with
the API (issue: API-only tasks), refused at the field in Chinese, 403 outside the admin's region
and for every other role."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from rehab_net.network.models import Capacity, Facility
from solver.instance import DEFAULT_POLICY
from tests.factories import log_in
from tests.responses import csrf_token


def _client(app, user):
    c = app.test_client()
    log_in(c, user)
    return c


def _capacities(session, code):
    session.expire_all()
    return session.scalars(select(Capacity).join(Facility).where(Facility.code == code)
                           .order_by(Capacity.effective_from)).all()


def test_a_district_admin_sets_a_capacity_from_a_date_on_a_page(app, session, world):
    admin = _client(app, world["users"]["admin"])
    before = len(_capacities(session, "CT01"))
    facility_page = admin.get("/facilities/CT01").get_data(as_text=True)
    assert 'href="/facilities/CT01/capacities/new"' in facility_page
    html = admin.get("/facilities/CT01/capacities/new").get_data(as_text=True)
    assert 'value="autism_training"' in html
    assert 'value="physical_follow_up"' not in html  # not a service of a centre's tier
    form = {"csrf_token": csrf_token(html), "service_code": "autism_training",
            "effective_from": "2027-02-30", "weekly_intake": "-3", "concurrent_places": "x"}
    bad = admin.post("/facilities/CT01/capacities/new", data=form)
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422
    for field in ("effective_from", "weekly_intake", "concurrent_places"):
        assert f'id="{field}-error"' in text, field
    assert "日历" in text  # the day that does not exist, said in Chinese
    assert len(_capacities(session, "CT01")) == before  # nothing written
    good = admin.post("/facilities/CT01/capacities/new", data={
        **form, "effective_from": "2027-01-04", "weekly_intake": "12",
        "concurrent_places": "30"})
    assert good.status_code == 303 and good.headers["Location"].endswith("/facilities/CT01")
    rows = _capacities(session, "CT01")
    assert len(rows) == before + 1
    assert (rows[-1].service.code, rows[-1].weekly_intake, rows[-1].concurrent_places) == \
        ("autism_training", 12, 30)
    # the same service from the same day again: 409 at the date, nothing more written
    again = admin.post("/facilities/CT01/capacities/new", data={
        **form, "effective_from": "2027-01-04", "weekly_intake": "9", "concurrent_places": "9"})
    assert again.status_code == 409 and 'id="effective_from-error"' in again.get_data(as_text=True)
    assert len(_capacities(session, "CT01")) == before + 1


def test_the_capacity_page_is_refused_outside_the_admins_region_and_to_other_roles(
        app, session, world):
    admin = _client(app, world["users"]["admin"])
    outside = world["station2"].code
    assert 'capacities/new' not in admin.get(f"/facilities/{outside}").get_data(as_text=True)
    assert admin.get(f"/facilities/{outside}/capacities/new").status_code == 403
    token = csrf_token(admin.get("/facilities/CT01/capacities/new").get_data(as_text=True))
    refused = admin.post(f"/facilities/{outside}/capacities/new", data={
        "csrf_token": token, "service_code": "physical_follow_up",
        "effective_from": "2027-01-04", "weekly_intake": "5", "concurrent_places": "5"})
    assert refused.status_code == 403
    for role in ("coordinator", "clinic", "planner", "auditor"):
        other = _client(app, world["users"][role])
        assert other.get("/facilities/CT01/capacities/new").status_code == 403, role
        page = other.get("/facilities/CT01")
        assert 'capacities/new' not in page.get_data(as_text=True), role
    assert not re.search(r"capacities/new", admin.get("/facilities").get_data(as_text=True))


def test_a_district_admin_closes_a_facility_on_a_page_and_plans_stop_offering_it(
        app, session, world):
    from rehab_net.planning import adapters

    admin = _client(app, world["users"]["admin"])
    url = "/facilities/CT01/edit"
    assert f'href="{url}"' in admin.get("/facilities/CT01").get_data(as_text=True)
    html = admin.get(url).get_data(as_text=True)
    assert 'value="市残疾人康复中心"' in html and 'checked' in html  # prefilled, designated
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    form = {"csrf_token": csrf_token(html), "version": version, "name_zh": "",
            "name_en": "City Rehab Centre", "status": "shut", "ownership": "public",
            "designated": "1", "lat": "nan", "lon": "119.77"}
    bad = admin.post(url, data=form)
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422
    for field in ("name_zh", "status", "lat"):
        assert f'id="{field}-error"' in text, field
    session.expire_all()
    assert session.scalar(select(Facility.status).where(Facility.code == "CT01")) == "open"
    good = admin.post(url, data={**form, "name_zh": "市残疾人康复中心", "status": "closed",
                                 "lat": "49.21"})
    assert good.status_code == 303
    session.expire_all()
    centre = session.scalar(select(Facility).where(Facility.code == "CT01"))
    assert (centre.status, centre.designated) == ("closed", True)
    # the next plan's instance no longer offers it
    with app.app_context():  # the app's zone
        built = adapters.build_instance(session, start_date=date(2026, 11, 23), horizon_weeks=4,
                                        policy=DEFAULT_POLICY)
    assert "CT01" not in {fac["id"] for fac in built.data["facilities"]}
    assert "ST150702001" in {fac["id"] for fac in built.data["facilities"]}
    # the form read before the save is stale now
    assert admin.post(url, data={**form, "name_zh": "x", "status": "open",
                                 "lat": "49.21"}).status_code == 409
    other = _client(app, world["users"]["coordinator"])
    assert other.get(url).status_code == 403
    assert admin.get(f"/facilities/{world['station2'].code}/edit").status_code == 403
