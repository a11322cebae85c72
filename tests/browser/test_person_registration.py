"""A village clinic registers a person and opens their case on a phone (390 px), with the
keyboard alone: errors announced and tied to their fields, in Chinese; axe clean in every
state; the page never scrolls sideways (issue 15)."""
from __future__ import annotations

from datetime import date

import pytest

from rehab_net.people.identifiers import make_resident_id
from tests.browser.helpers import PHONE, assert_no_axe_violations, fits, login, sqlite_only, tab_to
from tests.factories import TEST_PASSWORD, create_user, tiny_network


@pytest.fixture
def world(session):
    r = tiny_network(session)
    create_user(session, "clinic", grants=[("clinic", r["station"])])
    session.commit()
    return r


@sqlite_only
def test_a_clinic_registers_a_child_and_opens_the_case_on_a_phone(page, live_server, world,
                                                                  session, page_watch):
    page_watch.allow_console(r"status of 422")  # the form answers 422 while it has errors
    page.set_viewport_size(PHONE)
    login(page, live_server, "clinic", TEST_PASSWORD)
    page.goto("/persons/new")
    assert fits(page)
    assert_no_axe_violations(page, "person form")
    # a child without a guardian: refused at the guardian field
    tab_to(page, "#name")
    page.keyboard.type("巴特尔")
    page.keyboard.press("Tab")
    page.keyboard.type(make_resident_id("150702", date(2022, 8, 8), 35))  # odd: M
    tab_to(page, "#home_region_code")
    page.keyboard.press("ArrowDown")  # the first village of the area
    tab_to(page, "#guardian_name")  # Enter submits from a text field (not from a list)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#error-summary").count() == 1
    guardian = page.locator("#guardian_name")
    assert guardian.get_attribute("aria-invalid") == "true"
    assert "未满 18 周岁" in page.locator("#guardian_name-error").inner_text()
    assert fits(page)
    assert_no_axe_violations(page, "person form with errors")
    tab_to(page, "#guardian_name")
    page.keyboard.type("其木格")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # step 2: the case form, the person filled in
    assert "/cases/new?person=P" in page.url
    assert page.locator("#person_code").input_value().startswith("P")
    assert page.get_by_role("status").count() >= 1  # the flash is announced
    assert fits(page)
    tab_to(page, "#category")
    page.keyboard.press("End")  # autism
    tab_to(page, "#grade")
    page.keyboard.press("ArrowDown")
    tab_to(page, "#service_code")
    page.keyboard.press("ArrowDown")
    tab_to(page, "#certificate_number")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#error-summary").count() == 0, page.locator("#error-summary").inner_text()
    assert "/cases/K" in page.url
    from rehab_net.people.models import Person

    session.expire_all()
    child = session.query(Person).filter_by(name="巴特尔").one()
    assert (child.sex, child.birth_date, child.guardian_name) == ("M", date(2022, 8, 8), "其木格")
    assert [c.category for c in child.cases] == ["autism"]
