"""The quarterly report: the right figures, small cells suppressed, once per quarter from the
scheduler even when triggered twice or after downtime, regenerable by a planner."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from rehab_net import jobs
from rehab_net.reports import quarterly
from rehab_net.reports.jobs import QUARTERLY
from rehab_net.reports.models import QuarterlyReport
from tests.factories import create_case, create_person, tiny_network


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


def test_the_q3_report_counts_and_suppresses(session, net):
    data = quarterly.build(session, "2026-Q3", today=date(2026, 11, 16))
    assert data["from"] == "2026-07-01" and data["to"] == "2026-09-30"
    assert data["totals"] == {"registered": 6, "waiting": 8}
    assert data["by_priority"]["child"] == {"registered": 6, "waiting": 6}
    assert data["by_priority"]["severe"] == {"waiting": "<5"}      # one person: hidden
    assert data["by_district"]["150702"] == {"registered": 6, "waiting": 8}
    with pytest.raises(Exception, match="has not ended"):
        quarterly.build(session, "2026-Q4", today=date(2026, 11, 16))


def test_the_scheduler_makes_each_quarters_report_once_even_after_downtime(app, session, net):
    first_day = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    assert jobs.run_job(app, QUARTERLY, first_day) == "done"
    assert jobs.run_job(app, QUARTERLY, first_day) == "skipped"   # triggered twice
    session.expire_all()
    assert [r.quarter for r in session.query(QuarterlyReport)] == ["2026-Q3"]
    session.rollback()  # end the read: on SQLite it holds the write lock (BEGIN IMMEDIATE)
    # the scheduler was down over the new year: at its start in April 2027 it makes up Q4
    # and runs Q1 2027 once, and nothing twice
    later = datetime(2027, 4, 2, 1, 0, tzinfo=UTC)
    jobs.catch_up(app, [QUARTERLY], later)
    jobs.catch_up(app, [QUARTERLY], later)
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
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(client.get("/reports/2026-Q3.xlsx").data))
    rows = {r[0]: r[1] for r in book["totals"].iter_rows(values_only=True) if r and r[0]}
    assert rows["registered"] == 6
