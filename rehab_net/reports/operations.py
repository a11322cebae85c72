"""What the API and the pages do with stored reports beyond computing them (quarterly.py): find
them, and show a planner of some districts only their rows. Flush only, never commit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rehab_net.errors import NotFound
from rehab_net.reports import quarterly
from rehab_net.reports.models import QuarterlyReport


class ScopedReport:
    """A report as a planner of some districts reads it (``quarterly.for_districts``)."""

    def __init__(self, report: QuarterlyReport, codes: set[str]):
        self._report = report
        self.data = quarterly.for_districts(report.data, codes)

    def __getattr__(self, name):
        return getattr(self._report, name)


def _codes(session: Session) -> set[str] | None:
    from rehab_net.auth.guard import scope
    from rehab_net.planning.operations import district_codes_in

    return district_codes_in(session, scope("plan.read"))


def scoped(session: Session, report: QuarterlyReport):
    """``report`` for the current user: its districts' rows only, unless network-wide."""
    codes = _codes(session)
    return report if codes is None else ScopedReport(report, codes)


@dataclass
class ReportToDate:
    """The running quarter so far: made on request, never stored (the pages read it like a
    stored report; ``to_date`` tells them apart)."""

    quarter: str
    data: dict
    generated_at: datetime
    generated_by: str
    to_date: bool = True


def report_to_date(session: Session, *, today: date, now: datetime, actor: str) -> ReportToDate:
    """The current quarter's figures up to and including ``today``, for the current user."""
    data = quarterly.to_date(session, today=today)
    return ReportToDate(data["quarter"], quarterly.for_districts(data, _codes(session)), now,
                        actor)


def stored_reports(session: Session) -> list[QuarterlyReport]:
    """Every stored quarterly report, newest first."""
    return list(session.scalars(select(QuarterlyReport).order_by(QuarterlyReport.quarter.desc())))


def get_report(session: Session, quarter: str):
    """A quarter's stored report, scoped for the current user; 422 for a malformed quarter, 404
    for one not made yet."""
    quarterly.quarter_bounds(quarter)  # 422 for a malformed quarter
    report = session.scalar(select(QuarterlyReport).where(QuarterlyReport.quarter == quarter))
    if report is None:
        raise NotFound("report.not_found", quarter=quarter)
    return scoped(session, report)
