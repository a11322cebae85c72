"""Plans and the policy weights over the API, on SQLite and PostgreSQL: 202 + Location, the
defaults, validation as problem+json naming the field, 404s, pagination, cancelling, the stored
results and their filters, the pages. Results are stored directly here (no worker)."""
import json
from datetime import date

import pytest

from rehab_net.planning import operations as ops
from tests.planning_helpers import solve_here, waiting_list
from tests.responses import fields_of, problem


@pytest.fixture
def net(session):
    r = waiting_list(session)
    session.commit()
    return r


def start_plan(client, **body):
    resp = client.post("/api/v1/plans", json=body)
    assert resp.status_code == 202, resp.get_json()
    return resp.get_json()


def test_start_a_plan_answers_202_with_location_and_defaults(client, net, app):
    resp = client.post("/api/v1/plans")  # no body at all: every default
    assert resp.status_code == 202, resp.get_json()
    plan = resp.get_json()
    assert resp.headers["Location"] == f"/api/v1/plans/{plan['id']}"
    assert plan["status"] == "queued" and plan["cancel_requested"] is False
    assert plan["start_date"] == "2026-11-23"  # the first Monday after today (2026-11-16)
    assert plan["horizon_weeks"] == 12
    assert plan["time_limit"] == float(app.config["PLAN_TIME_LIMIT"])
    assert plan["policy"]["priority_weights"]["child"] == 8.0
    polled = client.get(resp.headers["Location"])
    assert polled.status_code == 200 and polled.get_json()["id"] == plan["id"]
    unchanged = client.get(resp.headers["Location"],
                           headers={"If-None-Match": polled.headers["ETag"]})
    assert unchanged.status_code == 304  # cheap polling


def test_start_a_plan_with_parameters_and_policy_overrides(client, net):
    plan = start_plan(client, horizon_weeks=4, start_date="2026-11-16", time_limit=30,
                      policy={"road_factor": 1.5, "priority_weights": {"child": 20}})
    assert (plan["horizon_weeks"], plan["start_date"], plan["time_limit"]) == \
        (4, "2026-11-16", 30.0)
    assert plan["policy"]["road_factor"] == 1.5
    assert plan["policy"]["priority_weights"] == {"child": 20.0, "severe": 4.0, "poor": 2.0,
                                                  "standard": 1.0}


@pytest.mark.parametrize("body, field", [
    ({"horizon_weeks": 0}, "horizon_weeks"),
    ({"horizon_weeks": 53}, "horizon_weeks"),
    ({"horizon_weeks": 2.5}, "horizon_weeks"),
    ({"horizon_weeks": "12"}, "horizon_weeks"),
    ({"start_date": "2026-11-25"}, "start_date"),  # a Wednesday
    ({"start_date": "2026-11-09"}, "start_date"),  # last week
    ({"start_date": "2028-01-03"}, "start_date"),  # more than a year ahead
    ({"start_date": "9999-12-27"}, "start_date"),
    ({"time_limit": 0}, "time_limit"),
    ({"time_limit": 1e9}, "time_limit"),
    ({"policy": {"road_factor": 0.5}}, "policy.road_factor"),
    ({"policy": {"priority_weights": {"child": -1}}}, "policy.priority_weights.child"),
    ({"policy": {"priority_weights": {"elderly": 3}}}, "policy.priority_weights.elderly"),
    ({"policy": {"tier_cost": {"centre": "NaN"}}}, "policy.tier_cost.centre"),
    ({"policy": {"max_travel_km": 50}}, "policy.max_travel_km"),
    ({"priority": "child"}, "priority"),
])
def test_invalid_plan_requests_are_422_naming_the_field(client, net, body, field):
    body = problem(client.post("/api/v1/plans", json=body), 422)
    assert field in fields_of(body), body
    assert client.get("/api/v1/plans").get_json() == []


@pytest.mark.parametrize("url", ["/api/v1/plans/999",
                                 "/api/v1/plans/999/assignments", "/api/v1/plans/999/facilities",
                                 "/api/v1/plans/999/districts", "/api/v1/plans/999/shadow-prices"])
def test_unknown_plan_is_404(client, net, url):
    assert "999" in problem(client.get(url), 404)["detail"]
    problem(client.post("/api/v1/plans/999/cancel"), 404)


def test_a_plan_id_no_integer_column_holds_is_404(client, net):
    # past 2**31-1 the id matches no route (rehab_net/converters.py): never looked up
    problem(client.get("/api/v1/plans/99999999999999999999"), 404)


