"""The plan pages: the list of plans and the form that starts one, and one plan
(templates/planning/plans.html, plan.html), and the helpers their templates use. (The scenario,
comparison and scale-up pages are in pages.py.)"""
from __future__ import annotations

from collections import Counter

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select

from rehab_net import access
from rehab_net.auth.guard import scope
from rehab_net.clock import today, zone
from rehab_net.db import get_session, transactional, utcnow
from rehab_net.errors import Conflict, DomainError, Invalid
from rehab_net.i18n import local_name
from rehab_net.messages import message, translate
from rehab_net.network.models import Facility, Region, Service
from rehab_net.network.operations import DISTRICT_LEVELS
from rehab_net.people.models import Case
from rehab_net.planning import operations as ops
from rehab_net.planning import queue, scenarios, svg
from rehab_net.planning.adapters import township_points, week_start
from rehab_net.planning.exports import flat_policy, policy_label
from rehab_net.planning.models import (
    MAX_HORIZON_WEEKS,
    UNASSIGNED_REASONS,
    Plan,
    PlanAssignment,
    PlanLoad,
    PlanShadowPrice,
)
from rehab_net.planning.states import SOLVED_STATUSES
from rehab_net.policy import current_policy
from rehab_net.schemas import form_date, query_page
from rehab_net.vocab import PRIORITY_CLASSES, label

bp = Blueprint("planning_pages", __name__)

# endpoint -> permission (rehab_net/access.py; the guard refuses an endpoint not declared).
# Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "planning_pages.plans_page": "plan.read",
    "planning_pages.plan_page": "plan.read",
    "planning_pages.start_plan": "plan.run",
    "planning_pages.start_sweep": "plan.run",
    "planning_pages.cancel_plan": "plan.run",
    "planning_pages.apply_plan": "plan.run",
    "planning_pages.plan_cases": "plan.read",
}

PAGE_PLANS = 50
PAGE_SHADOW_PRICES = 20
PAGE_LOADS = 200


@bp.app_context_processor
def _page_helpers():
    return {"week_start": week_start,
            "weeks_full": lambda load: sum(1 for a, c in zip(load.assigned, load.capacity,
                                                             strict=False) if c and a >= c)}


@bp.app_template_filter("local_time")
def _local_time(value) -> str:
    """A UTC timestamp as local time (the configured zone), to the minute."""
    if value is None:
        return "—"
    return value.astimezone(zone()).strftime("%Y-%m-%d %H:%M")




RANKING_SHOWN = 50
RANKING_ON_MAP = 20  # the map names the best candidates; the table beside it has the rest
PAGE_CASES = 50
SCALEUP_KINDS = ("add_places", "open_station")
MAX_SWEEP_PLACES = 50
# The reasons the optimiser leaves a case without a place (models.UNASSIGNED_REASONS).
REASON_LABELS = {"no_eligible_facility": _l("No facility offers the service in reach"),
                 "capacity": _l("No place left within the horizon")}


def _kind_label(kind: str) -> str:
    return {"add_places": _("Add places at a facility that offers the service"),
            "open_station": _("Open a station at a township's centre")}.get(kind, kind)


def _plans_list(errors=None, form=None, status=200, sweep_errors=None, sweep_form=None):
    session = get_session()
    plans = [ops.scoped_plan(session, p, scope("plan.read")) for p in session.scalars(
        select(Plan).order_by(Plan.id.desc()).limit(PAGE_PLANS))]
    total = session.scalar(select(func.count()).select_from(Plan))
    return render_template("planning/plans.html", plans=plans, total=total, limit=PAGE_PLANS,
                           errors=errors or {}, form=form or {
                               "horizon_weeks": ops.DEFAULT_HORIZON_WEEKS,
                               "start_date": ops.next_monday(today()).isoformat()},
                           sweep_errors=sweep_errors or {},
                           sweep_form=sweep_form or {"places": 2, "kind": "add_places"},
                           services=[(sv.code, f"{local_name(sv)} ({sv.code})")
                                     for sv in session.scalars(select(Service)
                                                               .order_by(Service.code))],
                           sweep_kinds=[(k, _kind_label(k)) for k in SCALEUP_KINDS],
                           max_places=MAX_SWEEP_PLACES,
                           policy=[(key, policy_label(key), value) for key, value
                                   in flat_policy(current_policy(session).values)],
                           max_horizon=MAX_HORIZON_WEEKS), status


