"""Server-rendered pages: the network at a glance. They follow the UI's rules: one language at a
time (zh-CN by default, English by choice; see i18n.py), landmarks, captions, no assets from the
internet."""
from __future__ import annotations

from flask import Blueprint, Flask, render_template, request
from sqlalchemy import func, select

from rehab_net import access
from rehab_net.clock import today
from rehab_net.db import get_session
from rehab_net.network import operations as network
from rehab_net.network.models import Facility, Region
from rehab_net.people import operations as people
from rehab_net.vocab import TIERS

bp = Blueprint("pages", __name__)

# endpoint -> permission, or {method: permission} (rehab_net/access.py; the guard refuses
# an endpoint not declared). Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "pages.index": "network.read",
    "pages.regions": "network.read",
    "pages.facilities": "network.read",
    "pages.facility": "network.read",
}


PAGE_LIMIT = 500


@bp.app_context_processor
def _labels():
    # Labels in the page's language come from the `label` global (i18n.init_app).
    return {"tiers": TIERS}


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


@bp.get("/regions")
def regions():
    session = get_session()
    return render_template("network/regions.html", roots=region_tree(session))


def region_tree(session) -> list[dict]:
    """Every region as {"region", "children", "open"} nodes, children by code; "open" counts
    the open facilities of the node's whole subtree. Two queries, whatever the tree's size."""
    nodes = {r.id: {"region": r, "children": [], "open": 0}
             for r in session.scalars(network.list_regions().order_by(Region.code))}
    open_facilities = network.list_facilities(session, status="open").subquery()
    for region_id, n in session.execute(
            select(open_facilities.c.region_id, func.count())
            .group_by(open_facilities.c.region_id)):
        if region_id in nodes:
            nodes[region_id]["open"] = n
    roots = []
    for node in nodes.values():  # by code, so every child list comes out sorted
        parent = nodes.get(node["region"].parent_id)
        (parent["children"] if parent else roots).append(node)

    def add_up(node) -> int:  # recursion is fine: the tree is four levels deep
        node["open"] += sum(add_up(child) for child in node["children"])
        return node["open"]

    for root in roots:
        add_up(root)
    return roots


@bp.get("/facilities/<code>")
def facility(code: str):
    session = get_session()
    f = network.get_facility(session, code)
    in_force = network.capacities_in_force(session, f, today())
    return render_template("network/facility.html", f=f,
                           capacities=network.with_schedules(session, f, in_force, today()),
                           history=network.capacity_history(session, f), today=today())


def init_app(app: Flask, api: object = None) -> None:
    """The overview pages and the permissions of their endpoints (no API of their own)."""
    access.declare(app, PERMISSIONS)
    app.register_blueprint(bp)
