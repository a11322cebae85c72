"""Plan retention (planning/retention.py), on SQLite and PostgreSQL: the newest N plans of each kind
stay, older finished ones go with every row of theirs in one transaction, and a plan something
points to (queued or running, the newest solved of its kind, an applied referral, a stored report,
a quarter's last plain plan) always stays. Plans are built by hand, rows and all."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from rehab_net.auth.models import AuditEvent
from rehab_net.cli import main
from rehab_net.planning import retention
from rehab_net.planning.models import Plan, PlanAssignment, PlanLoad, PlanShadowPrice, Scenario
from rehab_net.referrals.operations.from_plan import PLAN_REASON
from rehab_net.reports.models import QuarterlyReport
from tests.factories import create_plan
from tests.planning_helpers import solve_here, waiting_list

ZONE = ZoneInfo("Asia/Shanghai")
CHILDREN = (PlanAssignment, PlanLoad, PlanShadowPrice)


@pytest.fixture
def net(session):
    net = waiting_list(session, n=4)
    net["scenario"] = Scenario(name="more autism places", changes=[], created_by="planner")
    session.add(net["scenario"])
    session.commit()
    return net


def make_plan(session, net, kind="plan", status="optimal", *, finished=None, rows=True) -> int:
    """A plan of ``kind`` in ``status`` with (for a solved plain plan) a proposal per case, a
    load per facility and a shadow price: the three child tables."""
    parameters = {"policy": {}, "time_limit": 10}
    if kind == "sweep":
        parameters["scaleup"] = {"kind": "add_places", "service": "autism_training", "places": 2}
    plan = Plan(status=status, start_date=date(2026, 11, 23), horizon_weeks=2,
                parameters=parameters, scenario_id=net["scenario"].id if kind == "scenario"
                else None, finished_at=finished,
                kpis={"placed": 1} if status in ("optimal", "feasible") else None)
    session.add(plan)
    session.flush()
    if finished is None:  # in the order of their ids, as plans finish
        plan.finished_at = datetime(2026, 11, 20, tzinfo=UTC) + timedelta(minutes=plan.id)
    assert plan.kind == kind
    if rows and kind == "plan" and status in ("optimal", "feasible"):
        centre, service = net["centre"], net["autism_training"]
        session.add_all(PlanAssignment(plan_id=plan.id, case_id=c.id, service_id=service.id,
                                       priority="standard", facility_id=centre.id, week=0,
                                       road_km=1.0) for c in net["cases"])
        session.add(PlanLoad(plan_id=plan.id, facility_id=centre.id, service_id=service.id,
                             capacity=[4, 4], assigned=[4, 0], capacity_total=8,
                             assigned_total=4, utilisation=0.5))
        session.add(PlanShadowPrice(plan_id=plan.id, facility_id=centre.id,
                                    service_id=service.id, week=0, value=12.5))
    session.commit()
    return plan.id


def plan_ids(session) -> set[int]:
    session.expire_all()
    return set(session.scalars(select(Plan.id)))


def rows_of(session, plan_id: int) -> dict[str, int]:
    return {m.__tablename__: session.scalar(select(func.count()).select_from(m)
                                            .where(m.plan_id == plan_id)) for m in CHILDREN}


def test_the_sql_kind_is_the_property(session, net):
    ids = {kind: make_plan(session, net, kind, rows=False) for kind in retention.KINDS}
    changed = Plan(status="error", start_date=date(2026, 11, 23), horizon_weeks=1,
                   parameters={"policy": {}, "changes": []})  # a scenario's copied changes
    session.add(changed)
    session.commit()
    found = dict(session.execute(select(Plan.id, retention.KIND)).all())
    assert found == {ids["plan"]: "plan", ids["scenario"]: "scenario", ids["sweep"]: "sweep",
                     changed.id: "scenario"}
    assert changed.kind == "scenario"


def test_the_newest_n_of_each_kind_stay_older_ones_go_with_their_rows(app, session, net):
    with app.app_context():
        plain = [make_plan(session, net) for _ in range(4)]
        scenarios = [make_plan(session, net, "scenario") for _ in range(3)]
        sweeps = [make_plan(session, net, "sweep") for _ in range(3)]
        failed = make_plan(session, net, status="error")  # newest plain: counts as one of the 2
        assert rows_of(session, plain[0]) == {"plan_assignment": 4, "plan_load": 1,
                                              "plan_shadow_price": 1}
        session.commit()

        result = retention.prune(session, 2)
        session.commit()

        gone = {plain[0], plain[1], plain[2], scenarios[0], sweeps[0]}
        assert set(result["plans"]) == gone  # scenarios[2]: also its scenario's newest result
        assert result["by_kind"] == {"plan": 3, "scenario": 1, "sweep": 1}
        assert result["rows"] == {"plan_shadow_price": 3, "plan_load": 3, "plan_assignment": 12,
                                  "plan": 5}
        assert plan_ids(session) == {plain[3], failed, *scenarios[1:], *sweeps[1:]}
        for plan_id in gone:
            assert rows_of(session, plan_id) == dict.fromkeys(rows_of(session, plain[3]), 0)
        assert rows_of(session, plain[3]) == {"plan_assignment": 4, "plan_load": 1,
                                              "plan_shadow_price": 1}
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "delete",
                                                         AuditEvent.object_type == "plan")).one()
        assert sorted(event.detail["plans"]) == sorted(gone) and event.detail["count"] == 5
        # run again: nothing more to do
        assert retention.prune(session, 2)["plans"] == []


def test_plans_in_use_always_stay(app, session, net, client):
    """keep=1: of the old plans only those nobody needs go."""
    def finished(y, m, d, h=0):
        return datetime(y, m, d, h, tzinfo=UTC)

    cited = make_plan(session, net, finished=finished(2026, 5, 1))  # a stored report's plan
    session.add(QuarterlyReport(quarter="2026-Q2", generated_by="t",
                                data={"plan": {"plan_id": cited, "road_km_median": 1.0}}))
    q2_last = make_plan(session, net, finished=finished(2026, 6, 30, 15))  # 23:00 in Shanghai
    q3_first = make_plan(session, net, finished=finished(2026, 6, 30, 17))  # 1 July, 01:00
    q3_middle = make_plan(session, net, finished=finished(2026, 8, 1))
    q3_last = make_plan(session, net, finished=finished(2026, 9, 5))  # a Q3 report reads it
    # a plan whose proposals were applied: the referrals name it
    app.config["TODAY"] = datetime.now(ZONE).date().isoformat()  # apply runs on the real clock
    applied = create_plan(session, today=datetime.now(ZONE).date(), horizon_weeks=1).id
    session.commit()
    solve_here(session, applied)
    got = client.post(f"/api/v1/plans/{applied}/apply", json={"send": False})
    assert got.status_code == 200 and got.json["created"], got.json
    session.execute(Plan.__table__.update().where(Plan.id == applied).values(
        finished_at=finished(2026, 10, 20)))
    session.commit()
    baseline = make_plan(session, net, finished=finished(2026, 11, 19))  # newest solved plain
    # scenario runs: an old scenario's only run (its page shows it) stays; of the other
    # scenario's two runs the older goes
    old_only = make_plan(session, net, "scenario")
    other = Scenario(name="a station at Ceshi", changes=[], created_by="planner")
    session.add(other)
    session.flush()
    net_other = {**net, "scenario": other}
    other_first = make_plan(session, net_other, "scenario")
    other_newest = make_plan(session, net_other, "scenario")
    queued = make_plan(session, net, status="queued", rows=False)  # however old, they stay
    running = make_plan(session, net, status="running", rows=False)
    newest = make_plan(session, net, status="error", finished=finished(2026, 11, 21))

    with app.app_context():
        why = retention.kept(session, 1)
        assert why[newest] == "among the newest 1 of kind plan"
        assert why[baseline] == "the newest solved plan"
        assert why[queued] == why[running] == "queued or running"
        assert why[applied] == "named by a referral"
        assert why[cited] == why[q2_last] == why[q3_last] == "used by quarterly reports"
        assert why[old_only] == "a scenario's newest result"
        assert why[other_newest] == "among the newest 1 of kind scenario"
        assert q3_first not in why and q3_middle not in why and other_first not in why
        result = retention.prune(session, 1)
        session.commit()
    assert result["plans"] == [q3_first, q3_middle, other_first]
    assert plan_ids(session) == {cited, q2_last, q3_last, applied, baseline, queued, running,
                                 newest, old_only, other_newest}
    assert rows_of(session, applied)["plan_assignment"] == 4


def test_a_referral_names_its_plan_in_the_reason_retention_reads():
    assert PLAN_REASON.format(plan_id=12, week=3) == "proposed by plan 12: start in week 3"


def test_the_dry_run_prints_what_would_go_and_deletes_nothing(app, session, net):
    old = [make_plan(session, net) for _ in range(3)]
    before = plan_ids(session)
    session.close()
    runner = CliRunner()
    obj = ScriptInfo(create_app=lambda: app)
    done = runner.invoke(main, ["plans", "prune", "--keep", "1", "--dry-run"], obj=obj,
                         catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert f"would delete plan {old[0]} (plan, optimal, created " in done.output
    assert ("would delete 2 plan(s) (2 plan, 0 scenario, 0 sweep): 2 plan_shadow_price, "
            "2 plan_load, 8 plan_assignment, 2 plan rows") in done.output
    assert plan_ids(session) == before
    session.close()
    done = runner.invoke(main, ["plans", "prune", "--keep", "1"], obj=obj,
                         catch_exceptions=False)
    assert done.exit_code == 0 and "deleted 2 plan(s)" in done.output, done.output
    assert plan_ids(session) == {old[2]}


def test_the_nightly_job_keeps_plan_keep_and_zero_keeps_everything(app, session, net):
    from rehab_net import scheduler
    from rehab_net.planning.jobs import JOBS

    prune_job = next(j for j in JOBS if j.id == "planning-prune")
    ids = [make_plan(session, net, "scenario") for _ in range(3)]
    session.close()
    app.config["PLAN_KEEP"] = 0
    night = datetime(2026, 11, 23, 3, 0, tzinfo=ZONE)
    assert scheduler.run_job(app, prune_job, night) == "done"
    assert plan_ids(session) == set(ids)
    session.close()
    app.config["PLAN_KEEP"] = 2
    assert scheduler.run_job(app, prune_job, night + timedelta(days=1)) == "done"
    assert plan_ids(session) == set(ids[1:])
    run = session.scalars(select(scheduler.JobRun).where(
        scheduler.JobRun.job == "planning-prune").order_by(scheduler.JobRun.period)).all()
    assert [r.period for r in run] == ["2026-11-23", "2026-11-24"]
    assert run[1].detail["deleted"] == 1
    actor = session.scalars(select(AuditEvent.actor).where(AuditEvent.action == "delete")).one()
    assert actor == "system:scheduler:planning-prune"