@bp.get("/plans")
def plans_page():
    return _plans_list()


@bp.post("/plans")
def start_plan():
    """Queue a plan of the live network from the page: horizon and start week; the policy in
    force is the one shown. The worker solves it; its page shows the status."""
    form = {k: request.form.get(k, "").strip() for k in ("horizon_weeks", "start_date")}
    errors, data = {}, {}
    if form["horizon_weeks"].isdigit() and 1 <= int(form["horizon_weeks"]) <= MAX_HORIZON_WEEKS:
        data["horizon_weeks"] = int(form["horizon_weeks"])
    else:
        errors["horizon_weeks"] = _("Enter a whole number from %(lo)s to %(hi)s.", lo=1,
                                    hi=MAX_HORIZON_WEEKS)
    if form["start_date"]:
        try:
            data["start_date"] = form_date(form["start_date"])
        except ValueError as exc:
            errors["start_date"] = str(exc)
    session = get_session()
    if not errors:
        try:
            with transactional(session):  # committed first: the worker must see the plan
                plan = ops.create_plan(session, data, today=today(), default_time_limit=float(
                    current_app.config["PLAN_TIME_LIMIT"]))
        except Invalid as exc:
            errors = {e["field"]: translate(e["rule"]) for e in exc.errors}
    if errors:
        return _plans_list(errors, form, 422)
    queue.submit(session, plan)
    flash(_("Plan #%(id)d is queued. A worker solves it; reload its page to see the status.",
            id=plan.id), "success")
    return redirect(url_for("planning_pages.plan_page", plan_id=plan.id), code=303)


@bp.post("/scaleups")
def start_sweep():
    """Queue a scale-up sweep (a plan of kind sweep, as POST /api/v1/scaleups): one service,
    one kind of candidate, N more weekly intakes each; its page shows the ranking."""
    form = {k: request.form.get(f"sweep_{k}", "").strip() for k in ("service", "kind", "places")}
    errors: dict[str, str] = {}
    if not form["service"]:
        errors["sweep_service"] = _("Choose a service.")
    if form["kind"] not in SCALEUP_KINDS:
        errors["sweep_kind"] = _("Choose what each candidate changes.")
    if not (form["places"].isdigit() and 1 <= int(form["places"]) <= MAX_SWEEP_PLACES):
        errors["sweep_places"] = _("Enter a whole number from %(lo)s to %(hi)s.", lo=1,
                                   hi=MAX_SWEEP_PLACES)
    session = get_session()
    if not errors:
        try:
            with transactional(session):  # committed first: the worker must see the plan
                plan = scenarios.start_scaleup(
                    session, {**form, "places": int(form["places"])}, today=today(),
                    default_time_limit=float(current_app.config["PLAN_TIME_LIMIT"]))
        except Invalid as exc:
            errors = {f"sweep_{e['field']}": translate(e["rule"]) for e in exc.errors}
    if errors:
        return _plans_list(sweep_errors=errors, sweep_form=form, status=422)
    queue.submit(session, plan)
    flash(_("Scale-up sweep #%(id)d is queued. A worker solves every candidate; its page shows "
            "how far it is.", id=plan.id), "success")
    return redirect(url_for("planning_pages.plan_page", plan_id=plan.id), code=303)


