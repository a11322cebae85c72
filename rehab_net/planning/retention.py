"""Plan retention: a sample-region plan stores ~31,000 rows (proposals, loads, shadow prices), and
nobody deletes plans by hand. ``prune`` keeps the newest PLAN_KEEP plans of each kind (plan,
scenario, sweep: Plan.kind) and deletes the older finished ones with their rows, except those
something still points to:

- a queued or running plan (a worker has it, or will);
- the newest solved plan of each kind, and the baseline (operations.latest_plain_plan: the
  scenarios' baseline and the proposals' worklist), whatever failed since;
- each scenario's newest result (its page shows it; a run is one row);
- a plan an applied referral names (``POST /plans/{id}/apply``: "proposed by plan N",
  referrals.operations.from_plan.plans_cited);
- whatever a module above registers with ``add_keeper`` (reports: the plans stored reports cite,
  and each quarter's last plain plan, which a report of that quarter reads when regenerated).

The scheduler's job `planning-prune` runs it every night; `rehab-net plans prune [--dry-run]`
on demand. The deletes run in the caller's transaction, children first (the foreign keys'
order; their ON DELETE CASCADE is not relied on), so a plan goes with all its rows or not at
all. Flush only; the caller commits."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from flask import current_app
from sqlalchemy import case, delete, func, or_, select
from sqlalchemy.orm import Session

from rehab_net.auth import audit
from rehab_net.planning import operations as ops
from rehab_net.planning.models import Plan, PlanAssignment, PlanLoad, PlanShadowPrice
from rehab_net.planning.states import FINISHED_STATUSES, PLAN, SOLVED_STATUSES
from rehab_net.referrals.operations.from_plan import plans_cited

KINDS = ("plan", "scenario", "sweep")
CHILDREN = (PlanShadowPrice, PlanLoad, PlanAssignment)  # every table with a plan_id
# Plans deleted per statement (a bound on the IN list; all in the caller's one transaction).
DELETE_CHUNK = 200

# Plan.kind in SQL (the same rule as the property and operations.plain_plans).
KIND = case(
    (Plan.parameters["scaleup"].as_string().is_not(None), "sweep"),
    (or_(Plan.scenario_id.is_not(None), Plan.parameters["changes"].as_string().is_not(None)),
     "scenario"),
    else_="plan")

# name -> keeper(session) -> plan ids that must stay (registered by modules above planning).
_KEEPERS: dict[str, Callable[[Session], Iterable[int]]] = {}


def add_keeper(name: str, keeper: Callable[[Session], Iterable[int]]) -> None:
    """Never delete the plans ``keeper(session)`` returns (e.g. reports: the plans reports cite)."""
    _KEEPERS[name] = keeper


def keep_setting() -> int:
    return int(current_app.config["PLAN_KEEP"])


def kept(session: Session, keep: int) -> dict[int, str]:
    """plan id -> why it stays, for every plan prune must not delete."""
    why: dict[int, str] = {}

    def add(ids: Iterable[int], reason: str) -> None:
        for plan_id in ids:
            why.setdefault(int(plan_id), reason)

    add(session.scalars(select(Plan.id).where(Plan.status.in_(PLAN.open))), "queued or running")
    for kind in KINDS:
        add(session.scalars(select(Plan.id).where(KIND == kind).order_by(Plan.id.desc())
                            .limit(keep)), f"among the newest {keep} of kind {kind}")
        add(session.scalars(select(Plan.id).where(KIND == kind, Plan.status.in_(SOLVED_STATUSES))
                            .order_by(Plan.id.desc()).limit(1)), f"the newest solved {kind}")
    baseline = ops.latest_plain_plan(session)  # the newest solved one with KPIs
    add([baseline.id] if baseline else [], "the baseline")
    # A scenario's page shows its newest result: one row a run (no proposals), so keep it.
    add(session.scalars(select(func.max(Plan.id)).where(
        Plan.scenario_id.is_not(None), Plan.status.in_(SOLVED_STATUSES))
        .group_by(Plan.scenario_id)), "a scenario's newest result")
    add(plans_cited(session), "named by a referral")
    for name, keeper in _KEEPERS.items():
        add(keeper(session), f"used by {name}")
    return why


def candidates(session: Session, keep: int) -> list[dict]:
    """The plans prune would delete, oldest first: id, kind, status, created_at, rows."""
    if keep < 1:
        return []
    protected = kept(session, keep)
    rows = session.execute(select(Plan.id, KIND, Plan.status, Plan.created_at)
                           .where(Plan.status.in_(FINISHED_STATUSES)).order_by(Plan.id))
    return [{"id": i, "kind": k, "status": s, "created_at": c}
            for i, k, s, c in rows if i not in protected]


def prune(session: Session, keep: int, *, dry_run: bool = False) -> dict:
    """Delete the finished plans beyond the newest ``keep`` of each kind that nothing points to,
    each with its proposals, loads and shadow prices (keep < 1: delete nothing). With
    ``dry_run`` only count what would go. {"keep", "plans": [ids], "by_kind", "rows": {table:
    n}, "dry_run"}."""
    doomed = candidates(session, keep)
    ids = [p["id"] for p in doomed]
    rows = {m.__tablename__: 0 for m in (*CHILDREN, Plan)}
    for chunk in _chunks(ids):
        for model in CHILDREN:  # children first: the foreign keys' order
            where = model.plan_id.in_(chunk)
            rows[model.__tablename__] += (
                session.scalar(select(func.count()).select_from(model).where(where)) if dry_run
                else session.execute(delete(model).where(where),
                                     execution_options={"synchronize_session": False}).rowcount)
        rows[Plan.__tablename__] += len(chunk) if dry_run else session.execute(
            delete(Plan).where(Plan.id.in_(chunk), Plan.status.in_(FINISHED_STATUSES)),
            execution_options={"synchronize_session": False}).rowcount
    if ids and not dry_run:
        audit.record(session, "delete", "plan", None,
                     reason=f"retention: the newest {keep} of each kind kept",
                     detail={"plans": ids[:500], "count": len(ids), "rows": rows})
        session.expire_all()  # Plan objects of deleted rows must not be used again
    return {"keep": keep, "plans": ids, "rows": rows, "dry_run": dry_run,
            "by_kind": {k: sum(p["kind"] == k for p in doomed) for k in KINDS}}


def _chunks(ids: list[int]):
    for i in range(0, len(ids), DELETE_CHUNK):
        yield ids[i:i + DELETE_CHUNK]


def job(session: Session, now: datetime) -> dict:
    """The scheduler's nightly `planning-prune` (PLAN_KEEP newest per kind; 0 = keep all)."""
    result = prune(session, keep_setting())
    return {"deleted": len(result["plans"]), "by_kind": result["by_kind"], "rows": result["rows"]}
