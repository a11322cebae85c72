"""The shared database helpers: the half-open overlap every booking rule is written with, and
``transactional``, the only place that commits."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_smorest.exceptions import NotModified
from sqlalchemy import literal, select
from sqlalchemy.exc import IntegrityError

from rehab_net.db import UTCDateTime, get_session, overlaps, transactional

NINE, TEN, ELEVEN, NOON = (datetime(2026, 11, 16, h, 0, tzinfo=UTC) for h in (1, 2, 3, 4))

# (period a, period b, overlap?): touching periods do not overlap, one moment shared does.
CASES = [
    ((NINE, TEN), (TEN, ELEVEN), False),        # a ends when b starts
    ((TEN, ELEVEN), (NINE, TEN), False),        # b ends when a starts
    ((NINE, ELEVEN), (TEN, NOON), True),        # they share 10:00-11:00
    ((NINE, NOON), (TEN, ELEVEN), True),        # b inside a
    ((TEN, ELEVEN), (TEN, ELEVEN), True),       # the same period
    ((NINE, TEN), (ELEVEN, NOON), False),       # apart
]


@pytest.mark.parametrize("a, b, expected", CASES)
def test_overlaps_on_values_is_half_open(a, b, expected):
    assert overlaps(*a, *b) is expected


@pytest.mark.parametrize("a, b, expected", CASES)
def test_overlaps_in_sql_says_the_same_as_in_python(session, a, b, expected):
    starts, ends = (literal(v, UTCDateTime()) for v in a)
    assert bool(session.scalar(select(overlaps(starts, ends, *b)))) is expected



# --- transactional: the one place that commits ---------------------------------------------------
def _periods(app) -> list[str]:
    """What another connection sees: only committed rows."""
    from rehab_net.scheduler.models import JobRun

    with app.extensions["rehab_engine"].connect() as conn:
        return sorted(conn.scalars(select(JobRun.period).where(JobRun.job == "tx-test")))


def _add(session, period: str) -> None:
    from rehab_net.scheduler.models import JobRun

    session.add(JobRun(job="tx-test", period=period, status="done"))
    session.flush()


def test_transactional_commits_on_return_and_rolls_back_on_error(app, session):
    @transactional
    def ok():
        _add(get_session(), "ok")

    @transactional
    def fails():
        _add(get_session(), "failed")
        raise ValueError("no")

    with app.app_context():  # the decorated functions use the app context's session
        ok()
        with pytest.raises(ValueError):
            fails()
    with transactional(session):
        _add(session, "block")
    assert _periods(app) == ["block", "ok"]


def test_a_3xx_raised_ends_the_transaction_without_failing_it(app, session):
    # flask-smorest's 304 Not Modified is raised: a read audited before it stays audited.
    with pytest.raises(NotModified), transactional(session):
        _add(session, "304")
        raise NotModified
    assert _periods(app) == ["304"]


def test_conflict_turns_a_database_refusal_into_the_given_error(app, session):
    class Refused(Exception):
        pass

    with transactional(session):
        _add(session, "twice")
    with pytest.raises(Refused) as caught, transactional(session, conflict=lambda e: Refused()):
        _add(session, "twice")  # the unique (job, period)
    assert caught.value.__cause__ is None  # no database message (it may quote values) chained
    with pytest.raises(IntegrityError), transactional(session):  # without: unchanged
        _add(session, "twice")
    assert _periods(app) == ["twice"]
