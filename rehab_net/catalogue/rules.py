"""The catalogue's dose rules: what was delivered (the local days of attended appointments)
against an item's minimum, on a given day. Pure functions of dates; docs/catalogue.md.

- ``once``: delivered at least once (surgery, a device fitting, an assessment).
- ``times_per_year`` N: at least N deliveries in the calendar year (hearing aids tuned twice a
  year); the next is due 365/N days after the last.
- ``months_per_year`` N: a delivery in at least N calendar months of the year (auditory-verbal
  training 10 months a year); due by the end of the month that still lacks one.
- ``weekly_for_weeks`` N: a delivery in each of N consecutive weeks, Monday to Sunday
  (orientation and mobility training weekly for 2 months = 8 weeks); a week without one
  breaks the run off and it starts again.

The yearly rules count from the day the item applies to the case this year (``since``: the
later of 1 January, the case's registration and the birthday that made the person eligible) to
the day it stops (``until``: 31 December, or the day before the birthday that ends it). When
that is less than a year the minimum is pro rata by months, rounded up (registered in
September: 10 months a year asks for ceil(10 x 4 / 12) = 4). ``cycle_months`` is a replacement
or re-assessment cycle (a white cane re-assessed every 3 years): due that many months after the
last delivery.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from rehab_net.clock import add_months
from rehab_net.people.rules import add_years, age_on

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Dose:
    status: str  # met, due, overdue, missed (vocab.DOSE_STATUSES)
    delivered: int  # what counts towards the rule: this year's, the run's weeks, or ever
    needed: int
    due_on: date | None  # the next delivery is due by this day (None: nothing due)
    last_on: date | None  # the last delivery
    replace_on: date | None = None  # the next replacement or re-assessment (cycle_months)

    @property
    def shortfall(self) -> int:
        return max(0, self.needed - self.delivered)


def eligible(*, min_age: int, max_age: int | None, categories, birth_date: date,
             category: str, on: date) -> bool:
    """Whether an item is for a person of that birth date with a case of that category."""
    age = age_on(birth_date, on)
    return category in categories and age >= min_age and (max_age is None or age <= max_age)


def window(*, year: int, birth_date: date, min_age: int, max_age: int | None,
           registered_on: date) -> tuple[date, date]:
    """The days of ``year`` the item applies to the case: (since, until), both inclusive."""
    since = max(date(year, 1, 1), registered_on, add_years(birth_date, min_age))
    until = date(year, 12, 31)
    if max_age is not None:
        until = min(until, add_years(birth_date, max_age + 1) - timedelta(days=1))
    return since, until


def _months(since: date, until: date) -> int:
    return (until.year - since.year) * 12 + until.month - since.month + 1


def _month_end(d: date) -> date:
    return add_months(d.replace(day=1), 1) - timedelta(days=1)


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def evaluate(rule: str, amount: int, cycle_months: int | None, days, *, today: date,
             since: date | None = None, until: date | None = None) -> Dose:
    """The dose of one item for one case on ``today``: ``days`` are the local days it was
    delivered (any order; days after today are ignored)."""
    days = sorted(d for d in days if d <= today)
    last = days[-1] if days else None
    since = since or date(today.year, 1, 1)
    until = until or date(today.year, 12, 31)
    replace_on = add_months(last, cycle_months) if cycle_months and last else None
    if rule == "once":
        dose = _once(days, last, replace_on, today)
    elif rule == "times_per_year":
        dose = _times_per_year(amount, days, last, today, since, until)
    elif rule == "months_per_year":
        dose = _months_per_year(amount, days, last, today, since, until)
    elif rule == "weekly_for_weeks":
        dose = _weekly(amount, days, last, today)
    else:
        raise ValueError(f"unknown dose rule {rule!r}")
    if replace_on is not None and dose.status == "met" and replace_on <= today:
        # the device (or the assessment) is due again although the dose itself is met
        dose = Dose("overdue" if replace_on < today else "due", dose.delivered, dose.needed,
                    replace_on, last)
    return Dose(dose.status, dose.delivered, dose.needed, dose.due_on, last, replace_on)


def _once(days, last, replace_on, today) -> Dose:
    if not days:
        return Dose("due", 0, 1, today, None)
    return Dose("met", 1, 1, None, last)


def _needed(amount: int, since: date, until: date) -> int:
    """The year's minimum, pro rata when the item applies for part of the year only."""
    if until < since:
        return 0
    return min(amount, math.ceil(amount * _months(since, until) / 12))


def _times_per_year(amount, days, last, today, since, until) -> Dose:
    needed = _needed(amount, since, until)
    got = sum(1 for d in days if since <= d)
    interval = timedelta(days=365 // amount)
    if got >= needed:
        return Dose("met", got, needed, last + interval if last else None, last)
    due = today if last is None else min(last + interval, until)
    return Dose("overdue" if due < today else "due", got, needed, due, last)


def _months_per_year(amount, days, last, today, since, until) -> Dose:
    needed = _needed(amount, since, until)
    covered = {(d.year, d.month) for d in days if since <= d <= until}
    got = len(covered)
    if got >= needed:
        return Dose("met", got, needed, None, last)
    this_month = (today.year, today.month) in covered
    # months still open after today's: this one if it has none yet, and the rest of the window
    left = (0 if this_month else 1) + max(0, _months(today, until) - 1)
    due = _month_end(add_months(today.replace(day=1), 1) if this_month else today)
    status = "missed" if got + left < needed else "due"
    return Dose(status, got, needed, min(due, until) if until >= today else None, last)


def _weekly(amount, days, last, today) -> Dose:
    weeks = sorted({_monday(d) for d in days})
    best = run = 0
    previous = None
    for week in weeks:
        run = run + 1 if previous is not None and week - previous == WEEK else 1
        best = max(best, run)
        previous = week
    if best >= amount:
        return Dose("met", best, amount, None, last)
    if not weeks:
        return Dose("due", 0, amount, today, None)
    this_week = _monday(today)
    # the next session is due by the Sunday of the week after the last one with a session
    due = previous + WEEK + timedelta(days=6)
    if previous >= this_week - WEEK:
        return Dose("due", run, amount, due, last)
    return Dose("missed", run, amount, due, last)
