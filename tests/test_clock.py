"""The local zone is the configured one (TIMEZONE, REHAB_TIMEZONE) everywhere a local day or time
is read: working days, the scheduler's periods, the times on pages."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask

from rehab_net import clock, workdays
from rehab_net.config import Config
from rehab_net.scheduler import periods

# Friday 20 November 2026, 20:00 UTC: already Saturday 04:00 in Shanghai.
FRIDAY_EVENING_UTC = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)


@pytest.fixture
def in_zone():
    """Run the body inside an app context whose TIMEZONE is the given name."""
    def push(name: str):
        app = Flask(__name__)
        app.config["TIMEZONE"] = name
        return app.app_context()
    return push


def test_the_zone_is_shanghai_outside_an_app_and_the_configured_one_inside(in_zone):
    assert clock.zone().key == "Asia/Shanghai"
    with in_zone("UTC"):
        assert clock.zone().key == "UTC"
        assert clock.day_of(FRIDAY_EVENING_UTC).isoformat() == "2026-11-20"
    with in_zone("Asia/Shanghai"):
        assert clock.day_of(FRIDAY_EVENING_UTC).isoformat() == "2026-11-21"


def test_local_days_run_from_local_midnight_to_the_midnight_after_the_last(in_zone):
    with in_zone("Asia/Shanghai"):
        first, end = clock.local_days(date(2026, 11, 21), date(2026, 11, 22))
        assert first.astimezone(UTC) == datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
        assert end - first == timedelta(days=2)
        assert first <= FRIDAY_EVENING_UTC < end  # Saturday 04:00 local is inside
    with in_zone("Europe/Berlin"):  # the night clocks go back is 25 hours long
        first, end = clock.local_days(date(2026, 10, 25), date(2026, 10, 25))
        assert (end.astimezone(UTC) - first.astimezone(UTC)) == timedelta(hours=25)
        assert clock.local_midnight(date(2026, 10, 26)) == end


def test_rehab_timezone_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("REHAB_TIMEZONE", "Europe/Berlin")
    app = Flask(__name__)
    app.config.update(Config.from_env())
    assert clock.zone(app).key == "Europe/Berlin"


def test_working_days_are_counted_in_the_configured_zone(in_zone):
    # In Shanghai the moment falls on a Saturday: the count starts Monday 08:00 local, and one
    # working day later is Tuesday 08:00 local. In UTC it is a Friday evening: Monday evening.
    with in_zone("Asia/Shanghai"):
        assert workdays.add_working_days(FRIDAY_EVENING_UTC, 1) == datetime(
            2026, 11, 24, 0, 0, tzinfo=UTC)
    with in_zone("UTC"):
        assert workdays.add_working_days(FRIDAY_EVENING_UTC, 1) == datetime(
            2026, 11, 23, 20, 0, tzinfo=UTC)


def test_the_scheduler_periods_follow_the_configured_zone(in_zone):
    new_quarter_in_shanghai = datetime(2026, 9, 30, 17, 0, tzinfo=UTC)  # 1 October, 01:00
    with in_zone("Asia/Shanghai"):
        assert periods.previous_quarter(new_quarter_in_shanghai) == "2026-Q3"
    with in_zone("UTC"):
        assert periods.previous_quarter(new_quarter_in_shanghai) == "2026-Q2"


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_pages_show_times_in_the_configured_zone(app):
    local_time = app.jinja_env.filters["local_time"]
    with app.app_context():
        assert local_time(FRIDAY_EVENING_UTC) == "2026-11-21 04:00"
        app.config["TIMEZONE"] = "UTC"
        assert local_time(FRIDAY_EVENING_UTC) == "2026-11-20 20:00"
