"""One run of a job for one period, exactly once: claim the period's ``job_run`` row in a
transaction of its own, then run the function and mark the row done in a second one (see the
package's docstring); and the catch-up of the periods missed while no scheduler ran."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import func, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rehab_net.db import get_session, transactional, utcnow
from rehab_net.scheduler.models import JobRun
from rehab_net.scheduler.registry import Job, resolve

log = logging.getLogger(__name__)


# --- one run ------------------------------------------------------------------------------------
def run_job(app: Flask, job: Job, now: datetime | None = None, *,
            clock: Callable[[], datetime] = utcnow) -> str:
    """Run `job` for the period of `now` (default: the clock) unless that period is done or
    running elsewhere: "done", "skipped" or "failed". A failing job is logged and recorded, never
    raised (the scheduler must keep running). `clock` stamps the bookkeeping (started_at,
    staleness); `now` is what the job sees, a past moment when catching up."""
    return _run(app, job, now, clock)[1]


def _run(app: Flask, job: Job, now: datetime | None, clock: Callable[[], datetime]
         ) -> tuple[str, str]:
    now = now or clock()
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    with app.app_context(), app.extensions.get("rehab_job_context", _no_context)(job):
        period = job.period_of(now)
        if not period or len(period) > 32:
            raise ValueError(f"job {job.id}: period {period!r} must have 1 to 32 characters")
        session = get_session()
        token = _claim(session, job, period, clock())
        if token is None:
            log.info("job %s %s: skipped (done or running elsewhere)", job.id, period)
            return period, "skipped"
        mine = ((JobRun.job == job.id) & (JobRun.period == period) & (JobRun.status == "running")
                & (JobRun.started_at == token))
        try:
            with transactional(session):  # the job's changes and "done" together, or neither
                detail = resolve(job.func_path)(session, now)
                finished = session.execute(
                    sql_update(JobRun.__table__).where(mine)
                    .values(status="done", finished_at=clock(), detail=detail, error=None))
                if finished.rowcount != 1:  # taken over as stale meanwhile: the other run counts
                    raise _TakenOver
        except _TakenOver:
            log.warning("job %s %s: taken over by another run; this one rolled back",
                        job.id, period)
            return period, "skipped"
        except Exception as exc:
            log.exception("job %s %s failed", job.id, period)
            with transactional(session):
                session.execute(sql_update(JobRun.__table__).where(mine).values(
                    status="failed", finished_at=clock(),
                    error=f"{type(exc).__name__}: {exc}"[:4000]))
            return period, "failed"
        log.info("job %s %s: done", job.id, period)
        return period, "done"


class _TakenOver(Exception):
    """The period's row is no longer this run's: roll its work back."""


def run_jobs_within(app: Flask, context: Callable[[Job], Any]) -> None:
    """Run each job inside ``context(job)`` (a context manager): the auth package attributes a
    job's changes to the system actor "system:scheduler:<job>" (infrastructure does not import
    auth)."""
    app.extensions["rehab_job_context"] = context


def _no_context(_job: Job):
    return nullcontext()


def _claim(session: Session, job: Job, period: str, started: datetime) -> datetime | None:
    """Insert the period's row as running, or take over a failed or stale one; the started_at
    that marks the row as ours, or None when another run has it (or it is done)."""
    try:
        with transactional(session):
            session.execute(insert(JobRun.__table__).values(job=job.id, period=period,
                                                            status="running", started_at=started))
        return started
    except IntegrityError:
        pass  # the row exists (rolled back): take it over if it failed or went stale
    with transactional(session):
        retry = session.execute(
            sql_update(JobRun.__table__)
            .where(JobRun.job == job.id, JobRun.period == period,
                   (JobRun.status == "failed")
                   | ((JobRun.status == "running")
                      & (JobRun.started_at < started - job.stale_after)))
            .values(status="running", started_at=started, finished_at=None, detail=None,
                    error=None))
    return started if retry.rowcount == 1 else None


def last_done_period(session: Session, job_id: str) -> str | None:
    return session.scalar(select(func.max(JobRun.period))
                          .where(JobRun.job == job_id, JobRun.status == "done"))


def catch_up(app: Flask, jobs: Iterable[Job], now: datetime | None = None,
             report: Callable[..., None] | None = None) -> list[tuple[str, str, str]]:
    """Run the periods each job missed while no scheduler ran (its missed_periods hook), oldest
    first; a job stops at its first failure so the next start retries from there.
    [(job id, period, status)]."""
    now = now or utcnow()
    results = []
    for job in jobs:
        if job.missed_periods is None:
            continue
        with app.app_context():
            session = get_session()
            missed = job.missed_periods(last_done_period(session, job.id), now)
        for moment in missed:
            period, status = _run(app, job, moment, utcnow)
            results.append((job.id, period, status))
            if report:
                report(f"scheduler: catch-up {job.id} {period}: {status}")
            if status == "failed":
                break
    return results
