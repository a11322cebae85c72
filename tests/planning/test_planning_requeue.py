"""Plans whose RQ job a Redis restart lost are queued again (planning/queue.py `sweep`: the
scheduler's `planning-requeue` and `rehab-net plans requeue`), with a REAL redis-server the suite
starts and restarts itself (tests/redis_server.py), on SQLite and PostgreSQL; never twice, also
when a worker claims the plan while the sweeper looks. Without Redis the plan table is the queue
and the sweeper has nothing to do."""
from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import select, update

from rehab_net.auth.models import AuditEvent
from rehab_net.cli import main
from rehab_net.db import make_engine, utcnow
from rehab_net.planning import operations as ops
from rehab_net.planning import queue
from rehab_net.planning.models import Plan
from tests.factories import create_plan
from tests.planning_helpers import run_worker, waiting_list

LATER = timedelta(minutes=10)  # past the sweeper's grace for a plan just queued


def rq_queue(url):
    from rq import Queue

    return Queue(queue.QUEUE_NAME, connection=queue.redis_connection(url))


def cli(app, *args):
    return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app),
                              catch_exceptions=False)


def test_a_plan_a_redis_restart_lost_is_queued_again_and_a_worker_runs_it(rq_app, redis,
                                                                          client, session):
    resp = client.post("/api/v1/plans", json={"horizon_weeks": 1})
    assert resp.status_code == 202, resp.get_json()
    plan_id = resp.get_json()["id"]
    assert rq_queue(redis.url).count == 1
    # while the job is in the queue the sweeper leaves the plan alone
    with rq_app.app_context():
        assert queue.sweep(session, utcnow() + LATER)["requeued"] == []
    session.commit()

    redis.restart()  # nothing persisted: the job is gone, the plan still says queued
    assert rq_queue(redis.url).count == 0
    # a plan queued moments ago is not swept yet (its request may still be pushing the job)
    with rq_app.app_context():
        assert queue.sweep(session, utcnow())["requeued"] == []
    session.execute(update(Plan).where(Plan.id == plan_id)
                    .values(created_at=utcnow() - LATER))
    session.commit()

    done = cli(rq_app, "plans", "requeue")
    assert done.exit_code == 0, done.output
    assert f"queued again: {plan_id};" in done.output
    assert rq_queue(redis.url).count == 1
    again = cli(rq_app, "plans", "requeue")  # idempotent: its job is in the queue now
    assert "queued again: none;" in again.output and rq_queue(redis.url).count == 1
    plan = client.get(f"/api/v1/plans/{plan_id}").get_json()
    assert plan["status"] == "queued" and "queued again" in plan["message"]
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "plan", AuditEvent.object_code == str(plan_id),
        AuditEvent.action == "update")).one()
    assert event.actor == "system:cli" and event.detail == {"job": f"plan-{plan_id}"}
    session.close()

    worked = run_worker(rq_app, redis.url, "--burst")
    assert worked.returncode == 0, worked.stderr
    plan = client.get(f"/api/v1/plans/{plan_id}").get_json()
    assert plan["status"] == "optimal", (plan["message"], worked.stderr[-2000:])
    assert plan["message"] is None and plan["assigned"] == 4
    assert rq_queue(redis.url).count == 0


def test_a_plan_a_worker_claims_while_the_sweeper_looks_is_not_queued_again(
        rq_app, redis, session, monkeypatch):
    """The job is gone, and a worker claims the plan between the sweeper's read and its note:
    the note's conditional UPDATE (still queued?) matches nothing, so nothing is pushed."""
    plan = create_plan(session, today=utcnow().date(), horizon_weeks=1)
    session.commit()
    plan_id = plan.id
    dialect = session.get_bind().dialect.name

    def claimed_meanwhile(_queue, looked_at):
        if dialect == "postgresql":  # another process's claim, committed: READ COMMITTED sees it
            engine = make_engine(rq_app.config["DATABASE_URL"])
            with engine.begin() as other:
                other.execute(update(Plan).where(Plan.id == looked_at, Plan.status == "queued")
                              .values(status="running", started_at=utcnow(),
                                      heartbeat_at=utcnow()))
            engine.dispose()
        else:  # SQLite serialises writing transactions: a claim can only be ours to make
            assert ops.claim(session, looked_at)
        return False

    monkeypatch.setattr(queue, "job_alive", claimed_meanwhile)
    with rq_app.app_context():
        result = queue.sweep(session, utcnow() + LATER)
    session.commit()
    assert result["requeued"] == [] and rq_queue(redis.url).count == 0
    session.expire_all()
    assert session.get(Plan, plan_id).status == "running"
    assert session.get(Plan, plan_id).message is None


