"""Configuration. Every setting can be given as an environment variable prefixed REHAB_."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "instance" / "rehab-net.sqlite3"


class Config:
    DATABASE_URL = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    SECRET_KEY = "dev-only-change-me"
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
    # How often an idle database-queue worker looks for a queued plan.
    WORKER_POLL_SECONDS = 2.0
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