def progress(session, plan: Plan) -> dict | None:
    """How far an unfinished run is, from what the worker records: waiting (and how many runs
    are ahead of it), reading the network (no fingerprint yet), solving (a sweep's candidates
    done of all; a plan's time spent of its time limit, the optimiser stops there at the
    latest). None once finished."""
    if plan.finished:
        return None
    if plan.status == "queued":
        ahead = session.scalar(select(func.count()).select_from(Plan).where(
            Plan.status.in_(("queued", "running")), Plan.id < plan.id)) or 0
        return {"stage": _("Waiting for a worker"), "percent": None,
                "detail": ngettext_ahead(ahead)}
    if plan.fingerprint is None:
        return {"stage": _("Reading the network and the waiting cases"), "percent": None,
                "detail": None}
    done = ((plan.stats or {}).get("progress") or {})
    if plan.kind == "sweep":
        if not done.get("total"):
            return {"stage": _("Solving the service without a change"), "percent": None,
                    "detail": None}
        return {"stage": _("Solving the candidates"),
                "percent": round(100 * done["done"] / done["total"]),
                "detail": _("%(done)d of %(total)d candidates solved.", done=done["done"],
                            total=done["total"])}
    limit = float((plan.parameters or {}).get("time_limit") or 0)
    spent = (utcnow() - plan.started_at).total_seconds() if plan.started_at else 0
    return {"stage": _("The optimiser is solving"),
            "percent": min(99, round(100 * spent / limit)) if limit else None,
            "detail": _("%(spent)d s of at most %(limit)d s.", spent=spent, limit=limit)}


def ngettext_ahead(n: int) -> str:
    if not n:
        return _("Next in line.")
    return ngettext("%(num)d run ahead of it.", "%(num)d runs ahead of it.", n)


def _placed_in_scope(session, plan: Plan) -> int:
    return session.scalar(select(func.count()).select_from(
        ops.list_assignments(plan, scope=scope("plan.read"), placed=True)
        .order_by(None).subquery())) or 0


def _ranking_map(session, plan: Plan, sweep: dict, ranking: list[dict]):
    """The best candidates where they are: facilities given more places, or townships where a
    station would open. Candidates without coordinates are left off the map (the table has
    them)."""
    shown = ranking[:RANKING_ON_MAP]
    codes = [r["candidate"] for r in shown]
    if sweep.get("kind") == "open_station":
        towns = {t["code"]: t for t in township_points(session) if t["code"] in codes}
        names = {r.code: local_name(r) for r in session.scalars(
            select(Region).where(Region.code.in_(codes)))}
        where = {c: {"lat": t["lat"], "lon": t["lon"], "tier": "station", "new": True}
                 for c, t in towns.items()}
    else:
        facilities = {f.code: f for f in session.scalars(
            select(Facility).where(Facility.code.in_(codes)))}
        names = {c: local_name(f) for c, f in facilities.items()}
        where = {c: {"lat": f.lat, "lon": f.lon, "tier": f.tier, "new": False}
                 for c, f in facilities.items()}
    candidates = []
    for rank, r in enumerate(shown, 1):
        spot = where.get(r["candidate"])
        if spot is None:
            continue
        candidates.append({**spot, "rank": rank, "code": r["candidate"],
                           "gain": r["objective_gain"], "label": _(
                               "%(rank)d. %(name)s: objective gain %(gain)s, %(children)d "
                               "children placed", rank=rank,
                               name=names.get(r["candidate"]) or r["candidate"],
                               gain="{:,.2f}".format(r["objective_gain"]),
                               children=r["children_placed"])})
    if not candidates:
        return None, names
    projection = svg.fit([(c["lat"], c["lon"]) for c in candidates], width=560)
    best = "; ".join(c["label"] for c in candidates[:3])
    return svg.ranking_map(
        map_id=f"ranking-map-{plan.id}", title=_("Map of the best %(n)d candidates",
                                                 n=len(candidates)),
        desc=_("Numbered by rank; the darker, the larger the objective gain. Best: %(best)s. The "
               "table beside the map has every figure.", best=best),
        projection=projection, candidates=candidates, north_label=_("N"),
        km_label=_("km")), names


