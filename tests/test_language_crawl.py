"""Every message a user meets is in their language (issue 15): a crawl of every page each role
can reach, in zh-CN and in English, including each form submitted empty (its error state). In
Chinese it fails on a run of English words that is not a code, a proper name or on the allow-list;
in English it fails on Chinese outside the user data the world put in (names of persons and
places, which are Chinese in both languages). The rule and its allow-list: tests/language.py."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import pytest

from rehab_net.people.identifiers import make_resident_id
from tests.factories import (
    create_case,
    create_person,
    create_referral,
    create_user,
    log_in,
    tiny_network,
)
from tests.language import chinese_runs, english_runs, visible_text

ROLES = {"clinic": ("clinic", "station"), "coordinator": ("coordinator", "centre"),
         "planner": ("planner", "city"), "admin": ("admin", "city"),
         "auditor": ("auditor", "city")}
MAX_PAGES = 60  # per role and language: one page per route shape is enough
# Never followed: downloads, the API, leaving.
SKIP = re.compile(r"^/(api/|static/|logout)|\.(csv|ics|xlsx|json)(\?|$)|/export")


def _links(html: str) -> set[str]:
    return {h for h in re.findall(r'href="(/[^"#]*)"', html) if not SKIP.search(h)}


def _forms(html: str) -> list[str]:
    return re.findall(r'<form method="post" action="(/[^"]*)"', html)


def _shape(path: str) -> str:
    """One page per route shape: codes and ids become a placeholder, the query's keys kept."""
    parts = urlsplit(path)
    shape = re.sub(r"/[A-Z]*\d[\w-]*", "/<code>", parts.path)
    keys = ",".join(sorted(k.split("=")[0] for k in parts.query.split("&") if k))
    return f"{shape}?{keys}"


@pytest.fixture
def world(session):
    from rehab_net.auth.models import User

    r = tiny_network(session)
    person = create_person(session, code="PLANG", name="乌日娜", birth_date=date(2022, 3, 3),
                           guardian_name="乌兰", resident_id=make_resident_id(
                               "150702", date(2022, 3, 3), 8))
    create_case(session, person, code="KLANG")
    # a catalogue item for the case's service: the case page's catalogue section has a row
    from rehab_net.catalogue.models import CatalogueItem, CatalogueService, CatalogueVersion

    version = CatalogueVersion(code="2026", effective_from=date(2026, 1, 1))
    session.add_all([version, CatalogueItem(
        version=version, code="C-AUT-TRAIN", part="0-6", category="autism", kind="training",
        name_zh="孤独症儿童康复训练", name_en="Autism intervention training", min_age=0,
        max_age=6, categories="autism", rule="months_per_year", amount=10, cycle_months=12),
        CatalogueService(service_id=r["autism_training"].id, item_code="C-AUT-TRAIN")])
    from rehab_net.certificates import operations as certificates

    certificates.issue(session, {"person_code": "PLANG", "category": "autism", "grade": 2,
                                 "issued_on": date(2024, 3, 3)},
                       today=date.today(), now=datetime.now(UTC))
    create_referral(session, "received", now=datetime.now(UTC), today=date.today(),
                    case_code="KLANG", sender_code=r["station"].code,
                    receiver_code=r["centre"].code, service_code="autism_training")
    for role, (grant, place) in ROLES.items():
        create_user(session, role, grants=[(grant, r[place])])
    session.commit()
    # user data: shown as entered, in both languages
    r["data"] = {"乌日娜", "乌兰", "乌*", "乌**"} | {
        name for f in ("city", "district", "township", "village1", "village2", "centre",
                       "station") if f in r
        for name in (getattr(r[f], "name_zh", ""), getattr(r[f], "name_en", ""))}
    r["data"] |= {"needs an autism assessment"}  # the referral's reason, as the factory wrote it
    r["data"] |= {u.display_name for u in session.query(User)} | set(ROLES)
    r["data_words"] = {w for n in r["data"] for w in re.split(r"\W+", n) if w}
    return r


def _crawl(app, user, lang: str):
    client = app.test_client()
    log_in(client, user)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en" if lang == "en" else "zh-CN"
    seen, queue, pages = set(), ["/"], []
    while queue and len(pages) < MAX_PAGES:
        path = queue.pop(0)
        if _shape(path) in seen:
            continue
        seen.add(_shape(path))
        got = client.get(path)
        if got.status_code in (301, 302, 303):
            queue.append(got.headers["Location"])
            continue
        html = got.get_data(as_text=True)
        if "text/html" not in got.content_type:
            continue
        pages.append((f"GET {path} {got.status_code}", html))
        queue.extend(sorted(_links(html)))
        token = re.search(r'name="csrf_token" value="([^"]+)"', html)
        for action in _forms(html):
            if action in ("/logout", "/language") or _shape("POST" + action) in seen:
                continue
            seen.add(_shape("POST" + action))
            empty = client.post(action, data={"csrf_token": token.group(1) if token else ""})
            if "text/html" in empty.content_type and empty.status_code != 303:
                pages.append((f"POST {action} (empty) {empty.status_code}",
                              empty.get_data(as_text=True)))
    return pages


def _foreign_zh(part: str, world) -> list[str]:
    return english_runs(part, world["data_words"])


def _foreign_en(part: str, world) -> list[str]:
    # the language switch names Chinese in Chinese
    return [r for r in chinese_runs(part, world["data"]) if r != "中文"]


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("lang,foreign,what", [
    ("zh", _foreign_zh, "English on Chinese pages"),
    ("en", _foreign_en, "Chinese on English pages")], ids=["zh", "en"])
def test_every_page_of_every_role_speaks_the_users_language(app, session, world, role, lang,
                                                            foreign, what):
    from rehab_net.auth.models import User

    user = session.query(User).filter_by(username=role).one()
    found = {}
    for where, html in _crawl(app, user, lang):
        runs = [r for part in visible_text(html) for r in foreign(part, world)]
        if runs:
            found[where] = sorted(set(runs))
    assert not found, f"{what}:\n" + "\n".join(f"{k}: {v}" for k, v in found.items())
