"""The planner's whole job on the plan pages in Chromium (issue 15): watching a run and
cancelling it with the keyboard alone, the cases of a plan filtered, applying its proposals after
the confirmation, and a scale-up sweep from the form to its ranking on a table and the map. Every
page and error state is axe-clean and fits the screen at 1366 and at 390 px.

Screenshots of each page at both widths go to docs/screenshots/ with REHAB_UPDATE_SCREENSHOTS=1
(otherwise none are written, so a test run never changes the working tree)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from rehab_net.planning import operations as ops
from rehab_net.planning import worker
from rehab_net.planning.models import Plan
from rehab_net.referrals.models import Referral
from tests.browser.helpers import (
    assert_focus_visible,
    assert_no_axe_violations,
    indexed_png,
    sqlite_only,
    tab_to,
)
from tests.conftest import TODAY
from tests.factories import create_plan, create_user
from tests.planning_helpers import sample_subset, solve_here, waiting_list

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs/screenshots"
WIDTHS = {"desk": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def planner(session):
    user = create_user(session, "planner", grants=[("planner", None)], display_name="规划员")
    session.commit()
    return user


def check(page, what: str, shot: str | None = None) -> None:
    """axe-clean and no sideways scrolling at both widths (tables scroll in their region);
    with REHAB_UPDATE_SCREENSHOTS=1 a screenshot of each width as docs/screenshots/<shot>-*.png.
    Leaves the page at desk width."""
    __tracebackhide__ = True
    for size in (WIDTHS["phone"], WIDTHS["desk"]):
        page.set_viewport_size(size)
        assert_no_axe_violations(page, f"{what} at {size['width']} px")
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert scroll <= inner, f"{what} at {size['width']} px scrolls sideways: {scroll}"
        if shot and os.environ.get("REHAB_UPDATE_SCREENSHOTS"):
            png = page.screenshot(full_page=True)
            (SCREENSHOTS / f"{shot}-{size['width']}.png").write_bytes(
                indexed_png(page.context.new_page(), png))


@sqlite_only
def test_watch_a_run_and_cancel_it_with_the_keyboard_alone(page, log_in_as, planner, session,
                                                           page_watch):
    page_watch.allow_console(r"status of 409")  # the error state below
    waiting_list(session, n=2)
    ahead = create_plan(session, today=TODAY).id
    plan_id = create_plan(session, today=TODAY).id
    session.commit()
    log_in_as(planner)
    assert page.goto(f"/plans/{plan_id}").status == 200
    assert page.locator("#stage").count() == 1
    check(page, "a queued run", shot="plan-progress")
    # refresh (a link: no script needed), then cancel, by keyboard
    tab_to(page, "#refresh", max_tabs=60)
    assert_focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to(page, "#cancel-plan", max_tabs=60)
    assert_focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".flash-success").count() == 1
    assert page.locator("#cancel-plan").count() == 0
    assert session.get(Plan, plan_id).status == "cancelled"
    session.rollback()
    # the error state: the other run finishes before the planner's press arrives
    assert page.goto(f"/plans/{ahead}").status == 200
    ops.cancel(session, session.get(Plan, ahead))
    session.commit()
    tab_to(page, "#cancel-plan", max_tabs=60)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#cancel-error").count() == 1
    check(page, "cancelling a run that has finished")


def test_the_cases_of_a_plan_filtered_and_its_proposals_applied(page, log_in_as, planner,
                                                                session, page_watch):
    page_watch.allow_console(r"status of 422")  # the error state below
    waiting_list(session, n=6)
    plan = create_plan(session, today=TODAY, horizon_weeks=1)
    session.commit()
    solve_here(session, plan.id)
    plan_id = plan.id
    session.rollback()
    log_in_as(planner)
    assert page.goto(f"/plans/{plan_id}").status == 200
    check(page, "a solved plan", shot="plan-solved")
    page.locator("#cases-link").click()
    page.wait_for_url(f"**/plans/{plan_id}/cases")
    assert page.locator("tbody tr").count() == 6
    check(page, "the cases of a plan", shot="plan-cases")
    page.locator("#placed").select_option("no")
    with page.expect_navigation():
        page.locator("#filter-cases").click()
    assert page.locator("tbody tr").count() == 2
    assert page.locator("tbody").inner_text().count("计划期内已无空余名额") == 2
    # an error state: a filter value not on the list (an edited address)
    assert page.goto(f"/plans/{plan_id}/cases?priority=urgent").status == 422
    assert page.locator("#priority-error").count() == 1
    check(page, "the cases with a wrong filter")
    # apply: the confirmation, then the count
    page.goto(f"/plans/{plan_id}")
    with page.expect_navigation():
        page.locator("#apply-plan").click()
    assert "4" in page.locator("#apply-summary").inner_text()
    check(page, "the confirmation of applying", shot="plan-apply")
    with page.expect_navigation():
        page.locator("#confirm-apply").click()
    flash = page.locator(".flash-success").inner_text()
    made = len(session.scalars(select(Referral)).all())
    session.rollback()
    assert made == 4 and f"{made}" in flash, flash
    check(page, "the plan after applying")


def test_a_sweep_from_the_form_to_its_ranking_on_a_table_and_the_map(app, page, log_in_as,
                                                                      planner, session,
                                                                      page_watch):
    page_watch.allow_console(r"status of 422")  # the form sent empty
    waiting_list(session, n=8)
    session.commit()
    log_in_as(planner)
    page.goto("/plans")
    with page.expect_navigation():
        page.locator("#start-sweep").click()  # empty: every field says what is wrong
    for name in ("sweep_service", "sweep_kind"):
        assert page.locator(f"#{name}-error").count() == (name == "sweep_service")
    check(page, "the sweep form with errors")
    page.locator("#sweep_service").select_option("autism_training")
    page.locator("#sweep_kind").select_option("add_places")
    page.locator("#sweep_places").fill("3")
    with page.expect_navigation():
        page.locator("#start-sweep").click()
    plan_id = int(page.url.rsplit("/", 1)[1])
    assert page.locator("#stage").count() == 1
    check(page, "a queued sweep")
    assert worker.claim_next(app) == plan_id
    assert worker.run_claimed_plan(app, plan_id) == "optimal"
    page.reload()
    assert page.locator("svg.map").count() == 1
    assert page.locator("#ranking-caption").count() == 1
    rows = page.locator("table:has(#ranking-caption) tbody tr")
    assert rows.count() >= 1 and "CT01" in page.locator("svg.map").inner_html()
    check(page, "a sweep's ranking")


# The boxes of the map's labels as Chromium draws them (halo text: the labels, not the axes).
_LABEL_BOXES = """() => [...document.querySelectorAll('svg.map text[paint-order]')].map(t => {
  const r = t.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom, t.textContent];
})"""


@sqlite_only
def test_a_sweep_on_the_sample_region_labels_its_map_without_overlaps(app, page, log_in_as,
                                                                       planner, session,
                                                                       tmp_path):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from rehab_net.cli import main as cli

    got = CliRunner().invoke(cli, ["load-sample", "--dir", str(sample_subset(
        tmp_path / "sample", persons=3000))], obj=ScriptInfo(create_app=lambda: app))
    assert got.exit_code == 0, got.output
    log_in_as(planner)
    page.goto("/plans")
    page.locator("#sweep_service").select_option("autism_training")
    page.locator("#sweep_places").fill("2")
    with page.expect_navigation():
        page.locator("#start-sweep").click()
    plan_id = int(page.url.rsplit("/", 1)[1])
    assert worker.claim_next(app) == plan_id
    assert worker.run_claimed_plan(app, plan_id) == "optimal"
    page.reload()
    boxes = page.evaluate(_LABEL_BOXES)
    assert len(boxes) >= 5, boxes
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5
                        and b[1] < a[3] - 0.5), f"labels {a[4]!r} and {b[4]!r} overlap"
    check(page, "a sweep's ranking on the sample region", shot="sweep-ranking")
