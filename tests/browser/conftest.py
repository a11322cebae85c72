"""Browser fixtures: the app over real HTTP, one headless Chromium per test run, and a fresh
context and page per test that may talk to nothing but the live server.

    live_server      the `app` fixture's app served on http://127.0.0.1:<free port>. Depends on
                     `app`, so browser tests run on SQLite and on PostgreSQL like the rest of the
                     suite (helpers.sqlite_only narrows a test to SQLite), and see what the test
                     committed through `session`.
    browser          Debian's Chromium via Playwright's sync API (session scope).
    browser_context  a new context per test: zh-CN, Asia/Shanghai, base_url = the live server.
    page             a page in it; `page.goto("/facilities")` is relative to the live server.
                     Not logged in: most pages redirect it to /login.
    log_in_as        log_in_as(user): the browser context gets a session cookie for `user`
                     (as tests.factories.log_in does for a test client): logged in at once,
                     without the form and its password check.
    operator_page    `page` logged in like that as `operator` from tests/conftest.py, who holds
                     every role over the whole network.
    page_watch       what the context saw: requests to other origins (aborted), console errors,
                     uncaught page errors, CSP violations. A test whose watch is not clean at the
                     end FAILS (see pytest_runtest_call below); `page_watch.allow_console(regex)`
                     first if a console error is expected.
    console_errors   page_watch.console_errors, the list itself.

To log in through the real form instead: helpers.login(page, live_server, username, password)
fills #username and #password on /login and presses Enter; users come from
tests.factories.create_user (their password is tests.factories.TEST_PASSWORD).

Passwords: argon2 with its production parameters costs ~0.1-0.4 s a hash on this machine, paid
by every `operator`; the browser tests swap in a cheap argon2 hasher (autouse, per test, undone
after it, so the rest of the suite keeps the real parameters).

Seed data, commit, then browse: the server answers from its own connections, so uncommitted
rows are invisible to it, and on SQLite uncommitted writes in `session` make the server's
requests wait for the lock (tests/conftest.py: the test's reads take none):

    def test_facility_page(operator_page, session):
        tiny_network(session)
        session.commit()
        page = operator_page
        assert page.goto("/facilities/CT01").status == 200
        assert_no_axe_violations(page, "facility page")
"""
from __future__ import annotations

import os

import pytest

from tests.browser.helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MISSING_CHROMIUM,
    TIMEOUT_MS,
    LiveServer,
    PageWatch,
)


@pytest.fixture(scope="session")
def _live_servers():
    """One server per app (the `app` fixture keeps one app per dialect for the whole run), so
    starting a server costs once per dialect, not once per test; stopped at the end."""
    servers: dict[object, LiveServer] = {}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def live_server(app, _live_servers) -> LiveServer:
    server = _live_servers.get(app)
    if server is None:
        server = _live_servers[app] = LiveServer(app)
    yield server
    # Let requests still running finish before `app` empties the tables (a PostgreSQL TRUNCATE
    # would wait for them anyway; SQLite would fail them).
    server.wait_idle(timeout=5)


@pytest.fixture(scope="session")
def _playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(_playwright):
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(MISSING_CHROMIUM, pytrace=False)
    b = _playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture
def page_watch(live_server) -> PageWatch:
    return PageWatch(origin=live_server.url)


@pytest.fixture
def console_errors(page_watch) -> list[str]:
    return page_watch.console_errors


@pytest.fixture
def browser_context(browser, live_server, page_watch):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    context.set_default_timeout(TIMEOUT_MS)
    page_watch.attach(context)
    yield context
    context.close()


@pytest.fixture
def page(browser_context):
    return browser_context.new_page()


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch):
    from argon2 import PasswordHasher

    from rehab_net.auth import operations

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(operations, "_hasher", cheap)
    monkeypatch.setattr(operations, "_DUMMY_HASH", cheap.hash("not a password"))


@pytest.fixture
def log_in_as(app, live_server, browser_context):
    from tests.factories import log_in

    name = app.config.get("SESSION_COOKIE_NAME", "session")

    def log_in_as(user) -> None:
        client = app.test_client()
        log_in(client, user)
        cookie = client.get_cookie(name)
        assert cookie is not None, "tests.factories.log_in set no session cookie"
        browser_context.add_cookies([{"name": name, "value": cookie.value, "url": live_server.url,
                                      "httpOnly": True, "sameSite": "Lax"}])

    return log_in_as


@pytest.fixture
def operator_page(page, log_in_as, operator):
    log_in_as(operator)
    return page


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After a browser test's body has passed, fail it if the browser tried to reach another
    origin or saw a console error, an uncaught error or a CSP violation (a failure of the test,
    not an error in a fixture's teardown)."""
    __tracebackhide__ = True
    result = yield
    watch = getattr(item, "funcargs", {}).get("page_watch")
    if isinstance(watch, PageWatch):
        watch.assert_clean()
    return result
