"""The RQ queue with a REAL Redis server the suite starts itself (tests/redis_server.py), on SQLite
and PostgreSQL: a plan started through the API is pushed to the queue "plans", and
`rehab-net worker --burst` (a separate process, as in production) runs it to the end."""

import pytest

from rehab_net.planning import queue
from tests.planning_helpers import run_worker


@pytest.fixture
def redis_url(redis):  # redis and rq_app: tests/planning/conftest.py
    return redis.url


def jobs_waiting(redis_url) -> int:
    from rq import Queue

    return Queue(queue.QUEUE_NAME, connection=queue.redis_connection(redis_url)).count


def test_a_plan_goes_through_redis_to_an_rq_worker(rq_app, redis_url, client, session):
    resp = client.post("/api/v1/plans", json={"horizon_weeks": 1})
    assert resp.status_code == 202, resp.get_json()
    plan_id = resp.get_json()["id"]
    assert jobs_waiting(redis_url) == 1
    done = run_worker(rq_app, redis_url, "--burst")
    assert done.returncode == 0, done.stderr
    assert jobs_waiting(redis_url) == 0
    plan = client.get(f"/api/v1/plans/{plan_id}").get_json()
    assert plan["status"] == "optimal", (plan["message"], done.stderr[-2000:])
    assert plan["cases"] == 6 and plan["assigned"] == 4
    rows = client.get(f"/api/v1/plans/{plan_id}/assignments?page_size=100").get_json()
    assert len(rows) == 6


def test_a_plan_cancelled_while_queued_is_skipped_by_the_rq_worker(rq_app, redis_url, client,
                                                                   session):
    plan_id = client.post("/api/v1/plans", json={}).get_json()["id"]
    assert client.post(f"/api/v1/plans/{plan_id}/cancel").get_json()["status"] == "cancelled"
    session.close()
    done = run_worker(rq_app, redis_url, "--burst")
    assert done.returncode == 0, done.stderr
    assert client.get(f"/api/v1/plans/{plan_id}").get_json()["status"] == "cancelled"


def test_one_rq_burst_worker_runs_several_queued_plans(rq_app, redis_url, client, session):
    # SimpleWorker: the jobs run one after another in the worker's process and share its
    # optimiser child; the second plan must not find the first one's child in a bad state.
    first = client.post("/api/v1/plans", json={"horizon_weeks": 1}).get_json()["id"]
    second = client.post("/api/v1/plans", json={"horizon_weeks": 2}).get_json()["id"]
    assert jobs_waiting(redis_url) == 2
    session.close()
    done = run_worker(rq_app, redis_url, "--burst")
    assert done.returncode == 0, done.stderr
    assert jobs_waiting(redis_url) == 0
    for plan_id, assigned in ((first, 4), (second, 6)):  # two weeks hold every case
        plan = client.get(f"/api/v1/plans/{plan_id}").get_json()
        assert plan["status"] == "optimal", (plan["message"], done.stderr[-2000:])
        assert plan["cases"] == 6 and plan["assigned"] == assigned
