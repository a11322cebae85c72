"""The worker, on SQLite and PostgreSQL: a queued plan is claimed exactly once however many
workers race for it; a plan runs end to end with the real optimiser in a child process; a child
that dies, fails, overruns or is cancelled leaves the plan with a clear status and the worker
goes on; a plan whose worker vanished is given up."""
import os
import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from rehab_net.db import get_session, utcnow
from rehab_net.planning import adapters, optimiser_child, worker
from rehab_net.planning import operations as ops
from rehab_net.planning.models import Plan, PlanAssignment, PlanLoad
from solver.io import parse_instance
from tests import planning_helpers as fake
from tests.planning_helpers import waiting_list

TODAY = date(2026, 11, 16)


@pytest.fixture
def net(session):
    r = waiting_list(session)
    session.commit()
    return r


def queue_plans(session, *horizons: int) -> list[int]:
    ids = [ops.create_plan(session, {"horizon_weeks": h}, today=TODAY,
                           default_time_limit=30).id for h in horizons]
    session.commit()
    session.close()  # the workers change the plans in sessions of their own: forget them
    return ids


def plan(app, plan_id: int) -> Plan:
    with app.app_context():
        return ops.get_plan(get_session(), plan_id)


def count(app, model, plan_id: int) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(model)
                                    .where(model.plan_id == plan_id))


# --- claiming -----------------------------------------------------------------------------------
def test_two_workers_that_saw_the_same_queued_plan_claim_it_once(app, net, session):
    (plan_id,) = queue_plans(session, 2)
    make = app.extensions["rehab_sessionmaker"]
    with make() as first, make() as second:
        # both look and see the same oldest queued plan ...
        assert first.scalar(select(Plan.id).where(Plan.status == "queued")) == plan_id
        first.commit()
        assert second.scalar(select(Plan.id).where(Plan.status == "queued")) == plan_id
        second.commit()
        # ... both try to take it: the database lets exactly one succeed
        assert ops.claim(first, plan_id) is True
        first.commit()
        assert ops.claim(second, plan_id) is False
        second.commit()
        # and the loser's next look finds nothing left
        assert ops.claim_next(second) is None
        second.commit()
    assert plan(app, plan_id).status == "running"


def test_racing_workers_claim_every_plan_exactly_once(app, net, session):
    ids = queue_plans(session, 1, 1, 1, 1, 1)
    claimed: list[int] = []
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def race():
        try:
            start.wait()
            while (plan_id := worker.claim_next(app)) is not None:
                claimed.append(plan_id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=race) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sorted(claimed) == ids


# --- running ------------------------------------------------------------------------------------
def test_a_plan_runs_end_to_end_with_the_real_optimiser(app, net, session):
    (plan_id,) = queue_plans(session, 1)  # 4 places in week 0 for 6 cases
    assert worker.work(app, once=True) == 1
    done = plan(app, plan_id)
    assert done.status == "optimal", done.message
    assert (done.case_count, done.facility_count, done.assigned_count) == (6, 2, 4)
    assert done.objective is not None and done.objective == pytest.approx(done.bound, rel=1e-4)
    assert done.finished_at >= done.started_at and done.wall_seconds is not None
    assert done.stats["build_seconds"] >= 0 and "solver" in done.stats
    assert count(app, PlanAssignment, plan_id) == 6
    assert count(app, PlanLoad, plan_id) == 2
    with app.app_context():
        rows = get_session().scalars(select(PlanAssignment).where(
            PlanAssignment.plan_id == plan_id, PlanAssignment.case_id == net["child"].id)).all()
        assert rows[0].facility_id == net["centre"].id  # the child is served first
    assert worker.work(app, burst=True) == 0  # nothing left


def test_a_crashed_child_marks_the_plan_error_and_the_worker_goes_on(app, net, session):
    crashing, fine = queue_plans(session, 3, 2)
    assert worker.work(app, burst=True, target=fake.crash_on_three_weeks) == 2
    crashed = plan(app, crashing)
    assert crashed.status == "error"
    assert "stopped unexpectedly (killed by signal SIGSEGV)" in crashed.message
    assert count(app, PlanAssignment, crashing) == 0
    assert plan(app, fine).status == "optimal"
    assert count(app, PlanAssignment, fine) == 6


@pytest.mark.parametrize("target, words", [
    (fake.raising_solver, "RuntimeError: the model could not be built"),
    (fake.forgetful_solver, "does not fit the instance"),
])
def test_an_optimiser_that_fails_or_answers_wrongly_marks_the_plan_error(app, net, session,
                                                                          target, words):
    (plan_id,) = queue_plans(session, 1)
    worker.work(app, once=True, target=target)
    failed = plan(app, plan_id)
    assert failed.status == "error" and words in failed.message
    assert count(app, PlanAssignment, plan_id) == 0


