"""Local time. Storage is UTC; ages, deadlines, working days, report quarters, the scheduler and
the times on pages are read in one configured zone (TIMEZONE, REHAB_TIMEZONE; Asia/Shanghai by
default), which `zone()` is the only place to ask for. And the one month arithmetic on dates."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_app_context

DEFAULT_ZONE = "Asia/Shanghai"


def zone(app: Flask | None = None) -> ZoneInfo:
    """The configured zone of `app` (default: the current app); outside an app context (a
    script, a unit test of pure code) the default zone."""
    if app is None and has_app_context():
        app = current_app
    name = app.config.get("TIMEZONE") if app is not None else None
    return ZoneInfo(name or DEFAULT_ZONE)


def local_midnight(day: date) -> datetime:
    """The first moment of local `day`, aware in the configured zone."""
    return datetime.combine(day, time(0), tzinfo=zone())


def local_days(first: date, last: date) -> tuple[datetime, datetime]:
    """Local whole days first..last as the half-open interval [midnight of first, midnight
    after last), the shape every overlap test of this app compares with."""
    return local_midnight(first), local_midnight(last + timedelta(days=1))


def day_of(moment: datetime) -> date:
    """The local date of an aware moment: 2026-09-30 20:00 UTC is 1 October in Shanghai."""
    return moment.astimezone(zone()).date()


def today() -> date:
    """Today in the configured zone; REHAB_TODAY (ISO date) pins it for demos and tests."""
    if has_app_context():
        pinned = current_app.config.get("TODAY")
        if pinned:
            return pinned if isinstance(pinned, date) else date.fromisoformat(pinned)
    return datetime.now(zone()).date()


def add_months(d: date, months: int) -> date:
    """The same day ``months`` later; a day the month lacks becomes the 1st of the month after
    (31 August + 6 months = 1 March), as 29 February + 1 year is 1 March (people.rules). The
    certificates' transfer deadline and the catalogue's cycles and month ends use it."""
    total = d.month - 1 + months
    year, month = d.year + total // 12, total % 12 + 1
    try:
        return d.replace(year=year, month=month)
    except ValueError:
        return date(year + month // 12, month % 12 + 1, 1)
