"""The jobs the scheduler knows: each module's init_app registers its own (``register``)."""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from rehab_net.scheduler.periods import (
    local_day,
    minute_slot,
    missed_quarters,
    previous_quarter,
)

STALE_AFTER = timedelta(hours=1)


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
    def daily(cls, id: str, func_path: str, hour: int = 2, minute: int = 0, **kw) -> Job:
        """Every day at hour:minute (local); period = the local date, '2026-11-23'. A day missed
        while no scheduler ran is covered by the next run (the jobs read "due by today")."""
        if not (0 <= hour <= 23 and 0 <= minute <= 59):
            raise ValueError("hour must be 0 to 23 and minute 0 to 59")

        def trigger(zone: tzinfo):
            from apscheduler.triggers.cron import CronTrigger

            return CronTrigger(hour=hour, minute=minute, timezone=zone)

        return cls(id, trigger, func_path, local_day, **kw)

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
