from datetime import date, timedelta

import pytest

from rehab_net.people.rules import (
    age_on,
    child_birth_cutoff,
    is_child,
    priority_class,
    seventh_birthday,
)


def test_seventh_birthday_is_no_longer_a_child():
    birth = date(2019, 11, 16)
    assert is_child(birth, date(2026, 11, 15))
    assert not is_child(birth, date(2026, 11, 16))


def test_leap_day_child_turns_seven_on_first_of_march():
    birth = date(2020, 2, 29)
    assert seventh_birthday(birth) == date(2027, 3, 1)
    assert is_child(birth, date(2027, 2, 28))
    assert not is_child(birth, date(2027, 3, 1))
    assert age_on(birth, date(2027, 2, 28)) == 6
    assert age_on(birth, date(2027, 3, 1)) == 7
    assert age_on(birth, date(2028, 2, 29)) == 8


def test_newborn_is_a_child():
    assert is_child(date(2026, 11, 16), date(2026, 11, 16))


def test_sql_cutoff_agrees_with_is_child_on_every_day():
    """The SQL filter (birth_date > cutoff) and the Python rule must never disagree, including
    around 29 February on both sides."""
    births = [date(2019, 1, 1) + timedelta(days=i) for i in range(0, 2 * 366)]
    days = [date(2026, 2, 20) + timedelta(days=i) for i in range(0, 800, 3)]
    days += [date(2027, 2, 28), date(2027, 3, 1), date(2028, 2, 28), date(2028, 2, 29)]
    births += [date(2020, 2, 29), date(2021, 2, 28), date(2021, 3, 1)]
    for on in days:
        cutoff = child_birth_cutoff(on)
        for b in births:
            assert is_child(b, on) == (b > cutoff), (b, on)


@pytest.mark.parametrize("birth, grade, poverty, expected", [
    (date(2021, 1, 1), 4, "none", "child"),       # a child whatever the grade
    (date(2021, 1, 1), 1, "dibao", "child"),
    (date(1980, 1, 1), 1, "none", "severe"),
    (date(1980, 1, 1), 2, "dibao", "severe"),     # severe comes before poor
    (date(1980, 1, 1), 3, "dibao", "poor"),
    (date(1980, 1, 1), 3, "jiandang", "poor"),
    (date(1980, 1, 1), 4, "none", "standard"),
    (date(2019, 11, 16), 4, "none", "standard"),  # 7 today: no longer a child
])
def test_priority_class(birth, grade, poverty, expected):
    assert priority_class(birth_date=birth, grade=grade, poverty_status=poverty,
                          on=date(2026, 11, 16)) == expected
