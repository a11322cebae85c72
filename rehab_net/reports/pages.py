"""The quarterly reports as pages: browse, print, download as XLSX (templates/reports/)."""
from __future__ import annotations

from flask import Blueprint, Response, render_template

from rehab_net import access, spreadsheet
from rehab_net.db import get_session
from rehab_net.reports import operations as ops
from rehab_net.reports.export import xlsx

bp = Blueprint("report_pages", __name__)

# endpoint -> permission (rehab_net/access.py; the guard refuses an endpoint not declared).
# Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "report_pages.reports_page": "plan.read",
    "report_pages.report_page": "plan.read",
    "report_pages.report_xlsx": "plan.read",
}


@bp.get("/reports")
def reports_page():
    return render_template("reports/list.html", reports=ops.stored_reports(get_session()))


@bp.get("/reports/<quarter>")
def report_page(quarter: str):
    return render_template("reports/report.html", r=ops.get_report(get_session(), quarter))


@bp.get("/reports/<quarter>.xlsx")
def report_xlsx(quarter: str):
    report = ops.get_report(get_session(), quarter)
    return Response(xlsx(report), mimetype=spreadsheet.XLSX_TYPE,
                    headers=spreadsheet.attachment(f"rehab-net-{quarter}.xlsx"))
