"""Coverage and the children's rescue ledger over the JSON API (the pages: pages.py)."""
from __future__ import annotations

from flask.views import MethodView

from rehab_net import access
from rehab_net.api import Blueprint
from rehab_net.clock import today
from rehab_net.coverage import operations as ops
from rehab_net.coverage import schemas as s
from rehab_net.db import get_session, utcnow

blp = Blueprint("coverage", __name__, url_prefix="/api/v1",
                description="Coverage against targets and the children's rescue ledger, small "
                            "cells suppressed")

# endpoint -> permission (rehab_net/access.py; the guard refuses an endpoint not declared).
# Declared by init_app. A planner of some districts reads those districts only.
PERMISSIONS: dict[str, access.Rule] = {
    "coverage.Coverage": "plan.read",
    "coverage.RescueLedger": "plan.read",
}


@blp.route("/coverage")
class Coverage(MethodView):
    @blp.arguments(s.CoverageQuerySchema, location="query")
    @blp.response(200, s.CoverageSchema)
    def get(self, args):
        """The share of persons with a need served in the year, by district x category x group
        ("all" on any axis: the total; `category` keeps that category's rows), for the year and
        since the base year, against the targets; counts under the small-cell size as "<N"."""
        category = args.get("category")
        data = ops.coverage(get_session(), year=args.get("year"), category=category,
                            today=today())
        if category:
            data["rows"] = [r for r in data["rows"] if r["category"] == category]
        return data


@blp.route("/coverage/rescue")
class RescueLedger(MethodView):
    @blp.arguments(s.LedgerQuerySchema, location="query")
    @blp.response(200, s.LedgerSchema)
    def get(self, args):
        """The children's rescue ledger of the year: per child the funded months and amount
        against the configured caps, the warning status; the totals per district."""
        book = ops.rescue_ledger(get_session(), year=args.get("year"),
                                 worklist=args["worklist"], today=today(), now=utcnow())
        return ops.ledger_json(book)
