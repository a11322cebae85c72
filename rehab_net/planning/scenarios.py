"""Scenarios: named change sets on top of the live network, their runs, and the comparison of
their KPIs. Operations flush; the caller commits."""
from __future__ import annotations

from datetime import date

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from rehab_net.errors import Conflict, field_error, flatten_messages
from rehab_net.listing import get_or_404
from rehab_net.network.models import Facility, Region, Service
from rehab_net.planning import changes as change_rules
from rehab_net.planning import kpis
from rehab_net.planning.models import Plan, Scenario
from rehab_net.planning.operations import create_plan, merge_policy
from rehab_net.planning.schemas import PolicyOverridesSchema
from rehab_net.vocab import CATEGORIES, PRIORITY_CLASSES, TIERS

NUMBER_RULES = {  # kind -> {field: (type, minimum, maximum)}
    "capacity": {"from_week": (int, 0, 51), "to_week": (int, 0, 51), "delta": (int, -1000, 1000),
                 "set": (int, 0, 1000)},
    "open_facility": {"lat": (float, -90, 90), "lon": (float, -180, 180)},
    "outreach": {"week": (int, 0, 51), "places": (int, 1, 1000)},
    "demand": {"percent": (float, -100, 1000), "count": (int, -100000, 100000)},
}
REQUIRED = {
    "capacity": ("facility", "service"), "open_facility": ("code", "tier", "lat", "lon"),
    "close_facility": ("facility",), "outreach": ("facility", "service", "week", "places"),
    "demand": (), "policy": ("values",),
}


def validate_changes(session: Session, items) -> list[dict]:
    """Check every change against the rules and the live network; errors name the JSON path."""
    if not isinstance(items, list):
        raise field_error("changes", "scenario.changes_not_list")
    facilities = set(session.scalars(select(Facility.code)))
    services = set(session.scalars(select(Service.code)))
    districts = set(session.scalars(select(Region.code).where(Region.level == "district")))
    opened: set[str] = set()
    for i, c in enumerate(items):
        where = f"changes[{i}]"
        if not isinstance(c, dict) or c.get("kind") not in change_rules.KINDS:
            raise field_error(f"{where}.kind", "scenario.kind_unknown",
                              kinds=", ".join(change_rules.KINDS))
        kind = c["kind"]
        for name in REQUIRED[kind]:
            if name not in c:
                raise field_error(f"{where}.{name}", "scenario.required")
        for name, (kind_of, lo, hi) in NUMBER_RULES.get(kind, {}).items():
            if name in c:
                value = c[name]
                if isinstance(value, bool) or not isinstance(value, int | float) or (
                        kind_of is int and not isinstance(value, int)) or not lo <= value <= hi:
                    raise field_error(f"{where}.{name}", "scenario.integer_range" if kind_of is int
                                      else "scenario.number_range", lo=lo, hi=hi)
        if kind == "capacity" and ("delta" in c) == ("set" in c):
            raise field_error(f"{where}.delta", "scenario.delta_or_set")
        if kind == "demand" and ("percent" in c) == ("count" in c):
            raise field_error(f"{where}.percent", "scenario.percent_or_count")
        if "facility" in c and c["facility"] not in facilities | opened:
            raise field_error(f"{where}.facility", "scenario.facility_unknown", code=c["facility"])
        if "service" in c and c["service"] not in services:
            raise field_error(f"{where}.service", "scenario.service_unknown", code=c["service"])
        if kind == "open_facility":
            if c["code"] in facilities | opened:
                raise field_error(f"{where}.code", "scenario.code_exists", code=c["code"])
            if c["tier"] not in TIERS:
                raise field_error(f"{where}.tier", "scenario.tier_unknown", tiers=", ".join(TIERS))
            caps = c.get("capacity", {})
            if not isinstance(caps, dict) or any(
                    s not in services or isinstance(n, bool) or not isinstance(n, int)
                    or not 0 <= n <= 1000 for s, n in caps.items()):
                raise field_error(f"{where}.capacity", "scenario.capacity_map")
            opened.add(c["code"])
        if kind == "demand":
            for name, allowed in (("district", districts), ("category", set(CATEGORIES)),
                                  ("priority", set(PRIORITY_CLASSES))):
                if c.get(name) is not None and c[name] not in allowed:
                    raise field_error(f"{where}.{name}", "scenario.value_unknown", value=c[name],
                                      name=name)
        if kind == "policy":
            _check_policy_values(c["values"], f"{where}.values")
    return items


