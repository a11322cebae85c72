"""The one scheduler process: its lock (a second scheduler is refused at start), the
APScheduler that triggers the jobs, and `rehab-net scheduler` itself."""
from __future__ import annotations

import fcntl
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterable
from datetime import datetime

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from rehab_net.clock import zone
from rehab_net.db import utcnow
from rehab_net.scheduler.registry import Job, load_jobs
from rehab_net.scheduler.runner import _run, catch_up

log = logging.getLogger(__name__)

# APScheduler's defaults would skip a run the scheduler was a second late for (PITFALLS).
JOB_DEFAULTS = {"misfire_grace_time": 3600, "coalesce": True, "max_instances": 1}
# pg_try_advisory_lock key of the scheduler: the bytes "rehabsch" as a bigint.
ADVISORY_LOCK_KEY = 8243109460444406632
EXIT_LOCKED = 3


class SchedulerLock:
    """Held by the one scheduler process: a PostgreSQL session-level advisory lock on a
    connection of its own, or on SQLite an exclusive flock on `<database>.scheduler.lock`."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._conn = None
        self._fd: int | None = None

    @property
    def where(self) -> str:
        if self.engine.dialect.name == "postgresql":
            return f"PostgreSQL advisory lock {ADVISORY_LOCK_KEY}"
        return self.path or "in-memory SQLite: no lock"

    @property
    def path(self) -> str | None:
        database = self.engine.url.database
        if self.engine.dialect.name != "sqlite" or database in (None, "", ":memory:"):
            return None
        return f"{database}.scheduler.lock"

    def acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if conn.scalar(select(func.pg_try_advisory_lock(ADVISORY_LOCK_KEY))):
                self._conn = conn
                return True
            conn.close()
            return False
        if self.path is None:  # an in-memory database belongs to one process anyway
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.scalar(select(func.pg_advisory_unlock(ADVISORY_LOCK_KEY)))
            finally:
                self._conn.close()  # closing the session would release it anyway
                self._conn = None
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def build_scheduler(app: Flask, jobs: Iterable[Job], report: Callable[..., None] | None = None):
    """A BlockingScheduler (zone TIMEZONE, an hour's grace, coalesced, one instance per job)
    with every job added; each tick runs `run_job` at the clock's now."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    local = zone(app)
    scheduler = BlockingScheduler(timezone=local, job_defaults=dict(JOB_DEFAULTS))
    for job in jobs:
        scheduler.add_job(_tick, trigger=job.trigger_factory(local), args=(app, job, report),
                          id=job.id, name=job.id, replace_existing=True)
    return scheduler


def _tick(app: Flask, job: Job, report: Callable[..., None] | None) -> None:
    try:
        period, status = _run(app, job, None, utcnow)
    except Exception:  # the database away, say: log it, and the next tick tries again
        log.exception("job %s could not run", job.id)
        return
    if report:
        report(f"scheduler: {job.id} {period}: {status}")


def _echo(message: str, err: bool = False) -> None:
    print(message, file=sys.stderr if err else sys.stdout, flush=True)


def run_scheduler(app: Flask, *, once: bool = False, now: datetime | None = None,
                  report: Callable[..., None] = _echo) -> int:
    """`rehab-net scheduler [--once]`; the exit status. Takes the scheduler lock (3 when another
    scheduler holds it), runs what was missed while none ran, then with `once` every job once
    now (1 when one failed), else the scheduler until SIGTERM or SIGINT."""
    lock = SchedulerLock(app.extensions["rehab_engine"])
    if not lock.acquire():
        report(f"scheduler: another scheduler holds the lock ({lock.where}); exiting", err=True)
        return EXIT_LOCKED
    try:
        jobs = load_jobs()
        report(f"scheduler: lock held ({lock.where}); {len(jobs)} job(s): "
               + (", ".join(j.id for j in jobs) or "none registered"))
        failed = any(s == "failed" for _, _, s in catch_up(app, jobs, now, report))
        if once:
            now = now or utcnow()
            for job in jobs:
                period, status = _run(app, job, now, utcnow)
                report(f"scheduler: {job.id} {period}: {status}")
                failed = failed or status == "failed"
            return 1 if failed else 0
        return _serve(build_scheduler(app, jobs, report), report)
    finally:
        lock.release()


def _serve(scheduler, report: Callable[..., None]) -> int:
    """Run the BlockingScheduler in this (main) thread; SIGTERM ends it like Ctrl-C does, after
    the jobs running then have finished."""

    def _stop(_signum, _frame):
        raise SystemExit(0)

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        report("scheduler: running (stop with Ctrl-C or SIGTERM)")
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if scheduler.running:
            scheduler.shutdown(wait=True)
        report("scheduler: stopped")
    return 0
