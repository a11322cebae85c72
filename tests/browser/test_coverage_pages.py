"""The coverage page and the rescue ledger (issue 16, part 4): a planner chooses the year and a
category with the keyboard alone on a phone (390 px) in Chinese, reads the chart beside its
table, then the same page and the ledger's worklist in English at 1366 px; axe clean in every
state; nothing scrolls sideways (the tables scroll inside their regions)."""
from __future__ import annotations

import pytest

from tests import coverage_world
from tests.browser.helpers import (
    DESK,
    PHONE,
    assert_no_axe_violations,
    fits,
    login,
    sqlite_only,
    tab_to,
)
from tests.factories import TEST_PASSWORD, create_user


@pytest.fixture
def world(app, session):
    app.config.update(COVERAGE_BASE_YEAR=2025, COVERAGE_SMALL_CELL=1)
    r = coverage_world.build(session)
    create_user(session, "planner", grants=[("planner", None)])
    session.commit()
    return r


@sqlite_only
def test_coverage_by_keyboard_on_a_phone_then_the_ledger_in_english(page, live_server, world):
    page.set_viewport_size(PHONE)
    login(page, live_server, "planner", TEST_PASSWORD)
    page.goto("/coverage")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h1").inner_text() == "2026年康复服务覆盖率（截至目前）"
    assert page.locator("svg.chart[role=img]").count() == 1
    assert "0-6岁儿童" in page.locator("#by_group").inner_text()
    assert fits(page)
    assert_no_axe_violations(page, "coverage page on a phone")
    # the year 2025, the category physical, by keyboard
    tab_to(page, "#year", max_tabs=80)
    page.keyboard.press("ArrowDown")  # 2026 -> 2025
    tab_to(page, "#category")
    page.locator("#category").select_option("physical")  # a select's own keys differ per OS
    tab_to(page, "form.filters button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "year=2025" in page.url and "category=physical" in page.url
    assert page.locator("h1").inner_text() == "2025年康复服务覆盖率"
    first = page.locator("#by_group tbody tr").first.inner_text()
    assert "全部群体" in first and "100.0%" in first  # A3, served in 2025
    assert fits(page)
    assert_no_axe_violations(page, "coverage 2025, physical")
    # English, on a desk: the worklist of the ledger
    page.set_viewport_size(DESK)
    with page.expect_navigation():
        page.locator("form.language button[value='en']").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Coverage 2025"
    assert_no_axe_violations(page, "coverage page in English")
    page.goto("/coverage/rescue?worklist=1")
    ledger = page.locator("#ledger").inner_text()
    assert "B1" in ledger and "near the cap" in ledger and "A1" not in ledger
    assert fits(page)
    assert_no_axe_violations(page, "the rescue worklist in English")
    page.set_viewport_size(PHONE)
    assert fits(page)
    assert_no_axe_violations(page, "the rescue worklist on a phone")
