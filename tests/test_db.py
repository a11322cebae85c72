"""The shared database helpers: the half-open overlap every booking rule is written with."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import literal, select

from rehab_net.db import UTCDateTime, overlaps

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
