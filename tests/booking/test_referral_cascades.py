"""A referral's end cancels what it holds (issue 14 item 4): closing, cancelling, expiring,
declining or returning a referral cancels its future appointments (reason referral_closed),
removes its waitlist entries, offers the freed places to the waitlist and tells the facility
that held them; attended history is never touched. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from rehab_net.auth.models import AuditEvent
from rehab_net.booking import operations as booking
from rehab_net.booking import waitlist
from rehab_net.booking.models import Appointment, WaitlistEntry
from rehab_net.people.models import Case
from rehab_net.referrals.models import Notification, Referral
from rehab_net.referrals.operations.workflow import transition
from rehab_net.referrals.states import FINAL_REFERRAL_STATES
from tests.booking_world import (
    api,
    at,
    invariants,
    local_today,
    make_slot,
    new_child_referral,
    next_monday,
)
from tests.factories import REFERRAL_STEP_TEXT, create_appointment, create_referral

NOW = datetime.now(UTC)


def step(session, referral, action, now):
    needs = {"cancel": ("reason",), "decline": ("reason", "reason_code"),
             "return": ("reason",), "complete": ("outcome",)}
    transition(session, referral, action, principal=None, now=now,
               **{k: REFERRAL_STEP_TEXT[k] for k in needs.get(action, ())})


def cascade_notes(session, referral):
    return session.scalars(select(Notification).where(
        Notification.referral_id == referral.id,
        Notification.kind == "referral_bookings_cancelled")).all()


def status(session, appointment):
    session.expire_all()
    fresh = session.get(Appointment, appointment.id)
    return fresh.status, fresh.cancel_reason


def test_cancelling_an_accepted_referral_cancels_its_bookings_and_offers_the_places(app, w,
                                                                                    session):
    with app.app_context():
        ref, other = w["referrals"][0], w["referrals"][1]
        monday = next_monday()
        slot = make_slot(session, w, at(monday, 9))
        held_slot = make_slot(session, w, at(monday + timedelta(days=1), 9))
        booked = create_appointment(session, ref, slot, now=NOW)
        held = create_appointment(session, ref, held_slot, now=NOW, hold=True)
        entry, _ = waitlist.add(session, ref, note=None, principal=None, now=NOW)
        waiting, _ = waitlist.add(session, other, note=None, principal=None, now=NOW)
        session.commit()

        step(session, ref, "cancel", NOW)
        session.commit()

        assert status(session, booked) == ("cancelled", "referral_closed")
        assert status(session, held) == ("cancelled", "referral_closed")
        assert session.get(WaitlistEntry, entry.id).status == "removed"
        assert session.get(WaitlistEntry, entry.id).removed_reason == "referral_closed"
        # the booked place went to the next waiting case, as an offer
        offer = session.scalar(select(Appointment).where(Appointment.slot_id == slot.id,
                                                         Appointment.status == "proposed"))
        assert offer is not None and offer.referral_id == other.id
        assert session.get(WaitlistEntry, waiting.id).status == "offered"
        # the centre, whose practitioner held the places, is told once
        notes = cascade_notes(session, ref)
        assert [n.facility_id for n in notes] == [w["centre"].id]
        removed = session.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "waitlist_entry",
            AuditEvent.object_code == str(entry.id))).all()
        assert any(e.reason == "referral_closed" for e in removed)
        assert invariants(session) == {"over_capacity": [], "practitioner_overlap": [],
                                       "person_overlap": []}


def test_attended_history_stays_and_only_future_appointments_go(app, w, session):
    with app.app_context():
        ref = w["referrals"][0]
        monday = next_monday()
        first = make_slot(session, w, at(monday, 9))
        later = make_slot(session, w, at(monday + timedelta(days=7), 9))
        missed_slot = make_slot(session, w, at(monday + timedelta(days=1), 9))
        attended = create_appointment(session, ref, first, now=NOW)
        missed = create_appointment(session, ref, missed_slot, now=NOW)
        future = create_appointment(session, ref, later, now=NOW)
        during = first.starts_at + timedelta(minutes=5)
        booking.arrive(session, attended, principal=None, now=during)
        booking.fulfil(session, attended, principal=None, now=during)  # the referral starts
        booking.noshow(session, missed, principal=None,
                       now=missed_slot.starts_at + timedelta(minutes=20))
        session.commit()
        assert session.get(Referral, ref.id).state == "in_progress"

        end = missed_slot.starts_at + timedelta(hours=2)  # between the history and the future one
        step(session, ref, "complete", end)
        assert status(session, future) == ("booked", None)  # completing alone cancels nothing
        step(session, ref, "acknowledge", end)  # the sender closes the loop
        session.commit()

        assert status(session, attended) == ("fulfilled", None)
        assert status(session, missed) == ("noshow", None)
        assert status(session, future) == ("cancelled", "referral_closed")
        assert session.get(Case, ref.case_id).status == "closed"


def test_the_loop_closing_by_a_down_referral_cancels_the_centres_future_sessions(app, w,
                                                                                 session):
    with app.app_context():
        ref = w["referrals"][0]
        monday = next_monday()
        first = make_slot(session, w, at(monday, 9))
        later = make_slot(session, w, at(monday + timedelta(days=7), 9))
        attended = create_appointment(session, ref, first, now=NOW)
        future = create_appointment(session, ref, later, now=NOW)
        during = first.starts_at + timedelta(minutes=5)
        booking.fulfil(session, attended, principal=None, now=during)
        step(session, ref, "complete", during)
        down = create_referral(session, "accepted", now=during, today=local_today(),
                               case_code=ref.case.code, sender_code=w["centre"].code,
                               receiver_code=w["station"].code, service_code="autism_training",
                               direction="down", answers_code=ref.code, reason="follow up",
                               home_programme="daily play routine at home")
        session.commit()
        assert down.state == "accepted"
        assert session.get(Referral, ref.id).state == "closed"
        assert status(session, attended) == ("fulfilled", None)
        assert status(session, future) == ("cancelled", "referral_closed")


@pytest.mark.parametrize("final", ["declined", "returned", "expired", "cancelled"])
def test_a_referral_ending_before_acceptance_changes_nothing_else(app, w, session, final):
    """Declined, returned, expired or cancelled before any place was held: the referral ends, no
    appointment or waitlist entry of anyone else moves, nobody is told of cancelled bookings."""
    with app.app_context():
        other = w["referrals"][1]
        slot = make_slot(session, w, at(next_monday(), 9))
        kept = create_appointment(session, other, slot, now=NOW)
        entry, _ = waitlist.add(session, w["referrals"][2], note=None, principal=None, now=NOW)
        ref = create_referral(session, final, now=NOW, today=local_today(),
                              case_code=other.case.code, sender_code=w["station"].code,
                              receiver_code=w["centre"].code, service_code="autism_training",
                              reason="second opinion")
        session.commit()
        assert ref.state == final and final in FINAL_REFERRAL_STATES
        assert status(session, kept) == ("booked", None)
        assert session.get(WaitlistEntry, entry.id).status == "waiting"
        assert cascade_notes(session, ref) == []


def test_the_sending_clinic_cancels_through_the_api_and_the_centre_is_told(anonymous, w,
                                                                           session):
    """The clinic cannot book at the centre, yet its cancel frees the centre's places: the
    system cancels them for it, and the centre's coordinator reads why."""
    ref = new_child_referral(session, w)
    slot = make_slot(session, w, at(next_monday(), 10))
    booked = create_appointment(session, ref, slot, now=NOW)
    session.commit()
    answer = api(anonymous, w, "staff", "POST", f"/api/v1/referrals/{ref.code}/cancel",
                 {"reason": "the family moved to Hailar"})
    assert answer.status_code == 200, answer.json
    assert answer.json["state"] == "cancelled"
    assert status(session, booked) == ("cancelled", "referral_closed")
    seen = api(anonymous, w, "coord", "GET", "/api/v1/notifications").json
    mine = [n for n in seen if n["kind"] == "referral_bookings_cancelled"]
    assert [n["referral_code"] for n in mine] == [ref.code]
    page = api(anonymous, w, "coord", "GET", f"/api/v1/appointments/{booked.code}").json
    assert page["status"] == "cancelled" and page["cancel_reason"] == "referral_closed"
