"""The state-machine idiom (rehab_net/states.py): the sets derived from each table, and the one
move (a conditional UPDATE; 409 naming the state) on a case, on both databases."""
import pytest

from rehab_net.booking.states import (
    ACTIVE_APPOINTMENT_STATUSES,
    API_ACTIONS,
    APPOINTMENT,
    HELD_APPOINTMENT_STATUSES,
    PAGE_ACTIONS,
    WAITLIST,
    route_pattern,
)
from rehab_net.errors import Conflict
from rehab_net.people import operations as people
from rehab_net.people.models import Case
from rehab_net.people.states import CASE, OPEN_CASE_STATUSES
from rehab_net.planning.states import FINISHED_STATUSES, PLAN
from rehab_net.referrals.states import (
    BOOKABLE_REFERRAL_STATES,
    FINAL_REFERRAL_STATES,
    OPEN_REFERRAL_STATES,
    REFERRAL,
    allowed_actions,
)
from tests.factories import create_case, tiny_network


def test_the_sets_are_derived_from_the_tables():
    assert FINAL_REFERRAL_STATES == ("declined", "returned", "closed", "cancelled", "expired")
    assert OPEN_REFERRAL_STATES == ("draft", "sent", "received", "accepted", "in_progress",
                                    "completed")
    assert BOOKABLE_REFERRAL_STATES == ("accepted", "in_progress")
    assert allowed_actions("received") == ["accept", "decline", "return", "cancel"]
    assert REFERRAL.can("expire", "sent") and "expire" not in allowed_actions("sent")
    assert APPOINTMENT.final == ("fulfilled", "cancelled", "noshow")
    assert ACTIVE_APPOINTMENT_STATUSES == ("proposed", "pending", "booked", "arrived",
                                           "fulfilled")
    assert HELD_APPOINTMENT_STATUSES == ("proposed", "pending")
    assert API_ACTIONS == ("confirm", "decline", "cancel", "reschedule", "arrive", "fulfil",
                           "noshow")
    assert route_pattern(PAGE_ACTIONS) == ("<any(confirm, decline, cancel, arrive, fulfil, "
                                           "noshow):action>")
    assert WAITLIST.open == ("waiting", "offered")
    assert FINISHED_STATUSES == ("optimal", "feasible", "error", "cancelled")
    assert PLAN.targets_from("queued") == {"running", "cancelled", "error"}
    # no case status is final: a new referral carries even a closed case on
    assert CASE.final == () and OPEN_CASE_STATUSES == (
        "registered", "waiting", "referred", "accepted", "in_service")
    assert {CASE.actions[a].target for a in CASE.actions_from("in_service")} == {"closed"}


def test_a_table_naming_an_unknown_state_is_refused():
    from rehab_net.states import Action, Machine

    with pytest.raises(AssertionError):
        Machine("thing", ("a", "b"), (Action("go", ("a",), "c"),))


def test_move_case_is_one_conditional_update(session):
    from datetime import UTC, datetime

    tiny_network(session)
    case = create_case(session)
    session.commit()
    now = datetime(2026, 11, 16, 1, tzinfo=UTC)
    people.move_case(session, case, "wait", now=now, actor="test")
    assert case.status == "waiting" and case.version == 2
    with pytest.raises(Conflict) as refused:  # the action does not leave the state read
        people.move_case(session, case, "wait", now=now, actor="test")
    assert refused.value.detail == "A case that is waiting cannot be put on the waiting list."
    # someone else moved it after we read it: nothing is written, 409 names the state now
    stale = session.get(Case, case.id)
    CASE.move(session, Case, case.id, "refer", from_state="waiting", expected_version=2)
    with pytest.raises(Conflict) as raced:
        CASE.move(session, Case, stale.id, "close", from_state="waiting", expected_version=2)
    assert raced.value.detail == "Someone else changed this case first: it is now referred."
    assert not CASE.move(session, Case, case.id, "wait", strict=False)  # not from referred
    session.rollback()
