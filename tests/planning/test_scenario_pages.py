"""The planners' scenario pages through the test client: a scenario made, changed and run from
the forms (through the real worker), errors tied to their fields, the comparison with its
deltas, charts and map, and downloads holding the page's numbers."""
from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from rehab_net.planning import worker
from rehab_net.planning.models import Plan, Scenario
from tests.factories import create_user, log_in
from tests.planning_helpers import waiting_list


@pytest.fixture
def net(session):
    r = waiting_list(session, n=8)  # 4 places a week at CT01, 8 autism cases waiting
    session.commit()
    return r


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def post(client, page: str, url: str, data: dict):
    token = _csrf(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def new_scenario(client, name: str) -> int:
    got = post(client, "/scenarios", "/scenarios", {"name": name, "description": "test"})
    assert got.status_code == 303, got.get_data(as_text=True)
    return int(re.search(r"/scenarios/(\d+)$", got.headers["Location"]).group(1))


def add_change(client, scenario_id: int, **fields):
    page = f"/scenarios/{scenario_id}"
    return post(client, page, f"{page}/changes", fields)


def run_queued(app, plan_id: int) -> None:
    assert worker.claim_next(app) == plan_id
    assert worker.run_claimed_plan(app, plan_id) == "optimal"


def queued_id(session, got) -> int:
    """The plan a run form just queued (the newest queued one)."""
    assert got.status_code == 303, got.get_data(as_text=True)
    return session.scalar(select(Plan.id).where(Plan.status == "queued")
                          .order_by(Plan.id.desc()))


@pytest.fixture
def compared(app, client, session, net):
    """A baseline and a scenario with 2 more weekly places at CT01, both run for one week."""
    base = queued_id(session, post(client, "/scenarios", "/scenarios/baseline",
                                   {"horizon_weeks": "1"}))
    run_queued(app, base)
    sid = new_scenario(client, "two more places at CT01")
    got = add_change(client, sid, kind="capacity", facility="CT01", service="autism_training",
                     delta="2")
    assert got.status_code == 303, got.get_data(as_text=True)
    plan = queued_id(session, post(client, f"/scenarios/{sid}", f"/scenarios/{sid}/run",
                                   {"horizon_weeks": "1"}))
    run_queued(app, plan)
    return {"base": base, "plan": plan, "scenario": sid}


def test_the_list_and_a_new_scenario(client, net):
    html = client.get("/scenarios").get_data(as_text=True)
    assert "情景" in html and 'id="name"' in html and "No scenarios" not in html
    sid = new_scenario(client, "more autism places")
    html = client.get(f"/scenarios/{sid}").get_data(as_text=True)
    assert "more autism places" in html and 'id="add-capacity"' in html
    # the list shows it with its count of changes and who made it
    html = client.get("/scenarios").get_data(as_text=True)
    assert f'href="/scenarios/{sid}"' in html and "operator" in html
    # a second one with the same name: the error is on the name field
    got = post(client, "/scenarios", "/scenarios", {"name": "more autism places"})
    html = got.get_data(as_text=True)
    assert got.status_code == 422
    assert 'id="name-error"' in html and 'aria-describedby="name-hint name-error"' in html
    assert 'role="alert"' in html and 'href="#name"' in html


def test_adding_and_removing_changes(client, net, session):
    sid = new_scenario(client, "edits")
    for fields in ({"kind": "capacity", "facility": "CT01", "service": "autism_training",
                    "from_week": "0", "to_week": "3", "delta": "2"},
                   {"kind": "open_facility", "code": "NEW01", "tier": "station", "lat": "49.5",
                    "lon": "120.1", "service": "autism_training", "intakes": "3"},
                   {"kind": "outreach", "facility": "NEW01", "service": "autism_training",
                    "week": "2", "places": "5"},
                   {"kind": "demand", "district": "150702", "category": "", "priority": "",
                    "percent": "10", "count": ""},
                   {"kind": "policy", "weight": "priority_weights.child", "value": "12"},
                   {"kind": "close_facility", "facility": "ST150702001"}):
        got = add_change(client, sid, **fields)
        assert got.status_code == 303, (fields, got.get_data(as_text=True))
    session.expire_all()
    changes = session.get(Scenario, sid).changes
    assert [c["kind"] for c in changes] == ["capacity", "open_facility", "outreach", "demand",
                                            "policy", "close_facility"]
    assert changes[0] == {"kind": "capacity", "facility": "CT01", "service": "autism_training",
                          "from_week": 0, "to_week": 3, "delta": 2}
    assert changes[1]["capacity"] == {"autism_training": 3} and changes[1]["lat"] == 49.5
    assert changes[4]["values"] == {"priority_weights": {"child": 12.0}}
    html = client.get(f"/scenarios/{sid}").get_data(as_text=True)
    assert "每周接收名额增加 2 个，第 0 至 3 周。" in html  # the effect in words (zh)
    assert "在北纬 49.5°、东经 120.1° 新设机构" in html
    # removing needs the version the page showed
    version = session.get(Scenario, sid).version
    page = f"/scenarios/{sid}"
    got = post(client, page, f"{page}/changes/3/remove", {"version": str(version)})
    assert got.status_code == 303
    session.expire_all()
    assert [c["kind"] for c in session.get(Scenario, sid).changes] == [
        "capacity", "open_facility", "outreach", "policy", "close_facility"]
    stale = post(client, page, f"{page}/changes/0/remove", {"version": str(version)})
    assert stale.status_code == 303  # refused: a flash says why
    session.expire_all()
    assert len(session.get(Scenario, sid).changes) == 5
    # removing the opened facility would leave the outreach at it dangling: refused, 422
    version = session.get(Scenario, sid).version
    got = post(client, page, f"{page}/changes/1/remove", {"version": str(version)})
    assert got.status_code == 422 and 'id="changes-error"' in got.get_data(as_text=True)
    # the changes as CSV
    got = client.get(f"{page}/changes.csv")
    assert got.mimetype == "text/csv" and got.headers["Content-Disposition"].startswith(
        "attachment;")
    rows = list(csv.DictReader(io.StringIO(got.data.decode("utf-8-sig"))))
    assert [r["kind"] for r in rows] == ["capacity", "open_facility", "outreach", "policy",
                                         "close_facility"]
    assert rows[0]["facility"] == "CT01" and rows[0]["delta"] == "2"


@pytest.mark.parametrize("fields,field_id,text", [
    ({"kind": "capacity", "facility": "NOPE", "service": "autism_training", "delta": "1"},
     "capacity-facility", "NOPE"),
    ({"kind": "capacity", "facility": "CT01", "service": "autism_training"}, "capacity-delta",
     None),
    ({"kind": "outreach", "facility": "CT01", "service": "autism_training", "week": "60",
      "places": "2"}, "outreach-week", "51"),
    ({"kind": "outreach", "facility": "CT01", "service": "autism_training", "week": "x",
      "places": "2"}, "outreach-week", None),
    ({"kind": "open_facility", "code": "CT01", "tier": "station", "lat": "49", "lon": "120"},
     "open_facility-code", "CT01"),
    ({"kind": "open_facility", "code": "a b", "tier": "station", "lat": "49", "lon": "120"},
     "open_facility-code", None),
    ({"kind": "open_facility", "code": "N1", "tier": "station", "lat": "49", "lon": "120",
      "service": "autism_training"}, "open_facility-intakes", None),
    ({"kind": "demand", "percent": "10", "count": "3"}, "demand-percent", None),
    ({"kind": "policy", "weight": "road_factor", "value": "9"}, "policy-value", None),
    ({"kind": "close_facility", "facility": ""}, "close_facility-facility", None),
])
def test_an_invalid_change_shows_its_error_at_its_field(client, net, session, fields, field_id,
                                                        text):
    sid = new_scenario(client, "bad")
    got = add_change(client, sid, **fields)
    html = got.get_data(as_text=True)
    assert got.status_code == 422
    error = re.search(rf'<p class="error" id="{field_id}-error">(.*?)</p>', html, re.S)
    assert error, html[html.find("error-summary"):][:2000]
    if text:
        assert text in error.group(1)
    field = re.search(rf'<(?:input|select) id="{field_id}"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in field and f"{field_id}-error" in field
    assert f'href="#{field_id}"' in html  # the summary links to the field
    session.expire_all()
    assert session.get(Scenario, sid).changes == []


def test_run_and_compare(app, client, session, compared):
    base, plan, sid = compared["base"], compared["plan"], compared["scenario"]
    html = client.get(f"/scenarios/{sid}").get_data(as_text=True)
    assert f'href="/plans/{plan}"' in html and "最优" in html  # its run, and its status
    assert f"/compare?plans={base},{plan}" in html  # compare with the baseline
    got = client.get(f"/compare?plans={base},{plan}")
    html = got.get_data(as_text=True)
    assert got.status_code == 200
    row = re.search(r'<tr data-key="placed">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert cells[0] == "4" and cells[1] == "6"
    assert "▲" in cells[2] and "+2" in cells[2] and "变好" in cells[2]  # arrow and words
    row = re.search(r'<tr data-key="unplaced_by_reason.capacity">(.*?)</tr>', html, re.S).group(1)
    assert "▼" in row and "-2" in row and "变好" in row
    # charts and the map: images with a name, and the numbers in tables beside them
    svgs = re.findall(r'<svg [^>]*role="img"[^>]*>', html)
    assert len(svgs) >= 6  # 2 district bars, 2 ranges, 2 maps
    assert all("aria-labelledby" in s for s in svgs)
    assert f'<title id="map-{base}-title">' in html and f'<title id="map-{plan}-title">' in html
    the_map = html[html.index(f'id="map-{plan}-title"'):]
    the_map = the_map[:the_map.index("</svg>")]
    assert the_map.count("<rect x=") >= 2  # the background and CT01's square
    assert "市残疾人康复中心: 6 of 6" not in the_map  # translated: zh
    assert re.search(r"市残疾人康复中心：?.*6.*6", the_map)
    assert "<polygon" in the_map  # the station's triangle
    assert "海拉尔区" in the_map
    # the table beside the map
    assert "市残疾人康复中心" in html[html.index("most loaded") if "most loaded" in html
                                     else html.index("负荷最高"):]
    # downloads hold the same numbers
    got = client.get(f"/compare.csv?plans={base},{plan}")
    assert got.mimetype == "text/csv" and "attachment" in got.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(got.data.decode("utf-8-sig"))))
    placed = next(r for r in rows if r[0] == "kpis" and r[3] == "placed")
    assert placed[5:] == ["4", "6", "2"]
    ct01 = {r[3]: r[5:] for r in rows if r[0] == "facility_load" and r[1] == "CT01"}
    assert ct01["used"] == ["4", "6", "2"] and ct01["offered"] == ["4", "6", "2"]
    got = client.get(f"/compare.csv?plans={base},{plan}&table=districts")
    rows = list(csv.reader(io.StringIO(got.data.decode("utf-8-sig"))))
    assert next(r for r in rows if r[0] == "150702" and r[2] == "unplaced")[4:] == [
        "4", "2", "-2"]
    got = client.get(f"/compare.xlsx?plans={base},{plan}")
    assert got.mimetype.endswith("spreadsheetml.sheet")
    assert got.headers["Content-Disposition"].startswith("attachment;")
    book = load_workbook(io.BytesIO(got.data))
    assert book.sheetnames == ["KPIs", "districts", "facility load"]
    kpis = {r[0]: r[2:] for r in book["KPIs"].iter_rows(min_row=2, values_only=True)}
    assert kpis["placed"] == (4, 6, 2) and kpis["cases"] == (8, 8, 0)
    plan_row = session.get(Plan, plan)
    assert kpis["objective"][1] == plan_row.kpis["objective"]
    loads = [r for r in book["facility load"].iter_rows(min_row=2, values_only=True)
             if r[0] == "CT01"]
    assert {r[3]: r[5:] for r in loads}["used"] == (4, 6, 2)


def test_the_form_picks_plans_and_errors_are_shown(app, client, session, compared):
    base, plan = compared["base"], compared["plan"]
    html = client.get("/compare").get_data(as_text=True)
    assert f'id="plan-{base}"' in html and f'id="plan-{plan}"' in html
    got = client.get(f"/compare?base={base}&plan={plan}&plan={base}&compare=1")
    assert got.status_code == 302 and got.headers["Location"].endswith(
        f"/compare?plans={base},{plan}")
    got = client.get(f"/compare?base=&plan={plan}&plan={base}&compare=1")  # first checked
    assert got.headers["Location"].endswith(f"/compare?plans={plan},{base}")
    # a plan's page links here with the baseline chosen beforehand
    assert f'href="/compare?base={plan}"' in client.get(f"/plans/{plan}").get_data(as_text=True)
    html = client.get(f"/compare?base={base}").get_data(as_text=True)
    assert f'<option value="{base}" selected>' in html and "error-summary" not in html
    got = client.get(f"/compare?base={base}&compare=1")
    assert got.status_code == 422 and 'id="plans-error"' in got.get_data(as_text=True)
    got = client.get(f"/compare?plans={base}")
    assert got.status_code == 422 and 'id="plans-error"' in got.get_data(as_text=True)
    got = client.get(f"/compare?plans={base},99999")
    assert got.status_code == 422
    queued = queued_id(session, post(client, "/scenarios", "/scenarios/baseline",
                                     {"horizon_weeks": "1"}))
    got = client.get(f"/compare?plans={base},{queued}")
    assert got.status_code == 422 and str(queued) in got.get_data(as_text=True)
    assert client.get(f"/compare.csv?plans={base}").status_code == 422
    assert client.get(f"/compare.csv?plans={base},{plan}&table=nope").status_code == 400


def test_english_and_a_third_plan(app, client, session, compared):
    base, plan, sid = compared["base"], compared["plan"], compared["scenario"]
    copied = post(client, f"/scenarios/{sid}", f"/scenarios/{sid}/copy",
                  {"name": "and more demand"})
    assert copied.status_code == 303
    cid = int(copied.headers["Location"].rsplit("/", 1)[1])
    assert add_change(client, cid, kind="demand", percent="50").status_code == 303
    third = queued_id(session, post(client, f"/scenarios/{cid}", f"/scenarios/{cid}/run",
                                    {"horizon_weeks": "1"}))
    run_queued(app, third)
    html = client.get(f"/compare?plans={base},{plan},{third}&map={third}",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Key figures" in html and "better" in html and "worse" in html
    assert f'<title id="map-{third}-title">' in html and f'id="map-{plan}-title"' not in html
    row = re.search(r'<tr data-key="cases">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r"<td>([^<]*)</td>", row)[:3] == ["8", "8", "12"]


def test_readers_without_plan_run_see_no_forms_and_cannot_post(app, net, session, compared):
    planner = create_user(session, "districtplanner", grants=[("planner", net["district"])])
    session.commit()
    c = app.test_client()
    log_in(c, planner)
    sid, base, plan = compared["scenario"], compared["base"], compared["plan"]
    html = c.get(f"/scenarios/{sid}").get_data(as_text=True)
    assert 'id="add-capacity"' not in html and "changes.csv" in html
    assert c.get(f"/compare?plans={base},{plan}").status_code == 200
    assert c.get(f"/compare.xlsx?plans={base},{plan}").status_code == 200
    token = _csrf(html)
    for url in ("/scenarios", f"/scenarios/{sid}/changes", f"/scenarios/{sid}/run",
                f"/scenarios/{sid}/copy", "/scenarios/baseline"):
        assert c.post(url, data={"csrf_token": token, "name": "x"}).status_code == 403, url
    clinic = create_user(session, "clinicstaff", grants=[("clinic", net["station"])])
    session.commit()
    c2 = app.test_client()
    log_in(c2, clinic)
    assert c2.get("/scenarios").status_code == 403
    assert c2.get(f"/compare.csv?plans={base},{plan}").status_code == 403


def run_sweep(app, client) -> int:
    got = client.post("/api/v1/scaleups", json={"service": "autism_training",
                                                 "kind": "add_places", "places": 2,
                                                 "horizon_weeks": 1})
    assert got.status_code == 202, got.json
    run_queued(app, got.json["id"])
    return got.json["id"]


def test_a_sweep_never_becomes_the_baseline_and_shows_its_ranking(app, client, session,
                                                                   compared):
    base, plan, sid = compared["base"], compared["plan"], compared["scenario"]
    sweep = run_sweep(app, client)  # the newest finished plan without a scenario
    assert client.get(f"/api/v1/plans/{sweep}").json["kind"] == "sweep"
    assert client.get(f"/api/v1/plans/{base}").json["kind"] == "plan"
    html = client.get(f"/scenarios/{sid}").get_data(as_text=True)
    assert f"/compare?plans={base},{plan}" in html and f"plans={sweep}," not in html
    assert f"#{base}" in html[html.index('id="runs"'):]  # "baseline for comparisons: #base"
    listed = client.get("/scenarios").get_data(as_text=True)
    baselines = listed[listed.index('id="baselines"'):]
    assert f'href="/plans/{base}"' in baselines and f'href="/plans/{sweep}"' not in baselines
    picker = client.get("/compare").get_data(as_text=True)
    assert f'id="plan-{base}"' in picker and f'id="plan-{sweep}"' not in picker
    # compared anyway: refused, saying why (not "no results", not a table of dashes)
    got = client.get(f"/compare?plans={sweep},{plan}")
    assert got.status_code == 422 and "扩容" in got.get_data(as_text=True)
    got = client.get(f"/api/v1/plans/compare?plans={sweep},{plan}")
    assert got.status_code == 422 and got.json["errors"][0]["field"] == "plans"
    assert got.json["code"] == "plan.sweep_not_comparable"
    # its page shows the ranking, never "no results" or "no capacity is fully used"
    html = client.get(f"/plans/{sweep}", headers={"Accept-Language": "en"}).get_data(
        as_text=True)
    ranking = html[html.index('id="ranking"'):]
    assert "CT01" in ranking and "Scale-up sweep" in html
    row = re.search(r"<tr><td>1</td><th scope=\"row\">[^<]*\(CT01\)</th>(.*?)</tr>", ranking,
                    re.S)
    assert re.findall(r"<td>([^<]*)</td>", row.group(1))[2] == "2"  # 2 more placed
    assert "No results" not in html and "no capacity is fully used" not in html
    assert "Compare this plan with others" not in html


def test_a_scenario_runs_page_shows_its_results(app, client, session, compared):
    plan = compared["plan"]  # 2 more places at CT01: 6 of 8 placed in one week
    html = client.get(f"/plans/{plan}", headers={"Accept-Language": "en"}).get_data(
        as_text=True)
    assert "Scenario run" in html
    assert "No results" not in html and "no capacity is fully used" not in html
    districts = html[html.index('id="districts"'):html.index('id="scenario-loads"')]
    row = re.search(r"Hailar District \(150702\)</th>(.*?)</tr>", districts, re.S).group(1)
    assert re.findall(r"<td>([^<]*)</td>", row)[:3] == ["8", "6", "2"]  # cases, placed, waiting
    loads = html[html.index('id="scenario-loads"'):]
    row = re.search(r"\(CT01\)</th>(.*?)</tr>", loads, re.S).group(1)
    assert re.findall(r"<td>([^<]*)</td>", row) == ["6", "6", "100%"]
    assert "shadow prices are kept only for plans of the live network" in loads
    # the plain plan keeps its rows
    html = client.get(f"/plans/{compared['base']}", headers={"Accept-Language": "en"})
    html = html.get_data(as_text=True)
    assert "Plan of the live network" in html and 'id="scenario-loads"' not in html
    assert "None: no capacity is fully used." not in html  # CT01 is full in week 0


def test_a_planner_starts_a_plan_from_the_plans_page_and_sees_it_solved(app, client, session,
                                                                       net):
    """Issue 15: no terminal. The form shows the policy; bad input is answered in place and
    queues nothing; a good one queues the plan, whose page shows it once the worker solved it."""
    html = client.get("/plans").get_data(as_text=True)
    assert 'id="start-plan"' in html and "horizon_weeks" in html
    before = session.scalar(select(Plan.id).order_by(Plan.id.desc()))
    for bad in ({"horizon_weeks": "0"}, {"horizon_weeks": "x"},
                {"horizon_weeks": "2", "start_date": "2027-02-30"},
                {"horizon_weeks": "2", "start_date": "2027-01-05"}):  # a Tuesday
        got = post(client, "/plans", "/plans", bad)
        page = got.get_data(as_text=True)
        assert got.status_code == 422 and 'aria-invalid="true"' in page, bad
    session.expire_all()
    assert session.scalar(select(Plan.id).order_by(Plan.id.desc())) == before
    got = post(client, "/plans", "/plans", {"horizon_weeks": "1", "start_date": ""})
    plan_id = queued_id(session, got)
    assert got.headers["Location"].endswith(f"/plans/{plan_id}")
    run_queued(app, plan_id)
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert f"#{plan_id}" in page
    session.expire_all()
    assert session.get(Plan, plan_id).status in ("optimal", "feasible")