def _check_policy_values(values, where: str) -> None:
    """A scenario's policy weights obey the same ranges as the saved policy's (the schema's),
    which keep the optimiser's integer costs far from overflow."""
    if not isinstance(values, dict):
        raise field_error(where, "scenario.policy_object")
    try:
        PolicyOverridesSchema().load(values)
    except ValidationError as exc:
        first = flatten_messages(exc.messages)[0]
        raise field_error(f"{where}.{first['field']}", first["rule"]) from None


def get_scenario(session: Session, scenario_id: int) -> Scenario:
    return get_or_404(session, Scenario, scenario_id, "scenario")


def _unique_name(session: Session, name: str, own_id: int | None = None) -> str:
    name = name.strip()
    other = session.scalar(select(Scenario.id).where(Scenario.name == name))
    if other is not None and other != own_id:
        raise Conflict("scenario.name_taken", name=name)
    return name


def create_scenario(session: Session, data: dict, *, actor: str) -> Scenario:
    scenario = Scenario(name=_unique_name(session, data["name"]),
                        description=data.get("description"),
                        changes=validate_changes(session, data.get("changes", [])),
                        created_by=actor)
    session.add(scenario)
    session.flush()
    return scenario


def update_scenario(session: Session, scenario: Scenario, data: dict) -> Scenario:
    if "name" in data:
        scenario.name = _unique_name(session, data["name"], scenario.id)
    if "description" in data:
        scenario.description = data["description"]
    if "changes" in data:
        scenario.changes = validate_changes(session, data["changes"])
    session.flush()
    return scenario


def copy_scenario(session: Session, scenario: Scenario, name: str, *, actor: str) -> Scenario:
    copy_ = Scenario(name=_unique_name(session, name), description=scenario.description,
                     changes=list(scenario.changes), copied_from_id=scenario.id,
                     created_by=actor)
    session.add(copy_)
    session.flush()
    return copy_


def run_scenario(session: Session, scenario: Scenario, data: dict, *, today: date,
                 default_time_limit: float) -> Plan:
    """A queued plan solving the live network with the scenario's changes (frozen into it)."""
    policy: dict = {}
    for change in scenario.changes:  # nested weight tables merge key by key
        if change["kind"] == "policy":
            policy = merge_policy(policy, change["values"])
    plan = create_plan(session, {**data, "policy": merge_policy(policy, data.get("policy") or {})},
                       today=today, default_time_limit=default_time_limit)
    plan.scenario_id = scenario.id
    plan.parameters = {**plan.parameters, "changes": list(scenario.changes),
                       "scenario": scenario.name}
    session.flush()
    return plan


def compare(session: Session, plans: list[Plan]) -> dict:
    """KPIs side by side, and each one's deltas against the first (the baseline)."""
    missing = [p.id for p in plans if not p.kpis]
    if missing:
        raise field_error("plans", "plan.no_results", location="query",
                          plans=", ".join(map(str, missing)))
    sweeps = [p.id for p in plans if p.kind == "sweep"]
    if sweeps:  # its figures are a ranking of candidates, not a plan's KPIs
        raise field_error("plans", "plan.sweep_not_comparable", location="query",
                          plans=", ".join(map(str, sweeps)))
    base = plans[0].kpis
    return {"plans": [{"plan_id": p.id, "scenario": p.parameters.get("scenario"),
                       "status": p.status, "kpis": p.kpis,
                       "deltas": kpis.deltas(base, p.kpis)} for p in plans]}


def start_scaleup(session: Session, data: dict, *, today: date,
                  default_time_limit: float) -> Plan:
    """A queued sweep (run by a worker): one service, one kind of candidate, N places each."""
    from rehab_net.network.models import Service

    if session.scalar(select(Service.id).where(Service.code == data["service"])) is None:
        raise field_error("service", "plan.service_unknown", code=data["service"])
    plan = create_plan(session, {k: v for k, v in data.items()
                                 if k in ("horizon_weeks", "start_date", "time_limit")},
                       today=today, default_time_limit=default_time_limit)
    plan.parameters = {**plan.parameters, "scaleup": {
        "service": data["service"], "kind": data["kind"], "places": data["places"]}}
    session.flush()
    return plan
