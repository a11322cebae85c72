"""A village clinic closes a case and corrects a person's details on a phone (390 px), with the
keyboard alone: the allowed moves only, the reason kept in the history, errors tied to their
fields in Chinese; axe clean; the page never scrolls sideways."""
from __future__ import annotations

from datetime import date

import pytest

from tests.browser.helpers import PHONE, assert_no_axe_violations, fits, login, sqlite_only, tab_to
from tests.factories import TEST_PASSWORD, create_case, create_person, create_user, tiny_network


@pytest.fixture
def world(session):
    r = tiny_network(session)
    create_user(session, "clinic", grants=[("clinic", r["station"])])
    r["person"] = create_person(session, name="其木格", birth_date=date(2022, 3, 3),
                                guardian_name="巴特尔")
    r["case"] = create_case(session, r["person"])
    session.commit()
    return r


@sqlite_only
def test_a_clinic_closes_a_case_with_a_reason_on_a_phone(page, live_server, world, session):
    page.set_viewport_size(PHONE)
    login(page, live_server, "clinic", TEST_PASSWORD)
    page.goto(f"/cases/{world['case'].code}")
    assert fits(page)
    assert_no_axe_violations(page, "case page with its moves")
    tab_to(page, "#cause")
    page.keyboard.type("家庭迁往外地")
    tab_to(page, 'button[value="closed"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("status").count() >= 1  # the flash is announced
    history = page.locator("#case-events-caption").locator("xpath=..")
    assert "家庭迁往外地" in history.inner_text()
    assert page.locator('button[value="closed"]').count() == 0  # nothing more to do by hand
    assert fits(page)
    assert_no_axe_violations(page, "closed case")


@sqlite_only
def test_a_clinic_corrects_a_phone_number_on_a_phone(page, live_server, world, session,
                                                    page_watch):
    page_watch.allow_console(r"status of 422")
    page.set_viewport_size(PHONE)
    login(page, live_server, "clinic", TEST_PASSWORD)
    page.goto(f"/persons/{world['person'].code}/edit")
    assert fits(page)
    assert_no_axe_violations(page, "person edit form")
    tab_to(page, "#guardian_phone")
    page.keyboard.type("123")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#guardian_phone").get_attribute("aria-invalid") == "true"
    assert_no_axe_violations(page, "person edit form with an error")
    tab_to(page, "#guardian_phone")
    page.keyboard.press("Control+A")
    page.keyboard.type("13900001111")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/persons/{world['person'].code}")
    from rehab_net.people.models import Person

    session.expire_all()
    assert session.get(Person, world["person"].id).guardian_phone == "13900001111"