def _plan_page(plan_id: int, *, errors: dict | None = None, status: int = 200):
    """A plan as what it is (Plan.kind): a plain plan's rows (districts, shadow prices, loads);
    a scenario run's figures from its KPIs (it stores no rows, so "no results" would be false);
    a sweep's ranking of candidates, as a table and on the map. While it runs: how far it is,
    a refresh link and the cancel button."""
    session = get_session()
    plan = ops.get_plan(session, plan_id)
    readable = scope("plan.read")
    shown = ops.scoped_plan(session, plan, readable)
    context: dict = {"plan": shown, "kind": plan.kind, "staleness": ops.staleness(session, plan),
                     "loads": [], "load_total": 0, "load_limit": PAGE_LOADS,
                     "shadow_prices": [], "districts": [], "scenario_loads": [],
                     "ranking": None, "progress": progress(session, plan),
                     "message": plan.shown_message, "errors": errors or {},
                     "applicable": None}
    if plan.kind == "plan":
        loads_stmt = ops.list_loads(plan, scope=readable)
        context.update(
            loads=session.scalars(loads_stmt.order_by(
                PlanLoad.utilisation.desc().nulls_last(), Facility.code).limit(PAGE_LOADS)).all(),
            load_total=session.scalar(select(func.count()).select_from(
                loads_stmt.order_by(None).subquery())),
            shadow_prices=session.scalars(ops.list_shadow_prices(plan, scope=readable).order_by(
                PlanShadowPrice.value.desc()).limit(PAGE_SHADOW_PRICES)).all(),
            districts=ops.district_summary(session, plan, scope=readable))
        if plan.status in SOLVED_STATUSES:
            context["applicable"] = _placed_in_scope(session, plan)
    elif plan.kind == "scenario":
        context.update(districts=ops.district_summary_from_kpis(session, shown.kpis),
                       scenario_loads=ops.facility_loads_from_kpis(session, shown.kpis))
    else:
        sweep = (shown.kpis or {}).get("scaleup")
        spec = plan.parameters.get("scaleup") or {}
        context["ranking"] = sweep and {**sweep, "ranking": sweep["ranking"][:RANKING_SHOWN],
                                        "total": len(sweep["ranking"])}
        context["sweep"] = spec
        service = session.scalar(select(Service).where(Service.code == spec.get("service")))
        context["sweep_service"] = local_name(service) if service else spec.get("service")
        context["ranking_map"], context["candidate_names"] = (
            _ranking_map(session, plan, spec, sweep["ranking"]) if sweep else (None, {}))
    return render_template("planning/plan.html", **context), status


@bp.get("/plans/<int:plan_id>")
def plan_page(plan_id: int):
    return _plan_page(plan_id)


@bp.post("/plans/<int:plan_id>/cancel")
def cancel_plan(plan_id: int):
    """Cancel a queued run at once, or ask the worker to stop a running one (as POST
    /api/v1/plans/<id>/cancel); a run that has finished meanwhile says so in place (409)."""
    session = get_session()
    try:
        plan = ops.cancel(session, ops.get_plan(session, plan_id))
        session.flush()
    except Conflict as exc:
        session.rollback()
        return _plan_page(plan_id, errors={"cancel": exc.translated()}, status=409)
    flash(_("Plan #%(id)d is cancelled.", id=plan_id) if plan.status == "cancelled" else
          _("The worker is asked to stop plan #%(id)d; it stops within a few seconds.",
            id=plan_id), "success")
    return redirect(url_for("planning_pages.plan_page", plan_id=plan_id), code=303)


def _skip_reason(skipped: dict) -> str:
    """Why a proposal was passed over (referrals_from_plan: a coded message), in the page's
    language."""
    return str(translate(skipped["reason"]))


