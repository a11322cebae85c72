"""The quarterly report: the right figures, small cells suppressed, once per quarter from the
scheduler even when triggered twice or after downtime, regenerable by a planner."""
from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from rehab_net import scheduler
from rehab_net.booking import generation, schedules
from rehab_net.booking import operations as booking
from rehab_net.reports import quarterly
from rehab_net.reports.jobs import QUARTERLY
from rehab_net.reports.models import QuarterlyReport
from tests.factories import (
    app_context_of,
    create_appointment,
    create_case,
    create_person,
    create_referral,
    tiny_network,
)


@pytest.fixture
def net(session):
    r = tiny_network(session)
    # 6 children registered in Q3, 2 adults in Q2 (one severe)
    for i in range(6):
        create_case(session, create_person(session, birth_date=date(2022, 1, 1 + i)),
                    registered_on=date(2026, 8, 1 + i))
    create_case(session, create_person(session), registered_on=date(2026, 5, 2))
    create_case(session, create_person(session), registered_on=date(2026, 5, 3), grade=1)
    session.commit()
    return r


def test_suppression_of_small_cells():
    assert [quarterly.suppress(n) for n in (0, 1, 4, 5, 17)] == [0, "<5", "<5", 5, 17]


def test_the_q3_report_counts_and_suppresses(app, session, net):
    with app.app_context():
        data = quarterly.build(session, "2026-Q3", today=date(2026, 11, 16))
        assert data["from"] == "2026-07-01" and data["to"] == "2026-09-30"
        assert data["totals"] == {"registered": 6, "waiting": 8}
        assert data["by_priority"]["child"] == {"registered": 6, "waiting": 6}
        assert data["by_priority"]["severe"] == {"waiting": "<5"}      # one person: hidden
        assert data["by_district"]["150702"] == {"registered": 6, "waiting": 8}
        with pytest.raises(Exception, match="has not ended"):
            quarterly.build(session, "2026-Q4", today=date(2026, 11, 16))


def test_travel_figures_come_from_the_last_plain_plan_never_a_sweep(app, session, net):
    """A scale-up sweep finished later in the quarter carries no plan of the live network: the
    report's travel figures stay the plain plan's."""
    from rehab_net.planning.models import Plan

    def finished(day: int, parameters: dict, km: float) -> Plan:
        plan = Plan(status="optimal", start_date=date(2026, 8, 3), horizon_weeks=12,
                    parameters=parameters, finished_at=datetime(2026, 9, day, tzinfo=UTC),
                    kpis={"road_km_median": km})
        session.add(plan)
        return plan

    plain = finished(10, {"policy": {}}, 41.0)
    finished(20, {"policy": {}, "scaleup": {"service": "autism_training"}}, 3.0)
    session.commit()
    with app.app_context():
        data = quarterly.build(session, "2026-Q3", today=date(2026, 11, 16))
    assert data["plan"]["plan_id"] == plain.id and data["plan"]["road_km_median"] == 41.0


def test_the_scheduler_makes_each_quarters_report_once_even_after_downtime(app, session, net):
    first_day = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    assert scheduler.run_job(app, QUARTERLY, first_day) == "done"
    assert scheduler.run_job(app, QUARTERLY, first_day) == "skipped"   # triggered twice
    session.expire_all()
    assert [r.quarter for r in session.query(QuarterlyReport)] == ["2026-Q3"]
    # the scheduler was down over the new year: at its start in April 2027 it makes up Q4
    # and runs Q1 2027 once, and nothing twice
    later = datetime(2027, 4, 2, 1, 0, tzinfo=UTC)
    scheduler.catch_up(app, [QUARTERLY], later)
    scheduler.catch_up(app, [QUARTERLY], later)
    session.expire_all()
    assert sorted(r.quarter for r in session.query(QuarterlyReport)) == [
        "2026-Q3", "2026-Q4", "2027-Q1"]


def test_planners_browse_regenerate_and_download(client, session, net):
    assert client.get("/api/v1/reports/quarterly/2026-Q3").status_code == 404
    got = client.put("/api/v1/reports/quarterly/2026-Q3")
    assert got.status_code == 200 and got.json["data"]["totals"]["registered"] == 6
    assert client.put("/api/v1/reports/quarterly/2026-Q4").status_code == 422
    assert client.put("/api/v1/reports/quarterly/26-Q9").status_code == 422
    page = client.get("/reports/2026-Q3").get_data(as_text=True)
    assert "2026-Q3" in page and "&lt;5" in page
    totals = sheets(client, "/reports/2026-Q3.xlsx")["Cases, whole network"]
    assert dict(zip(totals[0], totals[1], strict=True))["registered in the quarter"] == 6


