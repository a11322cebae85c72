"""The network's pages: the facilities (by tier, by region), one facility with its capacities,
and the region tree (templates/network/). The start page, which also counts people, is the app
edge's (rehab_net/pages.py)."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from rehab_net import access
from rehab_net.clock import today
from rehab_net.db import get_session
from rehab_net.network import operations as network
from rehab_net.network.models import Facility, Region
from rehab_net.vocab import TIERS

bp = Blueprint("network_pages", __name__)

# endpoint -> permission, or {method: permission} (rehab_net/access.py; the guard refuses
# an endpoint not declared). Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "network_pages.regions": "network.read",
    "network_pages.facilities": "network.read",
    "network_pages.facility": "network.read",
}


PAGE_LIMIT = 500


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
