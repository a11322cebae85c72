"""Periodic jobs (rehab_net/scheduler/): once per period, races, failures, stale runs, catch-up, the
one-scheduler lock and `rehab-net scheduler`, on SQLite and PostgreSQL. Time is passed in (`now`),
never waited for."""
from __future__ import annotations

import os
import select as select_module
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from rehab_net.auth.models import AuditEvent
from rehab_net.cli import main
from rehab_net.config import PROJECT_ROOT, TestConfig
from rehab_net.db import utcnow
from rehab_net.scheduler import (
    JOBS,
    Job,
    JobRun,
    SchedulerLock,
    build_scheduler,
    catch_up,
    load_jobs,
    minute_slot,
    missed_quarters,
    previous_quarter,
    register,
    run_job,
    run_scheduler,
    unregister,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 8, 16, tzinfo=SHANGHAI)  # slot 08:15 of a 5-minute job


# --- job functions the tests schedule (imported by path, like real jobs) -----------------------
CALLS: list[tuple[str, datetime]] = []
_calls_lock = threading.Lock()
FAIL = threading.Event()


def _called(name: str, session, now: datetime) -> dict:
    from rehab_net.auth import audit

    with _calls_lock:
        CALLS.append((name, now))
    audit.record(session, "export", "job_test", name)  # a change the job's transaction commits
    return {"now": now.isoformat()}


def record_call(session, now):
    return _called("record", session, now)


def slow_call(session, now):
    time.sleep(0.3)  # long enough for a racing scheduler to meet the running row
    return _called("slow", session, now)


def failing_call(session, now):
    detail = _called("failing", session, now)
    if FAIL.is_set():
        raise RuntimeError("boom")
    return detail


def overtaken_call(session, now):
    """Another scheduler takes this run over as stale while it works."""
    from flask import current_app
    from sqlalchemy import update

    with current_app.extensions["rehab_engine"].begin() as conn:
        conn.execute(update(JobRun.__table__).where(JobRun.job == "test-overtaken")
                     .values(started_at=utcnow() + timedelta(seconds=1)))
    return _called("overtaken", session, now)


def constant_period(_now):
    return "always"


@pytest.fixture(autouse=True)
def _clean_calls():
    CALLS.clear()
    FAIL.clear()
    yield
    CALLS.clear()
    FAIL.clear()


@pytest.fixture
def registered():
    """Register test jobs; the scheduler sees only them (not the app's real jobs)."""
    saved = load_jobs()  # the real ones (registered by create_app), put back afterwards
    JOBS.clear()
    yield register
    JOBS[:] = saved


def rows(session, job_id: str) -> list[JobRun]:
    """The runs of ``job_id`` as committed (each run commits in an app context of its own)."""
    session.expire_all()
    found = session.scalars(select(JobRun).where(JobRun.job == job_id).order_by(JobRun.period))
    return list(found)


def job_events(session) -> list[str]:
    """The actors of the audit events the test jobs wrote (committed ones only)."""
    return list(session.scalars(select(AuditEvent.actor)
                                .where(AuditEvent.object_type == "job_test")
                                .order_by(AuditEvent.id)))


def slot_job(job_id="test-slot", func="record_call", minutes=5) -> Job:
    return Job.every_minutes(job_id, f"tests.scheduler.test_jobs:{func}", minutes=minutes)


# --- the registry -------------------------------------------------------------------------------
def test_the_registry(registered):
    job = registered(slot_job())
    assert registered(job) is job and JOBS == [job]  # a module imported twice: no harm
    with pytest.raises(ValueError, match="already registered"):
        registered(slot_job(func="slow_call"))
    unregister("test-slot")
    assert JOBS == []
    with pytest.raises(ValueError, match="module:function"):
        Job("x", lambda zone: None, "tests.scheduler.test_jobs.record_call", constant_period)


APP_JOBS = ["certificate-date-rules", "referral_deadlines", "booking-expire-holds",
            "booking-generate-slots", "planning-requeue", "planning-prune", "quarterly_report"]


