"""Periods: what a run of a job stands for, and the one quarter arithmetic of the code (the
scheduler's quarterly jobs and the quarterly reports, rehab_net/reports/quarterly.py).

A quarter is named '2026-Q3'; dates are local (``clock.zone``)."""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, date, datetime

from rehab_net.clock import local_midnight, zone

log = logging.getLogger(__name__)

CATCH_UP_LIMIT = 8  # at most this many missed periods are run at start (the newest ones)
# A quarter's name: '2026-Q3' (a request's quarter is checked against it, reports/quarterly.py).
QUARTER = re.compile(r"([0-9]{4})-Q([1-4])")


def minute_slot(minutes: int) -> Callable[[datetime], str]:
    """period_of for a job every `minutes`: the local slot a moment falls in, '2026-11-23T08:15'."""
    if minutes < 1 or 60 % minutes:
        raise ValueError("minutes must divide an hour (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)")

    def period_of(now: datetime) -> str:
        local = now.astimezone(zone())
        return local.replace(minute=local.minute - local.minute % minutes).strftime(
            "%Y-%m-%dT%H:%M")

    return period_of


def local_day(now: datetime) -> str:
    """period_of for a daily job: the local date a moment falls in, '2026-11-23'."""
    return now.astimezone(zone()).date().isoformat()


# --- quarters -----------------------------------------------------------------------------------
def quarter_of(d: date) -> tuple[int, int]:
    """The (year, quarter) a day falls in."""
    return d.year, (d.month - 1) // 3 + 1


def next_quarter(year: int, q: int) -> tuple[int, int]:
    return (year, q + 1) if q < 4 else (year + 1, 1)


def quarter_before(year: int, q: int) -> tuple[int, int]:
    return (year, q - 1) if q > 1 else (year - 1, 4)


def parse_quarter(period: str) -> tuple[int, int]:
    """'2026-Q3' -> (2026, 3); the name is trusted (a request's is checked against QUARTER)."""
    year, q = period.split("-Q")
    return int(year), int(q)


def quarter_name(year: int, q: int) -> str:
    return f"{year}-Q{q}"


def first_day(year: int, q: int) -> date:
    """The first day of a quarter."""
    return date(year, 3 * q - 2, 1)


def quarter_dates(year: int, q: int) -> tuple[date, date]:
    """(2026, 3) -> (2026-07-01, 2026-10-01): the first day in, the first day after."""
    return first_day(year, q), first_day(*next_quarter(year, q))


def previous_quarter(now: datetime) -> str:
    """period_of of a quarterly report: the last quarter that has ended (local dates), '2026-Q3'
    from 2026-10-01 to 2026-12-31."""
    return quarter_name(*quarter_before(*quarter_of(now.astimezone(zone()).date())))


def quarter_due(period: str) -> datetime:
    """The moment a quarter's report falls due: the first instant of the next quarter (local)."""
    return local_midnight(first_day(*next_quarter(*parse_quarter(period)))).astimezone(UTC)


def missed_quarters(last_done: str | None, now: datetime, limit: int = CATCH_UP_LIMIT
                    ) -> list[datetime]:
    """missed_periods of a quarterly report: the due moments of every ended quarter after
    `last_done`, oldest first, at most the newest `limit`; nothing done yet = the last one."""
    latest = parse_quarter(previous_quarter(now))
    if last_done is None:
        periods = [latest]
    else:
        periods, p = [], next_quarter(*parse_quarter(last_done))
        while p <= latest:
            periods.append(p)
            p = next_quarter(*p)
    if len(periods) > limit:
        log.warning("catch-up: %d quarters missed, running the newest %d", len(periods), limit)
        periods = periods[-limit:]
    return [quarter_due(quarter_name(y, q)) for y, q in periods]
