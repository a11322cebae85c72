"""Open redirects (issue 11, defect 1): a "next" value sends the browser only to a path on this
site, through the one helper rehab_net.redirects.safe_redirect_target, at the login and at the
language switch."""
from __future__ import annotations

import re

import pytest

from rehab_net.redirects import MAX_LENGTH, safe_redirect_target
from tests.factories import TEST_PASSWORD, create_user

# Values a browser (or a proxy, or a decoding server) could turn into another site, or that make
# an invalid Location header. The form fields are decoded once by the server, so "/\t/..." is what
# arrives for next=/%09/... in the request body, and "/%09/..." for next=/%2509/...
UNSAFE = [
    "/\t/evil.example/x", "/\n/evil.example/x", "/\r/evil.example/x", "/\r\nSet-Cookie: x=1",
    "/%09/evil.example/x", "/%0A/evil.example/x", "/%0d/evil.example/x", "/x%0aSet-Cookie:%20a=1",
    "/\x00/evil.example", "/\x7f/evil.example", "/\x85/evil.example", "/%C2%85/evil.example",
    "/\u2028/evil.example", "/\u200b/evil.example", "/\u202e/evil.example",
    "//evil.example/x", "///evil.example", "/\\evil.example", "\\\\evil.example", "\\/evil.example",
    "/%5Cevil.example", "/%5cevil.example", "/a\\b",
    "/%2F/evil.example", "/%2fevil.example", "/%2F%2Fevil.example", "/%252F/evil.example",
    "/%25252F/evil.example", "/%2525252F/evil.example",
    "https://evil.example/", "http:evil.example", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
    "evil.example", "data:text/html,x",
    " /evil.example", "\t//evil.example", "\n/evil.example", "/ /evil.example",
    "\uff0f\uff0fevil.example", "/\uff0fevil.example", "/\uff3cevil.example",
    "/%EF%BC%8Fevil.example", "/\u3000/evil.example",
    "/.//evil.example", "/./%2F/evil.example", "/..//evil.example", "/%2e%2e//evil.example",
    "/a//evil.example",
    "", "/" + "a" * MAX_LENGTH,
]
GOOD = [
    "/", "/referrals?x=1", "/persons/P1#top", "/regions?x=1&y=%E4%B8%AD",
    "/facilities?tier=station", "/persons?q=a%2Fb", "/persons?q=wang%20fang&page=2", "/referrals/",
    "/" + "a" * (MAX_LENGTH - 1),
]


@pytest.mark.parametrize("value", UNSAFE)
def test_unsafe_values_give_the_default(value):
    assert safe_redirect_target(value, "/home") == "/home"


@pytest.mark.parametrize("value", [None, 42, ["/x"]])
def test_missing_or_odd_values_give_the_default(value):
    assert safe_redirect_target(value, None) is None


@pytest.mark.parametrize("value", GOOD)
def test_local_paths_stay_as_they_are(value):
    assert safe_redirect_target(value, "/home") == value


def test_letters_of_other_scripts_are_percent_encoded():
    assert safe_redirect_target("/persons?q=王芳", "/") == "/persons?q=%E7%8E%8B%E8%8A%B3"


# --- end to end --------------------------------------------------------------------------------
def _csrf(client, path="/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _login(client, next_):
    return client.post("/login", data={"csrf_token": _csrf(client), "username": "staff",
                                       "password": TEST_PASSWORD, "next": next_})


@pytest.fixture
def staff(session):
    user = create_user(session, "staff", grants=[("admin", None)])
    session.commit()
    return user


def _on_site(location: str) -> bool:
    return location.startswith("/") and not location.startswith("//") and "\\" not in location


@pytest.mark.parametrize("value", UNSAFE)
def test_login_never_leaves_the_site(anonymous, staff, value):
    got = _login(anonymous, value)
    assert got.status_code == 303
    assert got.headers["Location"] == "/home"


@pytest.mark.parametrize("value", GOOD[1:4])
def test_login_goes_back_to_a_local_path(anonymous, staff, value):
    got = _login(anonymous, value)
    assert got.status_code == 303 and got.headers["Location"] == value


@pytest.mark.parametrize("value", UNSAFE)
def test_the_login_form_does_not_carry_an_unsafe_next(anonymous, value):
    got = anonymous.get("/login", query_string={"next": value})
    assert got.status_code == 200
    form = got.get_data(as_text=True).split('action="/login"', 1)[1].split("</form>", 1)[0]
    assert 'name="next"' not in form


def _switch(client, next_):
    return client.post("/language", data={"csrf_token": _csrf(client, "/"), "lang": "en",
                                          "next": next_})


@pytest.mark.parametrize("value", UNSAFE)
def test_the_language_switch_never_leaves_the_site(client, value):
    got = _switch(client, value)
    assert got.status_code == 303 and got.headers["Location"] == "/"


@pytest.mark.parametrize("value", GOOD[1:4])
def test_the_language_switch_goes_back(client, value):
    got = _switch(client, value)
    assert got.status_code == 303 and _on_site(got.headers["Location"])
    assert got.headers["Location"] == value
