"""The certificate pages (issue 16, part 3): a clinic's staff find a certificate in the list,
cancel it with the keyboard alone on a phone (390 px), the error in place and announced, in
Chinese; the person page shows the state; the same pages in English at 1366 px; axe clean in
every state; nothing scrolls sideways."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from rehab_net.certificates import operations as ops
from tests.browser.helpers import (
    DESK,
    PHONE,
    assert_no_axe_violations,
    fits,
    login,
    sqlite_only,
    tab_to,
)
from tests.factories import TEST_PASSWORD, create_person, create_user, tiny_network


@pytest.fixture
def world(app, session):
    r = tiny_network(session)
    create_user(session, "clinic", grants=[("clinic", r["station"])])
    create_person(session, code="PH", name="乌日娜")
    with app.app_context():
        ops.issue(session, {"person_code": "PH", "category": "hearing", "grade": 2,
                            "issued_on": date(2017, 1, 10)},  # renewal due from 2026-10-11
                  today=date(2026, 11, 16), now=datetime(2026, 11, 16, tzinfo=UTC))
    session.commit()
    return r


@sqlite_only
def test_cancel_a_certificate_on_a_phone_then_read_it_in_english(page, live_server, world,
                                                                 session, page_watch):
    page_watch.allow_console(r"status of 422")
    page.set_viewport_size(PHONE)
    login(page, live_server, "clinic", TEST_PASSWORD)
    page.goto("/certificates?due=1")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "C000001" in page.locator("table").inner_text()
    assert "有效" in page.locator("table").inner_text()
    assert fits(page)
    assert_no_axe_violations(page, "certificates due for renewal")
    tab_to(page, "a[href='/certificates/C000001']", max_tabs=80)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert fits(page)
    assert_no_axe_violations(page, "certificate page")
    # open the cancel step with the keyboard, send it without a reason
    tab_to(page, "a[href$='step=cancel#step-form']", max_tabs=80)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert_no_axe_violations(page, "the cancel form")
    tab_to(page, "#reason")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#error-summary").count() == 1
    assert page.locator("#reason").get_attribute("aria-invalid") == "true"
    assert "注销原因" in page.locator("#reason-error").inner_text()
    assert fits(page)
    assert_no_axe_violations(page, "certificate page with an error")
    tab_to(page, "#reason")
    page.keyboard.type("持证人去世")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#error-summary").count() == 0
    assert page.get_by_role("status").count() >= 1
    assert page.locator("#certificate-state").inner_text() == "已取消"
    assert "人工注销" in page.locator("table").last.inner_text()
    assert_no_axe_violations(page, "cancelled certificate")
    # the person page shows it with its state
    page.goto("/persons/PH")
    section = page.locator("#person-certificates-caption").locator("..")
    assert "C000001" in section.inner_text() and "已取消" in section.inner_text()
    assert fits(page)
    assert_no_axe_violations(page, "person page with certificates")
    # English, on a desk
    page.set_viewport_size(DESK)
    with page.expect_navigation():
        page.locator("form.language button[value='en']").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Disability certificates" in page.content()
    page.goto("/certificates/C000001")
    assert page.locator("#certificate-state").inner_text() == "Cancelled"
    assert "Cancelled by hand" in page.locator("table").last.inner_text()
    assert_no_axe_violations(page, "certificate page in English")
    page.goto("/certificates")
    assert_no_axe_violations(page, "certificates list in English")
    assert fits(page)
