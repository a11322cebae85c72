"""The quarterly reports as pages: browse, print, download as CSV or XLSX; and the running quarter
to date, computed on each request and never stored (templates/reports/). The page and the files
are made from the same tables (tables.py)."""
from __future__ import annotations

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from rehab_net import access, downloads, spreadsheet
from rehab_net.clock import today
from rehab_net.db import get_session, transactional, utcnow
from rehab_net.errors import Invalid
from rehab_net.i18n import local_datetime
from rehab_net.messages import translate
from rehab_net.reports import export, quarterly, tables
from rehab_net.reports import operations as ops
from rehab_net.scheduler.periods import previous_quarter

bp = Blueprint("report_pages", __name__)

# endpoint -> permission (rehab_net/access.py; the guard refuses an endpoint not declared).
# Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "report_pages.reports_page": "plan.read",
    "report_pages.report_page": "plan.read",
    "report_pages.make_report": "plan.run",  # as the API's PUT: network-wide
    "report_pages.report_xlsx": "plan.read",
    "report_pages.report_csv": "plan.read",
    "report_pages.to_date_page": "plan.read",
    "report_pages.to_date_xlsx": "plan.read",
    "report_pages.to_date_csv": "plan.read",
}


def _title(report) -> str:
    if getattr(report, "to_date", False):
        return _("Quarterly report %(quarter)s to date", quarter=report.quarter)
    return _("Quarterly report %(quarter)s", quarter=report.quarter)


def _made(report) -> str | None:
    """When a stored report was made (a report to date is made as you look)."""
    return None if getattr(report, "to_date", False) else local_datetime(report.generated_at)


def _filename(report, extension: str) -> str:
    if getattr(report, "to_date", False):
        return f"rehab-net-{report.quarter}-to-{report.data['to']}.{extension}"
    return f"rehab-net-{report.quarter}.{extension}"


def _page(report, links: tuple[str, str]):
    return render_template("reports/report.html", r=report, title=_title(report),
                           tables=tables.tables(get_session(), report.data),
                           shares=tables.SHARES, csv_url=links[0], xlsx_url=links[1])


def _file(report, kind: str) -> Response:
    args = (_title(report), tables.about(report.data, made=_made(report)),
            tables.tables(get_session(), report.data))
    if kind == "csv":
        body, mimetype = export.csv_bytes(*args), spreadsheet.CSV_TYPE
    else:
        body, mimetype = export.xlsx(*args), spreadsheet.XLSX_TYPE
    return Response(body, mimetype=mimetype,
                    headers=downloads.attachment(_filename(report, kind)))


def _to_date():
    return ops.report_to_date(get_session(), today=today(), now=utcnow(),
                              actor=g.user.username)


@bp.get("/reports")
def reports_page(errors: dict | None = None, quarter: str = "", status: int = 200):
    return render_template("reports/list.html", reports=ops.stored_reports(get_session()),
                           errors=errors or {}, quarter=quarter,
                           last_quarter=previous_quarter(utcnow())), status


@bp.post("/reports")
def make_report():
    """Make, or make again, the report of a quarter that has ended (the API's PUT): after a
    correction of the quarter's records, or for a quarter before the scheduler ran."""
    quarter = request.form.get("quarter", "").strip().upper()[:16]
    session = get_session()
    try:
        with transactional(session):
            report = quarterly.generate(session, quarter, today=today(), actor=g.user.username)
    except Invalid as exc:
        return reports_page({"quarter": translate(exc.errors[0]["rule"])}, quarter, 422)
    flash(_("The report of %(quarter)s is made.", quarter=report.quarter), "success")
    return redirect(url_for(".report_page", quarter=report.quarter), code=303)


@bp.get("/reports/to-date")
def to_date_page():
    return _page(_to_date(), (url_for(".to_date_csv"), url_for(".to_date_xlsx")))


@bp.get("/reports/to-date.csv")
def to_date_csv():
    return _file(_to_date(), "csv")


@bp.get("/reports/to-date.xlsx")
def to_date_xlsx():
    return _file(_to_date(), "xlsx")


@bp.get("/reports/<quarter>")
def report_page(quarter: str):
    return _page(ops.get_report(get_session(), quarter),
                 (url_for(".report_csv", quarter=quarter),
                  url_for(".report_xlsx", quarter=quarter)))


@bp.get("/reports/<quarter>.csv")
def report_csv(quarter: str):
    return _file(ops.get_report(get_session(), quarter), "csv")


@bp.get("/reports/<quarter>.xlsx")
def report_xlsx(quarter: str):
    return _file(ops.get_report(get_session(), quarter), "xlsx")
