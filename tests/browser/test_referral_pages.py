"""The referral pages in a real browser: the coordinator's inbox and the clinic's outbox pass axe
(WCAG 2.1 A/AA) on both dialects; the coordinator opens a referral and accepts it with the
keyboard alone; a form with an error is announced and tied to its field."""
from __future__ import annotations

import pytest

from rehab_net.referrals.models import Referral
from tests.browser.helpers import (
    assert_focus_visible,
    assert_no_axe_violations,
    login,
    sqlite_only,
    tab_to,
)
from tests.factories import TEST_PASSWORD, create_user
from tests.referral_world import add_child, drive, referral_network


@pytest.fixture
def world(session):
    r = referral_network(session, with_centre2=True)
    add_child(session, r)
    create_user(session, "coord", grants=[("coordinator", r["centre"])])
    create_user(session, "staff", grants=[("clinic", r["station"])])
    session.commit()
    r["received"] = drive(session, r, "received").code
    r["declined"] = drive(session, r, "declined").code
    r["completed"] = drive(session, r, "completed").code
    return r


def _state(session, code: str) -> str:
    session.expire_all()
    return session.query(Referral).filter_by(code=code).one().state


def test_coordinator_inbox_and_referral_pass_axe(page, live_server, world):
    login(page, live_server, "coord", TEST_PASSWORD)
    response = page.goto("/inbox")
    assert response.status == 200
    assert page.locator("h1").count() == 1 and page.locator("table caption").count() == 4
    badge = page.locator("header nav .badge")  # the notification of the sent referral
    assert badge.count() == 1 and "未读" in badge.inner_text()
    assert_no_axe_violations(page, "coordinator inbox")
    for path in (f"/referrals/{world['received']}", f"/referrals/{world['completed']}",
                 "/notifications"):
        assert page.goto(path).status == 200, path
        assert_no_axe_violations(page, f"coordinator {path}")


def test_clinic_outbox_and_its_forms_pass_axe(page, live_server, world):
    login(page, live_server, "staff", TEST_PASSWORD)
    assert page.goto("/outbox").status == 200
    assert page.get_by_role("link", name=f"改转他处 ({world['declined']})").count() == 1
    assert_no_axe_violations(page, "clinic outbox")
    for path in (f"/referrals/{world['declined']}", "/referrals/new?case=KCHILD",
                 "/notifications"):
        assert page.goto(path).status == 200, path
        assert_no_axe_violations(page, f"clinic {path}")


@sqlite_only
def test_coordinator_opens_and_accepts_a_referral_with_the_keyboard_only(page, live_server,
                                                                        world, session):
    code = world["received"]
    login(page, live_server, "coord", TEST_PASSWORD)
    page.goto("/inbox")
    tab_to(page, f'a[href="/referrals/{code}"]')
    assert_focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/referrals/{code}")
    assert page.locator("#referral-state").inner_text() == "已签收"
    tab_to(page, "#act-accept", max_tabs=80)
    assert_focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/referrals/{code}")
    assert page.locator("#referral-state").inner_text() == "已接纳"
    assert "已接纳" in page.get_by_role("status").inner_text()  # the flash is announced
    assert _state(session, code) == "accepted"
    assert_no_axe_violations(page, "referral after accepting")


@sqlite_only
def test_a_decline_without_a_reason_is_announced_and_tied_to_the_field(page, live_server, world,
                                                                       session, page_watch):
    page_watch.allow_console(r"status of 422")  # the form answers 422 while it has errors
    code = world["received"]
    login(page, live_server, "coord", TEST_PASSWORD)
    page.goto(f"/referrals/{code}")
    tab_to(page, "#decline-reason", max_tabs=80)
    page.keyboard.type("no speech therapist until March")
    tab_to(page, "#act-decline")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    summary = page.locator("#error-summary")
    assert summary.count() == 1 and summary.get_attribute("role") == "alert"
    field = page.locator("#decline-reason_code")
    assert field.get_attribute("aria-invalid") == "true"
    assert "decline-reason_code-error" in field.get_attribute("aria-describedby")
    assert page.locator("#decline-reason").input_value() == "no speech therapist until March"
    assert_no_axe_violations(page, "decline form with an error")
    assert _state(session, code) == "received"
