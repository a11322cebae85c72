from datetime import date

import pytest

from rehab_net.masking import mask
from rehab_net.people.identifiers import (
    IdentifierError,
    check_certificate,
    check_character,
    make_certificate,
    make_resident_id,
    parse_certificate,
    parse_resident_id,
)

# The worked example of GB 11643 (check character X).
GB_EXAMPLE = "11010519491231002X"


def test_standard_example_with_x_check_character():
    rid = parse_resident_id(GB_EXAMPLE)
    assert rid.birth_date == date(1949, 12, 31)
    assert rid.sex == "F"  # 17th digit 2 is even
    assert rid.region_code == "110105"


def test_lower_case_x_is_accepted_and_normalised():
    assert parse_resident_id(GB_EXAMPLE.lower()).number == GB_EXAMPLE


@pytest.mark.parametrize("bad_check", ["0", "1", "9"])
def test_wrong_check_character_is_refused(bad_check):
    with pytest.raises(IdentifierError, match="check character"):
        parse_resident_id(GB_EXAMPLE[:17] + bad_check)


def test_every_check_value_round_trips():
    # Sequences 0..999 on one date cover all eleven check characters, X included.
    seen = set()
    for seq in range(1000):
        rid = make_resident_id("150702", date(2021, 6, 1), seq)
        assert parse_resident_id(rid).number == rid
        seen.add(rid[-1])
    assert seen == set("0123456789X")


def test_leap_day_birth_dates():
    assert parse_resident_id(make_resident_id("150702", date(2020, 2, 29), 5)).birth_date == \
        date(2020, 2, 29)
    first17 = "150702" + "20210229" + "005"  # 2021 is not a leap year
    with pytest.raises(IdentifierError, match="not a real date"):
        parse_resident_id(first17 + check_character(first17))


@pytest.mark.parametrize("value, rule", [
    ("", "18 characters"),
    ("1507022020022900", "18 characters"),
    ("15070220200229005XX", "18 characters"),
    ("15070220200229X005", "18 characters"),
    ("150702189912310051", "before 1900"),
])
def test_malformed_resident_ids(value, rule):
    if rule == "before 1900":
        value = value[:17] + check_character(value[:17])
    with pytest.raises(IdentifierError, match=rule):
        parse_resident_id(value)


def test_error_messages_never_echo_the_number():
    with pytest.raises(IdentifierError) as info:
        parse_resident_id(GB_EXAMPLE[:17] + "1")
    assert GB_EXAMPLE[:17] not in str(info.value)


def test_certificate_matches_person_category_and_grade():
    rid = make_resident_id("150721", date(2022, 3, 4), 17)
    cert = make_certificate(rid, "hearing", 2)
    assert cert == rid + "22"
    assert check_certificate(cert, resident_id=rid, category="hearing", grade=2).grade == 2


def test_autism_is_certified_as_mental():
    rid = make_resident_id("150721", date(2022, 3, 4), 17)
    assert make_certificate(rid, "autism", 1).endswith("61")
    check_certificate(rid + "61", resident_id=rid, category="autism", grade=1)
    with pytest.raises(IdentifierError, match="category digit 6"):
        check_certificate(rid + "61", resident_id=rid, category="intellectual", grade=1)


@pytest.mark.parametrize("suffix, category, grade, rule", [
    ("42", "hearing", 2, "category digit 4"),
    ("23", "hearing", 2, "grade digit 3"),
    ("82", "hearing", 2, "category digit must be 1-7"),
    ("25", "hearing", 2, "grade digit must be 1-4"),
])
def test_certificate_mismatches(suffix, category, grade, rule):
    rid = make_resident_id("150721", date(2022, 3, 4), 17)
    with pytest.raises(IdentifierError, match=rule):
        check_certificate(rid + suffix, resident_id=rid, category=category, grade=grade)


def test_certificate_of_someone_else():
    mine = make_resident_id("150721", date(2022, 3, 4), 17)
    other = make_resident_id("150721", date(2022, 3, 4), 19)
    with pytest.raises(IdentifierError, match="person's resident ID"):
        check_certificate(other + "22", resident_id=mine, category="hearing", grade=2)


def test_certificate_length_and_embedded_id():
    with pytest.raises(IdentifierError, match="20 characters"):
        parse_certificate(GB_EXAMPLE + "2")
    with pytest.raises(IdentifierError, match="check character"):
        parse_certificate(GB_EXAMPLE[:17] + "1" + "22")


def test_mask_shows_first_three_and_last_four():
    assert mask(GB_EXAMPLE) == "110" + "*" * 11 + "002X"
    assert mask("13912345678") == "139****5678"
    assert mask(None) is None
    assert mask("12345") == "*****"