def test_which_jobs_are_alive(rq_app, redis, session):
    with rq_app.app_context():
        plan = create_plan(session, today=utcnow().date(), horizon_weeks=1)
        session.commit()
        q = rq_queue(redis.url)
        assert not queue.job_alive(q, plan.id)  # never pushed
        queue.submit(session, plan)
        assert queue.job_alive(q, plan.id)
        q.connection.lrem(q.key, 0, queue.job_id(plan.id))  # the hash without its place in line
        assert not queue.job_alive(q, plan.id)
        from rq.job import Job

        job = Job.fetch(queue.job_id(plan.id), connection=q.connection)
        job.set_status("failed")  # e.g. its work horse was killed before it claimed the plan
        assert not queue.job_alive(q, plan.id)
        job.set_status("started")
        assert queue.job_alive(q, plan.id)
        job.set_status("failed")
        session.execute(update(Plan).where(Plan.id == plan.id).values(created_at=utcnow() - LATER))
        assert queue.sweep(session, utcnow())["requeued"] == [plan.id]  # the dead job replaced
        session.commit()
        assert queue.job_alive(q, plan.id) and q.count == 1
        assert queue.job_id(plan.id) not in q.failed_job_registry.get_job_ids()


def test_the_sweeper_marks_running_plans_of_a_lost_worker_error(rq_app, session):
    with rq_app.app_context():
        plan = create_plan(session, today=utcnow().date(), horizon_weeks=1)
        session.commit()
        assert ops.claim(session, plan.id)
        session.commit()
        assert queue.sweep(session, utcnow())["stale_running"] == 0  # its heartbeat is fresh
        result = queue.sweep(session, utcnow() + ops.STALE_AFTER + timedelta(seconds=1))
        session.commit()
        assert result == {"requeued": [], "stale_running": 1, "queue": "redis"}
        assert ops.reload(session, plan.id).status == "error"


def test_an_unreachable_redis_fails_the_sweep_softly(app, session):
    app.config["REDIS_URL"] = "redis://127.0.0.1:9/0"  # nothing listens there
    waiting_list(session)
    plan = create_plan(session, today=utcnow().date(), horizon_weeks=1)
    session.commit()
    with app.app_context():
        result = queue.sweep(session, utcnow() + LATER)
        session.commit()
        assert result == {"requeued": [], "stale_running": 0, "queue": "unreachable"}
        assert ops.reload(session, plan.id).status == "queued"
        assert ops.reload(session, plan.id).message is None
    session.close()
    done = cli(app, "plans", "requeue")
    assert done.exit_code == 1 and "not reachable" in done.output


def test_without_redis_the_table_is_the_queue_and_the_job_has_nothing_to_do(app, session):
    from rehab_net import scheduler
    from rehab_net.planning.jobs import JOBS
    from rehab_net.planning.worker import work
    from tests.planning_helpers import greedy_solver

    assert not app.config["REDIS_URL"]
    waiting_list(session)
    plan = create_plan(session, today=utcnow().date(), horizon_weeks=1)
    session.commit()
    session.close()
    sweep_job = next(j for j in JOBS if j.id == "planning-requeue")
    assert scheduler.run_job(app, sweep_job, utcnow() + LATER) == "done"
    run = session.scalars(select(scheduler.JobRun)).one()
    assert run.detail == {"requeued": [], "stale_running": 0, "queue": "database"}
    session.close()
    assert work(app, once=True, target=greedy_solver) == 1
    assert ops.reload(session, plan.id).status == "optimal"
