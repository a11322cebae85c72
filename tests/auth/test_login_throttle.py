"""Login throttling (issue 11, defect 14): guesses are slowed per (username, address) and
refused per address; a username is never locked, so its owner logs in from elsewhere at once and
is told of the failures at that login."""
from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from rehab_net.auth import operations as ops
from rehab_net.auth.throttle import mask_address
from tests.factories import TEST_PASSWORD, create_user

ATTACKER, OFFICE = "198.51.100.23", "203.0.113.77"


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(ops, "utcnow", c)
    return c


@pytest.fixture(autouse=True)
def quick_passwords(monkeypatch):
    """argon2 is slow on purpose; these tests count attempts, not hashes."""
    monkeypatch.setattr(ops, "_verify", lambda _hash, password: password == TEST_PASSWORD)


@pytest.fixture
def staff(session, clock):
    user = create_user(session, "staff", grants=[("admin", None)])
    user.created_at = clock.now - timedelta(days=30)  # made before the test's (fixed) today
    session.commit()
    return user


def login(app, username, password, addr, lang="en", **kw):
    """One attempt from a fresh browser at ``addr``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = addr
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    return client.post("/login", data={"csrf_token": token, "username": username,
                                       "password": password}, **kw)


def fail_until(app, clock, n, username="staff", addr=ATTACKER):
    """``n`` checked wrong passwords, waiting out each delay as a patient attacker would."""
    refused = 0
    while n:
        got = login(app, username, "wrong password", addr)
        if got.status_code == 429:
            refused += 1
            clock.advance(int(got.headers["Retry-After"]))
            continue
        assert got.status_code == 401
        n -= 1
    return refused


def test_the_owner_logs_in_from_elsewhere_after_10_failures(app, clock, staff):
    assert fail_until(app, clock, 10) > 0  # the attacker was slowed down on the way
    got = login(app, "staff", TEST_PASSWORD, OFFICE)
    assert got.status_code == 303 and got.headers["Location"] == "/home"


def test_the_attacking_address_waits_longer_after_each_failure(app, clock, staff):
    for _ in range(3):  # the first three mistakes cost nothing
        assert login(app, "staff", "wrong password", ATTACKER).status_code == 401
    waits = []
    for _ in range(12):
        got = login(app, "staff", TEST_PASSWORD, ATTACKER)  # even the right password
        assert got.status_code == 429
        assert "Too many failed logins for this username" in got.get_data(as_text=True)
        waits.append(int(got.headers["Retry-After"]))
        clock.advance(waits[-1])
        assert login(app, "staff", "wrong password", ATTACKER).status_code == 401
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    clock.advance(300)
    assert login(app, "staff", TEST_PASSWORD, ATTACKER).status_code == 303


def test_a_success_from_the_address_starts_the_count_again(app, clock, staff):
    fail_until(app, clock, 3)
    clock.advance(1)
    assert login(app, "staff", TEST_PASSWORD, ATTACKER).status_code == 303
    for _ in range(3):
        assert login(app, "staff", "wrong password", ATTACKER).status_code == 401


def test_many_failures_from_one_address_refuse_it_for_every_name(app, clock, session, staff):
    limit = app.config["LOGIN_ADDRESS_MAX_FAILURES"]
    for i in range(limit):  # a spray: few tries per name, so no name is slowed down
        assert login(app, f"guess{i % 15}", "wrong password", ATTACKER).status_code == 401
    got = login(app, "staff", TEST_PASSWORD, ATTACKER)
    assert got.status_code == 429
    assert ("Too many failed logins from your network address. Try again in 15 minutes."
            in got.get_data(as_text=True))
    assert got.headers["Retry-After"] == str(app.config["LOGIN_WINDOW_MINUTES"] * 60)
    # a refused attempt checks nothing and stores nothing: waiting the window out helps
    assert login(app, "staff", TEST_PASSWORD, OFFICE).status_code == 303
    clock.advance(app.config["LOGIN_WINDOW_MINUTES"] * 60 + 1)
    assert login(app, "staff", TEST_PASSWORD, ATTACKER).status_code == 303


def test_the_refusal_is_translated(app, clock, staff):
    fail_until(app, clock, 3)
    got = login(app, "staff", TEST_PASSWORD, ATTACKER, lang="zh-CN")
    assert got.status_code == 429
    html = got.get_data(as_text=True)
    assert "从您的网络地址登录此用户名失败次数过多。请等待 1 秒后重试。" in html
    got = login(app, "staff", TEST_PASSWORD, ATTACKER)
    assert ("Too many failed logins for this username from your network address. Wait 1 second "
            "and try again." in got.get_data(as_text=True))


def test_the_next_login_reports_the_failures(app, clock, staff):
    fail_until(app, clock, 4)
    clock.advance(60)
    got = login(app, "staff", TEST_PASSWORD, OFFICE, follow_redirects=True)
    html = got.get_data(as_text=True)
    assert got.status_code == 200
    assert "Failed login attempts since your last login: 4. The last one: 2026-11-16 10:" in html
    assert "from 198.51.100.*." in html and ATTACKER not in html
    # ... once: the login after that has nothing to report
    clock.advance(60)
    got = login(app, "staff", TEST_PASSWORD, OFFICE, follow_redirects=True)
    assert "Failed login attempts" not in got.get_data(as_text=True)


def test_the_report_is_translated(app, clock, staff):
    fail_until(app, clock, 2)
    got = login(app, "staff", TEST_PASSWORD, OFFICE, follow_redirects=True,
                lang="zh-CN")
    assert "自您上次登录以来，登录失败 2 次。最近一次：2026-11-16 10:00，来自 198.51.100.*。" \
        in got.get_data(as_text=True)


def test_parallel_guesses_from_one_address_are_counted_one_after_another(app, staff, monkeypatch):
    """Without the per-address serialisation all of them would pass the check before any
    failure is stored. (The clock stands still: the first delay never runs out.)"""
    monkeypatch.setattr(ops, "_verify", lambda _hash, _password: time.sleep(0.2) or False)
    free = app.config["LOGIN_FREE_FAILURES"]
    clients, tokens = [], []
    for _ in range(8):
        c = app.test_client()
        c.environ_base["REMOTE_ADDR"] = ATTACKER
        tokens.append(re.search(r'name="csrf_token" value="([^"]+)"',
                                c.get("/login").get_data(as_text=True)).group(1))
        clients.append(c)
    start, codes = threading.Barrier(len(clients)), []

    def guess(c, token):
        start.wait()
        codes.append(c.post("/login", data={"csrf_token": token, "username": "staff",
                                            "password": "wrong password"}).status_code)

    threads = [threading.Thread(target=guess, args=pair)
               for pair in zip(clients, tokens, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [401] * free + [429] * (len(clients) - free)


@pytest.mark.parametrize("addr, masked", [
    ("198.51.100.23", "198.51.100.*"), ("2001:db8:1:2::99", "2001:db8:1::/48"),
    ("::ffff:198.51.100.23", "198.51.100.*"), ("-", "?"),
])
def test_addresses_are_masked(addr, masked):
    assert mask_address(addr) == masked