def sheets(client, url: str, language: str = "en") -> dict[str, list[tuple]]:
    """The workbook at ``url`` in ``language``: sheet title -> its rows."""
    got = client.get(url, headers={"Accept-Language": language})
    assert got.status_code == 200, url
    book = load_workbook(io.BytesIO(got.data))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


# --- a quarter built by hand: every figure from what happened ------------------------------------
SHANGHAI = ZoneInfo("Asia/Shanghai")
SENT = datetime(2026, 7, 1, 9, 0, tzinfo=SHANGHAI)
WAITS = (10, 20, 30, 40, 50)  # days from sending to the first attended appointment


def _visit(session, r, referral, day: date, *, status: str, at_hour: int = 10):
    """A slot of DR1 at CT01 on ``day`` booked for ``referral`` before it, then attended
    (fulfilled) or missed (noshow) through the booking operations."""
    starts = datetime.combine(day, time(at_hour), SHANGHAI)
    slot = generation.create_slot(session, practitioner_id=r["dr"].id,
                                  facility_id=r["centre"].id,
                                  service_id=r["autism_training"].id, starts_at=starts,
                                  ends_at=starts + timedelta(hours=1), places=1, now=SENT)
    appointment = create_appointment(session, referral, slot, now=starts - timedelta(days=1))
    during = starts + timedelta(minutes=5)
    with app_context_of(session):
        if status == "fulfilled":
            booking.fulfil(session, appointment, principal=None, now=during)
        else:
            booking.noshow(session, appointment, principal=None, now=during)
    return slot


@pytest.fixture
def quarter(session):
    """Q3 2026 at CT01: five children first served 10-50 days after their referral was sent,
    an adult served since Q2 who came again in Q3, a child who did not come, and one slot
    nobody booked: 9 places offered in Q3, 7 of them attended."""
    r = tiny_network(session)
    r["dr"] = schedules.create_practitioner(session, dict(
        code="DR1", name="李医生", profession="physician", facility_codes=["CT01"]),
        principal=None, today=SENT.date())

    def referred(code, birth_date, sent=SENT):
        case = create_case(session, create_person(session, birth_date=birth_date), code=code,
                           registered_on=date(2026, 5, 1))
        return create_referral(session, "accepted", now=sent, today=sent.date(),
                               case_code=case.code, sender_code="ST150702001",
                               receiver_code="CT01", service_code="autism_training")

    for i, wait in enumerate(WAITS):
        _visit(session, r, referred(f"KQ{i}", date(2022, 3, 1)),
               SENT.date() + timedelta(days=wait), status="fulfilled")
    adult = referred("KQA", date(1980, 1, 1), sent=datetime(2026, 6, 1, 9, tzinfo=SHANGHAI))
    _visit(session, r, adult, date(2026, 6, 20), status="fulfilled")      # Q2: not this quarter
    _visit(session, r, adult, date(2026, 7, 15), status="fulfilled")
    _visit(session, r, adult, date(2026, 9, 30), status="fulfilled", at_hour=23)  # still Q3
    _visit(session, r, referred("KQM", date(2023, 5, 5)), date(2026, 7, 22), status="noshow")
    generation.create_slot(session, practitioner_id=r["dr"].id, facility_id=r["centre"].id,
                           service_id=r["autism_training"].id,
                           starts_at=datetime(2026, 8, 3, 15, tzinfo=SHANGHAI),
                           ends_at=datetime(2026, 8, 3, 16, tzinfo=SHANGHAI), places=1, now=SENT)
    # Q4 (local): 1 October 00:30 in Shanghai is 30 September in UTC, and not in Q3
    _visit(session, r, adult, date(2026, 10, 1), status="fulfilled", at_hour=0)
    session.commit()
    return r


