"""The planner's whole job on the plan pages (issue 15): a run's progress and cancelling it, the
cases of a plan (paged, filtered, reasons as words), applying its proposals after a confirmation,
and a scale-up sweep started from a form whose page ranks the candidates in a table and on the
map. (In Chromium: tests/browser/test_plan_pages.py.)"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from rehab_net.planning import operations as ops
from rehab_net.planning.models import Plan
from rehab_net.referrals.models import Referral
from tests.conftest import TODAY
from tests.factories import create_plan
from tests.planning_helpers import solve_here, waiting_list

pytestmark = pytest.mark.parametrize("app", ["sqlite"], indirect=True)


@pytest.fixture(autouse=True)
def _english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the asserts read the English texts


def _csrf(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _solved(session, n: int = 6) -> tuple[dict, int]:
    net = waiting_list(session, n=n)
    plan = create_plan(session, today=TODAY, horizon_weeks=1)
    session.commit()
    solve_here(session, plan.id)
    return net, plan.id


def test_a_queued_run_shows_its_place_in_line_and_is_cancelled_from_its_page(client, session):
    waiting_list(session, n=2)
    first = create_plan(session, today=TODAY).id
    second = create_plan(session, today=TODAY).id
    session.commit()
    html = client.get(f"/plans/{second}").get_data(as_text=True)
    assert 'id="stage"' in html and "1 run ahead of it." in html
    assert 'id="districts"' not in html and 'id="loads"' not in html  # no empty results yet
    assert f'href="/plans/{second}" id="refresh"' in html
    token = _csrf(client, f"/plans/{second}")
    got = client.post(f"/plans/{second}/cancel", data={"csrf_token": token})
    assert got.status_code == 303
    assert session.get(Plan, second, populate_existing=True).status == "cancelled"
    page = client.get(f"/plans/{second}").get_data(as_text=True)
    assert "Cancelled before it started." in page and 'id="cancel-plan"' not in page
    # cancelled again: it has finished, said in place
    again = client.post(f"/plans/{second}/cancel", data={"csrf_token": token})
    assert again.status_code == 409 and 'id="cancel-error"' in again.get_data(as_text=True)
    assert session.get(Plan, first).status == "queued"


def test_a_running_plan_shows_its_stage_and_asks_the_worker_to_stop(client, session):
    waiting_list(session, n=2)
    plan = create_plan(session, today=TODAY)
    session.commit()
    assert ops.claim(session, plan.id)
    session.commit()
    html = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert "Reading the network and the waiting cases" in html
    running = session.get(Plan, plan.id, populate_existing=True)
    running.fingerprint = "ab"  # the worker has read the instance
    session.commit()
    html = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert "The optimiser is solving" in html and "<progress" in html
    assert 'id="districts"' not in html and 'id="shadow"' not in html
    got = client.post(f"/plans/{plan.id}/cancel",
                      data={"csrf_token": _csrf(client, f"/plans/{plan.id}")})
    assert got.status_code == 303
    assert session.get(Plan, plan.id, populate_existing=True).cancel_requested


def test_the_cases_of_a_plan_are_paged_filtered_and_say_why_in_words(client, session):
    _net, plan_id = _solved(session)
    html = client.get(f"/plans/{plan_id}/cases").get_data(as_text=True)
    assert "6 cases by code" in html
    unplaced = client.get(f"/plans/{plan_id}/cases?placed=no").get_data(as_text=True)
    assert "2 cases by code" in unplaced
    assert "No place left within the horizon" in unplaced and ">capacity<" not in unplaced
    assert "2 cases" in client.get(f"/plans/{plan_id}/cases?reason=capacity").get_data(
        as_text=True)
    child = client.get(f"/plans/{plan_id}/cases?priority=child&district=150702"
                       "&service=autism_training").get_data(as_text=True)
    assert "1 cases by code" in child
    bad = client.get(f"/plans/{plan_id}/cases?priority=urgent&placed=maybe")
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert 'id="priority-error"' in text and 'id="placed-error"' in text
    assert client.get(f"/plans/{plan_id}/cases?page=0").status_code == 422


def test_applying_a_plan_asks_first_then_says_how_many_referrals_were_made(client, session):
    _net, plan_id = _solved(session, n=3)
    token = _csrf(client, f"/plans/{plan_id}")
    ask = client.post(f"/plans/{plan_id}/apply", data={"csrf_token": token})
    assert ask.status_code == 200 and 'id="confirm-apply"' in ask.get_data(as_text=True)
    assert session.scalar(select(Referral.id)) is None  # nothing made before confirming
    done = client.post(f"/plans/{plan_id}/apply", data={"csrf_token": token, "confirm": "1"})
    assert done.status_code == 303
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    made = len(session.scalars(select(Referral)).all())
    assert made == 3 and f"{made} draft referrals made" in page
    again = client.post(f"/plans/{plan_id}/apply", data={"csrf_token": token, "confirm": "1"})
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "0 draft referrals made" in page and "has an open referral (3)" in page


def test_a_sweep_is_started_from_the_form_and_its_page_ranks_on_a_table_and_a_map(
        app, client, session):
    from rehab_net.planning import worker

    waiting_list(session, n=6)
    session.commit()
    token = _csrf(client, "/plans")
    empty = client.post("/scaleups", data={"csrf_token": token})
    assert empty.status_code == 422
    html = empty.get_data(as_text=True)
    for name in ("sweep_service", "sweep_kind", "sweep_places"):
        assert f'id="{name}-error"' in html
    unknown = client.post("/scaleups", data={"csrf_token": token, "sweep_service": "nope",
                                             "sweep_kind": "add_places", "sweep_places": "2"})
    assert unknown.status_code == 422 and 'id="sweep_service-error"' in unknown.get_data(
        as_text=True)
    got = client.post("/scaleups", data={"csrf_token": token, "sweep_service": "autism_training",
                                         "sweep_kind": "add_places", "sweep_places": "2"})
    assert got.status_code == 303
    plan_id = int(got.headers["Location"].rsplit("/", 1)[1])
    assert session.get(Plan, plan_id).kind == "sweep"
    assert worker.claim_next(app) == plan_id
    assert worker.run_claimed_plan(app, plan_id) == "optimal"
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert 'id="ranking-map-' in page and "<svg" in page
    assert re.search(r"<th scope=\"row\">[^<]*\(CT01\)</th>", page)


def test_the_plan_pages_speak_chinese_in_every_state(app, client, session):
    """The language crawl's rule (tests/test_language_crawl.py) on the states its world has no
    plan for: queued, solved, the cases with a wrong filter, the confirmation, a sweep."""
    from tests.language import english_runs, visible_text

    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    net, plan_id = _solved(session, n=3)
    queued = create_plan(session, today=TODAY).id
    sweep = ops.create_plan(session, {}, today=TODAY, default_time_limit=10)
    sweep.parameters = {**sweep.parameters, "scaleup": {"service": "autism_training",
                                                        "kind": "open_station", "places": 2}}
    session.commit()
    sweep_id = sweep.id
    assert ops.claim(session, queued)
    fingerprint = session.get(Plan, plan_id).fingerprint
    session.commit()
    # user data and codes: names of places and users; the instance's fingerprint (hex)
    data = {w for f in ("city", "district", "township", "centre", "station") if f in net
            for n in (net[f].name_zh, net[f].name_en) for w in n.split()}
    data |= {"Operator", "operator"} | set(re.findall(r"[a-f]+", fingerprint))
    token = _csrf(client, "/plans")
    pages = {
        "solved": client.get(f"/plans/{plan_id}"),
        "running": client.get(f"/plans/{queued}"),
        "queued sweep": client.get(f"/plans/{sweep_id}"),
        "cases": client.get(f"/plans/{plan_id}/cases?placed=no"),
        "cases, wrong filter": client.get(f"/plans/{plan_id}/cases?reason=bogus"),
        "confirm": client.post(f"/plans/{plan_id}/apply", data={"csrf_token": token}),
        "sweep form empty": client.post("/scaleups", data={"csrf_token": token}),
    }
    found = {}
    for name, got in pages.items():
        assert got.status_code in (200, 422), (name, got.status_code)
        runs = [r for part in visible_text(got.get_data(as_text=True))
                for r in english_runs(part, data)]
        if runs:
            found[name] = sorted(set(runs))
    assert not found, found


def test_every_message_the_worker_and_queue_store_is_shown_in_chinese(app):
    """What the worker, the sweeper and cancelling store is a code with parameters; the page
    shows it in the reader's language, the English text stays for the API."""
    from rehab_net.messages import CATALOGUE, message
    from rehab_net.planning import optimiser_child

    stored = [optimiser_child.crash_message(-9), optimiser_child.crash_message(1),
              optimiser_child.describe_exception(ValueError("bad")),
              message("plan.timeout", seconds="60"), message("plan.worker_silent", seconds=120),
              message("plan.optimiser_said", detail="infeasible")]
    stored += [message(code) for code in ("plan.cancelled_queued", "plan.cancelled_running",
                                          "plan.worker_error", "plan.worker_stopped",
                                          "plan.optimiser_error")]
    stored.append(message("plan.requeued", at="2026-12-03T08:00:00+00:00"))
    assert {m.code for m in stored} >= {c for c in CATALOGUE if c.startswith("plan.")
                                        and c in _WRITTEN_BY_THE_WORKER}
    for why in stored:
        plan = Plan(**ops.said(why))
        assert plan.message == str(why)
        with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
            shown = plan.shown_message
        assert shown != str(why) and re.search(r"[\u4e00-\u9fff]", shown), why
    assert Plan(message="written before codes").shown_message == "written before codes"


_WRITTEN_BY_THE_WORKER = {"plan.cancelled_queued", "plan.cancelled_running", "plan.worker_silent",
                          "plan.worker_error", "plan.worker_stopped", "plan.requeued",
                          "plan.timeout", "plan.crashed", "plan.optimiser_failed",
                          "plan.optimiser_error", "plan.optimiser_said"}


def test_a_cancelled_plan_says_so_in_chinese_on_its_page(client, session):
    waiting_list(session, n=1)
    plan_id = create_plan(session, today=TODAY).id
    session.commit()
    assert client.post(f"/api/v1/plans/{plan_id}/cancel").status_code == 200
    stored = session.get(Plan, plan_id, populate_existing=True)
    assert (stored.message, stored.message_code) == ("Cancelled before it started.",
                                                     "plan.cancelled_queued")
    assert client.get(f"/api/v1/plans/{plan_id}").get_json()["message_code"] == \
        "plan.cancelled_queued"
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    alert = re.search(r'<p role="alert">([^<]+)</p>', page).group(1)
    assert re.search(r"[\u4e00-\u9fff]", alert) and "Cancelled" not in alert
