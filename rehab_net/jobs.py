"""Periodic jobs: ONE scheduler process (`rehab-net scheduler`), never inside the web workers.

A module declares a job (in its jobs.py) and its ``init_app`` registers it, so every job is
known once the app is created, whichever views were imported::

    DEADLINES = Job.every_minutes("referral_deadlines",
                                  "rehab_net.referrals.operations:check_deadlines", minutes=5)
    ...
    jobs.register(DEADLINES)  # in rehab_net.referrals.init_app

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
"""
from __future__ import annotations

import fcntl
import importlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from flask import Flask
from sqlalchemy import JSON, CheckConstraint, String, Text, UniqueConstraint, func, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from rehab_net.clock import zone
from rehab_net.db import Base, UTCDateTime, get_session, transactional, utcnow
from rehab_net.vocab import sql_in

log = logging.getLogger(__name__)

JOB_RUN_STATUSES = ("running", "done", "failed")
# APScheduler's defaults would skip a run the scheduler was a second late for (PITFALLS).
JOB_DEFAULTS = {"misfire_grace_time": 3600, "coalesce": True, "max_instances": 1}
STALE_AFTER = timedelta(hours=1)
CATCH_UP_LIMIT = 8  # at most this many missed periods are run at start (the newest ones)
# pg_try_advisory_lock key of the scheduler: the bytes "rehabsch" as a bigint.
ADVISORY_LOCK_KEY = 8243109460444406632
EXIT_LOCKED = 3


class JobRun(Base):
    """One run of a job for one period: the claim that makes a period run once."""

    __tablename__ = "job_run"
    __table_args__ = (
        UniqueConstraint("job", "period"),
        CheckConstraint(sql_in("status", JOB_RUN_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="running")
    detail: Mapped[dict | None] = mapped_column(JSON)  # what the job function returned
    error: Mapped[str | None] = mapped_column(Text)  # why, when failed


# --- time and periods ---------------------------------------------------------------------------
def minute_slot(minutes: int) -> Callable[[datetime], str]:
    """period_of for a job every `minutes`: the local slot a moment falls in, '2026-11-23T08:15'."""
    if minutes < 1 or 60 % minutes:
        raise ValueError("minutes must divide an hour (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)")

    def period_of(now: datetime) -> str:
        local = now.astimezone(zone())
        return local.replace(minute=local.minute - local.minute % minutes).strftime(
            "%Y-%m-%dT%H:%M")

    return period_of


def _quarter(d: date) -> tuple[int, int]:
    return d.year, (d.month - 1) // 3 + 1


def _next_quarter(year: int, q: int) -> tuple[int, int]:
    return (year, q + 1) if q < 4 else (year + 1, 1)


def _previous_quarter(year: int, q: int) -> tuple[int, int]:
    return (year, q - 1) if q > 1 else (year - 1, 4)


def _parse_quarter(period: str) -> tuple[int, int]:
    year, q = period.split("-Q")
    return int(year), int(q)


def previous_quarter(now: datetime) -> str:
    """period_of of a quarterly report: the last quarter that has ended (local dates), '2026-Q3'
    from 2026-10-01 to 2026-12-31."""
    year, q = _previous_quarter(*_quarter(now.astimezone(zone()).date()))
    return f"{year}-Q{q}"


def quarter_due(period: str) -> datetime:
    """The moment a quarter's report falls due: the first instant of the next quarter (local)."""
    year, q = _next_quarter(*_parse_quarter(period))
    return datetime(year, 3 * q - 2, 1, tzinfo=zone()).astimezone(UTC)


def missed_quarters(last_done: str | None, now: datetime, limit: int = CATCH_UP_LIMIT
                    ) -> list[datetime]:
    """missed_periods of a quarterly report: the due moments of every ended quarter after
    `last_done`, oldest first, at most the newest `limit`; nothing done yet = the last one."""
    latest = _parse_quarter(previous_quarter(now))
    if last_done is None:
        periods = [latest]
    else:
        periods, p = [], _next_quarter(*_parse_quarter(last_done))
        while p <= latest:
            periods.append(p)
            p = _next_quarter(*p)
    if len(periods) > limit:
        log.warning("catch-up: %d quarters missed, running the newest %d", len(periods), limit)
        periods = periods[-limit:]
    return [quarter_due(f"{y}-Q{q}") for y, q in periods]


# --- the registry -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Job:
    """A periodic job.

    trigger_factory(zone) -> an APScheduler trigger; func_path "module:function", imported when the
    job runs; period_of(now) -> the name of the period a run at `now` covers (<= 32 characters,
    names sorting in time order); missed_periods(last_done_period, now) -> the moments of the runs
    missed while no scheduler ran, oldest first (each is passed to the job as its `now`), or None
    when a later run covers whatever was missed."""

    id: str
    trigger_factory: Callable[[tzinfo], Any]
    func_path: str
    period_of: Callable[[datetime], str]
    missed_periods: Callable[[str | None, datetime], list[datetime]] | None = None
    stale_after: timedelta = STALE_AFTER

    def __post_init__(self):
        if not self.id or len(self.id) > 64:
            raise ValueError("a job id has 1 to 64 characters")
        module, _, name = self.func_path.partition(":")
        if not module or not name:
            raise ValueError(f"func_path must be 'module:function', not {self.func_path!r}")

    @classmethod
    def every_minutes(cls, id: str, func_path: str, minutes: int = 5, **kw) -> Job:
        """Every `minutes`, on the local clock's slots (08:00, 08:05, ...); period = the slot."""
        period_of = minute_slot(minutes)  # validates minutes

        def trigger(zone: tzinfo):
            from apscheduler.triggers.cron import CronTrigger

            return CronTrigger(minute=f"*/{minutes}", timezone=zone)

        return cls(id, trigger, func_path, period_of, **kw)

    @classmethod
    def quarterly(cls, id: str, func_path: str, hour: int = 1, **kw) -> Job:
        """On the first day of each quarter at `hour` (local); period = the quarter just ended;
        quarters missed while no scheduler ran are run at the next start."""

        def trigger(zone: tzinfo):
            from apscheduler.triggers.cron import CronTrigger

            return CronTrigger(month="1,4,7,10", day=1, hour=hour, timezone=zone)

        kw.setdefault("missed_periods", missed_quarters)
        return cls(id, trigger, func_path, previous_quarter, **kw)


JOBS: list[Job] = []


def register(job: Job) -> Job:
    """Add a job to the scheduler's list (by the init_app of the module that defines it; again,
    when an app is built again, is harmless)."""
    for known in JOBS:
        if known.id == job.id:
            if known == job:
                return known
            raise ValueError(f"a job {job.id!r} is already registered")
    JOBS.append(job)
    return job


def unregister(job_id: str) -> None:
    JOBS[:] = [j for j in JOBS if j.id != job_id]


def load_jobs() -> list[Job]:
    """The registered jobs: all of them once create_app has run (each module's init_app)."""
    return list(JOBS)


def resolve(func_path: str) -> Callable[[Session, datetime], dict | None]:
    module, _, name = func_path.partition(":")
    target: Any = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    return target


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


# --- one scheduler ------------------------------------------------------------------------------
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