def test_a_hand_built_quarter_counts_served_waits_and_utilisation_from_attendance(app, session,
                                                                                  quarter):
    with app.app_context():
        data = quarterly.build(session, "2026-Q3", today=date(2026, 11, 16))
        # served: the 5 children and the adult; the child who missed is still waiting
        assert data["totals"] == {
            "served": 6, "attended": 7, "waiting": "<5", "children_served_within_4_weeks": "<5",
            "waiting_days_median": 30, "waiting_days_p90": 50}
        assert data["by_priority"]["child"] == {
            "served": 5, "attended": 5, "waiting": "<5", "children_served_within_4_weeks": "<5",
            "waiting_days_median": 30, "waiting_days_p90": 50}
        # the adult's wait ended in Q2: no waiting time in Q3, and too few to show anyway
        assert data["by_priority"]["standard"] == {"served": "<5", "attended": "<5"}
        assert data["utilisation"] == {
            "by_tier": {"centre": {"places": 9, "attended": 7, "share": 0.7778}},
            "by_district": {"150702": {"places": 9, "attended": 7, "share": 0.7778}}}
        q2 = quarterly.build(session, "2026-Q2", today=date(2026, 11, 16))
        assert q2["totals"]["served"] == "<5" and q2["utilisation"]["by_tier"]["centre"] == {
            "places": 1, "attended": "<5", "share": 1.0}


def test_children_within_four_weeks_counts_only_the_first_visit_and_only_children(app, session,
                                                                                   quarter):
    """With the suppression lifted the hidden cells are exact: 2 children (10 and 20 days), 1
    still waiting."""
    from unittest import mock

    with mock.patch.object(quarterly, "SMALL", 1), app.app_context():
        data = quarterly.build(session, "2026-Q3", today=date(2026, 11, 16))
    assert data["totals"]["children_served_within_4_weeks"] == 2
    assert data["totals"]["waiting"] == 1
    assert data["by_priority"]["standard"] == {"served": 1, "attended": 2}


def test_the_page_and_the_download_show_the_attendance_figures(client, quarter):
    assert client.put("/api/v1/reports/quarterly/2026-Q3").status_code == 200
    page = client.get("/reports/2026-Q3").get_data(as_text=True)
    assert "77.8%" in page  # 7 of 9 places attended
    book = sheets(client, "/reports/2026-Q3.xlsx")
    assert book["Utilisation by tier"] == [
        ("Tier", "places offered", "attended appointments", "share attended"),
        ("Rehab centre / designated institution", 9, 7, 0.7778)]
    totals = dict(zip(*book["Cases, whole network"], strict=True))
    assert totals["served"] == 6 and totals["median days waited"] == 30


