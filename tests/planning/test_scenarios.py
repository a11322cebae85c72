"""Scenarios: validated change sets, runs through the real worker path (the optimiser in a child
process), figures stored and compared, the live data never changed."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from rehab_net.network.models import Capacity, Facility
from rehab_net.people.models import Case
from rehab_net.planning import operations as ops
from rehab_net.planning import worker
from tests.planning_helpers import waiting_list


@pytest.fixture
def net(session):
    r = waiting_list(session, n=8)  # 4 places a week at CT01, 8 autism cases waiting
    session.commit()
    return r


def run(app, client, url, body=None):
    got = client.post(url, json=body or {"horizon_weeks": 1})
    assert got.status_code == 202, got.get_json()
    plan_id = got.get_json()["id"]
    assert worker.claim_next(app) == plan_id
    assert worker.run_claimed_plan(app, plan_id) == "optimal"
    return plan_id


def live_state(session):
    return (session.scalar(select(func.count()).select_from(Case)),
            session.scalar(select(func.count()).select_from(Facility)),
            sorted(session.execute(select(Capacity.facility_id, Capacity.weekly_intake)).all()))


def test_a_scenario_run_changes_the_figures_and_never_the_live_data(app, client, session, net):
    before = live_state(session)
    baseline = run(app, client, "/api/v1/plans")
    more = client.post("/api/v1/scenarios", json={"name": "two more places at CT01", "changes": [
        {"kind": "capacity", "facility": "CT01", "service": "autism_training", "delta": 2}]})
    assert more.status_code == 201, more.get_json()
    grown = client.post(f"/api/v1/scenarios/{more.json['id']}/copy",
                        json={"name": "and 50% more demand"}).json
    etag = client.get(f"/api/v1/scenarios/{grown['id']}").headers["ETag"]
    got = client.patch(f"/api/v1/scenarios/{grown['id']}", headers={"If-Match": etag}, json={
        "changes": grown["changes"] + [{"kind": "demand", "percent": 50}]})
    assert got.status_code == 200, got.get_json()
    first = run(app, client, f"/api/v1/scenarios/{more.json['id']}/run")
    second = run(app, client, f"/api/v1/scenarios/{grown['id']}/run")
    assert live_state(session) == before  # nothing live was touched
    cmp_ = client.get(f"/api/v1/plans/compare?plans={baseline},{first},{second}").json["plans"]
    base, plus2, plus_demand = (p["kpis"] for p in cmp_)
    assert (base["cases"], base["placed"]) == (8, 4)
    assert (plus2["cases"], plus2["placed"]) == (8, 6)
    assert (plus_demand["cases"], plus_demand["placed"]) == (12, 6)
    assert cmp_[1]["deltas"]["placed"] == 2 and cmp_[1]["deltas"]["objective"] < 0
    assert cmp_[1]["scenario"] == "two more places at CT01"
    assert ops.get_plan(session, first).scenario_id == more.json["id"]


@pytest.mark.parametrize("change,field", [
    ({"kind": "capacity", "facility": "NOPE", "service": "autism_training", "delta": 1},
     "changes[0].facility"),
    ({"kind": "capacity", "facility": "CT01", "service": "autism_training"}, "changes[0].delta"),
    ({"kind": "outreach", "facility": "CT01", "service": "autism_training", "week": 60,
      "places": 2}, "changes[0].week"),
    ({"kind": "demand", "district": "999999", "percent": 10}, "changes[0].district"),
    ({"kind": "teleport"}, "changes[0].kind"),
])
def test_bad_changes_are_refused_naming_the_path(client, net, change, field):
    got = client.post("/api/v1/scenarios", json={"name": "bad", "changes": [change]})
    assert got.status_code == 422 and got.json["errors"][0]["field"] == field


def test_compare_needs_finished_plans(client, net):
    got = client.post("/api/v1/plans", json={"horizon_weeks": 1}).json
    again = client.post("/api/v1/plans", json={"horizon_weeks": 1}).json
    resp = client.get(f"/api/v1/plans/compare?plans={got['id']},{again['id']}")
    assert resp.status_code == 422 and resp.json["errors"][0]["field"] == "plans"


def test_a_scale_up_sweep_runs_in_the_worker_and_ranks_the_candidates(app, client, session,
                                                                      net):
    got = client.post("/api/v1/scaleups", json={"service": "autism_training",
                                                 "kind": "open_station", "places": 2,
                                                 "horizon_weeks": 1})
    assert got.status_code == 202, got.json
    plan_id = got.json["id"]
    assert worker.claim_next(app) == plan_id
    assert worker.run_claimed_plan(app, plan_id) == "optimal"
    plan = client.get(f"/api/v1/plans/{plan_id}").json
    ranking = plan["kpis"]["scaleup"]["ranking"]
    assert [r["candidate"] for r in ranking][:1] == ["150702001"]  # the only township
    assert ranking[0]["more_placed"] == 2 and ranking[0]["objective_gain"] > 0
    assert plan["stats"]["progress"] == {"done": 1, "total": 1}
    bad = client.post("/api/v1/scaleups", json={"service": "nope", "kind": "open_station"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "service"
