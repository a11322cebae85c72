"""The RQ tests' fixtures (tests/planning/test_planning_rq.py, test_planning_requeue.py): a REAL
redis-server per module (skipped without the binary), and the app queueing plans on it."""
from __future__ import annotations

import pytest

from tests.planning_helpers import on_redis
from tests.redis_server import redis_process


@pytest.fixture(scope="module")
def redis():
    try:
        with redis_process() as server:
            yield server
    except LookupError as exc:
        pytest.skip(str(exc))


@pytest.fixture
def rq_app(app, redis, session):
    return on_redis(app, redis.url, session)
