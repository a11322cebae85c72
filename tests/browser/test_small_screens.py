"""Phones and small screens (issue 15): at 390 px every page of every role fits without sideways
scrolling (a wide table scrolls inside its own focusable region, with a hint), forms are one
column, and every button, field and navigation link is at least 44 px high; axe clean."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from rehab_net.people.identifiers import make_resident_id
from tests.browser.helpers import PHONE, assert_no_axe_violations, login, tab_to
from tests.factories import (
    TEST_PASSWORD,
    add_clinics,
    create_case,
    create_person,
    create_referral,
    create_user,
    tiny_network,
)

# role -> (grant, the pages it uses most)
ROLES = {
    "clinic": (("clinic", "station"), ["/cases", "/cases/KSMALL", "/persons", "/persons/PSMALL",
                                        "/persons/new", "/cases/new", "/outbox",
                                        "/notifications", "/referrals/new?case=KSMALL",
                                        "/booking/patients", "/catalogue/worklist"]),
    "coordinator": (("coordinator", "centre"), ["/inbox", "/booking", "/booking/day",
                                                "/booking/practitioners", "/booking/closures",
                                                "/booking/waitlist", "/facilities/CT01",
                                                "/catalogue/worklist"]),
    # a coordinator over the whole network: more facilities than a list box holds, so searched
    "network_coordinator": (("coordinator", None), ["/booking", "/booking?q=Clinic&page=2",
                                                   "/catalogue/worklist?facility=Clinic"]),
    "planner": (("planner", "city"), ["/plans", "/scenarios", "/", "/regions", "/facilities",
                                      "/reports", "/reports/to-date", "/catalogue", "/policy"]),
    "admin": (("admin", "city"), ["/admin/users", "/admin/users/new", "/account"]),
    "auditor": (("auditor", "city"), ["/audit", "/audit?since=2026-02-30"]),
}

# Controls a finger taps: visible, not inside a table cell's text flow of links (a link inside
# a paragraph is text, and WCAG exempts inline links).
TARGETS = """() => Array.from(document.querySelectorAll(
    'button, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea,'
    + ' nav a, .pager a'))
  .filter(e => e.offsetParent !== null)
  .map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect().height])
  .filter(([, h]) => h < 43.5)"""


@pytest.fixture
def world(session):
    r = tiny_network(session)
    add_clinics(session, 60)
    person = create_person(session, code="PSMALL", name="乌日娜", birth_date=date(2022, 3, 3),
                           resident_id=make_resident_id("150702", date(2022, 3, 3), 8))
    create_case(session, person, code="KSMALL")
    create_referral(session, "sent", now=datetime.now(UTC), today=date.today(),
                    case_code="KSMALL", sender_code=r["station"].code,
                    receiver_code=r["centre"].code, service_code="autism_training")
    for role, ((grant, place), _pages) in ROLES.items():
        create_user(session, role, grants=[(grant, r[place] if place else None)])
    session.commit()
    return r


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_fits_a_phone(page, live_server, world, role, page_watch):
    page_watch.allow_console(r"status of 422")  # a form shown with its errors
    page.set_viewport_size(PHONE)
    login(page, live_server, role, TEST_PASSWORD)
    for path in ROLES[role][1]:
        response = page.goto(path)
        assert response.status in (200, 422), f"{role} {path}: {response.status}"
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{role} {path}: the page scrolls sideways {width}"
        small = page.evaluate(TARGETS)
        assert not small, f"{role} {path}: targets under 44 px: {small}"
        for region in page.locator(".table-scroll").all():
            assert region.get_attribute("tabindex") == "0"
            assert region.get_attribute("role") == "region"
            wide = region.evaluate("r => r.scrollWidth > r.clientWidth + 1")
            hint = region.evaluate("r => !r.previousElementSibling.hidden")
            assert wide == hint, f"{role} {path}: the hint shows {hint} for a wide table {wide}"
        assert_no_axe_violations(page, f"{role} {path} at 390 px")


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_on_a_phone_the_header_folds_into_a_menu_the_keyboard_opens(page, live_server, world):
    page.set_viewport_size(PHONE)
    login(page, live_server, "clinic", TEST_PASSWORD)
    page.goto("/cases")
    menu = page.locator("header details.menu")
    assert menu.evaluate("d => !d.open")  # folded: the page starts with its content
    assert not page.locator('header nav a[href="/outbox"]').is_visible()
    main_top = page.locator("main h1").first.bounding_box()["y"]
    assert main_top < 300, f"the content starts {main_top} px down"
    tab_to(page, "header summary")
    page.keyboard.press("Enter")
    assert menu.evaluate("d => d.open")
    tab_to(page, 'header nav a[href="/outbox"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/outbox")
    assert_no_axe_violations(page, "outbox with the folded menu")
    # on a desk the same header is open and has no menu button
    page.set_viewport_size({"width": 1366, "height": 860})
    page.goto("/cases")
    assert menu.evaluate("d => d.open") and not page.locator("header summary").is_visible()
    assert page.locator('header nav a[href="/outbox"]').is_visible()
