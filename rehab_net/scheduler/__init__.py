"""Periodic jobs: ONE scheduler process (`rehab-net scheduler`), never inside the web workers.

A module declares a job (in its jobs.py) and its ``init_app`` registers it, so every job is
known once the app is created, whichever views were imported::

    DEADLINES = Job.every_minutes(
        "referral_deadlines", "rehab_net.referrals.operations.deadline_check:check_deadlines",
        minutes=5)
    ...
    scheduler.register(DEADLINES)  # in rehab_net.referrals.init_app

The job function is imported only when the job runs; it takes the job's session and the
moment the run stands for, works with ``flush`` only, and returns a JSON-able summary or None::

    def check(session: Session, now: datetime) -> dict | None: ...

Exactly once per period, across restarts, double triggers and an accidental second scheduler:
``run_job`` first claims the period by inserting its ``job_run`` row (UNIQUE(job, period)) in a
transaction of its own, then runs the function in a second transaction that also marks the row
done, so the job's changes and "done" are committed together or not at all. A period whose row is
done, or running and fresh, is skipped; a failed one is retried by the next trigger; a running one
older than ``Job.stale_after`` (its process died) is taken over, and should the old run still
finish after all, its commit finds the row no longer its own and rolls back.

A second scheduler is refused at start: PostgreSQL ``pg_try_advisory_lock`` held on a connection
of its own for the life of the process; on SQLite an exclusive ``flock`` on
``<database>.scheduler.lock``. See docs/deployment.md.

The rooms: ``registry`` (Job, register, load_jobs), ``runner`` (one run, the claim, catch-up),
``lock`` (the one scheduler process), ``models`` (JobRun), ``periods`` (minute slots and the
quarter arithmetic, shared with the quarterly reports). The names below are the package's API.
"""
from __future__ import annotations

from rehab_net.scheduler.lock import SchedulerLock, build_scheduler, run_scheduler
from rehab_net.scheduler.models import JobRun
from rehab_net.scheduler.periods import minute_slot, missed_quarters, previous_quarter, quarter_due
from rehab_net.scheduler.registry import JOBS, Job, load_jobs, register, resolve, unregister
from rehab_net.scheduler.runner import catch_up, run_job, run_jobs_within

__all__ = [
    "JOBS", "Job", "JobRun", "SchedulerLock", "build_scheduler", "catch_up", "load_jobs",
    "minute_slot", "missed_quarters", "previous_quarter", "quarter_due", "register", "resolve",
    "run_job", "run_jobs_within", "run_scheduler", "unregister",
]
