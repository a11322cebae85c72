"""Handing a plan to the workers. Two ways, chosen by REHAB_REDIS_URL:

- empty (the default): the plan table is the queue. `rehab-net worker` polls it and claims the
  oldest queued plan with a conditional UPDATE, so any number of workers can share it.
- set: the plan id is pushed to the RQ queue "plans"; `rehab-net worker` runs an RQ worker, which
  forks for every job and calls rq_entry.run_plan_job(plan_id).

Either way the plan row stays the record of progress that the API shows."""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy.orm import Session

from rehab_net.db import transactional
from rehab_net.errors import DomainError
from rehab_net.planning import operations as ops

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
    from rq import Queue

    try:
        Queue(QUEUE_NAME, connection=redis_connection(url)).enqueue(
            JOB_FUNCTION, plan.id, job_id=f"plan-{plan.id}",
            job_timeout=int(plan.parameters["time_limit"]) * 2 + JOB_TIMEOUT_MARGIN,
            result_ttl=RESULT_TTL, failure_ttl=7 * RESULT_TTL)
    except RedisError as exc:
        log.warning("could not queue plan %s: %s", plan.id, type(exc).__name__)
        with transactional(session):  # the request then fails: the mark must outlast it
            ops.fail(session, plan.id, "The plan could not be queued: the job queue (Redis) is "
                                       "not reachable.")
        raise QueueUnavailable("plan.queue_unavailable") from None