# --- the page, the CSV and the XLSX: one set of tables ------------------------------------------
def _page_tables(html: str) -> dict[str, list[str]]:
    """caption -> the column headers of each table of a report page."""
    import re
    from html import unescape

    out = {}
    for caption, head in re.findall(r"<caption>(.*?)</caption>\s*<thead>(.*?)</thead>", html,
                                    re.S):
        out[unescape(caption)] = [unescape(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", head)]
    return out


def _csv_tables(body: bytes) -> tuple[list[list[str]], dict[str, list[str]]]:
    """(the lines above the tables, title -> the header row of each table) of a report CSV."""
    import csv

    assert body.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    blank = lines.index([])
    about, tables = lines[:blank], {}
    for i, line in enumerate(lines):
        if line == [] and i + 2 < len(lines):
            tables[lines[i + 1][0]] = lines[i + 2]
    return about, tables


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_page_csv_and_xlsx_show_the_same_tables_and_columns(client, quarter, language):
    assert client.put("/api/v1/reports/quarterly/2026-Q3").status_code == 200
    lang = {"Accept-Language": language}
    page = _page_tables(client.get("/reports/2026-Q3", headers=lang).get_data(as_text=True))
    _about, csv_tables = _csv_tables(client.get("/reports/2026-Q3.csv", headers=lang).data)
    book = sheets(client, "/reports/2026-Q3.xlsx", language)
    xlsx_tables = {title: list(rows[0]) for title, rows in list(book.items())[1:]}
    assert len(page) == 9 and page == csv_tables == xlsx_tables
    # the referral block keeps up and down; the travel block is there too (no plan: no row)
    referrals = page["按转出旗市区统计的转诊" if language == "zh" else
                     "Referrals by sending district"]
    assert len(referrals) == 8
    if language == "zh":
        assert list(book)[0] == "2026-Q3 统计季报"
        assert "个案（全网络）" in book and "旗市区" in page["按旗市区统计的个案"]
        assert book["按层级统计的名额利用率"][1][0] == "康复中心/定点机构"  # a name, not "centre"
        assert book["按旗市区统计的个案"][1][0] == "海拉尔区"
    else:
        assert book["Cases by district"][1][0] == "Hailar District"


def test_the_rows_are_the_same_on_the_page_and_in_the_files(client, quarter):
    assert client.put("/api/v1/reports/quarterly/2026-Q3").status_code == 200
    en = {"Accept-Language": "en"}
    html = client.get("/reports/2026-Q3", headers=en).get_data(as_text=True)
    book = sheets(client, "/reports/2026-Q3.xlsx")
    _about, _tables = _csv_tables(client.get("/reports/2026-Q3.csv", headers=en).data)
    totals = book["Cases, whole network"]
    assert totals[1] == ("All districts", 0, 6, 7, "<5", "<5", 30, 50)
    assert "<td>30</td><td>50</td>" in html.replace("\n", "")
    csv_text = client.get("/reports/2026-Q3.csv", headers=en).get_data(as_text=True)
    assert "All districts,0,6,7,<5,<5,30,50" in csv_text


def test_the_current_quarter_to_date_is_labelled_and_never_stored(client, session, quarter):
    """TODAY is 2026-11-16: Q4 so far. A 1 October visit (local) counts; nothing is stored."""
    en = {"Accept-Language": "en"}
    page = client.get("/reports/to-date", headers=en)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Quarterly report 2026-Q4 to date" in html
    assert "2026-10-01 up to and including 2026-11-16" in html
    assert "To date, not final" in html
    book = sheets(client, "/reports/to-date.xlsx")
    assert list(book)[0] == "Quarterly report 2026-Q4 to dat"  # 31 characters, Excel's limit
    about = dict(row[:2] for row in book[list(book)[0]])
    assert about["To"] == "2026-11-16" and "as of 2026-11-16; not final" in about["To date"]
    totals = dict(zip(*book["Cases, whole network"], strict=True))
    assert totals["served"] == "<5" and totals["waiting now"] == 6  # the adult's 1 Oct visit
    about_lines, _tables = _csv_tables(client.get("/reports/to-date.csv", headers=en).data)
    assert ["To", "2026-11-16"] in about_lines
    got = client.get("/reports/to-date.csv", headers=en)
    assert 'filename="rehab-net-2026-Q4-to-2026-11-16.csv"' in got.headers["Content-Disposition"]
    assert session.query(QuarterlyReport).count() == 0
    zh = client.get("/reports/to-date", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "2026-Q4 统计季报（截至目前）" in zh
    list_page = client.get("/reports", headers=en).get_data(as_text=True)
    assert "/reports/to-date" in list_page


def test_the_api_gives_the_quarter_to_date_and_refuses_it_for_a_quarter_not_running(
        app, client, session, quarter):
    got = client.get("/api/v1/reports/quarterly-to-date")
    assert got.status_code == 200
    assert got.json["quarter"] == "2026-Q4" and got.json["data"]["to_date"] is True
    assert got.json["data"]["to"] == "2026-11-16"
    assert session.query(QuarterlyReport).count() == 0
    with pytest.raises(Exception, match="not the quarter running"), app.app_context():
        quarterly.build(session, "2026-Q3", today=date(2026, 11, 16), to_date=True)


def test_a_planner_makes_a_quarters_report_again_from_the_page(client, session, net):
    """The page's form does what PUT /api/v1/reports/quarterly/<quarter> does; an open or
    malformed quarter is refused at the field and nothing is stored."""
    import re

    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = client.get("/reports").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert 'id="make-report"' in html
    for bad, said in (("2026-Q4", "has not ended yet"), ("26-Q9", "must look like 2026-Q3"),
                      ("x" * 500, "must look like 2026-Q3")):
        got = client.post("/reports", data={"quarter": bad, "csrf_token": token})
        page = got.get_data(as_text=True)
        assert got.status_code == 422 and 'id="quarter-error"' in page, bad
        assert said in page, bad
    assert session.query(QuarterlyReport).count() == 0
    made = client.post("/reports", data={"quarter": "2026-q3", "csrf_token": token})
    assert made.status_code == 303 and made.headers["Location"].endswith("/reports/2026-Q3")
    assert session.query(QuarterlyReport).one().generated_by == "operator"
    assert "The report of 2026-Q3 is made." in client.get("/reports/2026-Q3").get_data(
        as_text=True)
