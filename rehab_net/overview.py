"""The overview of the whole network: its size (regions, facilities per tier and district,
services) beside the case counts. It reads network and people both, so it sits above them, at
the app edge: the API's /summary, the `rehab-net summary` command and the home page use it."""
from __future__ import annotations

from datetime import date

from flask import Flask
from flask.views import MethodView
from marshmallow import Schema, fields
from sqlalchemy.orm import Session

from rehab_net import access
from rehab_net.api import Blueprint
from rehab_net.clock import today
from rehab_net.db import get_session
from rehab_net.network import operations as network
from rehab_net.people import operations as people
from rehab_net.vocab import TIERS

blp = Blueprint("overview", __name__, url_prefix="/api/v1",
                description="The network's size and its cases at a glance")
PERMISSIONS: dict[str, access.Rule] = {"overview.Summary": "network.read"}


def init_app(app: Flask, api) -> None:
    access.declare(app, PERMISSIONS)
    api.register_blueprint(blp)


def summary(session: Session, on: date) -> dict:
    """network.summary (regions, facilities, services, districts) and people.counts (persons,
    cases per status, open cases per priority class on ``on``)."""
    return {**network.summary(session), **people.counts(session, on)}


DistrictCountsSchema = Schema.from_dict(
    {"code": fields.String(), "name_zh": fields.String(), "name_en": fields.String(),
     **{tier: fields.Integer() for tier in TIERS}}, name="DistrictCountsSchema")


def _counts(description: str):
    return fields.Dict(keys=fields.String(), values=fields.Integer(),
                       metadata={"description": description})


class SummarySchema(Schema):
    regions = _counts("regions per level")
    facilities = _counts("facilities per tier")
    services = fields.Integer()
    districts = fields.List(fields.Nested(DistrictCountsSchema),
                            metadata={"description": "facilities per tier in each district"})
    persons = fields.Integer()
    cases = _counts("cases per status")
    open_by_priority = _counts("open cases per priority class")


@blp.route("/summary")
class Summary(MethodView):
    @blp.response(200, SummarySchema)
    def get(self):
        """The network's size per tier and district, and case counts by priority."""
        return summary(get_session(), today())
