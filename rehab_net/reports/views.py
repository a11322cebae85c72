"""The quarterly reports over the JSON API (the pages: pages.py)."""
from __future__ import annotations

from flask import g
from flask.views import MethodView

from rehab_net import access
from rehab_net.api import Blueprint
from rehab_net.clock import today
from rehab_net.db import get_session, utcnow
from rehab_net.reports import operations as ops
from rehab_net.reports import quarterly
from rehab_net.reports.schemas import ReportSchema

blp = Blueprint("reports", __name__, url_prefix="/api/v1",
                description="Quarterly statistics (统计季报), small cells suppressed")

# endpoint -> permission, or {method: permission} (rehab_net/access.py; the guard refuses
# an endpoint not declared). Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "reports.Reports": "plan.read",
    "reports.ReportItem": {"GET": "plan.read", "PUT": "plan.run"},  # writing: network-wide
    "reports.ReportToDate": "plan.read",
}


@blp.route("/reports/quarterly")
class Reports(MethodView):
    @blp.response(200, ReportSchema(many=True))
    def get(self):
        """Every stored quarterly report, newest first."""
        session = get_session()
        return [ops.scoped(session, r) for r in ops.stored_reports(session)]


@blp.route("/reports/quarterly-to-date")
class ReportToDate(MethodView):
    @blp.response(200, ReportSchema)
    def get(self):
        """The running quarter so far, up to and including today (`data.to_date`: true): counted
        on each request, never stored; the quarter's report is made once it has ended."""
        return ops.report_to_date(get_session(), today=today(), now=utcnow(),
                                  actor=g.user.username)


@blp.route("/reports/quarterly/<quarter>")
class ReportItem(MethodView):
    @blp.response(200, ReportSchema)
    def get(self, quarter):
        """One quarter's report."""
        return ops.get_report(get_session(), quarter)

    @blp.response(200, ReportSchema)
    def put(self, quarter):
        """(Re)generate the report of any quarter that has ended."""
        session = get_session()
        report = quarterly.generate(session, quarter, today=today(), actor=g.user.username)
        session.flush()
        return ops.scoped(session, report)
