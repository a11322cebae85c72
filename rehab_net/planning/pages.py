"""The planners' scenario pages: the scenarios and a form for a new one; a scenario's changes, a
form per kind of change, copying and running it, its runs; the comparison of finished plans
(figures with their changes, charts with their tables, the map) and its downloads.

Reading needs plan.read; saving and running plan.run (a planner of the whole network), as the
API (auth/guard.py). Runs are queued for the worker, never solved in a request."""
from __future__ import annotations

import re
import uuid

from flask import (
    Blueprint,
    Response,
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
from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from rehab_net import access
from rehab_net.auth import audit
from rehab_net.auth.guard import scope
from rehab_net.booking import operations as booking
from rehab_net.booking.access import writable_facilities
from rehab_net.booking.constraints import conflict_for
from rehab_net.clock import today
from rehab_net.csvimport import CODE
from rehab_net.db import get_session, transactional, utcnow
from rehab_net.downloads import attachment
from rehab_net.errors import Conflict, DomainError, Invalid, NotFound
from rehab_net.i18n import local_datetime, local_name
from rehab_net.masking import mask_name
from rehab_net.messages import code_of, message, params_of, translate
from rehab_net.network.models import Facility, Region, Service
from rehab_net.planning import exports, queue, scenarios, svg
from rehab_net.planning import operations as ops
from rehab_net.planning import proposals as work
from rehab_net.planning.models import MAX_HORIZON_WEEKS, Plan, Scenario
from rehab_net.planning.schemas import PolicyOverridesSchema
from rehab_net.planning.states import SOLVED_STATUSES
from rehab_net.referrals.operations.visibility import Forbidden
from rehab_net.schemas import form_id
from rehab_net.spreadsheet import CSV_TYPE, XLSX_TYPE
from rehab_net.vocab import CATEGORIES, PRIORITY_CLASSES, TIERS, label

bp = Blueprint("scenario_pages", __name__)
proposal_bp = Blueprint("proposal_pages", __name__)

# endpoint -> permission, or {method: permission} (rehab_net/access.py; the guard refuses
# an endpoint not declared). Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "scenario_pages.scenarios_page": "plan.read",
    "scenario_pages.new_scenario": "plan.run",
    "scenario_pages.run_baseline": "plan.run",
    "scenario_pages.scenario": "plan.read",
    "scenario_pages.add_change": "plan.run",
    "scenario_pages.remove_change": "plan.run",
    "scenario_pages.copy": "plan.run",
    "scenario_pages.run": "plan.run",
    "scenario_pages.changes_csv": "plan.read",
    "scenario_pages.compare": "plan.read",
    "scenario_pages.compare_csv": "plan.read",
    "scenario_pages.compare_xlsx": "plan.read",
    # a plan's proposals at the user's facilities, to accept and book (coordinators)
    "proposal_pages.latest": "booking.read",
    "proposal_pages.proposals": "booking.read",
    "proposal_pages.accept": "referral.write",
    "proposal_pages.book": "booking.write",
}


PAGE_SCENARIOS = 100
RUNS_SHOWN = 3  # runs per scenario in the list
PICKABLE_PLANS = 100  # finished plans offered on the comparison's form
MAX_COMPARED = 8
TOP_FACILITIES = 12
DEFAULT_HORIZON = 12

# --- the change forms ---------------------------------------------------------------------------
# kind -> fields in form order: (name, type, required). Types: text, int, float, and the selects
# service, tier, district, category, priority, policy_key.
CHANGE_FORMS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "capacity": (("facility", "text", True), ("service", "service", True),
                 ("from_week", "int", False), ("to_week", "int", False),
                 ("delta", "int", False), ("set", "int", False)),
    "open_facility": (("code", "text", True), ("tier", "tier", True), ("lat", "float", True),
                      ("lon", "float", True), ("service", "service", False),
                      ("intakes", "int", False)),
    "close_facility": (("facility", "text", True),),
    "outreach": (("facility", "text", True), ("service", "service", True),
                 ("week", "int", True), ("places", "int", True)),
    "demand": (("district", "district", False), ("category", "category", False),
               ("priority", "priority", False), ("percent", "float", False),
               ("count", "int", False)),
    "policy": (("weight", "policy_key", True), ("value", "float", True)),
}
INTAKE_RANGE = (0, 1000)  # intakes per week of a new facility (scenarios.validate_changes)
# A domain error's field -> the form field it belongs to, where the names differ.
DOMAIN_FIELD = {("open_facility", "capacity"): "intakes", ("policy", "values"): "value"}