def test_the_app_registers_every_modules_jobs():
    """Each module's init_app registers its jobs: a fresh process knows them all once the app is
    built, whichever views it imported (booking's were once known only after its views)."""
    code = ("from rehab_net import create_app, scheduler\n"
            "before = [j.id for j in scheduler.load_jobs()]\n"
            "create_app()\n"
            "print(before, [j.id for j in scheduler.load_jobs()])\n")
    env = {**os.environ, "REHAB_DATABASE_URL": "sqlite://",
           "REHAB_SECRET_KEY": TestConfig.SECRET_KEY, "REHAB_DATA_KEYS": TestConfig.DATA_KEYS,
           "REHAB_INDEX_KEY": TestConfig.INDEX_KEY}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"[] {APP_JOBS}"


# --- once per period ----------------------------------------------------------------------------
def test_a_period_runs_once_and_the_next_period_again(app, session):
    job = slot_job()
    assert run_job(app, job, NOW) == "done"
    assert run_job(app, job, NOW) == "skipped"  # a double trigger
    assert run_job(app, job, NOW + timedelta(minutes=3)) == "skipped"  # same slot, 08:15
    assert run_job(app, job, NOW + timedelta(minutes=4)) == "done"  # 08:20
    assert [c[1] for c in CALLS] == [NOW, NOW + timedelta(minutes=4)]
    found = rows(session, "test-slot")
    assert [(r.period, r.status) for r in found] == [("2026-11-23T08:15", "done"),
                                                   ("2026-11-23T08:20", "done")]
    assert found[0].detail == {"now": NOW.isoformat()} and found[0].error is None
    assert found[0].started_at <= found[0].finished_at
    # the job's changes were committed, attributed to the scheduler's job
    assert job_events(session) == ["system:scheduler:test-slot"] * 2


def test_two_schedulers_racing_on_one_period_run_it_once(app, session):
    job = slot_job("test-race", "slow_call")
    barrier = threading.Barrier(2)
    results: list[str] = []

    def scheduler():
        barrier.wait()
        try:
            results.append(run_job(app, job, NOW))
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            results.append(repr(exc))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["done", "skipped"]
    assert len(CALLS) == 1
    assert [(r.period, r.status) for r in rows(session, "test-race")] == [
        ("2026-11-23T08:15", "done")]


def test_a_failing_job_is_recorded_and_retried_by_the_next_trigger(app, session, caplog):
    job = slot_job("test-fail", "failing_call")
    FAIL.set()
    assert run_job(app, job, NOW) == "failed"  # does not raise
    assert "job test-fail 2026-11-23T08:15 failed" in caplog.text
    (row,) = rows(session, "test-fail")
    assert row.status == "failed" and row.error == "RuntimeError: boom"
    assert row.finished_at is not None and row.detail is None
    # its changes were rolled back
    assert job_events(session) == []
    FAIL.clear()
    assert run_job(app, job, NOW) == "done"
    (row,) = rows(session, "test-fail")
    assert row.status == "done" and row.error is None and row.detail == {"now": NOW.isoformat()}
    assert run_job(app, job, NOW) == "skipped"
    assert len(CALLS) == 2


def _running_row(session, job_id: str, period: str, started_at: datetime) -> None:
    session.add(JobRun(job=job_id, period=period, status="running", started_at=started_at))
    session.commit()


def test_a_stale_running_row_is_taken_over_and_a_fresh_one_is_not(app, session):
    job = slot_job("test-stale")
    died, working = utcnow() - timedelta(hours=2), utcnow() - timedelta(minutes=10)
    _running_row(session, "test-stale", "2026-11-23T08:15", died)
    _running_row(session, "test-stale", "2026-11-23T08:20", working)
    assert run_job(app, job, NOW) == "done"
    assert run_job(app, job, NOW + timedelta(minutes=5)) == "skipped"
    assert [(r.period, r.status) for r in rows(session, "test-stale")] == [
        ("2026-11-23T08:15", "done"), ("2026-11-23T08:20", "running")]
    assert len(CALLS) == 1
    # the staleness is the job's own (a job known to run long can say so)
    patient = Job.every_minutes("test-stale", "tests.scheduler.test_jobs:record_call",
                                stale_after=timedelta(hours=3))
    _running_row(session, "test-stale", "2026-11-23T08:25", utcnow() - timedelta(hours=2))
    assert run_job(app, patient, NOW + timedelta(minutes=10)) == "skipped"