def test_plans_are_listed_newest_first_and_paged(client, net):
    ids = [start_plan(client, horizon_weeks=n)["id"] for n in (1, 2, 3)]
    resp = client.get("/api/v1/plans?page_size=2")
    assert [p["id"] for p in resp.get_json()] == ids[::-1][:2]
    paging = json.loads(resp.headers["X-Pagination"])
    assert paging["total"] == 3 and paging["total_pages"] == 2
    assert [p["id"] for p in client.get("/api/v1/plans?sort=id").get_json()] == ids
    client.post(f"/api/v1/plans/{ids[0]}/cancel")
    assert [p["id"] for p in client.get("/api/v1/plans?status=cancelled").get_json()] == ids[:1]
    problem(client.get("/api/v1/plans?status=done"), 422)
    problem(client.get("/api/v1/plans?sort=objective"), 422)


def test_cancel_a_queued_plan_then_a_running_one(client, net, session):
    queued = start_plan(client)
    resp = client.post(f"/api/v1/plans/{queued['id']}/cancel")
    assert resp.status_code == 200 and resp.get_json()["status"] == "cancelled"
    assert resp.get_json()["finished_at"]
    assert "finished" in problem(client.post(f"/api/v1/plans/{queued['id']}/cancel"),
                                 409)["detail"]
    running = start_plan(client)
    assert ops.claim(session, running["id"])
    session.commit()
    resp = client.post(f"/api/v1/plans/{running['id']}/cancel")
    assert resp.get_json()["status"] == "running" and resp.get_json()["cancel_requested"] is True


def test_policy_get_put_with_if_match(client, net):
    resp = client.get("/api/v1/policy")
    policy = resp.get_json()
    assert policy["version"] == 0 and policy["updated_at"] is None  # the contract's defaults
    assert policy["priority_weights"] == {"child": 8.0, "severe": 4.0, "poor": 2.0,
                                          "standard": 1.0}
    new = {k: v for k, v in policy.items() if k not in ("version", "updated_at")}
    new["wait_cost_per_week"] = 150.0
    problem(client.put("/api/v1/policy", json=new), 428)
    etag = resp.headers["ETag"]
    resp = client.put("/api/v1/policy", json=new, headers={"If-Match": etag})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["version"] == 1 and resp.get_json()["wait_cost_per_week"] == 150.0
    assert resp.get_json()["updated_at"]
    # someone else's copy is stale now
    problem(client.put("/api/v1/policy", json=new, headers={"If-Match": etag}), 412)
    resp = client.put("/api/v1/policy", json={**new, "road_factor": 1.2},
                      headers={"If-Match": resp.headers["ETag"]})
    assert resp.get_json()["version"] == 2
    # a new plan takes the saved weights
    plan = start_plan(client)
    assert plan["policy"]["wait_cost_per_week"] == 150.0 and plan["policy"]["road_factor"] == 1.2


def test_policy_validation_names_the_field(client, net):
    resp = client.get("/api/v1/policy")
    new = {k: v for k, v in resp.get_json().items() if k not in ("version", "updated_at")}
    bad = {**new, "road_factor": 0.9, "unassigned_cost": 0,
           "priority_weights": {"child": 8, "severe": 4, "poor": 2}, "tier_cost": "free"}
    body = problem(client.put("/api/v1/policy", json=bad,
                              headers={"If-Match": resp.headers["ETag"]}), 422)
    assert {"road_factor", "unassigned_cost", "priority_weights.standard",
            "tier_cost._schema"} <= set(fields_of(body))
    body = problem(client.put("/api/v1/policy", json={**new, "version": 3},
                              headers={"If-Match": resp.headers["ETag"]}), 422)
    assert fields_of(body) == {"version": "Unknown field."}
    del new["reassign_cost"]
    body = problem(client.put("/api/v1/policy", json=new,
                              headers={"If-Match": resp.headers["ETag"]}), 422)
    assert "reassign_cost" in fields_of(body)


