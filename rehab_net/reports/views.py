"""The quarterly reports over the API and as pages (browse, print, download as XLSX)."""
from __future__ import annotations

import io

from flask import Blueprint as PageBlueprint
from flask import Response, g, render_template
from flask.views import MethodView
from marshmallow import Schema, fields
from sqlalchemy import select

from rehab_net import access, spreadsheet
from rehab_net.api import Blueprint
from rehab_net.clock import today
from rehab_net.db import get_session
from rehab_net.errors import NotFound
from rehab_net.reports import quarterly
from rehab_net.reports.models import QuarterlyReport

blp = Blueprint("reports", __name__, url_prefix="/api/v1",
                description="Quarterly statistics (统计季报), small cells suppressed")
pages = PageBlueprint("report_pages", __name__)

# endpoint -> permission, or {method: permission} (rehab_net/access.py; the guard refuses
# an endpoint not declared). Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "reports.Reports": "plan.read",
    "reports.ReportItem": {"GET": "plan.read", "PUT": "plan.run"},  # writing: network-wide
    "report_pages.reports_page": "plan.read",
    "report_pages.report_page": "plan.read",
    "report_pages.report_xlsx": "plan.read",
}


class ReportSchema(Schema):
    quarter = fields.String()
    generated_at = fields.AwareDateTime()
    generated_by = fields.String()
    data = fields.Dict()


class ScopedReport:
    """A report as a planner of some districts reads it (``quarterly.for_districts``)."""

    def __init__(self, report: QuarterlyReport, codes: set[str]):
        self._report = report
        self.data = quarterly.for_districts(report.data, codes)

    def __getattr__(self, name):
        return getattr(self._report, name)


def scoped(session, report: QuarterlyReport):
    """``report`` for the current user: its districts' rows only, unless network-wide."""
    from rehab_net.auth.guard import scope
    from rehab_net.planning.operations import district_codes_in

    codes = district_codes_in(session, scope("plan.read"))
    return report if codes is None else ScopedReport(report, codes)


def get_report(session, quarter: str):
    quarterly.quarter_bounds(quarter)  # 422 for a malformed quarter
    report = session.scalar(select(QuarterlyReport).where(QuarterlyReport.quarter == quarter))
    if report is None:
        raise NotFound("report.not_found", quarter=quarter)
    return scoped(session, report)


@blp.route("/reports/quarterly")
class Reports(MethodView):
    @blp.response(200, ReportSchema(many=True))
    def get(self):
        """Every stored quarterly report, newest first."""
        session = get_session()
        return [scoped(session, r) for r in session.scalars(
            select(QuarterlyReport).order_by(QuarterlyReport.quarter.desc()))]


@blp.route("/reports/quarterly/<quarter>")
class ReportItem(MethodView):
    @blp.response(200, ReportSchema)
    def get(self, quarter):
        """One quarter's report."""
        return get_report(get_session(), quarter)

    @blp.response(200, ReportSchema)
    def put(self, quarter):
        """(Re)generate the report of any quarter that has ended."""
        session = get_session()
        report = quarterly.generate(session, quarter, today=today(), actor=g.user.username)
        session.flush()
        return scoped(session, report)


def xlsx(report: QuarterlyReport) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "totals"
    sheet.append(spreadsheet.row(["quarter", report.quarter, "from", report.data["from"], "to",
                                  report.data["to"]]))
    sheet.append([])
    for key, value in report.data["totals"].items():
        sheet.append(spreadsheet.row([key, value]))
    utilisation = report.data.get("utilisation") or {}
    blocks = [(block, block.removeprefix("by_").split("_")[0], report.data.get(block) or {})
              for block in ("by_district", "by_category", "by_priority", "referrals_by_district")]
    blocks += [(f"utilisation_{block}", block.removeprefix("by_"), utilisation.get(block) or {})
               for block in ("by_tier", "by_district")]
    for title, first, rows in blocks:
        ws = book.create_sheet(title)
        columns = sorted({c for v in rows.values() for c in v})
        ws.append(spreadsheet.row([first] + columns))
        for key, values in rows.items():
            ws.append(spreadsheet.row([key] + [
                values.get(c, None if c in quarterly.NOT_COUNTS else 0) for c in columns]))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pages.get("/reports")
def reports_page():
    rows = list(get_session().scalars(select(QuarterlyReport)
                                      .order_by(QuarterlyReport.quarter.desc())))
    return render_template("reports/list.html", reports=rows)


@pages.get("/reports/<quarter>")
def report_page(quarter: str):
    return render_template("reports/report.html", r=get_report(get_session(), quarter))


@pages.get("/reports/<quarter>.xlsx")
def report_xlsx(quarter: str):
    report = get_report(get_session(), quarter)
    return Response(xlsx(report), mimetype="application/vnd.openxmlformats-officedocument."
                                            "spreadsheetml.sheet",
                    headers={"Content-Disposition":
                             f'attachment; filename="rehab-net-{quarter}.xlsx"'})