@bp.post("/plans/<int:plan_id>/apply")
def apply_plan(plan_id: int):
    """Turn the plan's placed proposals in the planner's area into referrals from each case's
    home clinic (as POST /api/v1/plans/<id>/apply): first a confirmation page with the count,
    then, confirmed, the referrals and the count made and skipped (by reason)."""
    from rehab_net.referrals.operations.from_plan import referrals_from_plan

    session = get_session()
    plan = ops.get_plan(session, plan_id)
    if plan.kind != "plan":
        abort(404)  # a scenario's run or a sweep proposes nothing
    if plan.status not in SOLVED_STATUSES:
        return _plan_page(plan_id, status=409, errors={"apply": message(
            "plan.apply_unfinished", id=plan.id, status=plan.status).translated()})
    send = request.form.get("send") == "1"
    count = _placed_in_scope(session, plan)
    if request.form.get("confirm") != "1":
        return render_template("planning/apply.html", plan=plan, count=count, send=send,
                               staleness=ops.staleness(session, plan))
    stmt = ops.list_assignments(plan, scope=scope("plan.read"), placed=True).join(
        Case, PlanAssignment.case_id == Case.id).order_by(Case.code)
    try:
        result = referrals_from_plan(session, session.scalars(stmt).unique(),
                                     principal=g.user, now=utcnow(), today=today(),
                                     send=send)
        session.flush()
    except DomainError as exc:
        session.rollback()
        return _plan_page(plan_id, status=exc.status, errors={"apply": exc.translated()})
    reasons = Counter(_skip_reason(s) for s in result["skipped"])
    created = len(result["created"])
    text = (_("%(n)d referrals sent to the proposed facilities.", n=created) if send else
            _("%(n)d draft referrals made for the home clinics to send.", n=created))
    if reasons:
        text += " " + _("%(n)d proposals skipped: %(why)s.", n=len(result["skipped"]),
                        why="; ".join(f"{why} ({k})" for why, k in sorted(reasons.items())))
    flash(text, "success")
    return redirect(url_for("planning_pages.plan_page", plan_id=plan_id, _anchor="apply"),
                    code=303)


def _case_filters(session) -> tuple[dict, dict[str, str], dict]:
    """The filters of a plan's cases from the query string: (for list_assignments, errors,
    the options of each select)."""
    readable = scope("plan.read")
    districts = session.scalars(select(Region).where(
        Region.level.in_(DISTRICT_LEVELS), readable.region_filter(Region.id))
        .order_by(Region.code)).all()
    services = session.scalars(select(Service).order_by(Service.code)).all()
    options = {
        "district": [(r.code, f"{local_name(r)} ({r.code})") for r in districts],
        "service": [(sv.code, f"{local_name(sv)} ({sv.code})") for sv in services],
        "priority": [(p, label(p)) for p in PRIORITY_CLASSES],
        "placed": [("yes", _("with a place")), ("no", _("without a place"))],
        "reason": [(r, str(REASON_LABELS[r])) for r in UNASSIGNED_REASONS],
    }
    by_code = {"district": {r.code: r for r in districts},
               "service": {sv.code: sv for sv in services}}
    filters, errors = {}, {}
    for key, choices in options.items():
        value = request.args.get(key, "")
        if not value:
            continue
        if value not in dict(choices):
            errors[key] = _("Choose one of the list.")
        elif key in by_code:
            filters[key] = by_code[key][value]
        elif key == "placed":
            filters["placed"] = value == "yes"
        else:
            filters[key] = value
    return filters, errors, options


@bp.get("/plans/<int:plan_id>/cases")
def plan_cases(plan_id: int):
    """The plan's proposal for every case of the planner's area, a page at a time, filtered
    by district, service, priority, placed or not and why not. Cases by their code only:
    planners see no names (the API gives them codes too)."""
    session = get_session()
    plan = ops.get_plan(session, plan_id)
    if plan.kind != "plan":
        abort(404)  # a scenario's run or a sweep keeps no row per case
    filters, errors, options = _case_filters(session)
    try:
        page = query_page(request.args)
    except Invalid:
        page, errors["page"] = 1, _("There is no such page.")
    rows, total = [], 0
    if not errors:
        stmt = ops.list_assignments(plan, scope=scope("plan.read"), **filters)
        total = session.scalar(select(func.count()).select_from(
            stmt.order_by(None).subquery())) or 0
        rows = session.scalars(stmt.join(Case, PlanAssignment.case_id == Case.id)
                               .order_by(Case.code).offset((page - 1) * PAGE_CASES)
                               .limit(PAGE_CASES)).unique().all()
    pages = max(1, -(-total // PAGE_CASES))
    return render_template("planning/plan_cases.html", plan=plan, rows=rows, total=total,
                           page=page, pages=pages, first=(page - 1) * PAGE_CASES + 1,
                           options=options, args=request.args, errors=errors,
                           reason_labels=REASON_LABELS), (422 if errors else 200)
