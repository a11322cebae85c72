"""Booking pages through the test client: the week calendars, booking from a referral (hold,
confirm, a full slot, reschedule), the waitlist, the day's list, the iCalendar file, scope."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from rehab_net.booking import operations as ops
from rehab_net.booking.models import Appointment, WaitlistEntry
from tests.booking_world import (
    ZONE,
    at,
    make_slot,
    next_monday,
)
from tests.factories import create_appointment, log_in, other_station
from tests.responses import csrf_token as _csrf
from tests.responses import idempotency_key as _key

NOW = datetime.now(UTC)


def test_the_pages_answer_and_link_each_other(coord, w, session):
    monday = next_monday()
    slot = make_slot(session, w, at(monday, 9))
    appt = create_appointment(session, w["referrals"][0], slot, now=NOW)
    session.commit()
    start = monday.isoformat()
    for url in ("/booking", f"/booking/facilities/CT01/week?start={start}",
                f"/booking/practitioners/DR1/week?start={start}", f"/booking/slots/{slot.id}",
                f"/appointments/{appt.code}", "/booking/waitlist?facility=CT01",
                f"/booking/day?facility=CT01&date={start}",
                f"/referrals/{w['referrals'][1].code}/book?start={start}"):
        got = coord.get(url)
        assert got.status_code == 200, url
    week = coord.get(f"/booking/facilities/CT01/week?start={start}").get_data(as_text=True)
    assert f'href="/booking/slots/{slot.id}"' in week and "<caption>" in week
    assert 'rel="next"' in week and 'rel="prev"' in week
    day = coord.get(f"/booking/day?facility=CT01&date={start}").get_data(as_text=True)
    assert w["referrals"][0].case.code in day and "李医生" in day
    ics = coord.get("/booking/practitioners/DR1/calendar.ics")
    assert ics.mimetype == "text/calendar" and b"BEGIN:VEVENT" in ics.data
    text = ics.data.decode().replace("\r\n ", "")  # RFC 5545 folds long lines
    assert "名额：" in text and f"{appt.code}，" in text and "Places:" not in text
    english = coord.get("/booking/practitioners/DR1/calendar.ics",
                        headers={"Accept-Language": "en"}).data.decode().replace("\r\n ", "")
    assert "Places: " in english and f"case {appt.case.code}" in english


@pytest.mark.parametrize("start, zh, en", [
    ("2026-02-30", "不是日历上存在的日期", "is not a day of the calendar"),
    ("next week", "YYYY-MM-DD", "YYYY-MM-DD"),
    ("1999-12-27", "2000", "between 2000 and 2100"),
])
def test_a_week_that_cannot_be_shown_says_why_in_the_users_language(coord, start, zh, en):
    got = coord.get(f"/booking/facilities/CT01/week?start={start}")
    assert got.status_code == 400 and zh in got.get_data(as_text=True)
    english = coord.get(f"/booking/facilities/CT01/week?start={start}",
                        headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert en in english


def test_book_from_the_referral_page_hold_then_confirm(coord, w, session):
    monday = next_monday()
    slot = make_slot(session, w, at(monday, 9))
    session.commit()
    code = w["referrals"][0].code
    page = coord.get(f"/referrals/{code}/book?start={monday.isoformat()}")
    html = page.get_data(as_text=True)
    assert f'name="slot_id" value="{slot.id}"' in html
    form = {"csrf_token": _csrf(html), "idempotency_key": _key(html), "mode": "hold",
            "slot_id": str(slot.id), "start": monday.isoformat()}
    done = coord.post(f"/referrals/{code}/book", data=form)
    assert done.status_code == 303
    again = coord.post(f"/referrals/{code}/book", data=form)  # a double submit
    assert again.status_code == 303 and again.headers["Location"] == done.headers["Location"]
    appt = session.scalar(select(Appointment))
    assert appt.status == "pending"
    page = coord.get(done.headers["Location"]).get_data(as_text=True)
    confirm = coord.post(f"/appointments/{appt.code}/confirm",
                         data={"csrf_token": _csrf(page)})
    assert confirm.status_code == 303
    session.expire_all()
    assert session.get(Appointment, appt.id).status == "booked"


def test_a_full_slot_says_so_and_offers_the_waitlist(app, coord, w, session):
    monday = next_monday()
    slot = make_slot(session, w, at(monday, 9))
    session.commit()
    code = w["referrals"][1].code
    html = coord.get(f"/referrals/{code}/book?start={monday.isoformat()}").get_data(as_text=True)
    with app.app_context():
        ops.book(session, referral=w["referrals"][0], slot_id=slot.id, hold=False,
                 principal=None, now=NOW)
    session.commit()  # taken meanwhile by someone else
    got = coord.post(f"/referrals/{code}/book", data={
        "csrf_token": _csrf(html), "idempotency_key": _key(html), "mode": "book",
        "slot_id": str(slot.id), "start": monday.isoformat()})
    assert got.status_code == 409
    text = got.get_data(as_text=True)
    assert 'role="alert"' in text and 'id="add-to-waitlist"' in text
    added = coord.post(f"/referrals/{code}/waitlist", data={"csrf_token": _csrf(text),
                                                          "note": "mornings"})
    assert added.status_code == 303
    entry = session.scalar(select(WaitlistEntry))
    assert entry.status == "waiting" and entry.note == "mornings"
    listed = coord.get("/booking/waitlist?facility=CT01").get_data(as_text=True)
    assert code in listed


def test_reschedule_and_cancel_from_the_pages(coord, w, session):
    monday = next_monday()
    a = make_slot(session, w, at(monday, 9))
    b = make_slot(session, w, at(monday, 10))
    appt = create_appointment(session, w["referrals"][0], a, now=NOW)
    session.commit()
    code = w["referrals"][0].code
    html = coord.get(f"/referrals/{code}/book?reschedule={appt.code}&start={monday}") \
        .get_data(as_text=True)
    assert f'name="reschedule" value="{appt.code}"' in html
    moved = coord.post(f"/referrals/{code}/book", data={
        "csrf_token": _csrf(html), "idempotency_key": _key(html), "reschedule": appt.code,
        "slot_id": str(b.id)})
    assert moved.status_code == 303
    new_code = moved.headers["Location"].rsplit("/", 1)[1]
    page = coord.get(f"/appointments/{new_code}").get_data(as_text=True)
    refused = coord.post(f"/appointments/{new_code}/cancel", data={"csrf_token": _csrf(page)})
    assert refused.status_code == 422 and 'id="cancel-reason-error"' in \
        refused.get_data(as_text=True)
    done = coord.post(f"/appointments/{new_code}/cancel", data={
        "csrf_token": _csrf(page), "reason": "family_request", "note": "ill"})
    assert done.status_code == 303
    session.expire_all()
    assert [x.status for x in session.scalars(select(Appointment).order_by(Appointment.id))] \
        == ["cancelled", "cancelled"]


def test_pages_outside_the_scope_are_404(app, w, session):
    slot = make_slot(session, w, at(next_monday(), 9))
    appt = create_appointment(session, w["referrals"][0], slot, now=NOW)
    session.commit()
    from tests.factories import create_user

    other = other_station(session)
    stranger = app.test_client()
    log_in(stranger, create_user(session, "stranger", grants=[("clinic", other)]))
    session.commit()
    assert stranger.get(f"/appointments/{appt.code}").status_code == 404
    assert stranger.get(f"/referrals/{w['referrals'][0].code}/book").status_code == 404
    staff = app.test_client()  # the sending station: reads, cannot book or change
    log_in(staff, w["users"]["staff"])
    assert staff.get(f"/appointments/{appt.code}").status_code == 200
    assert staff.get("/booking/waitlist?facility=CT01").status_code == 422
    planner = app.test_client()
    log_in(planner, w["users"]["planner"])
    assert planner.get(f"/appointments/{appt.code}").status_code == 200
    assert planner.get(f"/referrals/{w['referrals'][0].code}/book").status_code == 403
    auditor = app.test_client()
    log_in(auditor, w["users"]["auditor"])
    assert auditor.get("/booking").status_code == 403


def test_the_navigation_shows_booking_to_those_who_may(app, w):
    client = app.test_client()
    log_in(client, w["users"]["coord"])
    html = client.get("/booking").get_data(as_text=True)
    assert 'href="/booking" aria-current="page"' in html and 'href="/booking/waitlist"' in html


def _offered(page: str, code: str) -> set[str]:
    import re

    return set(re.findall(rf'action="/appointments/{code}/(\w+)"', page))


def test_attendance_is_offered_only_when_it_can_be_recorded(coord, w, session):
    """Next week's appointment: cancel only. One later today: arrived and attended, not yet a
    no-show. One that has begun: all three."""
    from datetime import timedelta

    future = create_appointment(session, w["referrals"][0],
                                make_slot(session, w, at(next_monday(), 9)), now=NOW)
    soon = NOW + timedelta(minutes=30)
    today_later = None
    if soon.astimezone(ZONE).date() == NOW.astimezone(ZONE).date():  # not just before midnight
        today_later = create_appointment(session, w["referrals"][1],
                                         make_slot(session, w, soon, minutes=20), now=NOW)
    begun_slot = make_slot(session, w, NOW + timedelta(seconds=2), minutes=60,
                           practitioner=w["therapist"])
    begun = create_appointment(session, w["referrals"][2], begun_slot, now=NOW)
    session.commit()
    page = coord.get(f"/appointments/{future.code}").get_data(as_text=True)
    assert _offered(page, future.code) == {"cancel"}
    if today_later is not None:
        page = coord.get(f"/appointments/{today_later.code}").get_data(as_text=True)
        assert _offered(page, today_later.code) == {"arrive", "fulfil", "cancel"}
    import time

    time.sleep(2.1)
    page = coord.get(f"/appointments/{begun.code}").get_data(as_text=True)
    assert {"arrive", "fulfil", "noshow"} <= _offered(page, begun.code)


def test_the_sending_clinic_follows_its_patients_appointments(app, coord, w, session):
    """The station that sent the referral sees date, time, place and practitioner, is told of
    the booking, the move and the cancellation, and cannot change the appointment."""
    from tests.booking_world import api

    staff = app.test_client()
    log_in(staff, w["users"]["staff"])
    referral = w["referrals"][0]
    monday = next_monday()
    first, second = make_slot(session, w, at(monday, 9)), make_slot(session, w, at(monday, 11))
    appt = create_appointment(session, referral, first, now=NOW)
    session.commit()
    page = staff.get(f"/referrals/{referral.code}/book")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and appt.code in html and "李医生" in html
    assert 'name="slot_id"' not in html  # nothing to book from the sending side
    shown = staff.get(f"/appointments/{appt.code}")
    assert shown.status_code == 200 and "/cancel" not in shown.get_data(as_text=True)
    refused = staff.post(f"/appointments/{appt.code}/cancel", data={
        "csrf_token": _csrf(shown.get_data(as_text=True)), "reason": "family_request"})
    assert refused.status_code == 404
    listed = api(app.test_client(), w, "staff", "GET",
                 f"/api/v1/appointments?referral={referral.code}").json
    assert [a["code"] for a in listed] == [appt.code]
    with app.app_context():
        moved, _ = ops.reschedule(session, appt, slot_id=second.id, principal=None, now=NOW)
        ops.cancel(session, moved, reason="family_request", note=None, principal=None, now=NOW)
    session.commit()
    kinds = [n["kind"] for n in api(app.test_client(), w, "staff", "GET",
                                    "/api/v1/notifications").json
             if n.get("referral_code", referral.code) == referral.code]
    assert {"appointment_booked", "appointment_moved", "appointment_cancelled"} <= set(kinds)
    referral_page = staff.get(f"/referrals/{referral.code}").get_data(as_text=True)
    assert f'href="/referrals/{referral.code}/book"' in referral_page



def test_clinic_staff_list_their_patients_appointments_masked_and_audited(app, w, session):
    """The sending station reaches "Our patients' appointments" from /booking: its referrals'
    appointments at the centre, soonest first, the names shortened, the list audited; a bad
    day or status is refused at its field; another clinic sees none of them."""
    from datetime import timedelta
    from html import unescape

    from rehab_net.auth.models import AuditEvent
    from tests.factories import create_user

    monday = next_monday()
    later = create_appointment(session, w["referrals"][1], make_slot(session, w, at(monday, 11)),
                               now=NOW)
    first = create_appointment(session, w["referrals"][0], make_slot(session, w, at(monday, 9)),
                               now=NOW)
    elsewhere = other_station(session)
    other = create_user(session, "other", grants=[("clinic", elsewhere)])
    session.commit()
    staff = app.test_client()
    log_in(staff, w["users"]["staff"])
    assert 'href="/booking/patients"' in staff.get("/booking").get_data(as_text=True)
    got = staff.get("/booking/patients", headers={"Accept-Language": "en"})
    html = got.get_data(as_text=True)
    assert got.status_code == 200 and "<h1>Our patients' appointments</h1>" in unescape(html)
    assert html.index(first.code) < html.index(later.code)  # soonest first
    name = w["referrals"][0].case.person.name
    assert name not in html and name[0] + "*" * (len(name) - 1) in html
    listed = session.query(AuditEvent).filter_by(action="list", object_type="appointment") \
        .order_by(AuditEvent.id.desc()).first()
    assert listed.detail["codes"] == [first.code, later.code]
    for query, field in (("from=2026-02-30", "from-error"), ("status=nonsense", "status-error")):
        bad = staff.get(f"/booking/patients?{query}")
        assert bad.status_code == 422 and f'id="{field}"' in bad.get_data(as_text=True)
    assert staff.get("/booking/patients?page=0").status_code == 422
    tuesday = (monday + timedelta(days=1)).isoformat()
    assert first.code not in staff.get(f"/booking/patients?from={tuesday}").get_data(as_text=True)
    stranger = app.test_client()
    log_in(stranger, other)
    assert first.code not in stranger.get("/booking/patients").get_data(as_text=True)