def test_a_run_taken_over_while_it_works_rolls_back(app, session):
    """The old run finishing after all must not commit a second time for the same period."""
    job = slot_job("test-overtaken", "overtaken_call")
    assert run_job(app, job, NOW) == "skipped"
    (row,) = rows(session, "test-overtaken")
    assert row.status == "running"  # the other run's
    assert job_events(session) == []


# --- periods and catch-up -----------------------------------------------------------------------
def test_periods_are_local_slots_and_ended_quarters():
    assert minute_slot(5)(datetime(2026, 11, 23, 0, 14, 59, tzinfo=UTC)) == "2026-11-23T08:10"
    assert minute_slot(15)(datetime(2026, 11, 22, 16, 0, tzinfo=UTC)) == "2026-11-23T00:00"
    with pytest.raises(ValueError):
        minute_slot(7)
    # 2026-10-01 00:30 in Shanghai is still 30 September in UTC: the local date counts
    assert previous_quarter(datetime(2026, 9, 30, 16, 30, tzinfo=UTC)) == "2026-Q3"
    assert previous_quarter(datetime(2026, 9, 30, 15, 30, tzinfo=UTC)) == "2026-Q2"
    assert previous_quarter(datetime(2026, 2, 1, tzinfo=UTC)) == "2025-Q4"


