"""The auditor's audit log (issue 15): the whole log a page at a time, filtered by user, action,
record, date range and person (the person's record, cases, referrals and appointments), and the
export of exactly what the filter shows; the same filters on the API."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from rehab_net.auth.models import AuditEvent
from tests.factories import create_case, create_person, create_referral, tiny_network

TODAY = date(2026, 12, 1)


@pytest.fixture
def net(session):
    r = tiny_network(session)
    r["p1"] = create_person(session, code="P1", birth_date=date(2022, 6, 1))
    r["p2"] = create_person(session, code="P2", birth_date=date(2021, 2, 1))
    r["k1"] = create_case(session, r["p1"], code="K1")
    r["k2"] = create_case(session, r["p2"], code="K2")
    r["ref"] = create_referral(session, "sent", now=datetime.now(UTC), today=TODAY,
                               case_code="K1", sender_code=r["station"].code,
                               receiver_code=r["centre"].code, service_code="autism_training")
    session.commit()
    return r


def _tbody(html: str) -> str:
    """The table's rows only: the page's forms carry a random CSRF token that may hold any code."""
    return html[html.index("<tbody>"):html.index("</tbody>")]


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_the_page_walks_the_whole_log_newest_first(client, session, net):
    start = datetime(2026, 11, 1, tzinfo=UTC)
    session.add_all([AuditEvent(at=start + timedelta(minutes=i), actor="bulk", action="read",
                                object_type="facility", object_code=f"F{i:03d}")
                     for i in range(250)])
    session.commit()
    first = client.get("/audit?actor=bulk")
    html = first.get_data(as_text=True)
    assert first.status_code == 200
    rows = _tbody(html)
    assert "F249" in rows and "F150" in rows and "F149" not in rows  # 100 a page, newest first
    assert 'rel="next"' in html and "page=2" in html and "actor=bulk" in html
    last = client.get("/audit?actor=bulk&page=3").get_data(as_text=True)
    rows = _tbody(last)
    assert "F049" in rows and "F000" in rows and "F050" not in rows
    assert 'rel="prev"' in last and 'rel="next"' not in last
    # a page out of range is the form's error, never a 500
    assert client.get("/audit?actor=bulk&page=0").status_code == 422
    assert client.get("/audit?actor=bulk&page=99999999999999").status_code == 422
    # the export link carries the filter, not the page: all 250
    assert 'href="/audit/export.csv?actor=bulk"' in last
    exported = _rows(client.get("/audit/export.csv?actor=bulk").get_data(as_text=True))
    assert len(exported) == 1 + 250


def test_the_person_filter_finds_their_record_cases_and_referrals_and_nobody_elses(client,
                                                                                  session,
                                                                                  net):
    for url in ("/api/v1/persons/P1", "/api/v1/cases/K1", "/api/v1/persons/P2",
                "/api/v1/cases/K2", f"/api/v1/referrals/{net['ref'].code}"):
        assert client.get(url).status_code == 200, url
    got = client.get("/api/v1/audit-events?person=P1&action=read&page_size=100").json
    assert {(e["object_type"], e["object_code"]) for e in got} == {
        ("person", "P1"), ("case", "K1"), ("referral", net["ref"].code)}
    page = client.get("/audit?person=P1&action=read").get_data(as_text=True)
    rows = _tbody(page)
    assert "K1" in rows and net["ref"].code in rows and "P2" not in rows and "K2" not in rows
    exported = _rows(client.get("/audit/export.csv?person=P1&action=read")
                     .get_data(as_text=True))
    assert {(r[4], r[5]) for r in exported[1:]} == {
        ("person", "P1"), ("case", "K1"), ("referral", net["ref"].code)}
    # an unknown person finds nothing, and a too-long code is a 422 naming the field
    assert client.get("/api/v1/audit-events?person=P9").json == []
    bad = client.get("/api/v1/audit-events?person=" + "P" * 40)
    assert bad.status_code == 422 and "person" in bad.get_data(as_text=True)


def test_the_date_range_is_of_local_days(client, session, net):
    session.add_all([
        AuditEvent(at=datetime(2026, 10, 31, 15, 59, tzinfo=UTC), actor="night",
                   action="read", object_type="facility", object_code="BEFORE"),
        AuditEvent(at=datetime(2026, 10, 31, 16, 1, tzinfo=UTC), actor="night",  # 00:01 local
                   action="read", object_type="facility", object_code="INSIDE")])
    session.commit()
    page = client.get("/audit?actor=night&since=2026-11-01&until=2026-11-01")
    html = page.get_data(as_text=True)
    assert "INSIDE" in _tbody(html) and "BEFORE" not in _tbody(html)
    wrong = client.get("/audit?actor=night&since=2026-02-30")
    assert wrong.status_code == 422


def test_a_day_that_does_not_exist_is_named_as_such(client, net):
    """2026-02-30 has the right shape: the page says the day does not exist, not "use
    YYYY-MM-DD" (issue 15)."""
    html = client.get("/audit?since=2026-02-30").get_data(as_text=True)
    assert "2026-02-30 不是日历上存在的日期" in html
    html = client.get("/audit?since=30.02.2026").get_data(as_text=True)
    assert "请按 YYYY-MM-DD 格式输入日期" in html
