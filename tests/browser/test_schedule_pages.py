"""The centre's coordinator adds a practitioner's weekly rule on a phone (390 px) with the
keyboard alone: the missing weekday is announced and tied to its checkboxes, in Chinese; axe
clean with the error and after success; the page never scrolls sideways (issue 15)."""
from __future__ import annotations

import os

from sqlalchemy import select

from rehab_net.booking.models import ScheduleRule, Slot
from tests.browser.helpers import PHONE, assert_no_axe_violations, fits, sqlite_only, tab_to


def _shot(page, name: str) -> None:
    """A screenshot for a person to look at, when REHAB_TEST_SHOTS names a folder."""
    folder = os.environ.get("REHAB_TEST_SHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


@sqlite_only
def test_a_weekly_rule_added_with_the_keyboard_on_a_phone(page, log_in_as, w, session,
                                                         page_watch):
    page_watch.allow_console(r"status of 422")  # the form answers 422 while it has errors
    page.set_viewport_size(PHONE)
    log_in_as(w["users"]["coord"])
    page.goto("/booking")
    tab_to(page, "a[href='/booking/practitioners']", max_tabs=80)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert_no_axe_violations(page, "practitioners")
    assert fits(page)
    tab_to(page, "a[href='/booking/practitioners/TH1']", max_tabs=80)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert fits(page)
    assert_no_axe_violations(page, "practitioner page")
    _shot(page, "practitioner")
    # no weekday ticked: refused at the weekdays
    tab_to(page, "#rule-service_code", max_tabs=80)
    page.keyboard.press("ArrowDown")  # the first service: autism training
    tab_to(page, "#rule-places")  # Enter submits from a text field
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#error-summary").count() == 1
    assert "星期" in page.locator("#rule-weekdays-error").inner_text()
    assert "rule-weekdays-error" in page.locator("#rule-weekdays").get_attribute(
        "aria-describedby")
    assert page.locator("#rule-service_code").input_value() == "autism_training"  # kept
    assert fits(page)
    assert_no_axe_violations(page, "practitioner page with an error")
    _shot(page, "practitioner-error")
    tab_to(page, "#rule-weekdays-1", max_tabs=80)  # Monday
    page.keyboard.press("Space")
    tab_to(page, "#rule-weekdays-3")  # Wednesday
    page.keyboard.press("Space")
    tab_to(page, "#add-rule")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#error-summary").count() == 0
    assert page.url.endswith("/booking/practitioners/TH1#rules")
    assert page.get_by_role("status").count() >= 1  # the flash is announced
    assert "08:30–11:30" in page.locator("#rules table").inner_text()
    assert fits(page)
    assert_no_axe_violations(page, "practitioner page after the rule was added")
    _shot(page, "practitioner-done")
    rule = session.scalar(select(ScheduleRule))
    assert (rule.weekdays, rule.slot_minutes, rule.active) == (0b101, 60, True)
    assert session.scalar(select(Slot.id).where(Slot.rule_id == rule.id)) is not None
