"""The rules that decide who is served first. Priority is derived from facts, never typed in.

Dates: ages are counted on local (Asia/Shanghai) dates. A person born on 29 February reaches a new
age on 1 March in common years (the day after 28 February); the 7th birthday of anyone born on
29 February always falls in a common year, so it is 1 March.
"""
from __future__ import annotations

from datetime import date

CHILD_AGE_LIMIT = 7  # the free rescue programme covers ages 0-6: it ends on the 7th birthday
SEVERE_GRADES = (1, 2)


def add_years(d: date, years: int) -> date:
    """The anniversary `years` after `d`; 29 February becomes 1 March in a common year."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February -> common year
        return date(d.year + years, 3, 1)


def seventh_birthday(birth_date: date) -> date:
    return add_years(birth_date, CHILD_AGE_LIMIT)


def is_child(birth_date: date, on: date) -> bool:
    """Under 7 on the date: the 7th birthday itself is no longer a child's day."""
    return on < seventh_birthday(birth_date)


def child_birth_cutoff(on: date) -> date:
    """The latest birth date of someone who is NOT a child on `on`; children are born after it.
    Used to filter in SQL. Consistent with is_child: born 29 Feb -> 7th birthday 1 March."""
    try:
        return on.replace(year=on.year - CHILD_AGE_LIMIT)
    except ValueError:  # `on` is 29 February: births up to 28 February have had their birthday
        return date(on.year - CHILD_AGE_LIMIT, 2, 28)


def age_on(birth_date: date, on: date) -> int:
    years = on.year - birth_date.year
    if on < add_years(birth_date, years):
        years -= 1
    return years


def priority_class(*, birth_date: date, grade: int, poverty_status: str, on: date) -> str:
    """child (under 7 on `on`) > severe (grade 1-2) > poor (dibao or jiandang) > standard."""
    if is_child(birth_date, on):
        return "child"
    if grade in SEVERE_GRADES:
        return "severe"
    if poverty_status != "none":
        return "poor"
    return "standard"
