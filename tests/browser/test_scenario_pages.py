"""The planners' scenario pages in Chromium: axe-clean (the list, a scenario, its error state,
the comparison with its charts and map), a change added and a run started with the keyboard
alone, and the screenshot of the comparison on a realistic network (docs/screenshots)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from rehab_net.cli import main as cli
from rehab_net.planning import operations as ops
from rehab_net.planning import scenarios, worker
from tests.browser.helpers import (
    assert_focus_visible,
    assert_no_axe_violations,
    indexed_png,
    sqlite_only,
    tab_to,
)
from tests.conftest import TODAY
from tests.factories import app_context_of, create_user
from tests.planning_helpers import sample_subset, waiting_list

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs/screenshots/compare.png"


@pytest.fixture
def planner(session):
    """A planner of the whole network: reads, saves and runs scenarios."""
    user = create_user(session, "planner", grants=[("planner", None)], display_name="规划员")
    session.commit()
    return user


def run_plan(app, plan_id: int) -> None:
    assert worker.claim_next(app) == plan_id
    assert worker.run_claimed_plan(app, plan_id) == "optimal"


def queue_run(session, scenario=None, horizon: int = 1) -> int:
    with app_context_of(session):
        if scenario is None:
            plan = ops.create_plan(session, {"horizon_weeks": horizon}, today=TODAY,
                                   default_time_limit=60)
        else:
            plan = scenarios.run_scenario(session, scenario, {"horizon_weeks": horizon},
                                          today=TODAY, default_time_limit=60)
    session.commit()
    return plan.id


@sqlite_only
def test_the_pages_are_axe_clean_and_work_by_keyboard(app, session, page, log_in_as, planner,
                                                      page_watch):
    waiting_list(session, n=8)
    session.commit()
    base = queue_run(session)
    run_plan(app, base)
    log_in_as(planner)

    page.goto("/scenarios")
    assert_no_axe_violations(page, "the scenarios list (empty)")
    # a new scenario, by keyboard: type the name, Enter submits
    tab_to(page, "#name")
    assert_focus_visible(page)
    page.keyboard.type("两个名额")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert re.search(r"/scenarios/\d+$", page.url), page.url
    scenario_url = page.url
    assert_no_axe_violations(page, "a new scenario")

    # add a capacity change with the keyboard alone
    tab_to(page, "#capacity-facility")
    assert_focus_visible(page)
    page.keyboard.type("CT01")
    tab_to(page, "#capacity-service", max_tabs=3)
    page.keyboard.press("ArrowDown")  # the first service: autism training
    assert page.input_value("#capacity-service") == "autism_training"
    tab_to(page, "#capacity-delta", max_tabs=8)
    page.keyboard.type("2")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("#changes")
    table = page.locator("#changes + table, section[aria-labelledby=changes] table").first
    assert "CT01" in table.inner_text() and "2" in table.inner_text()
    assert_no_axe_violations(page, "a scenario with a change")

    # an invalid change: the error summary and the field's error, still axe-clean
    page_watch.allow_console(r"status of 422")
    tab_to(page, "#close_facility-facility", max_tabs=80)
    page.keyboard.type("NOPE")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#close_facility-facility-error").is_visible()
    assert page.locator("#close_facility-facility").get_attribute("aria-invalid") == "true"
    assert_no_axe_violations(page, "a scenario with an invalid change")

    # run it by keyboard, then let the worker solve it
    page.goto(scenario_url)
    tab_to(page, "#run-horizon_weeks", max_tabs=120)
    assert_focus_visible(page)
    page.keyboard.press("Control+A")
    page.keyboard.type("1")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("#runs")
    note = page.locator(".flashes").inner_text()
    plan_id = int(re.search(r"#(\d+)", note).group(1))
    run_plan(app, plan_id)
    # the refresh link, by keyboard
    page.locator("#runs").focus()
    tab_to(page, "form.refresh button", max_tabs=3)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    runs = page.locator("section[aria-labelledby=runs] table").inner_text()
    assert f"#{plan_id}" in runs and "最优" in runs
    assert_no_axe_violations(page, "a scenario with a finished run")

    page.goto("/scenarios")
    assert "两个名额" in page.locator("table").first.inner_text()
    assert_no_axe_violations(page, "the scenarios list")

    # the comparison: its form, then the comparison itself, by keyboard
    page.goto("/compare")
    assert_no_axe_violations(page, "the comparison's form")
    tab_to(page, "#base", max_tabs=40)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # the options: "first checked", #plan, #base
    assert page.input_value("#base") == str(base)
    tab_to(page, f"#plan-{plan_id}", max_tabs=5)
    page.keyboard.press("Space")
    tab_to(page, "form button[type=submit]", max_tabs=5)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/compare?plans={base},{plan_id}")
    assert page.locator("svg.map").count() == 2
    assert "▲ +2 变好" in page.locator("tr[data-key=placed]").inner_text()
    assert_no_axe_violations(page, "the comparison")
    # nothing in the charts takes focus: Tab goes from the downloads to the tables' links
    path = tab_to(page, "a[href$='table=kpis']", max_tabs=60)
    assert not any(p.startswith(("svg", "rect", "circle")) for p in path), path
    assert_focus_visible(page)


# More autism places where children wait longest (Morin Dawa, Arun), a new station at Yakeshi
# with autism and hearing training, and a visiting speech therapist's day at Zhalantun.
SCREENSHOT_CHANGES = [
    {"kind": "capacity", "facility": "CT011", "service": "autism_training", "delta": 3},
    {"kind": "capacity", "facility": "CT010", "service": "autism_training", "delta": 2},
    {"kind": "open_facility", "code": "XZ-YKS", "tier": "station", "lat": 49.29, "lon": 120.71,
     "capacity": {"autism_training": 3}},
    {"kind": "capacity", "facility": "XZ-YKS", "service": "hearing_training", "set": 2},
    {"kind": "outreach", "facility": "CT006", "service": "speech_training", "week": 1,
     "places": 8},
]


@sqlite_only
def test_screenshot_of_the_comparison_on_the_sample_region(app, session, page, log_in_as,
                                                           planner, tmp_path):
    got = CliRunner().invoke(cli, ["load-sample", "--dir", str(sample_subset(
        tmp_path / "sample", persons=6000))], obj=ScriptInfo(create_app=lambda: app))
    assert got.exit_code == 0, got.output
    base = queue_run(session, horizon=4)
    run_plan(app, base)
    with app.app_context():
        scenario = scenarios.create_scenario(session, {
            "name": "东部旗市增加孤独症训练名额", "description": "示例",
            "changes": SCREENSHOT_CHANGES}, actor="planner")
    session.commit()
    plan_id = queue_run(session, scenario, horizon=4)
    run_plan(app, plan_id)
    log_in_as(planner)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/compare?plans={base},{plan_id}")
    assert page.locator("svg.map").count() == 2
    maps = page.locator("svg.map")
    assert maps.nth(1).locator("rect, polygon, circle").count() > 1000  # every facility
    assert "XZ-YKS" in maps.nth(1).inner_html() and "XZ-YKS" not in maps.nth(0).inner_html()
    assert_no_axe_violations(page, "the comparison on the sample region")
    # The committed screenshot is refreshed only on request (REHAB_UPDATE_SCREENSHOTS=1), so a
    # test run never changes the working tree; otherwise it goes to the test's temporary folder.
    import os

    target = SCREENSHOT if os.environ.get("REHAB_UPDATE_SCREENSHOTS") else tmp_path / "compare.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    shot = page.screenshot(full_page=True)
    target.write_bytes(indexed_png(page.context.new_page(), shot))
    size = target.stat().st_size
    assert size < 400_000, f"{target} is {size} bytes"
