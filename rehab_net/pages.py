"""Server-rendered pages: the network at a glance. The full UI shell (login, roles, language
switch) comes with the people-and-permissions work; these pages already follow its rules:
zh-CN first with English beside it, landmarks, captions, no assets from the internet."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from rehab_net.clock import today
from rehab_net.db import get_session
from rehab_net.network import operations as network
from rehab_net.network.models import Facility
from rehab_net.people import operations as people
from rehab_net.vocab import LABELS_ZH, TIERS

bp = Blueprint("pages", __name__)
PAGE_LIMIT = 500


@bp.app_context_processor
def _labels():
    return {"zh": LABELS_ZH, "tiers": TIERS}


@bp.get("/")
def index():
    session = get_session()
    return render_template("network/index.html", summary=network.summary(session),
                           counts=people.counts(session, today()), today=today())


@bp.get("/facilities")
def facilities():
    session = get_session()
    tier = request.args.get("tier") if request.args.get("tier") in TIERS else None
    region = network.get_region(session, request.args["region"]) \
        if request.args.get("region") else None
    stmt = network.list_facilities(session, tier=tier, region=region)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.order_by(Facility.tier, Facility.code).limit(PAGE_LIMIT)).all()
    return render_template("network/facilities.html", facilities=rows, tier=tier, region=region,
                           total=total, limit=PAGE_LIMIT)


@bp.get("/facilities/<code>")
def facility(code: str):
    session = get_session()
    f = network.get_facility(session, code)
    return render_template("network/facility.html", f=f,
                           capacities=network.capacities_in_force(session, f, today()),
                           history=network.capacity_history(session, f), today=today())
