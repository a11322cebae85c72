"""The network's pages: the facilities (by tier, by region), one facility with its capacities,
and the region tree (templates/network/). The start page, which also counts people, is the app
edge's (rehab_net/pages.py)."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from rehab_net import access
from rehab_net.clock import today
from rehab_net.db import get_session
from rehab_net.errors import DomainError, Forbidden
from rehab_net.i18n import local_name
from rehab_net.network import operations as network
from rehab_net.network.models import Facility, Region, Service
from rehab_net.schemas import form_date
from rehab_net.vocab import FACILITY_STATUSES, OWNERSHIPS, TIERS, label

bp = Blueprint("network_pages", __name__)

# endpoint -> permission, or {method: permission} (rehab_net/access.py; the guard refuses
# an endpoint not declared). Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "network_pages.regions": "network.read",
    "network_pages.facilities": "network.read",
    "network_pages.facility": "network.read",
    "network_pages.new_capacity": "network.write",
    "network_pages.edit_facility": "network.write",
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


def _may_write(session, region_id: int) -> bool:
    try:
        network.may_write(session, region_id)
    except Forbidden:
        return False
    return True


@bp.get("/facilities/<code>")
def facility(code: str):
    session = get_session()
    f = network.get_facility(session, code)
    in_force = network.capacities_in_force(session, f, today())
    can_write = g.user.can("network.write") and _may_write(session, f.region_id)
    return render_template("network/facility.html", f=f,
                           capacities=network.with_schedules(session, f, in_force, today()),
                           history=network.capacity_history(session, f), today=today(),
                           can_write=can_write)


# The bounds of CreateCapacitySchema (the API's), said in the user's language at the field.
MAX_WEEKLY_INTAKE, MAX_CONCURRENT_PLACES = 10_000, 100_000


@bp.route("/facilities/<code>/capacities/new", methods=["GET", "POST"])
def new_capacity(code: str):
    """Set a facility's capacity for a service from a date on (a new dated row: the history
    stays, plans from then on use it), as POST /api/v1/facilities/{code}/capacities does."""
    session = get_session()
    f = network.get_facility(session, code)
    network.may_write(session, f.region_id)
    services = [sv for sv in session.scalars(select(Service).order_by(Service.code))
                if f.tier in sv.tiers]
    options = [(sv.code, f"{local_name(sv)} ({sv.code})") for sv in services]
    if request.method == "GET":
        form = {"effective_from": today().isoformat(),
                "service_code": request.args.get("service", "")}
        return _capacity_form(f, options, form, {})
    form = {k: request.form.get(k, "").strip()
            for k in ("service_code", "effective_from", "weekly_intake", "concurrent_places")}
    errors, data = _read_capacity_form(form, {code for code, _label in options})
    status = 422
    if not errors:
        try:
            network.set_capacity(session, f, data)
        except DomainError as exc:  # e.g. a capacity from that very day exists already (409)
            session.rollback()
            field = exc.errors[0]["field"] if exc.errors else "effective_from"
            errors, status = {field: exc.translated()}, exc.status
    if errors:
        return _capacity_form(f, options, form, errors, status)
    flash(_("From %(date)s %(facility)s takes %(n)s a week for %(service)s.",
            date=data["effective_from"].isoformat(), facility=local_name(f),
            n=data["weekly_intake"], service=data["service_code"]), "success")
    return redirect(url_for("network_pages.facility", code=f.code), code=303)


def _read_capacity_form(form: dict, service_codes: set[str]) -> tuple[dict, dict]:
    errors, data = {}, {}
    if form["service_code"] not in service_codes:
        errors["service_code"] = _("Choose a service this facility's tier offers.")
    else:
        data["service_code"] = form["service_code"]
    try:
        data["effective_from"] = form_date(form["effective_from"])
    except ValueError as exc:
        errors["effective_from"] = str(exc)
    for key, most in (("weekly_intake", MAX_WEEKLY_INTAKE),
                      ("concurrent_places", MAX_CONCURRENT_PLACES)):
        value = form[key]
        if not value.isdigit() or int(value) > most:
            errors[key] = _("Enter a whole number from 0 to %(most)s.", most=most)
        else:
            data[key] = int(value)
    return errors, data


def _capacity_form(f, options, form, errors, status=200):
    return render_template("network/capacity_new.html", f=f, services=options, form=form,
                           errors=errors), status


# --- a facility's details -------------------------------------------------------------------------
FACILITY_FIELDS = ("name_zh", "name_en", "status", "ownership", "designated", "lat", "lon")
NAME_LIMITS = {"name_zh": 128, "name_en": 200}  # UpdateFacilitySchema's (the API's)


@bp.route("/facilities/<code>/edit", methods=["GET", "POST"])
def edit_facility(code: str):
    """Change a facility's names, status (open, planned, closed), ownership, designation and
    location, as PATCH /api/v1/facilities/{code} does; its tier and region stay (the API
    changes those, re-checking the capacities). The version read with the form guards
    against a change made meanwhile."""
    session = get_session()
    f = network.get_facility(session, code)
    network.may_write(session, f.region_id)
    if request.method == "GET":
        form = {k: getattr(f, k) for k in FACILITY_FIELDS} | {"version": str(f.version)}
        form["designated"] = "1" if f.designated else ""
        return _facility_form(f, form, {})
    form = {k: request.form.get(k, "").strip() for k in (*FACILITY_FIELDS, "version")}
    if form["version"] != str(f.version):
        return _facility_form(f, form, {"name_zh": _(
            "Someone else changed this facility after you opened the page. Reload the page to "
            "see it as it is now.")}, 409)
    errors, data = _read_facility_form(form)
    if errors:
        return _facility_form(f, form, errors, 422)
    network.update_facility(session, f, data)
    flash(_("The details of %(facility)s are saved.", facility=local_name(f)), "success")
    return redirect(url_for("network_pages.facility", code=f.code), code=303)


def _read_facility_form(form: dict) -> tuple[dict, dict]:
    errors, data = {}, {"designated": form["designated"] == "1"}
    for key, most in NAME_LIMITS.items():
        if not 1 <= len(form[key]) <= most:
            errors[key] = _("Enter a name of 1 to %(n)d characters.", n=most)
        else:
            data[key] = form[key]
    for key, options in (("status", FACILITY_STATUSES), ("ownership", OWNERSHIPS)):
        if form[key] not in options:
            errors[key] = _("Choose from the list.")
        else:
            data[key] = form[key]
    for key, bound in (("lat", 90), ("lon", 180)):
        try:
            value = float(form[key])
        except ValueError:
            value = None
        if value is None or not -bound <= value <= bound:  # also NaN and inf
            errors[key] = _("Enter degrees from -%(n)d to %(n)d, e.g. 49.2135.", n=bound)
        else:
            data[key] = value
    return errors, data


def _facility_form(f, form, errors, status=200):
    return render_template("network/facility_edit.html", f=f, form=form, errors=errors,
                           statuses=[(v, label(v)) for v in FACILITY_STATUSES],
                           ownerships=[(v, label(v)) for v in OWNERSHIPS]), status