def field_labels() -> dict[str, str]:
    return {
        "facility": _("Facility code"), "service": _("Service"),
        "from_week": _("From week"), "to_week": _("To week"),
        "delta": _("Change in intakes per week"), "set": _("Or set intakes per week to"),
        "code": _("New facility code"), "tier": _("Tier"), "lat": _("Latitude (° N)"),
        "lon": _("Longitude (° E)"), "intakes": _("Intakes per week"),
        "week": _("Week"), "places": _("Extra intakes"),
        "district": _("District"), "category": _("Category"), "priority": _("Priority class"),
        "percent": _("Change in cases (%)"), "count": _("Or change in cases (number)"),
        "weight": _("Weight"), "value": _("New value"),
    }


def field_hints(kind: str) -> dict[str, str]:
    hints = {
        "facility": _("The facility's code, e.g. CT001 (see the facilities list)."),
        "from_week": _("0 is the first week of the run; empty: from the start."),
        "to_week": _("Empty: to the end of the run's horizon."),
        "delta": _("Negative to lower; fill in this or the next field."),
        "percent": _("Negative for fewer cases; fill in this or the next field."),
        "week": _("0 is the first week of the run."),
        "code": _("Letters, digits, _ or -; not used by any facility yet."),
        "intakes": _("For the service chosen above."),
        "district": _("Empty: all districts."),
        "category": _("Empty: all categories."),
        "priority": _("Empty: all priority classes."),
    }
    if kind == "open_facility":
        hints["service"] = _("Optional: a service it offers from the start.")
    return hints


def _number_rule(kind: str, name: str) -> tuple[type, float, float] | None:
    if kind == "open_facility" and name == "intakes":
        return (int, *INTAKE_RANGE)
    return scenarios.NUMBER_RULES.get(kind, {}).get(name)


def _parse_change(kind: str, form) -> tuple[dict, dict[str, str], dict[str, str]]:
    """(the change, errors by form field name, the submitted values). The form's own checks,
    in the page's language; the domain rules run after (scenarios.validate_changes)."""
    values = {name: form.get(name, "").strip() for name, _t, _r in CHANGE_FORMS[kind]}
    errors: dict[str, str] = {}
    change: dict = {"kind": kind}
    for name, type_, required in CHANGE_FORMS[kind]:
        raw = values[name]
        if raw == "":
            if required:
                errors[name] = _("This is required.")
            continue
        if type_ in ("int", "float"):
            try:
                number = int(raw) if type_ == "int" else float(raw.replace(",", "."))
            except ValueError:
                errors[name] = (_("Enter a whole number.") if type_ == "int"
                                else _("Enter a number."))
                continue
            rule = _number_rule(kind, name)
            if rule is not None and not rule[1] <= number <= rule[2]:
                errors[name] = _("Enter a number from %(lo)s to %(hi)s.", lo=rule[1],
                                 hi=rule[2])
                continue
            change[name] = number
        else:
            change[name] = raw
    if kind == "capacity" and not errors and ("delta" in change) == ("set" in change):
        errors["delta"] = _("Give either a change or a new number of intakes, not both.")
    if kind == "capacity" and not errors and change.get("to_week", 99) < change.get("from_week",
                                                                                     0):
        errors["to_week"] = _("The last week cannot come before the first.")
    if kind == "demand" and not errors and ("percent" in change) == ("count" in change):
        errors["percent"] = _("Give either a percentage or a number of cases, not both.")
    if kind == "open_facility" and "code" in change and not re.match(CODE, change["code"]):
        errors["code"] = _("Enter a code of 1-32 letters, digits, _ or -.")
    if kind == "open_facility" and not errors:
        service, intakes = change.pop("service", None), change.pop("intakes", None)
        if (service is None) != (intakes is None):
            errors["intakes" if service else "service"] = _(
                "Give the service and its intakes per week together.")
        change["capacity"] = {service: intakes} if service else {}
    if kind == "policy" and not errors:
        key, value = change.pop("weight"), change.pop("value")
        if key not in exports.POLICY_KEYS:
            errors["weight"] = _("Choose a weight from the list.")
        else:
            group, _dot, member = key.partition(".")
            values_ = {group: {member: value}} if member else {group: value}
            try:
                PolicyOverridesSchema().load(values_)
            except ValidationError:  # out of the weight's range
                errors["value"] = _("This value is outside the weight's allowed range.")
            change["values"] = values_
    return change, errors, values


def _domain_message(rule) -> str:
    """A rule of validate_changes as the change form says it: some codes have a sentence of
    the form's own, the others their catalogue text."""
    params = params_of(rule)
    code = code_of(rule)
    if code == "scenario.facility_unknown":
        return _("There is no facility %(code)s.", code=params["code"])
    if code == "scenario.service_unknown":
        return _("There is no service %(code)s.", code=params["code"])
    if code == "scenario.code_exists":
        return _("A facility %(code)s exists already.", code=params["code"])
    if code in ("scenario.value_unknown", "scenario.tier_unknown"):
        return _("Choose from the list.")
    return translate(rule)


