"""The waitlist and the family's availability (issue 14): a slot is offered only to an entry
whose family can come on its local weekday and part of the day; a direct booking that passes
over a better-placed waiting case who could have come is refused without a reason and audited
with one; booking the best-placed entry itself, or ahead of lower-placed entries only, is no
jump. API, operations and pages, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import func, select

from rehab_net.auth.models import AuditEvent
from rehab_net.booking import operations as ops
from rehab_net.booking import waitlist
from rehab_net.booking.models import Appointment, WaitlistEntry
from tests.booking_world import api, at, make_slot, new_child_referral, next_monday
from tests.factories import create_appointment, log_in
from tests.responses import csrf_token, idempotency_key, problem

NOW = datetime.now(UTC)
ADULT = date(1980, 1, 1)  # a standard case: placed after every child aged 0-6


def _offer(session):
    return session.scalar(select(Appointment).where(Appointment.status == "proposed"))


def _jump_audits(session, code):
    return [e for e in session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "appointment", AuditEvent.object_code == code))
        if (e.detail or {}).get("action") == "jump_waitlist"]


# --- the part of the day and the weekday ----------------------------------------------------------
def test_the_part_of_the_day_and_the_weekday_are_local(app):
    with app.app_context():
        assert waitlist.part_of_day(datetime(2026, 12, 7, 3, 59, tzinfo=UTC)) == "morning"  # 11:59
        assert waitlist.part_of_day(datetime(2026, 12, 7, 4, 0, tzinfo=UTC)) == "afternoon"  # 12:00
        assert waitlist.part_of_day(datetime(2026, 12, 7, 9, 59, tzinfo=UTC)) == "afternoon"
        assert waitlist.part_of_day(datetime(2026, 12, 7, 10, 0, tzinfo=UTC)) == "evening"  # 18:00
        # Sunday 23:30 UTC is Monday 07:30 in Shanghai: a Monday-morning family can come
        early = SimpleNamespace(starts_at=datetime(2026, 12, 6, 23, 30, tzinfo=UTC))
        monday_mornings = WaitlistEntry(available_weekdays=waitlist.weekday_mask([1]),
                                        available_parts=waitlist.part_mask(["morning"]))
        assert waitlist.entry_fits(monday_mornings, early)
        assert waitlist.entry_fits(WaitlistEntry(available_weekdays=0, available_parts=0), early)
        app.config["TIMEZONE"] = "UTC"  # the configured zone decides
        assert waitlist.part_of_day(datetime(2026, 12, 7, 4, 0, tzinfo=UTC)) == "morning"
        assert not waitlist.entry_fits(monday_mornings, early)  # Sunday evening there


# --- offers ---------------------------------------------------------------------------------------
def test_a_freed_place_skips_families_who_cannot_come_then(app, w, session):
    with app.app_context():
        slot = make_slot(session, w, at(next_monday(), 9))  # a Monday morning
        taken = create_appointment(session, w["referrals"][0], slot, now=NOW)
        wednesdays = new_child_referral(session, w)
        afternoons = new_child_referral(session, w)
        monday_mornings = new_child_referral(session, w, birth_date=ADULT)
        waitlist.add(session, wednesdays, note=None, principal=None, now=NOW, weekdays=[3])
        waitlist.add(session, afternoons, note=None, principal=None, now=NOW, parts=["afternoon"])
        entry, _ = waitlist.add(session, monday_mornings, note=None, principal=None, now=NOW,
                                weekdays=[1, 2], parts=["morning", "evening"])
        ops.cancel(session, taken, reason="family_request", note=None, principal=None, now=NOW)
        session.commit()
        offer = _offer(session)
        # both children are placed before the adult, but neither family can come on Monday morning
        assert offer is not None and offer.referral_id == monday_mornings.id
        assert session.get(WaitlistEntry, entry.id).status == "offered"


def test_the_scheduler_offers_a_family_the_first_slot_it_can_come_to(app, w, session):
    with app.app_context():
        monday = next_monday()
        morning = make_slot(session, w, at(monday, 9))
        afternoon = make_slot(session, w, at(monday, 14))
        referral = new_child_referral(session, w)
        waitlist.add(session, referral, note="grandmother brings him", principal=None, now=NOW,
                     parts=["afternoon"])
        session.commit()
        assert ops.expire_and_offer(session, NOW)["offered"] == 1
        session.commit()
        offer = _offer(session)
        assert offer.slot_id == afternoon.id != morning.id and offer.referral_id == referral.id


# --- the API --------------------------------------------------------------------------------------
def test_the_api_takes_and_shows_when_the_family_can_come(anonymous, w, session):
    code = w["referrals"][0].code
    for body, field, rule_code in (
            ({"available_weekdays": [8]}, "available_weekdays.0", "waitlist.weekday_unknown"),
            ({"available_weekdays": ["monday"]}, "available_weekdays.0",
             "waitlist.weekday_unknown"),
            ({"available_parts": ["night"]}, "available_parts.0", "waitlist.part_unknown")):
        got = problem(api(anonymous, w, "coord", "POST", "/api/v1/waitlist",
                          {"referral_code": code, **body}), 422)
        assert [(e["field"], e["code"]) for e in got["errors"]] == [(field, rule_code)]
    assert session.scalar(select(func.count()).select_from(WaitlistEntry)) == 0
    added = api(anonymous, w, "coord", "POST", "/api/v1/waitlist", {
        "referral_code": code, "note": "not during school", "available_weekdays": [3, 1, 3],
        "available_parts": ["evening", "morning"]})
    assert added.status_code == 201, added.json
    assert added.json["available_weekdays"] == [1, 3]
    assert added.json["available_parts"] == ["morning", "evening"]
    assert added.json["note"] == "not during school"
    other = api(anonymous, w, "coord", "POST", "/api/v1/waitlist",
                {"referral_code": w["referrals"][1].code})
    assert other.json["available_weekdays"] == [] and other.json["available_parts"] == []


# --- a direct booking that passes over the waitlist -----------------------------------------------
def test_booking_ahead_of_a_better_placed_waiting_case_needs_a_reason(app, anonymous, w, session):
    slot = make_slot(session, w, at(next_monday(), 9))
    child = w["referrals"][0]
    with app.app_context():
        waitlist.add(session, child, note=None, principal=None, now=NOW)
    adult = new_child_referral(session, w, birth_date=ADULT)
    session.commit()
    body = {"referral_code": adult.code, "slot_id": slot.id}
    refused = problem(api(anonymous, w, "coord", "POST", "/api/v1/appointments", body), 409)
    assert refused["code"] == "booking.jumps_waitlist"
    assert refused["params"] == {"count": 1, "referral": child.code}
    assert [e["field"] for e in refused["errors"]] == ["jump_reason"]
    blank = api(anonymous, w, "coord", "POST", "/api/v1/appointments",
                dict(body, jump_reason="   "))
    assert blank.status_code == 409
    assert session.scalar(select(func.count()).select_from(Appointment)) == 0
    reason = "post-operative review ordered by the surgeon for this week"
    booked = api(anonymous, w, "coord", "POST", "/api/v1/appointments",
                 dict(body, jump_reason=reason))
    assert booked.status_code == 201, booked.json
    assert booked.json["jump_reason"] == reason
    [event] = _jump_audits(session, booked.json["code"])
    assert event.reason == reason and event.actor == "coord"
    assert event.detail["passed_over"] == 1
    assert event.detail["entries"][0]["referral"] == child.code
    # the child still waits for the next place
    assert waitlist.open_entry(session, child.id).status == "waiting"
    # the slot is full now: another booking is refused as full, not as a jump
    another = new_child_referral(session, w, birth_date=ADULT)
    session.commit()
    full = problem(api(anonymous, w, "coord", "POST", "/api/v1/appointments", {
        "referral_code": another.code, "slot_id": slot.id}), 409)
    assert full["code"] == "booking.slot_full" and full["errors"][0]["field"] == "slot_id"


def test_the_same_priority_waiting_longer_comes_first(anonymous, w, session):
    monday = next_monday()
    first, second = make_slot(session, w, at(monday, 9)), make_slot(session, w, at(monday, 10))
    longer, shorter = w["referrals"][0], w["referrals"][1]  # two children
    longer.waiting_since, shorter.waiting_since = NOW.date() - timedelta(days=60), NOW.date()
    waitlist.add(session, longer, note=None, principal=None, now=NOW)
    session.commit()
    jump = api(anonymous, w, "coord", "POST", "/api/v1/appointments",
               {"referral_code": shorter.code, "slot_id": first.id})
    assert jump.status_code == 409 and jump.json["params"]["referral"] == longer.code
    # the other way round: the child who waited longer is booked ahead of a listed newcomer
    waitlist.add(session, shorter, note=None, principal=None, now=NOW)
    session.commit()
    ok = api(anonymous, w, "coord", "POST", "/api/v1/appointments",
             {"referral_code": longer.code, "slot_id": second.id})
    assert ok.status_code == 201, ok.json
    assert ok.json["jump_reason"] is None and not _jump_audits(session, ok.json["code"])


def test_booking_the_best_placed_entry_itself_is_no_jump(anonymous, w, session):
    slot = make_slot(session, w, at(next_monday(), 9))
    child = w["referrals"][0]
    entry, _ = waitlist.add(session, child, note=None, principal=None, now=NOW)
    waitlist.add(session, new_child_referral(session, w, birth_date=ADULT), note=None,
                 principal=None, now=NOW)
    session.commit()
    booked = api(anonymous, w, "coord", "POST", "/api/v1/appointments",
                 {"referral_code": child.code, "slot_id": slot.id})
    assert booked.status_code == 201, booked.json
    assert not _jump_audits(session, booked.json["code"])
    session.expire_all()
    assert session.get(WaitlistEntry, entry.id).status == "booked"


def test_lower_placed_busy_or_unavailable_entries_do_not_block(anonymous, w, session):
    monday = next_monday()
    slot = make_slot(session, w, at(monday, 9))
    elsewhere = make_slot(session, w, at(monday, 9), practitioner=w["therapist"])
    waitlist.add(session, new_child_referral(session, w, birth_date=ADULT), note=None,
                 principal=None, now=NOW)  # placed after any child
    waitlist.add(session, w["referrals"][1], note=None, principal=None, now=NOW,
                 weekdays=[3])  # a child whose family cannot come on Mondays
    busy = new_child_referral(session, w)  # a child who is busy at that time
    create_appointment(session, busy, elsewhere, now=NOW)
    waitlist.add(session, busy, note=None, principal=None, now=NOW)
    session.commit()
    booked = api(anonymous, w, "coord", "POST", "/api/v1/appointments",
                 {"referral_code": w["referrals"][0].code, "slot_id": slot.id, "hold": True})
    assert booked.status_code == 201, booked.json
    assert booked.json["status"] == "pending" and booked.json["jump_reason"] is None


# --- the pages ------------------------------------------------------------------------------------
def test_the_pages_take_availability_and_ask_for_the_reason_in_place(app, w, session):
    coord = app.test_client()
    log_in(coord, w["users"]["coord"])
    monday = next_monday()
    slot = make_slot(session, w, at(monday, 9))
    child, adult = w["referrals"][0], new_child_referral(session, w, birth_date=ADULT)
    session.commit()
    html = coord.get(f"/referrals/{child.code}/book").get_data(as_text=True)
    assert 'type="checkbox" id="available_weekdays-1"' in html
    assert '<label for="available_parts-morning">' in html and "<legend>" in html
    bad = coord.post(f"/referrals/{child.code}/waitlist", data={
        "csrf_token": csrf_token(html), "available_weekdays": ["9"]})
    assert bad.status_code == 422 and 'id="available_weekdays-error"' in bad.get_data(
        as_text=True)
    added = coord.post(f"/referrals/{child.code}/waitlist", data={
        "csrf_token": csrf_token(html), "available_weekdays": ["1", "3"],
        "available_parts": ["morning"]})
    assert added.status_code == 303
    entry = waitlist.open_entry(session, child.id)
    assert waitlist.weekdays_of(entry.available_weekdays) == [1, 3]
    assert waitlist.parts_of(entry.available_parts) == ["morning"]
    listed = coord.get("/booking/waitlist?facility=CT01").get_data(as_text=True)
    assert "星期一和星期三 · 上午（12:00前）" in listed
    page = coord.get(f"/referrals/{adult.code}/book?start={monday.isoformat()}").get_data(
        as_text=True)
    form = {"csrf_token": csrf_token(page), "idempotency_key": idempotency_key(page),
            "mode": "book", "slot_id": str(slot.id), "start": monday.isoformat()}
    refused = coord.post(f"/referrals/{adult.code}/book", data=form)
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert 'id="jump-reason"' in text and 'role="alert"' in text and child.code in text
    assert "候补对象优先" in text and 'value="book" checked' in text
    assert 'id="book-anyway">' in text and f'name="slot_id" value="{slot.id}"' in text
    done = coord.post(f"/referrals/{adult.code}/book", data=dict(
        form, idempotency_key=idempotency_key(text), jump_reason="surgeon's review"))
    assert done.status_code == 303
    appt = session.scalar(select(Appointment))
    assert appt.referral_id == adult.id and appt.jump_reason == "surgeon's review"
    shown = coord.get(done.headers["Location"]).get_data(as_text=True)
    assert "surgeon&#39;s review" in shown and "优先于候补名单预约的理由" in shown