def test_missed_quarters():
    now = datetime(2026, 11, 23, 10, tzinfo=SHANGHAI)
    due = [t.astimezone(SHANGHAI) for t in missed_quarters("2026-Q1", now)]
    assert due == [datetime(2026, 7, 1, tzinfo=SHANGHAI), datetime(2026, 10, 1, tzinfo=SHANGHAI)]
    assert [previous_quarter(t) for t in due] == ["2026-Q2", "2026-Q3"]
    assert missed_quarters("2026-Q3", now) == []
    assert [previous_quarter(t) for t in missed_quarters(None, now)] == ["2026-Q3"]
    assert [previous_quarter(t) for t in missed_quarters("2025-Q3", now)] == [
        "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
    assert [previous_quarter(t) for t in missed_quarters("2020-Q1", now)] == [
        "2024-Q4", "2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]


def test_catch_up_runs_each_missed_quarter_once_in_order(app, session, registered):
    job = registered(Job.quarterly("test-quarterly", "tests.scheduler.test_jobs:record_call"))
    session.add(JobRun(job=job.id, period="2026-Q1", status="done", started_at=utcnow()))
    session.commit()
    now = datetime(2026, 11, 23, 10, tzinfo=SHANGHAI)
    assert catch_up(app, [job], now) == [("test-quarterly", "2026-Q2", "done"),
                                         ("test-quarterly", "2026-Q3", "done")]
    assert [c[1] for c in CALLS] == [datetime(2026, 7, 1, tzinfo=SHANGHAI),
                                     datetime(2026, 10, 1, tzinfo=SHANGHAI)]
    # a second start (catch-up, then the job once) runs nothing
    lines: list[str] = []
    assert run_scheduler(app, once=True, now=now,
                         report=lambda m, err=False: lines.append(m)) == 0
    assert "scheduler: test-quarterly 2026-Q3: skipped" in lines
    assert not any("catch-up" in line for line in lines)
    assert len(CALLS) == 2
    assert [(r.period, r.status) for r in rows(session, job.id)] == [
        ("2026-Q1", "done"), ("2026-Q2", "done"), ("2026-Q3", "done")]


def test_catch_up_stops_at_a_failure_so_the_next_start_retries_it(app, session):
    job = Job.quarterly("test-quarterly-fail", "tests.scheduler.test_jobs:failing_call")
    session.add(JobRun(job=job.id, period="2026-Q1", status="done", started_at=utcnow()))
    session.commit()
    now = datetime(2026, 11, 23, 10, tzinfo=SHANGHAI)
    FAIL.set()
    assert catch_up(app, [job], now) == [("test-quarterly-fail", "2026-Q2", "failed")]
    FAIL.clear()
    assert catch_up(app, [job], now) == [("test-quarterly-fail", "2026-Q2", "done"),
                                         ("test-quarterly-fail", "2026-Q3", "done")]


# --- the scheduler ------------------------------------------------------------------------------
def test_the_scheduler_is_set_up_as_documented(app):
    from apscheduler.schedulers.base import BaseScheduler

    quarterly = Job.quarterly("test-q", "tests.scheduler.test_jobs:record_call")
    scheduler = build_scheduler(app, [slot_job(), quarterly])
    assert scheduler.timezone == SHANGHAI
    BaseScheduler.start(scheduler, paused=True)  # adds the jobs without BlockingScheduler's loop
    try:
        jobs = {j.id: j for j in scheduler.get_jobs()}
        assert set(jobs) == {"test-slot", "test-q"}
        for j in jobs.values():
            assert (j.misfire_grace_time, j.coalesce, j.max_instances) == (3600, True, 1)
        start = datetime(2026, 11, 23, 8, 16, tzinfo=SHANGHAI)
        assert jobs["test-slot"].trigger.get_next_fire_time(None, start) == \
            datetime(2026, 11, 23, 8, 20, tzinfo=SHANGHAI)
        assert jobs["test-q"].trigger.get_next_fire_time(None, start) == \
            datetime(2027, 1, 1, 1, 0, tzinfo=SHANGHAI)
    finally:
        BaseScheduler.shutdown(scheduler, wait=False)


def test_a_second_scheduler_lock_is_refused_while_the_first_is_held(app):
    engine = app.extensions["rehab_engine"]
    first, second = SchedulerLock(engine), SchedulerLock(engine)
    assert first.acquire()
    try:
        assert not second.acquire()
    finally:
        first.release()
    assert second.acquire()
    second.release()


def cli(app, *args):
    return app.test_cli_runner().invoke(main, list(args))


def test_scheduler_once_runs_the_registered_jobs(app, session, registered):
    registered(Job("test-cli", lambda zone: None, "tests.scheduler.test_jobs:record_call",
                   constant_period))
    result = cli(app, "scheduler", "--once")
    assert result.exit_code == 0, result.output
    assert "1 job(s): test-cli" in result.output
    assert "scheduler: test-cli always: done" in result.output
    assert [(r.period, r.status) for r in rows(session, "test-cli")] == [("always", "done")]
    result = cli(app, "scheduler", "--once")
    assert result.exit_code == 0 and "scheduler: test-cli always: skipped" in result.output
    assert len(CALLS) == 1


def test_scheduler_once_exits_1_when_a_job_failed(app, session, registered):
    registered(Job("test-cli-fail", lambda zone: None, "tests.scheduler.test_jobs:failing_call",
                   constant_period))
    FAIL.set()
    result = cli(app, "scheduler", "--once")
    assert result.exit_code == 1 and "test-cli-fail always: failed" in result.output
    assert rows(session, "test-cli-fail")[0].error == "RuntimeError: boom"


def test_scheduler_once_exits_3_when_another_scheduler_holds_the_lock(app, session, registered):
    registered(Job("test-cli", lambda zone: None, "tests.scheduler.test_jobs:record_call",
                   constant_period))
    lock = SchedulerLock(app.extensions["rehab_engine"])
    assert lock.acquire()
    try:
        result = cli(app, "scheduler", "--once")
    finally:
        lock.release()
    assert result.exit_code == 3
    assert "another scheduler holds the lock" in result.output
    assert CALLS == [] and rows(session, "test-cli") == []


def _read_line_until(proc, words: str, seconds: float = 30) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select_module.select([proc.stdout], [], [], 0.1)
        if ready:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if words in line:
                return lines
    raise AssertionError(f"no {words!r} from the scheduler: {lines}")


def test_the_scheduler_process_holds_the_lock_and_stops_cleanly_on_sigterm(app):
    env = {**os.environ, "REHAB_DATABASE_URL": app.config["DATABASE_URL"],
           "REHAB_SECRET_KEY": TestConfig.SECRET_KEY, "REHAB_DATA_KEYS": TestConfig.DATA_KEYS,
           "REHAB_INDEX_KEY": TestConfig.INDEX_KEY}
    proc = subprocess.Popen([sys.executable, "-m", "rehab_net.cli", "scheduler"], env=env,
                            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        lines = _read_line_until(proc, "scheduler: running")
        assert "referral_deadlines" in lines[0]  # the modules' init_app registered the real jobs
        lock = SchedulerLock(app.extensions["rehab_engine"])
        assert not lock.acquire()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        assert "scheduler: stopped" in proc.stdout.read()
        assert lock.acquire()  # released
        lock.release()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