def test_cancelling_a_running_plan_ends_its_child(app, net, session):
    (plan_id,) = queue_plans(session, 1)
    assert worker.claim_next(app) == plan_id
    with app.app_context():
        s = get_session()
        ops.cancel(s, ops.get_plan(s, plan_id))
        s.commit()
    status = worker.run_claimed_plan(app, plan_id, target=fake.slow_solver)  # sleeps 60 s
    assert status == "cancelled"
    assert "Cancelled while the optimiser was running" in plan(app, plan_id).message


def test_a_plan_whose_worker_vanished_is_given_up(app, net, session):
    stale, alive = queue_plans(session, 1, 1)
    assert ops.claim(session, stale) and ops.claim(session, alive)
    session.execute(Plan.__table__.update().where(Plan.id == stale)
                    .values(heartbeat_at=utcnow() - timedelta(minutes=10)))
    session.commit()
    assert worker.fail_stale_plans(app) == 1
    assert plan(app, stale).status == "error" and "stopped" in plan(app, stale).message
    assert plan(app, alive).status == "running"


def test_the_instance_a_worker_builds_is_the_contract_the_optimiser_reads(app, net, session):
    (plan_id,) = queue_plans(session, 4)
    with app.app_context():
        s = get_session()
        p = ops.get_plan(s, plan_id)
        built = adapters.build_instance(s, start_date=p.start_date, horizon_weeks=4,
                                        policy=p.parameters["policy"])
    assert len(parse_instance(built.data).cases) == 6


# --- the child process alone (no database) ------------------------------------------------------
def test_child_answers():
    outcome = optimiser_child.run_in_child(_instance(), 5, target=fake.greedy_solver)
    assert outcome.kind == "ok" and outcome.solution["status"] == "optimal"
    assert [a["case"] for a in outcome.solution["assignments"]] == ["C1"]


def test_child_exit_without_answer_is_a_crash():
    outcome = optimiser_child.run_in_child(_instance(), 5, target=fake.crashing_solver)
    assert outcome.kind == "crashed" and "exit status 3" in outcome.message


def test_child_over_its_time_is_stopped():
    outcome = optimiser_child.run_in_child(_instance(), 5, target=fake.slow_solver, hard_limit=0.5)
    assert outcome.kind == "timeout" and outcome.seconds < 30


def test_child_refused_instance_lists_the_problems():
    outcome = optimiser_child.run_in_child({**_instance(), "horizon_weeks": 0}, 5)
    assert outcome.kind == "error"
    assert "refused by the optimiser: horizon_weeks: must be an integer" in outcome.message


# --- the worker's resident optimiser -------------------------------------------------------------
def test_one_resident_child_solves_every_plan_of_a_worker_and_ends_with_it(app, net, session):
    first, second = queue_plans(session, 2, 3)
    assert worker.work(app, burst=True, target=fake.telling_solver) == 2
    solvers = [plan(app, p).stats["solver"] for p in (first, second)]
    assert plan(app, first).status == plan(app, second).status == "optimal"
    assert solvers[0]["pid"] == solvers[1]["pid"] != os.getpid()
    assert solvers[0]["daemon"] is False  # so the real optimiser may fork its pool
    assert not _alive(solvers[0]["pid"])  # the worker stopped, so did its child


def test_after_a_crash_the_next_plan_gets_a_new_resident_child():
    optimiser = optimiser_child.ResidentOptimiser()
    try:
        first = optimiser.run(_instance(), 5, target=fake.telling_solver)
        crashed = optimiser.run(_instance(), 5, target=fake.crashing_solver)
        after = optimiser.run(_instance(), 5, target=fake.telling_solver)
    finally:
        optimiser.close()
    assert first.kind == after.kind == "ok" and crashed.kind == "crashed"
    assert "exit status 3" in crashed.message
    assert first.solution["stats"]["pid"] != after.solution["stats"]["pid"]


def test_an_error_keeps_the_resident_child():
    optimiser = optimiser_child.ResidentOptimiser()
    try:
        failed = optimiser.run(_instance(), 5, target=fake.raising_solver)
        refused = optimiser.run({**_instance(), "horizon_weeks": 0}, 5)
        first = optimiser.run(_instance(), 5, target=fake.telling_solver)
        second = optimiser.run(_instance(), 5, target=fake.telling_solver)
    finally:
        optimiser.close()
    assert failed.kind == refused.kind == "error"
    assert "RuntimeError: the model could not be built" in failed.message
    assert "horizon_weeks: must be an integer" in refused.message
    assert first.solution["stats"]["pid"] == second.solution["stats"]["pid"]


