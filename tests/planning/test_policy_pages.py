"""The policy weights on a page (until now only PUT /api/v1/policy): a network-wide planner
changes them with the API's rules and version check; others read them; refusals in place, nothing
saved."""
from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from rehab_net.auth.models import AuditEvent
from rehab_net.planning.exports import POLICY_KEYS
from rehab_net.planning.policy_pages import form_name
from rehab_net.policy import PolicySetting
from solver.instance import DEFAULT_POLICY
from tests.factories import create_user, log_in, tiny_network

pytestmark = pytest.mark.parametrize("app", ["sqlite"], indirect=True)


@pytest.fixture(autouse=True)
def _english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def _form(client) -> dict[str, str]:
    html = client.get("/policy").get_data(as_text=True)
    values = dict(re.findall(r'name="([a-z_-]+)" type="text" value="([^"]*)"', html))
    values["version"] = re.search(r'name="version" value="(\d+)"', html).group(1)
    values["csrf_token"] = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    return values


def test_a_planner_changes_the_weights_and_plans_see_them(client, session):
    form = _form(client)
    assert set(form) == {form_name(k) for k in POLICY_KEYS} | {"version", "csrf_token"}
    assert form["version"] == "0"
    assert form["priority_weights-child"] == f"{DEFAULT_POLICY['priority_weights']['child']:g}"
    form["priority_weights-child"] = "4.5"
    form["travel_cost_per_km"] = "0,2"  # a decimal comma is a decimal point
    saved = client.post("/policy", data=form)
    assert saved.status_code == 303
    api = client.get("/api/v1/policy").get_json()
    assert api["priority_weights"]["child"] == 4.5 and api["travel_cost_per_km"] == 0.2
    assert api["version"] == 1
    page = client.get("/policy").get_data(as_text=True)
    assert "The weights are saved" in page and 'value="4.5"' in page
    plans = client.get("/plans").get_data(as_text=True)
    assert "Priority weight:" in plans and "<code>priority_weights</code>" not in plans
    assert 'id="policy-link"' in plans
    assert session.scalar(select(AuditEvent).where(AuditEvent.object_type == "policy_setting"))


@pytest.mark.parametrize(("field", "value", "said"), [
    ("priority_weights-child", "0", "outside the weight's allowed range. More than 0, up to 1000"),
    ("road_factor", "9", "outside the weight's allowed range. From 1 to 5"),
    ("unassigned_cost", "abc", "Enter a number."),
    ("wait_cost_per_week", "nan", "Enter a number."),
    ("tier_cost-clinic", "", "Enter a number."),
])
def test_a_refused_weight_is_said_at_its_field_and_nothing_is_saved(client, session, field,
                                                                    value, said):
    form = _form(client)
    form[field] = value
    got = client.post("/policy", data=form)
    html = got.get_data(as_text=True)
    assert got.status_code == 422
    error = unescape(re.search(rf'id="{field}-error">(.*?)</p>', html, re.S).group(1))
    assert said in error
    assert f'value="{value}"' in html  # what was typed stays
    assert session.get(PolicySetting, 1) is None


def test_a_form_opened_before_someone_else_saved_is_refused(client, session):
    stale = _form(client)
    fresh = dict(stale, reassign_cost="7")
    assert client.post("/policy", data=fresh).status_code == 303
    stale["reassign_cost"] = "9"
    got = client.post("/policy", data=stale)
    assert got.status_code == 409 and "Someone else changed this record" in got.get_data(
        as_text=True)
    assert session.get(PolicySetting, 1, populate_existing=True).values["reassign_cost"] == 7


def test_who_may_change_the_weights(app, session):
    net = tiny_network(session)
    district = create_user(session, "district-planner", grants=[("planner", net["district"])])
    coordinator = create_user(session, "coord", grants=[("coordinator", net["centre"])])
    session.commit()
    reader = app.test_client()
    log_in(reader, district)
    page = reader.get("/policy", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'id="save-policy"' not in page and "Cost per road km" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # the log-out form's
    assert reader.post("/policy", data={"version": "0", "csrf_token": token}).status_code == 403
    other = app.test_client()
    log_in(other, coordinator)
    assert other.get("/policy").status_code == 403
    assert session.get(PolicySetting, 1) is None