_PATH = re.compile(r"^changes\[(\d+)\]\.(\w+)$")


def _change_errors(exc: Invalid, kind: str, index: int, change: dict) -> dict[str, str]:
    """Errors of scenarios.validate_changes as page errors: the new change's (at ``index``) tied
    to its form's field ("capacity-facility"), an older change's to the list of changes."""
    errors = {}
    for e in exc.errors:
        m = _PATH.match(e.get("field", ""))
        if m and int(m.group(1)) == index:
            name = DOMAIN_FIELD.get((kind, m.group(2)), m.group(2))
            if name not in {n for n, _t, _r in CHANGE_FORMS[kind]}:
                name = CHANGE_FORMS[kind][0][0]
            errors[f"{kind}-{name}"] = _domain_message(e.get("rule", ""))
        elif m:
            errors["changes"] = _("Change %(n)d: %(rule)s", n=int(m.group(1)) + 1,
                                  rule=translate(e.get("rule", "")))
        else:
            errors["changes"] = translate(e.get("rule") or exc.detail)
    return errors


# --- helpers ------------------------------------------------------------------------------------
def _can_run() -> bool:
    return g.user is not None and g.user.can("plan.run")


def _int_arg(raw: str | None, default: int, lo: int, hi: int) -> int | None:
    """A whole number in [lo, hi] from a form, the default when empty, None when invalid."""
    raw = (raw or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if lo <= value <= hi else None


def _options(session) -> dict:
    return {
        "services": [(s.code, f"{local_name(s)} ({s.code})") for s in session.scalars(
            select(Service).order_by(Service.category, Service.code))],
        "districts": [(r.code, f"{local_name(r)} ({r.code})") for r in session.scalars(
            select(Region).where(Region.level == "district").order_by(Region.code))],
        "facility_codes": [(f.code, local_name(f)) for f in session.scalars(
            select(Facility).where(Facility.tier != "clinic", Facility.status != "closed")
            .order_by(Facility.code))],
        "tiers": [(t, label(t)) for t in TIERS],
        "categories": [(c, label(c)) for c in CATEGORIES],
        "priorities": [(p, label(p)) for p in PRIORITY_CLASSES],
        "policy_keys": [(k, exports.policy_label(k)) for k in exports.POLICY_KEYS],
    }


def _latest_baseline(session) -> Plan | None:
    """The newest finished plain plan of the live network (never a scenario's run nor a
    scale-up sweep, whose figures are a ranking)."""
    return ops.latest_plain_plan(session)


# --- the list -----------------------------------------------------------------------------------
def _list_page(errors=None, form=None, status: int = 200):
    session = get_session()
    rows = list(session.scalars(select(Scenario).order_by(Scenario.id.desc())
                                .limit(PAGE_SCENARIOS)))
    total = session.scalar(select(func.count()).select_from(Scenario))
    runs: dict[int, list[Plan]] = {s.id: [] for s in rows}
    if rows:
        for plan in session.scalars(select(Plan).where(Plan.scenario_id.in_(list(runs)))
                                    .order_by(Plan.id.desc())):
            if len(runs[plan.scenario_id]) < RUNS_SHOWN:
                runs[plan.scenario_id].append(plan)
    baselines = list(session.scalars(select(Plan).where(ops.plain_plans())
                                     .order_by(Plan.id.desc()).limit(5)))
    return render_template("planning/scenarios.html", scenarios=rows, total=total,
                           limit=PAGE_SCENARIOS, runs=runs, baselines=baselines,
                           errors=errors or {}, form=form or {}, can_run=_can_run(),
                           default_horizon=DEFAULT_HORIZON,
                           max_horizon=MAX_HORIZON_WEEKS), status


@bp.get("/scenarios")
def scenarios_page():
    return _list_page()


@bp.post("/scenarios")
def new_scenario():
    session = get_session()
    form = {"name": request.form.get("name", "").strip(),
            "description": request.form.get("description", "").strip()}
    errors = {}
    if not form["name"]:
        errors["name"] = _("Enter a name for the scenario.")
    elif len(form["name"]) > 120:
        errors["name"] = _("Use at most %(n)d characters.", n=120)
    if len(form["description"]) > 4000:
        errors["description"] = _("Use at most %(n)d characters.", n=4000)
    if not errors:
        try:
            created = scenarios.create_scenario(
                session, {"name": form["name"], "description": form["description"] or None},
                actor=g.user.username)
            session.flush()
            flash(_("Scenario %(name)s is saved. Add its changes below.", name=created.name),
                  "success")
            return redirect(url_for("scenario_pages.scenario", scenario_id=created.id), code=303)
        except Conflict:
            session.rollback()
            errors["name"] = _("A scenario with this name exists already.")
    return _list_page(errors, form, 422)


@bp.post("/scenarios/baseline")
def run_baseline():
    """Queue a plan of the live network without changes: the baseline scenarios compare to."""
    horizon = _int_arg(request.form.get("horizon_weeks"), DEFAULT_HORIZON, 1, MAX_HORIZON_WEEKS)
    if horizon is None:
        return _list_page({"baseline-horizon_weeks": _(
            "Enter a whole number from %(lo)s to %(hi)s.", lo=1, hi=MAX_HORIZON_WEEKS)},
            {"baseline_horizon": request.form.get("horizon_weeks", "")}, 422)
    session = get_session()
    with transactional(session):  # committed first: the worker must see the plan
        plan = ops.create_plan(session, {"horizon_weeks": horizon}, today=today(),
                               default_time_limit=float(current_app.config["PLAN_TIME_LIMIT"]))
    queue.submit(session, plan)
    flash(_("The baseline is queued as plan #%(id)d. A worker solves it; reload this page to "
            "see its status.", id=plan.id), "success")
    return redirect(url_for("scenario_pages.scenarios_page"), code=303)


# --- one scenario -------------------------------------------------------------------------------
def _scenario_page(scenario_id: int, *, errors=None, form_kind=None, values=None,
                   copy_name="", horizon="", status: int = 200):
    session = get_session()
    scenario = scenarios.get_scenario(session, scenario_id)
    names = exports.Names.of(session, scenario.changes)
    changes = [{"index": i, "change": c, "kind": exports.kind_label(c.get("kind")),
                "what": exports.what(c, names), "effect": exports.effect(c, names)}
               for i, c in enumerate(scenario.changes)]
    runs = list(session.scalars(select(Plan).where(Plan.scenario_id == scenario.id)
                                .order_by(Plan.id.desc()).limit(50)))
    copied_from = session.get(Scenario, scenario.copied_from_id) \
        if scenario.copied_from_id else None
    baseline = _latest_baseline(session)
    return render_template(
        "planning/scenario.html", s=scenario, changes=changes, runs=runs,
        copied_from=copied_from, baseline=baseline, errors=errors or {}, form_kind=form_kind,
        values=values or {}, copy_name=copy_name, horizon=horizon, can_run=_can_run(),
        forms=CHANGE_FORMS, labels=field_labels(), hints=field_hints,
        kind_label=exports.kind_label, default_horizon=DEFAULT_HORIZON,
        max_horizon=MAX_HORIZON_WEEKS, **_options(session)), status


@bp.get("/scenarios/<int:scenario_id>")
def scenario(scenario_id: int):
    return _scenario_page(scenario_id)


@bp.post("/scenarios/<int:scenario_id>/changes")
def add_change(scenario_id: int):
    kind = request.form.get("kind", "")
    if kind not in CHANGE_FORMS:
        abort(400, description="kind must be one of " + ", ".join(CHANGE_FORMS))
    session = get_session()
    found = scenarios.get_scenario(session, scenario_id)
    change, errors, values = _parse_change(kind, request.form)
    errors = {f"{kind}-{name}": message for name, message in errors.items()}
    if not errors:
        index = len(found.changes)
        try:
            scenarios.update_scenario(session, found, {"changes": [*found.changes, change]})
            session.flush()
            flash(_("The change is added: %(what)s.", what=exports.kind_label(kind)), "success")
            return redirect(url_for("scenario_pages.scenario", scenario_id=scenario_id,
                                    _anchor="changes"), code=303)
        except Invalid as exc:
            session.rollback()
            errors = _change_errors(exc, kind, index, change)
    return _scenario_page(scenario_id, errors=errors, form_kind=kind, values=values, status=422)


@bp.post("/scenarios/<int:scenario_id>/changes/<int(min=0):index>/remove")
def remove_change(scenario_id: int, index: int):
    session = get_session()
    found = scenarios.get_scenario(session, scenario_id)
    if str(found.version) != request.form.get("version", ""):
        flash(_("Someone changed this scenario meanwhile: check its changes and try again."),
              "error")
        return redirect(url_for("scenario_pages.scenario", scenario_id=scenario_id,
                                _anchor="changes"), code=303)
    if not 0 <= index < len(found.changes):
        raise NotFound("scenario.change_not_found", id=scenario_id, n=index + 1)
    kept = [c for i, c in enumerate(found.changes) if i != index]
    try:
        scenarios.update_scenario(session, found, {"changes": kept})
        session.flush()
    except Invalid as exc:
        session.rollback()
        errors = {"changes": _("Change %(n)d cannot be removed: %(rule)s", n=index + 1,
                               rule=translate(exc.errors[0]["rule"] if exc.errors
                                              else exc.detail))}
        return _scenario_page(scenario_id, errors=errors, status=422)
    flash(_("Change %(n)d is removed.", n=index + 1), "success")
    return redirect(url_for("scenario_pages.scenario", scenario_id=scenario_id,
                            _anchor="changes"), code=303)


@bp.post("/scenarios/<int:scenario_id>/copy")
def copy(scenario_id: int):
    session = get_session()
    found = scenarios.get_scenario(session, scenario_id)
    name = request.form.get("name", "").strip()
    error = None
    if not name:
        error = _("Enter a name for the copy.")
    elif len(name) > 120:
        error = _("Use at most %(n)d characters.", n=120)
    else:
        try:
            made = scenarios.copy_scenario(session, found, name, actor=g.user.username)
            session.flush()
            flash(_("This is the copy of %(name)s: edit it freely.", name=found.name), "success")
            return redirect(url_for("scenario_pages.scenario", scenario_id=made.id), code=303)
        except Conflict:
            session.rollback()
            error = _("A scenario with this name exists already.")
    return _scenario_page(scenario_id, errors={"copy-name": error}, copy_name=name, status=422)


@bp.post("/scenarios/<int:scenario_id>/run")
def run(scenario_id: int):
    session = get_session()
    found = scenarios.get_scenario(session, scenario_id)
    raw = request.form.get("horizon_weeks", "")
    horizon = _int_arg(raw, DEFAULT_HORIZON, 1, MAX_HORIZON_WEEKS)
    if horizon is None:
        return _scenario_page(scenario_id, errors={"run-horizon_weeks": _(
            "Enter a whole number from %(lo)s to %(hi)s.", lo=1, hi=MAX_HORIZON_WEEKS)},
            horizon=raw, status=422)
    with transactional(session):  # committed first: the worker must see the plan
        plan = scenarios.run_scenario(session, found, {"horizon_weeks": horizon}, today=today(),
                                      default_time_limit=float(current_app.config["PLAN_TIME_LIMIT"]))
    queue.submit(session, plan)
    flash(_("The run is queued as plan #%(id)d. A worker solves it; reload this page to see its "
            "status.", id=plan.id), "success")
    return redirect(url_for("scenario_pages.scenario", scenario_id=scenario_id, _anchor="runs"),
                    code=303)


@bp.get("/scenarios/<int:scenario_id>/changes.csv")
def changes_csv(scenario_id: int):
    session = get_session()
    found = scenarios.get_scenario(session, scenario_id)
    return Response(exports.changes_csv(session, found), content_type=CSV_TYPE,
                    headers=attachment(f"scenario-{found.id}-changes.csv"))


# --- the comparison -----------------------------------------------------------------------------
def _plan_ids() -> tuple[list[int], str | None]:
    """The plans asked for: ?plans=BASE,A,B, or the form's ?base=&plan=&plan= (the baseline
    first; without a baseline the first plan checked is it). (ids, error)."""
    raw = request.args.get("plans", "").strip()
    if raw:
        if not re.fullmatch(r"\d{1,9}(,\d{1,9})*", raw):
            return [], _("Give the plans as numbers separated by commas.")
        ids = [int(i) for i in raw.split(",")]
    else:
        # form_id, not str.isdigit: "²" is a digit to Python but no int() (a 500 it was)
        checked = [i for i in map(form_id, request.args.getlist("plan")) if i]
        base = form_id(request.args.get("base"))
        ids = ([base] if base else []) + checked
    ids = list(dict.fromkeys(ids))  # each once, in order
    if not ids and "compare" in request.args:  # the form sent with nothing chosen
        return [], _("Choose from 2 to %(n)d plans: a baseline and at least one other.",
                     n=MAX_COMPARED)
    if not ids or (not raw and "compare" not in request.args):
        return ids, None  # nothing asked yet, or a baseline chosen beforehand (?base=ID)
    if not 2 <= len(ids) <= MAX_COMPARED:
        return ids, _("Choose from 2 to %(n)d plans: a baseline and at least one other.",
                      n=MAX_COMPARED)
    return ids, None


def _comparison(ids: list[int]):
    session = get_session()
    return exports.build(session, ops.scoped_plans(session, ids, scope("plan.read")))


def _pickable(session) -> list[Plan]:
    """Finished plans with figures to compare: plain plans and scenario runs (a sweep's figures
    are a ranking, shown on its own page)."""
    rows = session.scalars(select(Plan).where(Plan.status.in_(SOLVED_STATUSES))
                           .order_by(Plan.id.desc()).limit(PICKABLE_PLANS))
    return [p for p in rows if p.kpis and p.kind != "sweep"]


def _map_data(cmp: exports.Comparison, shown: list[int]) -> dict:
    """The maps of the plans at positions ``shown`` (the baseline and one other), on one
    projection and one scale each for circles and marks."""
    points = [(f["lat"], f["lon"]) for f in cmp.facilities]
    points += [(d["lat"], d["lon"]) for d in cmp.districts if d["lat"] is not None]
    projection = svg.fit(points, width=560)
    most_unplaced = max((d["rows"]["unplaced"].values[i] for d in cmp.districts for i in shown),
                        default=0)
    most_used = max((f["rows"]["used"].values[i] for f in cmp.facilities for i in shown),
                    default=0)
    maps = []
    for i in shown:
        plan = cmp.plans[i]
        facilities = []
        for f in cmp.facilities:
            used, offered = f["rows"]["used"].values[i], f["rows"]["offered"].values[i]
            closed = f["closed"][i]
            if not offered and not closed:
                continue  # not in this plan (a facility another plan opens)
            share = f["rows"]["share"].values[i]
            text = (_("%(name)s: closed in this scenario", name=f["name"]) if closed else
                    _("%(name)s: %(used)d of %(offered)d intakes used (%(share)s)",
                      name=f["name"], used=used, offered=offered, share=percent(share)))
            facilities.append({"code": f["code"], "tier": f["tier"], "lat": f["lat"],
                               "lon": f["lon"], "used": used, "offered": offered,
                               "share": share, "new": f["new"][i], "closed": closed,
                               "label": text})
        districts = []
        for d in cmp.districts:
            if d["lat"] is None:
                continue
            n = d["rows"]["unplaced"].values[i]
            districts.append({"code": d["code"], "lat": d["lat"], "lon": d["lon"],
                              "unplaced": n, "short": f"{d['name']} {n}",
                              "label": _("%(district)s: %(n)d cases unplaced",
                                         district=d["name"], n=n)})
        top = sorted(facilities, key=lambda f: -(f["share"] or 0))[:3]
        worst = sorted(districts, key=lambda d: -d["unplaced"])[:3]
        desc = _("%(facilities)d facilities and %(districts)d districts. Most loaded: "
                 "%(top)s. Most unplaced cases: %(worst)s. The tables below give the numbers.",
                 facilities=len(facilities), districts=len(districts),
                 top="; ".join(f["label"] for f in top) or "—",
                 worst="; ".join(d["label"] for d in worst if d["unplaced"]) or _("none"))
        maps.append({"plan": plan, "svg": svg.region_map(
            map_id=f"map-{plan['id']}", title=_("Map of %(plan)s: load and unmet demand",
                                                plan=plan["label"]),
            desc=desc, projection=projection, facilities=facilities, districts=districts,
            most_unplaced=most_unplaced, most_used=most_used, north_label=_("N"),
            km_label=_("km"))})
    return {"maps": maps, "most_unplaced": most_unplaced}


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"


def _charts(cmp: exports.Comparison) -> dict:
    series = [f"#{p['id']}" for p in cmp.plans]
    charts = {}
    for key, title in (("children_within_4_weeks",
                        _("Children 0-6 placed to start within 4 weeks, by district")),
                       ("unplaced", _("Unplaced cases, by district"))):
        groups = [(d["name"], d["rows"][key].values) for d in cmp.districts]
        desc = _("Bars per district, one per plan (%(plans)s); the table beside it has the "
                 "numbers.", plans=", ".join(p["label"] for p in cmp.plans))
        charts[key] = {"title": title, "svg": svg.bar_chart(
            chart_id=f"chart-{key}", title=title, desc=desc, groups=groups, series=series)}
    kpi = {r.key: r for r in cmp.kpis}
    for key, title in (("wait_weeks", _("Waiting weeks of those placed")),
                       ("road_km", _("Road km of those placed"))):
        rows = [(p["label"], kpi[f"{key}_median"].values[i], kpi[f"{key}_p90"].values[i])
                for i, p in enumerate(cmp.plans)]
        desc = _("Per plan: a band up to the 90th percentile and a mark at the median; the "
                 "table beside it has the numbers.")
        charts[key] = {"title": title, "svg": svg.range_chart(
            chart_id=f"chart-{key}", title=title, desc=desc, rows=rows, median_word=_("median"),
            p90_word=_("90th percentile"))}
    return charts


@bp.get("/compare")
def compare():
    session = get_session()
    ids, error = _plan_ids()
    if not error and len(ids) > 1 and "plans" not in request.args:  # the form: canonical URL
        return redirect(url_for("scenario_pages.compare", plans=",".join(map(str, ids))))
    cmp = None
    if len(ids) > 1 and not error:
        try:
            cmp = _comparison(ids)
        except NotFound:
            session.rollback()
            error = _("There is no plan with one of these numbers: %(ids)s.",
                      ids=", ".join(map(str, ids)))
        except Invalid:
            session.rollback()
            found = [session.get(Plan, i) for i in ids]
            waiting = [p.id for p in found if not p.kpis]
            error = (_("Plan(s) %(ids)s have no results yet: choose finished plans.",
                       ids=", ".join(map(str, waiting))) if waiting else
                     _("Plan(s) %(ids)s are scale-up sweeps: their page shows the ranking; "
                       "compare plans and scenario runs.",
                       ids=", ".join(str(p.id) for p in found if p.kind == "sweep")))
    pickable = _pickable(session)
    context = {"cmp": cmp, "pickable": pickable, "chosen": ids,
               "errors": {"plans": error} if error else {}, "max_compared": MAX_COMPARED,
               "percent": percent}
    if cmp is not None:
        others = list(range(1, len(cmp.plans)))
        wanted = request.args.get("map", "")
        shown = next((i for i in others if str(cmp.plans[i]["id"]) == wanted), others[0])
        context.update(_map_data(cmp, [0, shown]))
        context.update(
            charts=_charts(cmp), shown=shown, kpi={r.key: r for r in cmp.kpis},
            plans_arg=",".join(map(str, ids)),
            top_facilities=sorted(
                cmp.facilities, key=lambda f: (-(f["rows"]["share"].values[shown] or 0),
                                               -f["rows"]["used"].values[shown],
                                               f["code"]))[:TOP_FACILITIES],
            by_unmet=sorted(cmp.districts, key=lambda d: (-d["rows"]["unplaced"].values[shown],
                                                          d["code"])),
            legend=_legend())
    return render_template("planning/compare.html", **context), (422 if error else 200)


def _legend() -> dict:
    shares = [(None, _("no intakes used")), (0.3, _("up to %(share)s used", share="50%")),
              (0.7, _("%(low)s to %(high)s used", low="50%", high="90%")),
              (0.95, _("over %(share)s used", share="90%")), (1.0, _("full"))]
    return {
        "tiers": [(svg.legend_mark(t), label(t)) for t in ("centre", "station", "clinic")],
        "shares": [(svg.legend_mark("centre", s), text) for s, text in shares],
        "new": svg.legend_mark("station", 0.5, new=True),
        "closed": svg.legend_mark("station", closed=True),
        "unmet": svg.legend_circle(),
    }


def _export_ids() -> list[int]:
    ids, error = _plan_ids()
    if error or not ids:
        raise Invalid(error or "plan.plans_needed",
                      [{"field": "plans", "rule": error or message("scenario.required")}])
    return ids


@bp.get("/compare.csv")
def compare_csv():
    table = request.args.get("table") or None
    if table is not None and table not in exports.TABLES:
        abort(400, description="table must be one of " + ", ".join(exports.TABLES))
    ids = _export_ids()
    body = exports.comparison_csv(_comparison(ids), table)
    name = f"compare-{'-'.join(map(str, ids))}{'-' + table if table else ''}.csv"
    return Response(body, content_type=CSV_TYPE, headers=attachment(name))


@bp.get("/compare.xlsx")
def compare_xlsx():
    ids = _export_ids()
    return Response(exports.comparison_xlsx(_comparison(ids)), content_type=XLSX_TYPE,
                    headers=attachment(f"compare-{'-'.join(map(str, ids))}.xlsx"))


@bp.app_template_global()
def kpi_value(value, kind: str) -> str:
    """A figure as the comparison shows it."""
    if value is None:
        return "—"
    if kind == "share":
        return percent(value)
    if kind in ("weeks", "km"):
        return f"{value:.1f}"
    if kind == "cost":
        return f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


@bp.app_template_global()
def kpi_delta(delta, kind: str) -> str:
    """A change with its sign: +2, -1.5, +3.2 pp (percentage points for shares)."""
    if kind == "share":
        return _("%(n)s pp", n=f"{delta * 100:+.1f}")
    if kind in ("weeks", "km"):
        return f"{delta:+.1f}"
    if kind == "cost":
        return f"{delta:+,.1f}"
    return f"{delta:+,}" if isinstance(delta, int) else f"{delta:+,.1f}"



# --- a plan's proposals, to work: accept the referral, book a slot ------------------------------
def _proposals_page(plan_id: int, *, errors: dict | None = None, status: int = 200):
    session = get_session()
    plan = ops.get_plan(session, plan_id)
    if plan.kind != "plan":
        abort(404)  # a scenario's run or a sweep proposes nothing to book
    mine = writable_facilities(g.user)
    rows, unreferred = ([], 0)
    if plan.status in SOLVED_STATUSES and (mine is None or mine):
        rows, unreferred = work.worklist(session, plan, mine, utcnow(), g.user)
    if rows:
        audit.record_list(session, "referral", [p.referral.code for p in rows],
                          {"plan": str(plan.id)})
    return render_template(
        "planning/proposals.html", plan=plan, rows=rows, unreferred=unreferred,
        staleness=ops.staleness(session, plan), errors=errors or {}, mine=mine,
        mask_name=mask_name, key=uuid.uuid4().hex, solved=plan.status in SOLVED_STATUSES,
        look_ahead=work.LOOK_AHEAD_WEEKS,
        latest=ops.latest_plain_plan(session)), status


@proposal_bp.get("/proposals")
def latest():
    """The proposals of the newest plan of the live network."""
    plan = ops.latest_plain_plan(get_session())
    if plan is None:
        return render_template("planning/proposals.html", plan=None, rows=[], unreferred=0,
                               errors={}, latest=None)
    return redirect(url_for("proposal_pages.proposals", plan_id=plan.id))


@proposal_bp.get("/plans/<int:plan_id>/proposals")
def proposals(plan_id: int):
    return _proposals_page(plan_id)


def _proposal(plan_id: int, case_code: str):
    """(the plan, the proposal worked on) for a form; 404 unless the user sees its referral."""
    session = get_session()
    plan = ops.get_plan(session, plan_id)
    try:
        assignment = work.get_assignment(session, plan, case_code)
    except NotFound:
        abort(404)
    found = work.work_on(session, plan, assignment, utcnow(), g.user, with_slots=False)
    if found.referral is None:
        abort(404)
    return plan, found


def _back(plan_id: int, case_code: str):
    return redirect(url_for("proposal_pages.proposals", plan_id=plan_id,
                            _anchor=f"case-{case_code}"), code=303)


@proposal_bp.post("/plans/<int:plan_id>/proposals/<case_code>/accept")
def accept(plan_id: int, case_code: str):
    """Step 1: accept the proposal's referral (receiving it first when it is only sent)."""
    session = get_session()
    _plan, found = _proposal(plan_id, case_code)
    referral = found.referral
    try:
        work.accept(session, referral, principal=g.user, now=utcnow(),
                    expected_version=form_id(request.form.get("version")))
        session.flush()
    except Forbidden:
        session.rollback()
        abort(403)  # the referral is another facility's to answer
    except Conflict:
        session.rollback()
        return _proposals_page(plan_id, status=409, errors={case_code: _(
            "Someone else changed referral %(code)s before your step was saved: it is now "
            "“%(state)s”. Look at it below and act again if it is still needed.",
            code=referral.code, state=label(referral.state))})  # reloaded after the rollback
    except DomainError as exc:
        session.rollback()
        return _proposals_page(plan_id, status=exc.status,
                               errors={case_code: exc.translated()})
    flash(_("Referral %(code)s is accepted: now book one of the slots offered for it.",
            code=referral.code), "success")
    return _back(plan_id, case_code)


@proposal_bp.post("/plans/<int:plan_id>/proposals/<case_code>/book")
def book(plan_id: int, case_code: str):
    """Step 2: book one of the earliest free slots for the accepted referral."""


    session = get_session()
    _plan, found = _proposal(plan_id, case_code)
    slot_id = form_id(request.form.get("slot_id"))
    if slot_id is None:
        return _proposals_page(plan_id, status=422,
                               errors={case_code: _("Choose one of the free slots.")})
    key = (request.form.get("idempotency_key") or "")[:80] or None
    try:
        appointment, _created = booking.book(session, referral=found.referral, slot_id=slot_id,
                                             hold=False, principal=g.user, now=utcnow(),
                                             key=key)
        session.flush()
    except IntegrityError as err:
        session.rollback()
        return _proposals_page(plan_id, status=409,
                               errors={case_code: conflict_for(err).translated()})
    except NotFound:
        session.rollback()
        abort(404)
    except DomainError as exc:
        session.rollback()
        return _proposals_page(plan_id, status=exc.status,
                               errors={case_code: exc.translated()})
    flash(_("Booked: appointment %(code)s at %(when)s.", code=appointment.code,
            when=local_datetime(appointment.starts_at)), "success")
    return _back(plan_id, case_code)
