"""Each role in a real browser: log in through the form, walk the role's pages (axe clean, no
outside requests), and one task done with the keyboard alone per role family."""
from __future__ import annotations

from datetime import date

import pytest

from rehab_net.people.identifiers import make_resident_id
from tests.browser.helpers import (
    assert_focus_visible,
    assert_no_axe_violations,
    login,
    sqlite_only,
    tab_to,
)
from tests.factories import TEST_PASSWORD, create_case, create_person, create_user, tiny_network

# role -> (grants as (role, place key), the pages the role walks)
ROLES = {
    "clinic": ([("clinic", "station")],
               ["/cases", "/cases/KIN", "/persons", "/persons/PIN", "/persons/new", "/cases/new",
                "/facilities",
                "/regions", "/account"]),
    "coordinator": ([("coordinator", "centre")],
                    ["/cases", "/persons/PIN", "/facilities/CT01", "/account"]),
    "planner": ([("planner", "city")], ["/plans", "/", "/regions", "/facilities"]),
    "admin": ([("admin", "city")], ["/admin/users", "/admin/users/new", "/admin/users/clinic",
                                    "/facilities", "/account"]),
    "auditor": ([("auditor", "city")], ["/audit", "/audit?action=read", "/account"]),
}
# Nav links a role must see (and must not see).
NAV = {
    "clinic": ({"/cases", "/persons"}, {"/audit", "/admin/users", "/plans"}),
    "coordinator": ({"/cases", "/persons"}, {"/audit", "/admin/users", "/plans"}),
    "planner": ({"/plans", "/"}, {"/persons", "/audit", "/admin/users"}),
    "admin": ({"/admin/users", "/facilities"}, {"/persons", "/audit"}),
    "auditor": ({"/audit"}, {"/persons", "/facilities", "/plans", "/admin/users"}),
}


@pytest.fixture
def world(session):
    r = tiny_network(session)
    r["in"] = create_person(session, code="PIN", name="王小明", birth_date=date(2022, 4, 2),
                            resident_id=make_resident_id("150702", date(2022, 4, 2), 7))
    # a physical follow-up case: the keyboard test below opens an autism-training case for PIN
    create_case(session, r["in"], code="KIN", category="physical",
                service_code="physical_follow_up")
    for role, (grants, _pages) in ROLES.items():
        create_user(session, role, grants=[(g, r[place]) for g, place in grants])
    session.commit()
    return r


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_logs_in_and_walks_its_pages(page, live_server, world, role):
    login(page, live_server, role, TEST_PASSWORD)
    nav = {a.get_attribute("href") for a in page.locator("header nav a").all()}
    must, must_not = NAV[role]
    assert must <= nav and not (must_not & nav), nav
    assert page.get_by_text(str(role), exact=False).count() >= 1  # header shows who is in
    for path in ROLES[role][1]:
        response = page.goto(path)
        assert response.status == 200, f"{role} {path}: {response.status}"
        assert page.get_by_role("main").count() == 1
        assert_no_axe_violations(page, f"{role} {path}")
    assert "王小明" not in page.content() or role in ("clinic", "coordinator")


@sqlite_only
def test_clinic_registers_a_case_with_the_keyboard_only(page, live_server, world, session,
                                                        page_watch):
    page_watch.allow_console(r"status of 422")  # the form answers 422 while it has errors
    login(page, live_server, "clinic", TEST_PASSWORD)
    page.goto("/cases/new")
    # a first attempt with a wrong grade/certificate: the errors are announced and tied to fields
    tab_to(page, "#code")
    page.keyboard.type("KNEW")
    page.keyboard.press("Tab")
    page.keyboard.type("PIN")
    page.keyboard.press("Tab")
    assert_focus_visible(page)
    page.keyboard.press("End")  # category: the last choice, autism
    tab_to(page, "#certificate_number")
    page.keyboard.type("123")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    summary = page.locator("#error-summary")
    assert summary.count() == 1 and summary.get_attribute("role") == "alert"
    grade = page.locator("#grade")
    assert grade.get_attribute("aria-invalid") == "true"
    assert "grade-error" in grade.get_attribute("aria-describedby")
    assert_no_axe_violations(page, "case form with errors")
    # correct it: grade 3, the autism training service, no certificate
    tab_to(page, "#grade")
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    tab_to(page, "#service_code")
    page.keyboard.press("ArrowDown")
    tab_to(page, "#certificate_number")
    page.keyboard.press("Control+a")
    page.keyboard.press("Backspace")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#error-summary").count() == 0, page.locator("#error-summary").inner_text()
    assert page.url.endswith("/cases/KNEW")
    assert page.locator("h1").inner_text().endswith("KNEW")
    assert page.get_by_role("status").count() >= 1  # the flash is announced
    from rehab_net.people.models import Case

    session.expire_all()
    assert session.query(Case).filter_by(code="KNEW").one().grade == 3


@sqlite_only
def test_auditor_filters_the_log_with_the_keyboard_only(page, live_server, world):
    login(page, live_server, "auditor", TEST_PASSWORD)
    page.goto("/audit")
    tab_to(page, "#action")
    page.keyboard.press("ArrowDown")  # the first action: read
    tab_to(page, "form.filters button[type=submit]")
    assert_focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "action=read" in page.url
    assert page.locator("table caption").count() == 1
    assert_no_axe_violations(page, "audit log filtered")