def test_cancelling_ends_the_resident_child_and_the_processes_it_forked(tmp_path):
    pid_file = tmp_path / "pids"
    optimiser = optimiser_child.ResidentOptimiser()
    try:
        outcome = optimiser.run({**_instance(), "pid_file": str(pid_file)}, 5,
                                target=fake.slow_solver_with_helper, tick_seconds=0.1,
                                should_stop=lambda: pid_file.exists())
        assert outcome.kind == "cancelled"
        pids = [int(p) for p in pid_file.read_text().split()]
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(p) for p in pids)
        assert optimiser.run(_instance(), 5, target=fake.telling_solver).kind == "ok"
    finally:
        optimiser.close()


def test_a_resident_child_over_its_time_is_stopped():
    optimiser = optimiser_child.ResidentOptimiser()
    try:
        outcome = optimiser.run(_instance(), 5, target=fake.slow_solver, hard_limit=0.5)
        assert outcome.kind == "timeout" and outcome.seconds < 30
    finally:
        optimiser.close()


def _alive(pid: int) -> bool:
    """Whether the process runs (a zombie, killed but not yet reaped by its parent, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _instance() -> dict:
    return {"format": "rehab-net.instance/1", "name": "t", "horizon_weeks": 2,
            "policy": {"road_factor": 1.3},
            "facilities": [{"id": "F1", "tier": "station", "lat": 49.2, "lon": 119.7,
                            "capacity": {"s": 1}}],
            "cases": [{"id": "C1", "service": "s", "priority": "child", "lat": 49.3,
                       "lon": 119.8, "release_week": 0, "deadline_week": None,
                       "max_travel_km": None, "current": None}]}


def test_the_resident_child_plans_again_from_what_it_kept():
    """The worker's optimiser child keeps each service's result and network between plans: the
    same instance again is taken whole from its memo, and after a booking only the booking's
    service is solved again, with the optimum of a solve from scratch."""
    from solver.io import solution_to_dict
    from solver.solve import solve
    from tests.solver.builders import booked, several_services

    doc = several_services(4)
    changed, _service = booked(doc)
    optimiser = optimiser_child.ResidentOptimiser()
    try:
        first = optimiser.run(doc, 30)
        again = optimiser.run(doc, 30)
        after = optimiser.run(changed, 30)
    finally:
        optimiser.close()
    assert first.kind == again.kind == after.kind == "ok"
    assert again.solution["stats"]["services_reused"] == 3
    assert again.solution["assignments"] == first.solution["assignments"]
    assert after.solution["stats"]["services_reused"] == 2
    cold = parse_instance(changed)
    expected = solution_to_dict(solve(cold, workers=1), cold)["objective"]
    assert after.solution["status"] == "optimal"
    assert after.solution["objective"] == pytest.approx(expected, rel=1e-9, abs=0.01)


def test_a_warmed_optimiser_answers_the_first_plan_from_its_memo(app, net, session):
    """A worker that waits for plans solves the live network's default plan first (storing
    nothing): the first plan asked for then takes every service from the child's memo."""
    before = session.scalar(select(func.count()).select_from(Plan))
    optimiser = optimiser_child.ResidentOptimiser()
    try:
        assert worker.warm_the_optimiser(app, optimiser)
        assert session.scalar(select(func.count()).select_from(Plan)) == before  # nothing stored
        plan_id = ops.create_plan(session, {}, today=TODAY, default_time_limit=30).id
        session.commit()
        with app.app_context():
            assert ops.claim(get_session(), plan_id)
            get_session().commit()
        assert worker.run_claimed_plan(app, plan_id, optimiser=optimiser) == "optimal"
    finally:
        optimiser.close()
    solver = plan(app, plan_id).stats["solver"]
    assert solver["services_reused"] >= 1 and solver.get("services_replanned") == 0
    assert solver["pivots"] == 0  # nothing solved again


def test_a_worker_without_a_network_to_plan_starts_all_the_same(app, session):
    optimiser = optimiser_child.ResidentOptimiser()
    try:
        assert worker.warm_the_optimiser(app, optimiser) is False  # no case waits
    finally:
        optimiser.close()


def test_warming_gives_way_to_a_queued_plan(app, net, session):
    """A plan queued before or while the worker warms its optimiser is not kept waiting: the
    warming does not start, or stops (its child ended), and the plan runs."""
    (plan_id,) = queue_plans(session, 1)
    optimiser = optimiser_child.ResidentOptimiser()
    try:
        assert worker.warm_the_optimiser(app, optimiser) is False
        # While it solves: the child is asked, then a plan shows up at the first look.
        looks = iter([False, True])
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(ops, "any_queued", lambda _session: next(looks, True))
            assert worker.warm_the_optimiser(app, optimiser) is False
        assert optimiser._child is None  # ended: the plan gets a new one
        assert worker._work(app, optimiser, once=True, burst=False, poll_seconds=0.1,
                            target=worker.solve_in_child, parent_pid=None,
                            report=lambda _line: None) == 1
    finally:
        optimiser.close()
    assert plan(app, plan_id).status == "optimal"
