"""The working-day calendar: China's public holidays and make-up working days (调休), as data.
Infrastructure, because both the referral deadlines and booking's slot generation count in it.

The calendar is read from CSV files with the columns ``date,kind,name,source``: kind ``holiday``
(a day off, even on a weekday) or ``workday`` (a weekend day worked instead, 调休上班). The bundled
file ``data/holidays_cn.csv`` holds the State Council's arrangement for 2026 (国务院办公厅关于2026年
部分节假日安排的通知, 4 November 2025) and nothing invented. Each year's notice is published in
autumn: add it in a file of its own and list the file in ``BOOKING_HOLIDAY_FILES``
(REHAB_BOOKING_HOLIDAY_FILES, paths separated by ``:``); a later file overrides an earlier one
date by date. ``rehab-net holidays check FILE`` validates a file first.

A working day is Monday to Friday unless a holiday, plus the make-up working days.
``add_working_days`` counts the referral deadlines; booking generates no slots on a holiday.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from flask import current_app, has_app_context

from rehab_net.clock import zone
from rehab_net.config import Config

BUNDLED = Path(__file__).resolve().parent / "data" / "holidays_cn.csv"
KINDS = ("holiday", "workday")
COLUMNS = ("date", "kind", "name")


@dataclass(frozen=True)
class Day:
    date: date
    kind: str  # holiday | workday
    name: str
    source: str = ""


class HolidayFileError(ValueError):
    """A calendar file that cannot be used; ``problems`` lists each line's problem."""

    def __init__(self, path, problems: list[str]):
        super().__init__(f"{path}: " + "; ".join(problems[:10]))
        self.problems = problems


def read_file(path: str | Path) -> list[Day]:
    """The days of one CSV file, every line checked (all problems reported at once)."""
    problems, days, seen = [], [], set()
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise HolidayFileError(path, [f"missing column(s): {', '.join(missing)}"])
        for line, row in enumerate(reader, start=2):
            try:
                day = date.fromisoformat((row["date"] or "").strip())
            except ValueError:
                problems.append(f"line {line}: date must be YYYY-MM-DD")
                continue
            kind = (row["kind"] or "").strip()
            name = (row["name"] or "").strip()
            if kind not in KINDS:
                problems.append(f"line {line}: kind must be holiday or workday")
            elif kind == "workday" and day.weekday() < 5:
                problems.append(f"line {line}: {day} is a weekday; a make-up working day is a "
                                "Saturday or Sunday")
            if not name:
                problems.append(f"line {line}: give the name of the holiday")
            if day in seen:
                problems.append(f"line {line}: {day} is listed twice")
            seen.add(day)
            days.append(Day(day, kind, name, (row.get("source") or "").strip()))
    if problems:
        raise HolidayFileError(path, problems)
    return days


class Calendar:
    """Working days: Monday-Friday, minus holidays, plus make-up working days."""

    def __init__(self, days: list[Day] | None = None):
        self.days: dict[date, Day] = {d.date: d for d in days or ()}

    @classmethod
    def from_files(cls, paths) -> Calendar:
        days: dict[date, Day] = {}
        for path in paths:
            for day in read_file(path):
                days[day.date] = day  # a later file wins
        return cls(list(days.values()))

    def is_holiday(self, day: date) -> bool:
        entry = self.days.get(day)
        return entry is not None and entry.kind == "holiday"

    def is_makeup_workday(self, day: date) -> bool:
        entry = self.days.get(day)
        return entry is not None and entry.kind == "workday"

    def is_working_day(self, day: date) -> bool:
        entry = self.days.get(day)
        if entry is not None:
            return entry.kind == "workday"
        return day.weekday() < 5

    def name_of(self, day: date) -> str | None:
        entry = self.days.get(day)
        return entry.name if entry else None

    def add_working_days(self, start: date | datetime, days: int):
        """``days`` working days after ``start``. A date gives a date. A datetime (aware) is
        counted in local time and keeps its local time of day; one that falls on a day off
        counts from 08:00 of the next working day (as referrals/deadlines.py does for
        weekends)."""
        if isinstance(start, datetime):
            tz = zone()
            local = start.astimezone(tz)
            if not self.is_working_day(local.date()):
                nxt = local.date() + timedelta(days=1)
                while not self.is_working_day(nxt):
                    nxt += timedelta(days=1)
                local = datetime(nxt.year, nxt.month, nxt.day, 8, 0, tzinfo=tz)
                # the next working day's morning counts as "the start"
            day = self.add_working_days(local.date(), days)
            moved = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=tz)
            return moved.astimezone(start.tzinfo)
        current, added = start, 0
        while added < days:
            current += timedelta(days=1)
            if self.is_working_day(current):
                added += 1
        return current

    def in_year(self, year: int) -> list[Day]:
        return sorted((d for d in self.days.values() if d.date.year == year),
                      key=lambda d: d.date)

    def years(self) -> list[int]:
        return sorted({d.year for d in self.days})


def configured_files() -> list[Path]:
    """The bundled file, then those of BOOKING_HOLIDAY_FILES (app config or environment)."""
    # Working days are also counted outside an app (referral deadlines in scripts and tests).
    config = current_app.config if has_app_context() else Config.from_env()
    extra = config.get("BOOKING_HOLIDAY_FILES") or ""
    return [BUNDLED, *(Path(p) for p in str(extra).split(os.pathsep) if p.strip())]


@lru_cache(maxsize=8)
def _calendar_of(paths: tuple[Path, ...]) -> Calendar:
    return Calendar.from_files(paths)


def calendar() -> Calendar:
    """The configured calendar (read once per set of files)."""
    return _calendar_of(tuple(configured_files()))


def is_working_day(day: date) -> bool:
    return calendar().is_working_day(day)


def is_holiday(day: date) -> bool:
    return calendar().is_holiday(day)


def add_working_days(start, days: int):
    return calendar().add_working_days(start, days)
