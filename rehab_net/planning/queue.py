"""Handing a plan to the workers. Two ways, chosen by REHAB_REDIS_URL:

- empty (the default): the plan table is the queue. `rehab-net worker` polls it and claims the
  oldest queued plan with a conditional UPDATE, so any number of workers can share it.
- set: the plan id is pushed to the RQ queue "plans"; `rehab-net worker` runs an RQ worker, which
  forks for every job and calls rq_entry.run_plan_job(plan_id).

Either way the plan row stays the record of progress that the API shows.

Redis keeps its queue in memory: a restart without persistence (or a flush) loses the jobs, and
their plans would stay queued for ever. ``sweep`` (the scheduler's job `planning-requeue` every
5 minutes, and `rehab-net plans requeue`) pushes every queued plan whose job is gone again. A
plan is never run twice: the job claims its plan queued -> running with a conditional UPDATE, so
of two jobs for one plan only the first runs it; the second finds it no longer queued and
returns."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from rehab_net.auth import audit
from rehab_net.db import transactional
from rehab_net.errors import DomainError
from rehab_net.messages import message
from rehab_net.planning import operations as ops
from rehab_net.planning.models import Plan

log = logging.getLogger(__name__)

QUEUE_NAME = "plans"
JOB_FUNCTION = "rehab_net.rq_entry.run_plan_job"
# RQ kills a job that runs longer; ours stop themselves at time_limit (see worker.hard_limit).
JOB_TIMEOUT_MARGIN = 600
RESULT_TTL = 24 * 3600


class QueueUnavailable(DomainError):
    status, title = 503, "Service unavailable"


def redis_url() -> str:
    return (current_app.config.get("REDIS_URL") or "").strip()


def redis_connection(url: str, *, for_worker: bool = False):
    from redis import Redis

    if for_worker:  # RQ blocks on the queue for minutes: no socket timeout shorter than that
        return Redis.from_url(url)
    # Short timeouts: a request must fail quickly when Redis is away, not hang.
    return Redis.from_url(url, socket_connect_timeout=5, socket_timeout=10)


def submit(session: Session, plan) -> None:
    """Queue a committed plan. Without Redis there is nothing to do: the row is the queue. When
    Redis cannot be reached the plan is marked error (and committed: it exists already) and a 503
    is raised, so nobody waits for a plan no worker will ever see."""
    url = redis_url()
    if not url:
        return
    from redis.exceptions import RedisError

    try:
        _enqueue(redis_connection(url), plan)
    except RedisError as exc:
        log.warning("could not queue plan %s: %s", plan.id, type(exc).__name__)
        with transactional(session):  # the request then fails: the mark must outlast it
            ops.fail(session, plan.id, "The plan could not be queued: the job queue (Redis) is "
                                       "not reachable.")
        raise QueueUnavailable("plan.queue_unavailable") from None


def job_id(plan_id: int) -> str:
    return f"plan-{plan_id}"


def _enqueue(connection, plan) -> None:
    from rq import Queue

    Queue(QUEUE_NAME, connection=connection).enqueue(
        JOB_FUNCTION, plan.id, job_id=job_id(plan.id),
        job_timeout=int(plan.parameters["time_limit"]) * 2 + JOB_TIMEOUT_MARGIN,
        result_ttl=RESULT_TTL, failure_ttl=7 * RESULT_TTL)


# --- plans whose job the queue lost --------------------------------------------------------------
# A plan younger than this is left alone: the request that queued it may not have pushed its job
# yet (it commits the plan first).
SWEEP_GRACE = timedelta(minutes=2)
# RQ job states in which the job will still run (or runs): its plan is not lost.
LIVE_JOB_STATUSES = ("queued", "started", "deferred", "scheduled")


def job_alive(queue, plan_id: int) -> bool:
    """Whether the RQ job of the plan will still run: it exists in a live state and, when
    queued, is really in the queue's list (a restored or half-flushed Redis can hold a job hash
    without its list entry)."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        job = Job.fetch(job_id(plan_id), connection=queue.connection)
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=False)
    status = getattr(status, "value", status)
    if status == "queued":
        return queue.get_job_position(job.id) is not None
    return status in LIVE_JOB_STATUSES


def _forget(queue, plan_id: int) -> None:
    """Delete what is left of a dead job (a failed or half-lost one), registries and all, so the
    new job of the same id starts clean."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        Job.fetch(job_id(plan_id), connection=queue.connection).delete()
    except NoSuchJobError:
        pass


def sweep(session: Session, now: datetime) -> dict:
    """Queue again every plan still queued (for longer than SWEEP_GRACE) whose RQ job is gone,
    and mark error the running plans whose worker stopped (no heartbeat: the rule workers apply,
    operations.fail_stale_plans; with RQ nobody else applies it until the next job starts).

    A running plan is never queued again: a worker that stopped writing heartbeats cannot be told
    from one that is slow, and the plan may crash its worker every time. Each plan queued again
    is first noted with a conditional UPDATE (still queued?), then pushed, then audited; flush
    only, the caller commits. Without Redis the plan table is the queue and nothing is lost."""
    stale = ops.fail_stale_plans(session, now)
    url = redis_url()
    if not url:
        return {"requeued": [], "stale_running": stale, "queue": "database"}
    from redis.exceptions import RedisError
    from rq import Queue

    connection = redis_connection(url)
    queue = Queue(QUEUE_NAME, connection=connection)
    waiting = list(session.scalars(select(Plan).where(
        Plan.status == "queued", Plan.created_at < now - SWEEP_GRACE).order_by(Plan.id)))
    requeued = []
    try:
        connection.ping()  # say so when Redis is away, also when no plan waits
        for plan in waiting:
            if job_alive(queue, plan.id):
                continue
            with session.begin_nested():  # the note stands only if the push succeeded
                if not ops.note_requeued(session, plan.id, message(
                        "plan.requeued", at=now.isoformat(timespec="seconds"))):
                    continue  # claimed (or cancelled) meanwhile: its worker has it
                _forget(queue, plan.id)
                _enqueue(connection, plan)
            audit.record(session, "update", "plan", str(plan.id),
                         reason="queued again: its job was lost by the job queue",
                         detail={"job": job_id(plan.id)})
            log.warning("plan %s: its RQ job was gone; queued again", plan.id)
            requeued.append(plan.id)
    except RedisError as exc:  # Redis away: what was pushed stays noted; the next sweep goes on
        log.warning("sweep: the job queue (Redis) is not reachable: %s", type(exc).__name__)
        return {"requeued": requeued, "stale_running": stale, "queue": "unreachable"}
    return {"requeued": requeued, "stale_running": stale, "queue": "redis"}
