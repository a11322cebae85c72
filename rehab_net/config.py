"""Configuration. Every setting can be given as an environment variable prefixed REHAB_."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "instance" / "rehab-net.sqlite3"


class Config:
    DATABASE_URL = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    # Secrets. Empty in demo mode = generated once into instance/secrets.json (so `make run` needs
    # no set-up); outside demo mode the app refuses to start without them. See docs/security.md.
    SECRET_KEY = ""
    # Personal-data keys: "id:base64(32 bytes)[,id2:...]", the first encrypts, all decrypt.
    DATA_KEYS = ""
    # HMAC key of the resident-ID blind index (base64, >= 32 bytes).
    INDEX_KEY = ""
    # Sessions: idle timeout and absolute lifetime (minutes); the cookie is Secure outside demo
    # mode (set REHAB_SESSION_COOKIE_SECURE=false only behind plain HTTP on a closed network).
    SESSION_IDLE_MINUTES = 30
    SESSION_MAX_HOURS = 12
    SESSION_COOKIE_SECURE = ""  # empty = secure unless in demo mode; "true" / "false" to force
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Referral deadlines in working days, JSON overriding rehab_net/referrals/deadlines.py, e.g.
    # {"sent": {"urgent": 2}, "received": {"urgent": 5}}.
    REFERRAL_DEADLINES = ""
    # Booking (docs/booking.md). A hold (pending appointment) lapses unconfirmed after
    # BOOKING_HOLD_MINUTES; a waitlist offer after BOOKING_OFFER_HOURS, and no slot starting
    # within BOOKING_OFFER_LEAD_HOURS is offered; slots are generated BOOKING_WINDOW_WEEKS ahead.
    BOOKING_HOLD_MINUTES = 10
    BOOKING_OFFER_HOURS = 24
    BOOKING_OFFER_LEAD_HOURS = 2
    BOOKING_WINDOW_WEEKS = 8
    # Extra holiday CSV files (after the bundled one), separated by ':'.
    BOOKING_HOLIDAY_FILES = ""
    # Coverage against targets (rehab_net/coverage, docs/coverage.md): JSON overriding the
    # targets {"all": 0.8, "child": 0.95, "severe": 0.95, "poor": 1.0, "standard": 0.8}; the
    # first year of the cumulative columns; cells of 1 .. N-1 persons shown as "<N".
    COVERAGE_TARGETS = ""
    COVERAGE_BASE_YEAR = 2021
    COVERAGE_SMALL_CELL = 5
    # The children's rescue programme: training funded up to RESCUE_MONTHS_CAP months a year at
    # RESCUE_MONTHLY_PRICE yuan a month, at most RESCUE_AMOUNT_CAP yuan a year, in one category a
    # year (RESCUE_ONE_CATEGORY); warned RESCUE_WARN_MONTHS months before a cap.
    RESCUE_MONTHS_CAP = 10
    RESCUE_MONTHLY_PRICE = 2000
    RESCUE_AMOUNT_CAP = 20000
    RESCUE_ONE_CATEGORY = True
    RESCUE_WARN_MONTHS = 2
    # Reverse proxies in front of the app whose X-Forwarded-For / -Proto to trust (0 = none).
    TRUSTED_PROXIES = 0
    # Login throttling (rehab_net/auth/throttle.py, docs/security.md). Per (username, address),
    # over LOGIN_DELAY_WINDOW_HOURS and since the pair's last success: the first
    # LOGIN_FREE_FAILURES failures are free, then each next attempt waits LOGIN_DELAY_SECONDS,
    # doubling per failure, at most LOGIN_MAX_DELAY_SECONDS. Per address:
    # LOGIN_ADDRESS_MAX_FAILURES within LOGIN_WINDOW_MINUTES refuse it until they leave the
    # window. A username as such is never locked.
    LOGIN_WINDOW_MINUTES = 15
    LOGIN_DELAY_WINDOW_HOURS = 24
    LOGIN_FREE_FAILURES = 3
    LOGIN_DELAY_SECONDS = 1.0
    LOGIN_MAX_DELAY_SECONDS = 300.0
    LOGIN_ADDRESS_MAX_FAILURES = 30
    # The date "today" is read in this zone: a child's 7th birthday is a local date.
    TIMEZONE = "Asia/Shanghai"
    SQL_ECHO = False
    LOG_LEVEL = "WARNING"
    # Pin "today" (ISO date) for demos and tests; empty = the real date.
    TODAY = ""
    DEMO_MODE = True
    # Plans: empty = the plan table is the job queue (`rehab-net worker` polls it); a Redis URL
    # (redis://host:6379/0) = plans are pushed to the RQ queue "plans" instead.
    REDIS_URL = ""
    # Seconds the optimiser may take when a plan request gives no time_limit.
    PLAN_TIME_LIMIT = 600.0
    # How often an idle database-queue worker looks for a queued plan (one indexed SELECT; a
    # plan request waits half of it on average before a worker starts it).
    WORKER_POLL_SECONDS = 0.25
    # Plan retention (planning/retention.py): the newest PLAN_KEEP plans of each kind (plan,
    # scenario, sweep) are kept, older finished ones deleted nightly unless a report, a referral
    # or the baseline needs them; 0 = never delete.
    PLAN_KEEP = 20
    # flask-smorest / OpenAPI. No Swagger UI: it would load its assets from the internet.
    API_TITLE = "rehab-net API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.1.0"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    API_SPEC_OPTIONS = {
        "info": {"description": "Regions, facilities, services, capacities, persons and cases of a "
                                "tiered rehabilitation network. Errors are RFC 9457 problem+json."},
    }
    JSON_SORT_KEYS = False

    @classmethod
    def from_env(cls) -> dict:
        """Settings from REHAB_* environment variables override the class defaults."""
        values = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        for key in list(values):
            env = os.environ.get(f"REHAB_{key}")
            if env is not None:
                current = values[key]
                if isinstance(current, bool):
                    values[key] = env.lower() in ("1", "true", "yes")
                elif isinstance(current, int | float):  # numbers stay numbers
                    values[key] = type(current)(env)
                else:
                    values[key] = env
        return values


class TestConfig(Config):
    TESTING = True
    DATABASE_URL = "sqlite://"
    SECRET_KEY = "test"
    # Fixed test keys (never use outside tests): two data keys so rotation can be exercised.
    DATA_KEYS = ("t2:MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjI=,"
                 "t1:MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE=")
    INDEX_KEY = "SUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUk="
