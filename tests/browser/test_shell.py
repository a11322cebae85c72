"""The page shell in a real browser: every page loads, declares its language, has a main
landmark, passes axe (WCAG 2.1 A/AA) and loads nothing from the internet; the keyboard alone gets
from the skip link to main, from the menu to a facility, and through the login form.

The page checks run on SQLite and PostgreSQL (each page's queries run on both); keyboard, login
and plumbing tests exercise the browser, not the database, and run on SQLite only."""
from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

import pytest

from rehab_net.planning import operations as planning
from tests.browser.helpers import (
    WITH_BEST_PRACTICE,
    assert_focus_visible,
    assert_no_axe_violations,
    axe_violations,
    focused,
    format_violations,
    login,
    sqlite_only,
    tab_to,
)
from tests.factories import TEST_PASSWORD, create_user, tiny_network

PAGES = [  # (label, path): the pages of a logged-in user that this file checks
    ("network overview", "/"),
    ("facility list", "/facilities"),
    ("facility list, filtered", "/facilities?tier=station"),
    ("facility", "/facilities/CT01"),
    ("plans", "/plans"),
    ("plan (queued)", "/plans/{plan_id}"),
]


@pytest.fixture
def net(app, session):
    r = tiny_network(session)
    with app.app_context():
        r["plan"] = planning.create_plan(session, {}, today=date(2026, 11, 16),
                                         default_time_limit=10.0)
    session.commit()
    r["plan_id"] = r["plan"].id
    return r


def path_of(page) -> str:
    parts = urlsplit(page.url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def assert_page_basics(page, response, label: str) -> None:
    assert response.status == 200, f"{label}: status {response.status} at {page.url}"
    assert (page.get_attribute("html", "lang") or "").startswith("zh"), \
        f"{label}: <html lang> is not zh-* for a zh-CN browser"
    assert page.get_by_role("main").count() == 1, f"{label}: not exactly one main landmark"
    assert page.locator("h1").count() == 1, f"{label}: not exactly one h1"
    # the stylesheet came from the live server and applies: the skip link waits off screen
    box = page.locator("a.skip").bounding_box()
    assert box and box["x"] + box["width"] <= 0, f"{label}: skip link shown before focus"


# --- every page ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("label", "path"), PAGES, ids=[p for _, p in PAGES])
def test_page_loads_with_language_landmarks_and_no_axe_violations(operator_page, page_watch, net,
                                                                  label, path):
    page = operator_page
    response = page.goto(path.format(plan_id=net["plan_id"]))
    assert path_of(page) == path.format(plan_id=net["plan_id"]), "redirected"
    assert_page_basics(page, response, label)
    assert_no_axe_violations(page, label)
    assert page_watch.external_requests == []


@sqlite_only
def test_login_page_and_a_wrong_password(page, live_server, page_watch, net):
    response = page.goto("/facilities")
    assert path_of(page) == "/login?next=/facilities"  # anonymous: sent to log in first
    assert_page_basics(page, response, "login")
    assert_no_axe_violations(page, "login page")

    page_watch.allow_console(r"status of 401")  # the wrong password's answer
    with pytest.raises(AssertionError, match="failed"):
        login(page, live_server, "nobody", "wrong password")
    assert page.get_by_role("alert").count() == 1
    assert page.get_attribute("#password", "aria-invalid") == "true"
    assert_no_axe_violations(page, "login page with an error")


@sqlite_only
def test_pages_pass_axe_best_practice_too(page, live_server, operator, net):
    found = {}
    page.goto("/login")
    found["/login"] = axe_violations(page, tags=WITH_BEST_PRACTICE)
    login(page, live_server, operator.username, TEST_PASSWORD)
    for _label, path in PAGES:
        page.goto(path.format(plan_id=net["plan_id"]))
        found[path] = axe_violations(page, tags=WITH_BEST_PRACTICE)

    bad = {p: vs for p, vs in found.items() if vs}
    assert not bad, "\n".join(f"{p}:\n{format_violations(vs)}" for p, vs in bad.items())


# --- keyboard -----------------------------------------------------------------------------------
@sqlite_only
def test_skip_link_comes_first_and_moves_focus_to_main(operator_page, net):
    page = operator_page
    page.goto("/")
    tab_to(page, "a.skip", max_tabs=1)  # the very first Tab
    assert_focus_visible(page)  # on screen while focused
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'main'")
    assert urlsplit(page.url).fragment == "main"
    assert_focus_visible(page)
    page.keyboard.press("Tab")  # and the next Tab goes on inside main, past the menu
    description, inside_main = focused(page, "main *")
    assert inside_main, f"Tab after the skip link went to {description}, outside main"


@sqlite_only
def test_keyboard_reaches_the_facility_list_and_a_facility(operator_page, net):
    page = operator_page
    page.goto("/")
    tab_to(page, 'nav a[href="/facilities"]')
    assert_focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == "/facilities"

    # the filter form works from the keyboard: choose a tier, Tab to the button, Enter
    tab_to(page, "select#tier")
    assert_focus_visible(page)
    page.keyboard.press("ArrowDown")  # all -> the first tier, the centres
    tab_to(page, "form.filters button", max_tabs=1)
    assert_focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == "/facilities?tier=centre"

    tab_to(page, 'main a[href="/facilities/CT01"]')
    assert_focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == "/facilities/CT01"
    assert "市残疾人康复中心" in page.locator("h1").inner_text()


@sqlite_only
def test_login_form_from_the_keyboard(page, live_server, session, net):
    create_user(session, "planner1", grants=[("planner", None)])
    session.commit()
    page.goto("/plans")  # sent to /login?next=/plans
    tab_to(page, "#username")
    assert_focus_visible(page)
    page.keyboard.type("planner1")
    page.keyboard.press("Tab")
    assert focused(page, "#password")[1]
    page.keyboard.type(TEST_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == "/plans"  # back where the user was going

    # and the helper does the same from /login
    page.context.clear_cookies()
    login(page, live_server, "planner1", TEST_PASSWORD)
    assert urlsplit(page.url).path != "/login"


# --- the plumbing itself ------------------------------------------------------------------------
@sqlite_only
def test_the_watch_reports_errors_csp_and_the_internet(page, page_watch, net):
    page.goto("/login")
    page.evaluate("""() => {
        const s = document.createElement('script');
        s.textContent = 'window.ran = true';
        document.body.append(s);
        console.error('boom');
    }""")
    page.evaluate("setTimeout(() => { throw new Error('uncaught boom'); })")
    page.wait_for_timeout(100)
    assert page.evaluate("window.ran") is None  # the page's CSP stopped the inline script
    assert "script-src-elem blocked inline" in "\n".join(page_watch.csp_violations)
    assert "boom" in page_watch.console_errors[-1]
    assert any("uncaught boom" in e for e in page_watch.page_errors)

    # last: a blocked navigation leaves the page on Chromium's error page
    with pytest.raises(Exception, match="ERR_BLOCKED_BY_CLIENT"):
        page.goto("https://example.com/")
    assert page_watch.external_requests == ["GET https://example.com/"]
    with pytest.raises(AssertionError, match="requests to other origins"):
        page_watch.assert_clean()
    page_watch.clear()  # or the test fails at its end, which is the point of the watch


@sqlite_only
def test_an_expected_console_error_can_be_allowed(operator_page, page_watch, net):
    page_watch.allow_console(r"status of 404")
    response = operator_page.goto("/facilities/NOPE")
    assert response.status == 404
    assert_no_axe_violations(operator_page, "404 page")
