"""Slot booking: schedules and holidays make slots, booking with holds and idempotency keys,
cancel / reschedule / attendance, the waitlist, availability, scope, and the database refusing
what breaks an invariant even when the code is bypassed. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from rehab_net import workdays
from rehab_net.booking import generation, schedules, waitlist
from rehab_net.booking import operations as ops
from rehab_net.booking.models import Appointment, Slot, WaitlistEntry
from rehab_net.errors import Conflict
from rehab_net.referrals.models import Referral
from tests.booking_world import (
    ZONE,
    api,
    at,
    invariants,
    make_slot,
    new_child_referral,
    next_monday,
    rule_body,
)
from tests.factories import create_appointment, create_schedule

NOW = datetime.now(UTC)


# --- the holiday calendar -----------------------------------------------------------------------
@pytest.mark.parametrize("day,working", [
    (date(2026, 10, 1), False),   # National Day
    (date(2026, 10, 7), False),
    (date(2026, 10, 10), True),   # a Saturday worked instead (调休上班)
    (date(2026, 9, 20), True),    # a Sunday worked instead
    (date(2026, 2, 14), True), (date(2026, 2, 23), False),  # Spring Festival, Monday off
    (date(2026, 11, 23), True), (date(2026, 11, 28), False),  # an ordinary Monday, Saturday
    (date(2027, 1, 1), False),    # New Year's Day by statute
])
def test_working_days_follow_the_2026_arrangement(day, working):
    assert workdays.is_working_day(day) is working


def test_add_working_days_skips_holidays_and_counts_make_up_days():
    assert workdays.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert workdays.add_working_days(date(2026, 10, 8), 2) == date(2026, 10, 10)  # Sat worked
    start = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)  # 10:00 local, Wednesday
    assert workdays.add_working_days(start, 1) == datetime(2026, 10, 8, 2, 0, tzinfo=UTC)
    holiday_start = datetime(2026, 10, 2, 2, 0, tzinfo=UTC)  # on a holiday: from Oct 8, 08:00
    assert workdays.add_working_days(holiday_start, 1).astimezone(ZONE).replace(tzinfo=None) \
        == datetime(2026, 10, 9, 8, 0)


def test_a_bad_holiday_file_is_refused_listing_every_line(tmp_path):
    bad = tmp_path / "h.csv"
    bad.write_text("date,kind,name\n2027-02-30,holiday,x\n2027-02-01,workday,调休\n"
                   "2027-02-06,vacation,\n", encoding="utf-8")
    with pytest.raises(workdays.HolidayFileError) as err:
        workdays.read_file(bad)
    assert len(err.value.problems) == 4


def test_an_extra_file_adds_a_year(app, tmp_path):
    extra = tmp_path / "2027.csv"
    extra.write_text("date,kind,name\n2027-02-06,workday,春节调休上班\n", encoding="utf-8")
    app.config["BOOKING_HOLIDAY_FILES"] = str(extra)
    with app.app_context():  # the app's holiday files
        assert workdays.is_working_day(date(2027, 2, 6)) and workdays.is_holiday(date(2026, 10, 1))


# --- schedules make slots -----------------------------------------------------------------------
def test_weekly_rule_skips_holidays_and_works_make_up_days_when_asked(app, w, session):
    with app.app_context():
        start = datetime(2026, 9, 27, 0, 0, tzinfo=UTC)
        rule, counts = create_schedule(session, today=date(2026, 9, 28), now=start,
                                       makeup_days=True, valid_from=date(2026, 9, 28))
        days = sorted({s.starts_at.astimezone(ZONE).date() for s in session.scalars(
            select(Slot).where(Slot.rule_id == rule.id))})
        # Mon 28 Sep - Wed 30 Sep; 1-7 Oct off; Thu 8, Fri 9, Sat 10 (make-up day)
        assert days[:6] == [date(2026, 9, 28), date(2026, 9, 29), date(2026, 9, 30),
                            date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10)]
        assert counts["created"] == 3 * len(days)
        # idempotent: a second run changes nothing
        again = generation.generate(session, today=date(2026, 9, 28), now=start, rule_ids=[rule.id])
        assert again["created"] == again["deleted"] == again["withdrawn"] == 0


def test_a_rule_change_regenerates_free_slots_and_never_touches_booked_ones(app, w, session):
    with app.app_context():
        monday = next_monday()
        rule, counts = create_schedule(session, today=monday, now=NOW, valid_from=monday,
                                       valid_until=monday + timedelta(days=4))
        assert counts["created"] == 15
        first = session.scalar(select(Slot).where(Slot.rule_id == rule.id).order_by(Slot.starts_at))
        booked = create_appointment(session, w["referrals"][0], first, now=NOW)
        session.commit()
        _, counts = schedules.update_rule(session, rule, {"start_time": time(14),
                                                          "end_time": time(16)},
                                          principal=None, today=monday, now=NOW)
        assert counts["kept_booked"] == 1 and counts["booked_outside"] == [booked.code]
        assert counts["deleted"] == 14 and counts["created"] == 10
        session.commit()
        # the booking stands; the slot outside the rule's new hours takes no new one
        assert session.get(Slot, first.id).status == "withdrawn"
        assert session.get(Appointment, booked.id).status == "booked"


def test_leave_removes_free_slots_and_lists_booked_ones_to_move(app, w, session):
    with app.app_context():
        monday = next_monday()
        rule, _first, booked, exc, counts = _leave_over_a_booked_slot(session, w, places=1)
        assert counts["deleted"] == 2 and counts["to_move"] == [booked.code]
        schedules.delete_exception(session, exc, principal=None, today=monday, now=NOW)
        assert session.scalar(select(text("count(*)")).select_from(Slot).where(
            Slot.rule_id == rule.id, Slot.status == "open")) == 3


def _leave_over_a_booked_slot(session, w, places=3):
    """Monday's 09:00 slot of DR1 (a group slot of 3 places unless said) with one booking, then
    a day's leave of DR1: (rule, the slot, the booking, the leave, the leave's counts)."""
    monday = next_monday()
    rule, _ = create_schedule(session, today=monday, now=NOW, valid_from=monday,
                              valid_until=monday, places=places)
    first = session.scalar(select(Slot).where(Slot.rule_id == rule.id).order_by(Slot.starts_at))
    booked = create_appointment(session, w["referrals"][0], first, now=NOW)
    exc, counts = schedules.create_exception(session, dict(
        kind="leave", practitioner_code="DR1", starts_at=at(monday, 0),
        ends_at=at(monday + timedelta(days=1), 0), reason="sick"), principal=None,
        today=monday, now=NOW)
    return rule, first, booked, exc, counts


def test_a_booked_group_slot_inside_a_leave_takes_no_new_booking_until_the_leave_goes(app, w,
                                                                                      session):
    """Leave over a group slot with one booking: the booking stands (listed to move), but the
    slot's free places are not bookable nor offered to the waitlist while the practitioner is
    away."""
    with app.app_context():
        rule, first, booked, exc, counts = _leave_over_a_booked_slot(session, w)
        assert counts["kept_booked"] == 1 and counts["to_move"] == [booked.code]
        assert session.get(Slot, first.id).status == "withdrawn"
        other = new_child_referral(session, w)
        with pytest.raises(Conflict) as refused:
            ops.book(session, referral=other, slot_id=first.id, hold=False, principal=None, now=NOW)
        assert refused.value.code == "booking.slot_withdrawn"
        waitlist.add(session, other, note=None, principal=None, now=NOW)
        ops.cancel(session, booked, reason="family_request", note=None, principal=None, now=NOW)
        session.flush()
        assert session.scalar(select(Appointment).where(Appointment.status == "proposed")) is None
        # the practitioner is back: a slot without bookings left is made anew, as the others
        schedules.delete_exception(session, exc, principal=None, today=next_monday(), now=NOW)
        assert session.get(Slot, first.id).status == "withdrawn"
        assert session.scalar(select(text("count(*)")).select_from(Slot).where(
            Slot.rule_id == rule.id, Slot.status == "open")) == 3


def test_deleting_the_leave_reopens_the_booked_slot_it_withdrew(app, w, session):
    with app.app_context():
        _rule, first, booked, exc, _counts = _leave_over_a_booked_slot(session, w)
        assert session.get(Slot, first.id).status == "withdrawn"
        counts = schedules.delete_exception(session, exc, principal=None, today=next_monday(),
                                            now=NOW)
        assert counts["reopened"] == 1 and counts["created"] == 2
        assert session.get(Slot, first.id).status == "open"
        assert session.get(Appointment, booked.id).status == "booked"
        at_nine = session.scalars(select(Slot).where(Slot.practitioner_id == first.practitioner_id,
                                                     Slot.starts_at == first.starts_at)).all()
        assert [s.id for s in at_nine] == [first.id]  # no second slot at that time
        taken = ops.book(session, referral=new_child_referral(session, w), slot_id=first.id,
                         hold=False, principal=None, now=NOW)[0]
        assert taken.slot_id == first.id and taken.place == 2


def test_overlapping_sessions_of_one_practitioner_at_two_facilities_are_refused(client, w):
    day = next_monday()
    body = rule_body(kind="session", on=day.isoformat(), weekdays=None, start_time="09:00",
                     end_time="11:00")
    del body["weekdays"]
    first = client.post("/api/v1/schedule-rules", json=body)
    assert first.status_code == 201, first.json
    assert first.json["slots"]["created"] == 2
    second = client.post("/api/v1/schedule-rules", json=dict(
        body, facility_code="ST150702001", start_time="10:30", end_time="12:00",
        slot_minutes=30))
    assert second.status_code == 409 and second.mimetype == "application/problem+json"
    assert "practitioner" in second.json["detail"]
    third = client.post("/api/v1/schedule-rules", json=dict(
        body, facility_code="ST150702001", start_time="11:00", end_time="12:00"))
    assert third.status_code == 201  # touching at 11:00 is no overlap (half-open)


# --- booking ------------------------------------------------------------------------------------
def test_hold_then_confirm_and_a_retry_never_books_twice(anonymous, w, session):
    slot = make_slot(session, w, at(next_monday(), 9), places=2)
    session.commit()
    code = w["referrals"][0].code
    body = {"referral_code": code, "slot_id": slot.id, "hold": True}
    key = {"Idempotency-Key": "book-1"}
    first = api(anonymous, w, "coord", "POST", "/api/v1/appointments", body, key)
    assert first.status_code == 201, first.json
    assert first.json["status"] == "pending" and first.json["hold_expires_at"]
    again = api(anonymous, w, "coord", "POST", "/api/v1/appointments", body, key)
    assert again.status_code == 200 and again.json["code"] == first.json["code"]
    other = api(anonymous, w, "coord", "POST", "/api/v1/appointments",
                dict(body, hold=False), key)
    assert other.status_code == 422 and other.json["errors"][0]["field"] == "Idempotency-Key"
    got = api(anonymous, w, "coord", "GET", f"/api/v1/slots/{slot.id}").json
    assert got["free_places"] == 1 and got["status"] == "free"
    confirmed = api(anonymous, w, "coord", "POST",
                    f"/api/v1/appointments/{first.json['code']}/confirm", {})
    assert confirmed.status_code == 200 and confirmed.json["status"] == "booked"
    assert confirmed.json["hold_expires_at"] is None
    assert session.scalar(select(text("count(*)")).select_from(Appointment)) == 1


def test_the_slot_status_is_fhirs(anonymous, w, session):
    slot = make_slot(session, w, at(next_monday(), 9), places=1)
    session.commit()
    url = f"/api/v1/slots/{slot.id}"
    assert api(anonymous, w, "coord", "GET", url).json["status"] == "free"
    held = api(anonymous, w, "coord", "POST", "/api/v1/appointments",
               {"referral_code": w["referrals"][0].code, "slot_id": slot.id, "hold": True})
    assert api(anonymous, w, "coord", "GET", url).json["status"] == "busy-tentative"
    api(anonymous, w, "coord", "POST", f"/api/v1/appointments/{held.json['code']}/confirm", {})
    assert api(anonymous, w, "coord", "GET", url).json["status"] == "busy"


def test_a_full_slot_and_a_busy_person_are_409(anonymous, w, session):
    monday = next_monday()
    slot = make_slot(session, w, at(monday, 9), places=1)
    other = make_slot(session, w, at(monday, 9, 30), practitioner=w["therapist"])
    session.commit()
    r0, r1 = (r.code for r in w["referrals"][:2])
    ok = api(anonymous, w, "coord", "POST", "/api/v1/appointments",
             {"referral_code": r0, "slot_id": slot.id})
    assert ok.status_code == 201
    full = api(anonymous, w, "coord", "POST", "/api/v1/appointments",
               {"referral_code": r1, "slot_id": slot.id})
    assert full.status_code == 409 and full.json["errors"][0]["rule"] == "has no free place"
    busy = api(anonymous, w, "coord", "POST", "/api/v1/appointments",
               {"referral_code": r0, "slot_id": other.id})
    assert busy.status_code == 409 and "overlapping" in busy.json["detail"]


def test_an_expired_hold_never_blocks_anyone(app, w, session):
    with app.app_context():
        slot = make_slot(session, w, at(next_monday(), 9), places=1)
        held = create_appointment(session, w["referrals"][0], slot, now=NOW, hold=True)
        session.commit()
        with pytest.raises(Conflict):
            ops.book(session, referral=w["referrals"][1], slot_id=slot.id, hold=False,
                     principal=None, now=NOW + timedelta(minutes=5))
        session.rollback()
        later = NOW + timedelta(minutes=11)
        taken = create_appointment(session, w["referrals"][1], slot, now=later)
        session.commit()
        session.refresh(held)
        assert held.status == "cancelled" and held.cancel_reason == "hold_expired"
        with pytest.raises(Conflict, match="expired"):
            ops.confirm(session, held, principal=None, now=later)
        assert taken.status == "booked" and invariants(session)["over_capacity"] == []


def test_the_periodic_clean_up_expires_holds(app, w, session):
    with app.app_context():
        slot = make_slot(session, w, at(next_monday(), 9))
        held = create_appointment(session, w["referrals"][0], slot, now=NOW, hold=True)
        assert ops.expire_and_offer(session, NOW + timedelta(minutes=9))["expired"] == 0
        assert ops.expire_and_offer(session, NOW + timedelta(minutes=10))["expired"] == 1
        session.refresh(held)
        assert held.status == "cancelled"


def test_reschedule_is_atomic(app, anonymous, w, session):
    monday = next_monday()
    a = make_slot(session, w, at(monday, 9))
    b = make_slot(session, w, at(monday, 10))
    c = make_slot(session, w, at(monday, 11))
    r0, r1 = w["referrals"][:2]
    mine = create_appointment(session, r0, a, now=NOW)
    with app.app_context():
        ops.book(session, referral=r1, slot_id=b.id, hold=False, principal=None, now=NOW)
    session.commit()
    refused = api(anonymous, w, "coord", "POST", f"/api/v1/appointments/{mine.code}/reschedule",
                  {"slot_id": b.id})
    assert refused.status_code == 409
    session.expire_all()
    assert session.get(Appointment, mine.id).status == "booked"  # the old place was kept
    moved = api(anonymous, w, "coord", "POST", f"/api/v1/appointments/{mine.code}/reschedule",
                {"slot_id": c.id}, {"Idempotency-Key": "move-1"})
    assert moved.status_code == 200 and moved.json["rescheduled_from"] == mine.code
    again = api(anonymous, w, "coord", "POST", f"/api/v1/appointments/{mine.code}/reschedule",
                {"slot_id": c.id}, {"Idempotency-Key": "move-1"})
    assert again.json["code"] == moved.json["code"]
    session.expire_all()
    old = session.get(Appointment, mine.id)
    assert old.status == "cancelled" and old.cancel_reason == "rescheduled"


def test_attendance_starts_the_referral_and_no_show_frees_nothing_to_conflict(app, w, session):
    with app.app_context():
        slot = make_slot(session, w, at(next_monday(), 9))
        r0 = w["referrals"][0]
        appt = create_appointment(session, r0, slot, now=NOW)
        later = slot.starts_at + timedelta(minutes=5)
        ops.arrive(session, appt, principal=None, now=later)
        ops.fulfil(session, appt, principal=None, now=later)
        session.commit()
        assert session.get(Referral, r0.id).state == "in_progress"
        second = make_slot(session, w, at(next_monday() + timedelta(days=1), 9))
        missed = create_appointment(session, w["referrals"][1], second, now=NOW)
        with pytest.raises(Conflict, match="begun"):
            ops.noshow(session, missed, principal=None, now=NOW)
        ops.noshow(session, missed, principal=None, now=second.starts_at + timedelta(minutes=20))
        assert missed.status == "noshow"
        # a no-show never counts as a conflict: the person can be booked at that time again
        again = make_slot(session, w, second.starts_at, practitioner=w["therapist"])
        ops.book(session, referral=w["referrals"][1], slot_id=again.id, hold=False, principal=None,
                 now=NOW)


# --- the waitlist -------------------------------------------------------------------------------
def test_a_freed_place_is_offered_to_the_best_placed_waiting_case(app, w, session):
    with app.app_context():
        slot = make_slot(session, w, at(next_monday(), 9))
        holder, adult_ref, child_ref = w["referrals"][0], None, None
        adult_ref = new_child_referral(session, w, birth_date=date(1980, 1, 1))
        child_ref = new_child_referral(session, w)
        taken = create_appointment(session, holder, slot, now=NOW)
        adult, _ = waitlist.add(session, adult_ref, note=None, principal=None, now=NOW)
        child, _ = waitlist.add(session, child_ref, note=None, principal=None, now=NOW)
        again, created = waitlist.add(session, child_ref, note=None, principal=None, now=NOW)
        assert not created and again.id == child.id
        ops.cancel(session, taken, reason="family_request", note=None, principal=None, now=NOW)
        session.commit()
        offer = session.scalar(select(Appointment).where(Appointment.status == "proposed"))
        assert offer.referral_id == child_ref.id  # the child (0-6) first, though listed later
        assert session.get(WaitlistEntry, child.id).status == "offered"
        # the offer lapses: it goes to the next, and the child waits again
        later = offer.hold_expires_at + timedelta(seconds=1)
        assert ops.expire_and_offer(session, later) == {"expired": 1, "offered": 1}
        session.commit()
        session.expire_all()
        assert session.get(WaitlistEntry, child.id).status == "waiting"
        nxt = session.scalar(select(Appointment).where(Appointment.status == "proposed"))
        assert nxt.referral_id == adult_ref.id
        ops.confirm(session, nxt, principal=None, now=later)
        session.commit()
        assert session.get(WaitlistEntry, adult.id).status == "booked"


def test_the_waitlist_is_never_silent(anonymous, w, session):
    code = w["referrals"][0].code
    added = api(anonymous, w, "coord", "POST", "/api/v1/waitlist", {"referral_code": code})
    assert added.status_code == 201 and added.json["priority"] == "child"
    listed = api(anonymous, w, "coord", "GET", "/api/v1/waitlist").json
    assert [e["referral_code"] for e in listed] == [code]
    gone = api(anonymous, w, "coord", "POST", f"/api/v1/waitlist/{added.json['id']}/remove", {})
    assert gone.status_code == 422  # a reason is required
    gone = api(anonymous, w, "coord", "POST", f"/api/v1/waitlist/{added.json['id']}/remove",
               {"reason": "family moved away"})
    assert gone.json["status"] == "removed" and gone.json["removed_reason"] == "family moved away"


# --- availability and scope ---------------------------------------------------------------------
def test_availability_soonest_first_near_and_at_allowed_tiers(app, anonymous, w, session):
    monday = next_monday()
    centre_late = make_slot(session, w, at(monday, 11))
    station_early = make_slot(session, w, at(monday, 9), facility=w["station"])
    full = make_slot(session, w, at(monday, 8))
    with app.app_context():
        ops.book(session, referral=w["referrals"][0], slot_id=full.id, hold=False,
                 principal=None, now=NOW)
    session.commit()
    url = "/api/v1/availability?service=autism_training&near_region=150702001001"
    got = api(anonymous, w, "planner", "GET", url).json
    assert [s["id"] for s in got] == [station_early.id, centre_late.id]
    assert all(s["road_km"] is not None and s["status"] == "free" for s in got)
    only_centres = api(anonymous, w, "planner", "GET", url + "&tiers=centre").json
    assert [s["id"] for s in only_centres] == [centre_late.id]
    near = api(anonymous, w, "planner", "GET", url + "&max_km=0.5").json
    assert near == []
    bad = api(anonymous, w, "planner", "GET", "/api/v1/availability?service=autism_training"
                                               "&max_km=3")
    assert bad.status_code == 422


def _stranger(session, w):
    """Clinic staff of a facility that has nothing to do with the referrals."""
    from tests.factories import create_user, other_station, token_for

    other = other_station(session)
    user = create_user(session, "stranger", grants=[("clinic", other)])
    session.commit()
    w["tokens"]["stranger"] = token_for(session, user)
    return user


def test_scope_staff_see_their_facilities_only(anonymous, w, session):
    slot = make_slot(session, w, at(next_monday(), 9))
    appt = create_appointment(session, w["referrals"][0], slot, now=NOW)
    session.commit()
    _stranger(session, w)
    url = f"/api/v1/appointments/{appt.code}"
    assert api(anonymous, w, "coord", "GET", url).status_code == 200
    assert api(anonymous, w, "stranger", "GET", url).status_code == 404  # another facility's
    # the station sent the referral: it follows the appointment, read only
    assert api(anonymous, w, "staff", "GET", url).status_code == 200
    assert api(anonymous, w, "planner", "GET", url).status_code == 200  # the district's planner
    assert api(anonymous, w, "auditor", "GET", url).status_code == 403
    assert api(anonymous, w, "planner", "POST", url + "/cancel",
               {"reason": "other"}).status_code == 403
    assert api(anonymous, w, "staff", "POST", url + "/cancel",
               {"reason": "other"}).status_code == 404
    assert [a["code"] for a in api(anonymous, w, "staff", "GET", "/api/v1/appointments").json] \
        == [appt.code]
    assert api(anonymous, w, "stranger", "GET", "/api/v1/appointments").json == []
    book = api(anonymous, w, "staff", "POST", "/api/v1/appointments",
               {"referral_code": w["referrals"][1].code, "slot_id": slot.id})
    assert book.status_code == 404  # the centre's referral is not the station's to book


def test_ical_export_of_a_practitioner(anonymous, w, session):
    from icalendar import Calendar

    slot = make_slot(session, w, at(next_monday(), 9))
    make_slot(session, w, at(next_monday(), 14), facility=w["station"])
    appt = create_appointment(session, w["referrals"][0], slot, now=NOW)
    session.commit()
    got = api(anonymous, w, "coord", "GET", "/api/v1/practitioners/DR1/calendar.ics")
    assert got.status_code == 200 and got.mimetype == "text/calendar"
    events = Calendar.from_ical(got.data).walk("VEVENT")
    assert len(events) == 2
    assert any(appt.code in str(e.get("description")) for e in events)
    staff = api(anonymous, w, "staff", "GET", "/api/v1/practitioners/DR1/calendar.ics")
    assert appt.code not in staff.get_data(as_text=True)  # not the station's appointment


# --- the database itself refuses ----------------------------------------------------------------
def _raw_appointment(session, w, slot, referral, place, status="booked"):
    values = dict(slot_id=slot.id, place=place, referral_id=referral.id,
                  case_id=referral.case_id, person_id=referral.case.person_id,
                  practitioner_id=slot.practitioner_id, facility_id=slot.facility_id,
                  service_id=slot.service_id, starts_at=slot.starts_at, ends_at=slot.ends_at,
                  status=status, created_by="test", created_at=NOW, updated_at=NOW, version=1)
    if status in ("pending", "proposed"):
        values["hold_expires_at"] = NOW
    if status == "cancelled":
        values["cancel_reason"] = "other"
    session.execute(insert(Appointment), [values])


def test_the_database_refuses_a_second_active_appointment_in_one_place(w, session):
    slot = make_slot(session, w, at(next_monday(), 9))
    r0, r1 = w["referrals"][:2]
    _raw_appointment(session, w, slot, r0, 1, status="cancelled")
    _raw_appointment(session, w, slot, r0, 1, status="noshow")
    _raw_appointment(session, w, slot, r0, 1)
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            _raw_appointment(session, w, slot, r1, 1)
    with pytest.raises(IntegrityError):  # there is no place 2
        with session.begin_nested():
            _raw_appointment(session, w, slot, r1, 2)


def test_the_database_refuses_overlapping_times(w, session):
    monday = next_monday()
    slot = make_slot(session, w, at(monday, 9))
    with pytest.raises(IntegrityError) as err:
        with session.begin_nested():
            make_slot(session, w, at(monday, 9, 30), facility=w["station"])
    assert "ex_slot_practitioner_overlap" in str(err.value)
    other = make_slot(session, w, at(monday, 9, 30), practitioner=w["therapist"])
    r0 = w["referrals"][0]
    _raw_appointment(session, w, slot, r0, 1)
    with pytest.raises(IntegrityError) as err:
        with session.begin_nested():
            _raw_appointment(session, w, other, r0, 1)
    assert "ex_appointment_person_overlap" in str(err.value)
    _raw_appointment(session, w, other, r0, 1, status="cancelled")  # never a conflict
    # a withdrawn slot frees the practitioner's time
    session.execute(text("UPDATE slot SET status = 'withdrawn' WHERE id = :id"), {"id": slot.id})
    make_slot(session, w, at(monday, 9, 30), facility=w["station"])


# --- the command line and the scheduler's jobs --------------------------------------------------
def test_cli_generates_slots_idempotently_and_checks_holiday_files(app, w, session, tmp_path):
    monday = next_monday()
    create_schedule(session, today=monday, now=NOW, valid_from=monday,
                    valid_until=monday + timedelta(days=1), end_time=time(10))
    session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["slots", "generate", "--weeks", "2"])
    assert first.exit_code == 0, first.output
    assert '"created": 0' in first.output  # the rule made its slots already: nothing to do
    good = tmp_path / "2027.csv"
    good.write_text("date,kind,name\n2027-02-06,workday,春节调休上班\n", encoding="utf-8")
    checked = runner.invoke(args=["holidays", "check", str(good)])
    assert checked.exit_code == 0 and "1 make-up working day" in checked.output
    bad = tmp_path / "bad.csv"
    bad.write_text("date,kind,name\n2027-02-08,workday,x\n", encoding="utf-8")
    assert runner.invoke(args=["holidays", "check", str(bad)]).exit_code == 1
    shown = runner.invoke(args=["holidays", "show", "--year", "2026"])
    assert "2026-10-10  workday  国庆节调休上班" in shown.output


def test_the_scheduler_jobs_are_registered_and_run(app, w, session):
    from rehab_net import scheduler
    from rehab_net.booking import jobs as booking_jobs

    with app.app_context():
        ids = {j.id for j in scheduler.JOBS}
        assert {"booking-expire-holds", "booking-generate-slots"} <= ids or not scheduler.JOBS
        slot = make_slot(session, w, at(next_monday(), 9))
        ops.book(session, referral=w["referrals"][0], slot_id=slot.id, hold=True, principal=None,
                 now=NOW)
        session.commit()
        assert booking_jobs.expire(session, NOW + timedelta(minutes=30))["expired"] == 1
        assert booking_jobs.generate(session, NOW)["rules"] == 0
