"""The plan pages: the list of plans and the form that starts one, and one plan
(templates/planning/plans.html, plan.html), and the helpers their templates use. (The scenario,
comparison and scale-up pages are in pages.py.)"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from rehab_net import access
from rehab_net.auth.guard import scope
from rehab_net.clock import today, zone
from rehab_net.db import get_session, transactional
from rehab_net.errors import Invalid
from rehab_net.messages import translate
from rehab_net.network.models import Facility
from rehab_net.planning import operations as ops
from rehab_net.planning import queue
from rehab_net.planning.adapters import week_start
from rehab_net.planning.models import MAX_HORIZON_WEEKS, Plan, PlanLoad, PlanShadowPrice
from rehab_net.policy import current_policy
from rehab_net.schemas import form_date

bp = Blueprint("planning_pages", __name__)

# endpoint -> permission (rehab_net/access.py; the guard refuses an endpoint not declared).
# Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "planning_pages.plans_page": "plan.read",
    "planning_pages.plan_page": "plan.read",
    "planning_pages.start_plan": "plan.run",
}

PAGE_PLANS = 50
PAGE_SHADOW_PRICES = 20
PAGE_LOADS = 200
PLAN_STATUS_ZH = {"queued": "排队中", "running": "计算中", "optimal": "最优", "feasible": "可行",
                  "error": "出错", "cancelled": "已取消"}


@bp.app_context_processor
def _page_helpers():
    return {"plan_status_zh": PLAN_STATUS_ZH, "week_start": week_start,
            "weeks_full": lambda load: sum(1 for a, c in zip(load.assigned, load.capacity,
                                                             strict=False) if c and a >= c)}


@bp.app_template_filter("local_time")
def _local_time(value) -> str:
    """A UTC timestamp as local time (the configured zone), to the minute."""
    if value is None:
        return "—"
    return value.astimezone(zone()).strftime("%Y-%m-%d %H:%M")




RANKING_SHOWN = 50


def _plans_list(errors=None, form=None, status=200):
    session = get_session()
    plans = [ops.scoped_plan(session, p, scope("plan.read")) for p in session.scalars(
        select(Plan).order_by(Plan.id.desc()).limit(PAGE_PLANS))]
    total = session.scalar(select(func.count()).select_from(Plan))
    return render_template("planning/plans.html", plans=plans, total=total, limit=PAGE_PLANS,
                           errors=errors or {}, form=form or {
                               "horizon_weeks": ops.DEFAULT_HORIZON_WEEKS,
                               "start_date": ops.next_monday(today()).isoformat()},
                           policy=current_policy(session).values,
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


@bp.get("/plans/<int:plan_id>")
def plan_page(plan_id: int):
    """A plan as what it is (Plan.kind): a plain plan's rows (districts, shadow prices, loads);
    a scenario run's figures from its KPIs (it stores no rows, so "no results" would be false);
    a sweep's ranking of candidates."""
    session = get_session()
    plan = ops.get_plan(session, plan_id)
    readable = scope("plan.read")
    shown = ops.scoped_plan(session, plan, readable)
    context: dict = {"plan": shown, "kind": plan.kind, "staleness": ops.staleness(session, plan),
                     "loads": [], "load_total": 0, "load_limit": PAGE_LOADS,
                     "shadow_prices": [], "districts": [], "scenario_loads": [],
                     "ranking": None}
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
    elif plan.kind == "scenario":
        context.update(districts=ops.district_summary_from_kpis(session, shown.kpis),
                       scenario_loads=ops.facility_loads_from_kpis(session, shown.kpis))
    else:
        sweep = (shown.kpis or {}).get("scaleup")
        context["ranking"] = sweep and {**sweep, "ranking": sweep["ranking"][:RANKING_SHOWN],
                                        "total": len(sweep["ranking"])}
        context["sweep"] = plan.parameters.get("scaleup") or {}
    return render_template("planning/plan.html", **context)