def test_results_of_a_plan(client, net, session):
    plan = start_plan(client, horizon_weeks=1)  # 4 places, 6 cases: 2 on the waitlist
    solve_here(session, plan["id"])
    base = f"/api/v1/plans/{plan['id']}"
    summary = client.get(base).get_json()
    assert summary["status"] == "optimal" and summary["cases"] == 6 and summary["assigned"] == 4
    assert summary["facilities"] == 2 and len(summary["fingerprint"]) == 64

    rows = client.get(base + "/assignments?page_size=100").get_json()
    assert len(rows) == 6 and [r["case_code"] for r in rows] == sorted(r["case_code"]
                                                                       for r in rows)
    child = next(r for r in rows if r["priority"] == "child")
    assert child == {"case_code": net["child"].code, "service_code": "autism_training",
                     "district_code": "150702", "priority": "child", "facility_code": "CT01",
                     "week": 0, "start_date": "2026-11-23", "road_km": child["road_km"],
                     "reason": None}
    assert len(client.get(base + "/assignments?placed=false").get_json()) == 2
    assert len(client.get(base + "/assignments?reason=capacity").get_json()) == 2
    assert len(client.get(base + "/assignments?facility=CT01").get_json()) == 4
    assert len(client.get(base + "/assignments?district=150702&priority=child").get_json()) == 1
    paging = json.loads(client.get(base + "/assignments?page_size=4").headers["X-Pagination"])
    assert paging["total"] == 6 and paging["total_pages"] == 2
    assert "facility" in fields_of(problem(client.get(base + "/assignments?facility=NOPE"), 422))
    assert "not a district" in fields_of(problem(
        client.get(base + "/assignments?district=150702001"), 422))["district"]
    problem(client.get(base + "/assignments?reason=late"), 422)

    loads = client.get(base + "/facilities?sort=-utilisation").get_json()
    assert [(r["facility_code"], r["capacity"], r["assigned"], r["utilisation"])
            for r in loads] == [("CT01", [4], [4], 1.0), ("ST150702001", [10], [0], 0.0)]
    assert [r["facility_code"] for r in client.get(base + "/facilities?tier=station")
            .get_json()] == ["ST150702001"]

    prices = client.get(base + "/shadow-prices").get_json()
    assert prices == [{"facility_code": "CT01", "facility_name_zh": "市残疾人康复中心",
                       "service_code": "autism_training", "week": 0,
                       "start_date": "2026-11-23", "value": 100.0}]

    (district,) = client.get(base + "/districts").get_json()
    assert {k: district[k] for k in ("district_code", "cases", "placed", "waitlist", "children",
                                     "children_placed_within_4_weeks")} == {
        "district_code": "150702", "cases": 6, "placed": 4, "waitlist": 2, "children": 1,
        "children_placed_within_4_weeks": 1}
    assert district["median_road_km"] == pytest.approx(child["road_km"], abs=0.1)


def test_results_of_a_plan_not_run_yet_are_empty(client, net):
    plan = start_plan(client)
    for part in ("assignments", "facilities", "districts", "shadow-prices"):
        assert client.get(f"/api/v1/plans/{plan['id']}/{part}").get_json() == []


def test_unreachable_queue_is_503_and_the_plan_says_why(client, net, app):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    body = problem(client.post("/api/v1/plans", json={}), 503)
    assert "queue" in body["detail"]
    (plan,) = client.get("/api/v1/plans").get_json()
    assert plan["status"] == "error" and "Redis" in plan["message"]


def test_plan_pages(client, net, session):
    html = client.get("/plans").get_data(as_text=True)
    assert "尚无方案" in html
    plan = start_plan(client, horizon_weeks=1)
    html = client.get(f"/plans/{plan['id']}").get_data(as_text=True)
    assert "排队中" in html
    solve_here(session, plan["id"])
    html = client.get(f"/plans/{plan['id']}").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "最优" in html
    assert "海拉尔区" in html
    assert html.count("<caption>") == 3 and 'scope="col"' in html and 'scope="row"' in html
    assert 'href="/facilities/CT01"' in html and "100%" in html
    html = client.get("/plans").get_data(as_text=True)
    assert f'href="/plans/{plan["id"]}"' in html and "<caption>" in html
    assert 'href="/plans"' in client.get("/").get_data(as_text=True)  # in the navigation
    resp = client.get("/plans/999")
    assert resp.status_code == 404 and resp.mimetype == "text/html"
    for url in ("/plans", f"/plans/{plan['id']}"):
        page = client.get(url).get_data(as_text=True)
        assert "http://" not in page and "https://" not in page


def test_next_monday_and_start_date_rules():
    assert ops.next_monday(date(2026, 11, 16)) == date(2026, 11, 23)  # a Monday: a week on
    assert ops.next_monday(date(2026, 11, 22)) == date(2026, 11, 23)  # a Sunday: tomorrow
    ops.check_start_date(date(2026, 11, 16), date(2026, 11, 18))  # this week's Monday is fine
