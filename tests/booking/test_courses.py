"""Courses of therapy (issue 16, part 1; docs/courses.md), on SQLite and PostgreSQL: the preview
and its misses with alternatives, booking all or nothing beyond the slot window, cancel and move
this / following / all, leave moving or flagging sessions, the defaulter list, a referral's end,
what running courses leave to the optimiser's intake, and courses racing for the same seats."""
from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, update

from rehab_net import workdays
from rehab_net.booking import operations as ops
from rehab_net.booking import schedules
from rehab_net.booking.models import Appointment, Course, CourseSession, Slot
from rehab_net.planning import adapters
from rehab_net.referrals.models import Notification
from rehab_net.referrals.operations.workflow import transition
from solver.instance import DEFAULT_POLICY
from tests.booking_world import ZONE, api, invariants, local_today, new_child_referral, next_monday
from tests.factories import app_context_of

CLEAN = {"over_capacity": [], "practitioner_overlap": [], "person_overlap": []}


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=ZONE).astimezone(UTC)


def weekly_rule(session, practitioner="DR1", days=(1, 2, 3, 4, 5), places=4, start="14:00",
                end="16:00"):
    hh, mm = start.split(":")
    eh, em = end.split(":")
    with app_context_of(session):
        rule, _ = schedules.create_rule(session, {
            "practitioner_code": practitioner, "facility_code": "CT01",
            "service_code": "autism_training", "weekdays": list(days),
            "start_time": time(int(hh), int(mm)), "end_time": time(int(eh), int(em)),
            "slot_minutes": 60, "places": places, "valid_from": local_today()},
            principal=None, today=local_today(), now=datetime.now(UTC))
    session.commit()
    return rule


def pattern(referral, **over):
    return {"referral_code": referral.code, "weekdays": [2, 4], "start_time": "14:00",
            "weeks": 12, "first_day": next_monday().isoformat(), **over}


def picks(preview):
    return [{"starts_at": s["starts_at"], "practitioner_code": s["practitioner_code"]}
            for s in preview["sessions"]]


def book_course(client, w, referral, **over):
    body = pattern(referral, **over)
    preview = api(client, w, "coord", "POST", "/api/v1/courses/preview", body).get_json()
    resp = api(client, w, "coord", "POST", "/api/v1/courses", {**body, "to_book": picks(preview)})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_preview_books_nothing_and_a_confirmed_course_books_every_session_beyond_the_window(
        client, session, w):
    weekly_rule(session)
    r = w["referrals"][0]
    body = pattern(r)
    resp = api(client, w, "coord", "POST", "/api/v1/courses/preview", body)
    assert resp.status_code == 200, resp.get_json()
    preview = resp.get_json()
    assert preview["planned"] == 24 and len(preview["sessions"]) == 24 and not preview["misses"]
    assert session.scalar(select(func.count()).select_from(Appointment)) == 0
    # 12 weeks: past the 8-week window, those slots are not generated yet
    assert any(s["slot_id"] is None for s in preview["sessions"])
    resp = api(client, w, "coord", "POST", "/api/v1/courses", {**body, "to_book": picks(preview)})
    assert resp.status_code == 201, resp.get_json()
    course = resp.get_json()
    assert course["status"] == "active" and course["sessions"] == 24
    assert [s["number"] for s in course["session_list"]] == list(range(1, 25))
    assert {s["status"] for s in course["session_list"]} == {"booked"}
    local = [datetime.fromisoformat(s["starts_at"]).astimezone(ZONE)
             for s in course["session_list"]]
    assert {t.isoweekday() for t in local} == {2, 4} and {t.hour for t in local} == {14}
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(CourseSession)) == 24
    assert session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "course_booked", Notification.facility_id == w["station"].id)) == 1
    assert invariants(session) == CLEAN


def test_a_closed_day_is_a_miss_with_the_nearest_alternatives_which_can_be_booked(
        app, client, session, w):
    weekly_rule(session)
    monday = next_monday()
    tuesday = monday + timedelta(days=1)
    with app.app_context():
        schedules.create_exception(session, {"kind": "closure", "facility_code": "CT01",
                                             "starts_at": at(tuesday, 0),
                                             "ends_at": at(tuesday + timedelta(days=1), 0)},
                                   principal=None, today=local_today(), now=datetime.now(UTC))
    session.commit()
    r = w["referrals"][0]
    body = pattern(r, weeks=2)
    preview = api(client, w, "coord", "POST", "/api/v1/courses/preview", body).get_json()
    assert len(preview["sessions"]) == 3
    [miss] = preview["misses"]
    assert miss["reason"] == "closure" and miss["day"] == tuesday.isoformat()
    alternatives = miss["alternatives"]
    assert alternatives, miss
    # nearest first: Monday or Wednesday 14:00, never the closed day nor a day already booked
    first = datetime.fromisoformat(alternatives[0]["starts_at"]).astimezone(ZONE)
    assert first.date() in (monday, monday + timedelta(days=2)) and first.hour == 14
    chosen = picks(preview) + [{"starts_at": alternatives[0]["starts_at"],
                                "practitioner_code": alternatives[0]["practitioner_code"]}]
    resp = api(client, w, "coord", "POST", "/api/v1/courses", {**body, "to_book": chosen})
    assert resp.status_code == 201 and resp.get_json()["sessions"] == 4


def test_a_holiday_is_a_miss(app, client, session, w):
    with app.app_context():  # the app's holiday files
        calendar = workdays.calendar()
    first = next_monday()
    holiday = next((first + timedelta(days=k) for k in range(0, 400)
                    if calendar.is_holiday(first + timedelta(days=k))
                    and (first + timedelta(days=k)).isoweekday() <= 5), None)
    if holiday is None:
        pytest.skip("no weekday holiday in the calendar ahead")
    weekly_rule(session)
    monday = holiday - timedelta(days=holiday.weekday())
    if monday < local_today() + timedelta(days=1):
        pytest.skip("the holiday's week has begun")
    body = pattern(w["referrals"][0], weekdays=[holiday.isoweekday()], weeks=1,
                   first_day=monday.isoformat())
    preview = api(client, w, "coord", "POST", "/api/v1/courses/preview", body).get_json()
    assert [m["reason"] for m in preview["misses"]] == ["holiday"]


def test_a_session_taken_meanwhile_is_a_409_and_nothing_is_booked(app, client, session, w):
    weekly_rule(session, places=1)
    r, other = w["referrals"][0], w["referrals"][1]
    body = pattern(r, weeks=3)
    preview = api(client, w, "coord", "POST", "/api/v1/courses/preview", body).get_json()
    # someone books the fourth session's only place meanwhile
    slot = session.scalar(select(Slot).where(
        Slot.starts_at == datetime.fromisoformat(preview["sessions"][3]["starts_at"])))
    with app.app_context():
        ops.book(session, referral=other, slot_id=slot.id, hold=False, principal=None,
                 now=datetime.now(UTC))
    session.commit()
    resp = api(client, w, "coord", "POST", "/api/v1/courses", {**body, "to_book": picks(preview)})
    assert resp.status_code == 409, resp.get_json()
    assert resp.get_json()["errors"][0]["field"] == "to_book.3"
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.referral_id == r.id)) == 0
    assert session.scalar(select(func.count()).select_from(Course)) == 0


def test_the_pattern_is_checked_field_by_field(client, w, session):
    r = w["referrals"][0]
    for over, field in (({"weekdays": []}, "weekdays"),
                        ({"sessions_per_week": 3}, "sessions_per_week"),
                        ({"part": "afternoon"}, "start_time"),
                        ({"first_day": "2020-01-01"}, "first_day"),
                        ({"practitioner_code": "NOPE"}, "practitioner_code")):
        resp = api(client, w, "coord", "POST", "/api/v1/courses/preview", pattern(r, **over))
        assert resp.status_code == 422, (over, resp.get_json())
        assert resp.get_json()["errors"][0]["field"].startswith(field), resp.get_json()
    # the sending clinic books nothing at the centre
    resp = api(client, w, "staff", "POST", "/api/v1/courses/preview", pattern(r))
    assert resp.status_code in (404, 422)


def test_cancel_this_following_and_the_whole_course(client, session, w):
    weekly_rule(session)
    course = book_course(client, w, w["referrals"][0], weeks=4)
    url = f"/api/v1/courses/{course['code']}/sessions"
    resp = api(client, w, "coord", "POST", f"{url}/2/cancel",
               {"scope": "this", "reason": "family_request"})
    assert resp.status_code == 200, resp.get_json()
    states = [s["status"] for s in resp.get_json()["session_list"]]
    assert states == ["booked", "cancelled"] + ["booked"] * 6
    resp = api(client, w, "coord", "POST", f"{url}/6/cancel",
               {"scope": "following", "reason": "family_request"})
    states = [s["status"] for s in resp.get_json()["session_list"]]
    assert states == ["booked", "cancelled", "booked", "booked", "booked"] + ["cancelled"] * 3
    assert resp.get_json()["status"] == "active"
    resp = api(client, w, "coord", "POST", f"{url}/1/cancel",
               {"scope": "all", "reason": "facility_request"})
    body = resp.get_json()
    assert body["status"] == "cancelled" and body["cancel_reason"] == "facility_request"
    assert {s["status"] for s in body["session_list"]} == {"cancelled"}
    # a cancelled course changes no more
    resp = api(client, w, "coord", "POST", f"{url}/1/cancel",
               {"scope": "all", "reason": "facility_request"})
    assert resp.status_code == 409


def test_move_this_session_and_the_following_by_the_same_shift(client, session, w):
    weekly_rule(session)
    course = book_course(client, w, w["referrals"][0], weeks=3)
    url = f"/api/v1/courses/{course['code']}/sessions"
    second = datetime.fromisoformat(course["session_list"][1]["starts_at"])
    resp = api(client, w, "coord", "POST", f"{url}/2/move",
               {"scope": "this", "starts_at": (second + timedelta(hours=1)).isoformat()})
    assert resp.status_code == 200, resp.get_json()
    rows = resp.get_json()["session_list"]
    assert [r["number"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert datetime.fromisoformat(rows[1]["starts_at"]) == second + timedelta(hours=1)
    # 4 and following: a day earlier (Tuesday/Thursday -> Monday/Wednesday)
    fourth = datetime.fromisoformat(rows[3]["starts_at"])
    resp = api(client, w, "coord", "POST", f"{url}/4/move",
               {"scope": "following", "starts_at": (fourth - timedelta(days=1)).isoformat()})
    assert resp.status_code == 200, resp.get_json()
    days = [datetime.fromisoformat(r["starts_at"]).astimezone(ZONE).isoweekday()
            for r in resp.get_json()["session_list"]]
    assert days == [2, 4, 2, 3, 1, 3]
    session.expire_all()
    assert invariants(session) == CLEAN
    # a move onto a time nobody offers moves nothing
    resp = api(client, w, "coord", "POST", f"{url}/5/move",
               {"scope": "following", "starts_at": (fourth + timedelta(hours=5)).isoformat()})
    assert resp.status_code == 409
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(CourseSession)) == 6 + 1 + 3


def test_leave_moves_sessions_to_a_colleague_or_flags_them_and_tells_the_clinic(
        app, client, session, w):
    weekly_rule(session, practitioner="DR1")
    weekly_rule(session, practitioner="TH1")
    free = book_course(client, w, w["referrals"][0], weeks=2, practitioner_code=None)
    fixed = book_course(client, w, w["referrals"][1], weeks=2, practitioner_code="DR1",
                        start_time="15:00")
    assert {s["practitioner_code"] for s in fixed["session_list"]} == {"DR1"}
    first = datetime.fromisoformat(free["session_list"][0]["starts_at"]).astimezone(ZONE).date()
    before = session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "course_sessions_affected"))
    with app.app_context():
        _exc, counts = schedules.create_exception(session, {
            "kind": "leave", "practitioner_code": "DR1", "starts_at": at(first, 0),
            "ends_at": at(first + timedelta(days=1), 0)}, principal=None, today=local_today(),
            now=datetime.now(UTC))
    session.commit()
    moved_free = [s for s in free["session_list"] if s["practitioner_code"] == "DR1"
                  and datetime.fromisoformat(s["starts_at"]).astimezone(ZONE).date() == first]
    assert len(counts["courses"]["moved"]) == len(moved_free)
    assert len(counts["courses"]["flagged"]) == 1
    again = api(client, w, "coord", "GET", f"/api/v1/courses/{free['code']}").get_json()
    assert again["session_list"][0]["practitioner_code"] == "TH1"
    assert again["session_list"][0]["number"] == 1
    flagged = api(client, w, "coord", "GET", f"/api/v1/courses/{fixed['code']}").get_json()
    assert flagged["session_list"][0]["practitioner_on_leave"] is True
    assert not any(s["practitioner_on_leave"] for s in flagged["session_list"][1:])
    after = session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "course_sessions_affected",
        Notification.facility_id == w["station"].id))
    assert after - before == 2
    # the places left inside the leave are withdrawn, never offered on
    session.expire_all()
    left = session.scalar(select(Appointment).where(
        Appointment.id == int(free["session_list"][0]["code"][1:])))
    assert left.status == "cancelled" and left.slot.status == "withdrawn"
    assert session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.status == "proposed")) == 0
    assert invariants(session) == CLEAN


def test_three_missed_sessions_in_a_row_put_the_course_on_its_clinics_defaulter_list(
        client, session, w):
    weekly_rule(session)
    course = book_course(client, w, w["referrals"][0], weeks=3)
    ids = [s["code"] for s in course["session_list"]]

    def mark(codes, status):
        session.execute(update(Appointment).where(
            Appointment.id.in_([int(c[1:]) for c in codes])).values(status=status))
        session.commit()

    mark(ids[:1], "fulfilled")
    mark(ids[1:3], "noshow")
    listed = api(client, w, "staff", "GET", "/api/v1/courses/defaulters").get_json()
    assert listed == []
    mark(ids[3:4], "noshow")
    listed = api(client, w, "staff", "GET", "/api/v1/courses/defaulters").get_json()
    assert [c["code"] for c in listed] == [course["code"]]
    assert listed[0]["missed_in_a_row"] == 3
    # the page of the clinic lists it too
    client.post("/login", data={"username": "staff", "password": "pw"})
    # attending again takes it off
    mark(ids[4:5], "fulfilled")
    assert api(client, w, "staff", "GET", "/api/v1/courses/defaulters").get_json() == []


def test_a_referral_ending_cancels_its_future_sessions_and_ends_the_course(app, client, session,
                                                                           w):
    weekly_rule(session)
    r = w["referrals"][0]
    course = book_course(client, w, r, weeks=2)
    session.expire_all()
    referral = session.get(type(r), r.id)
    with app.app_context():
        transition(session, referral, "cancel", principal=None, now=datetime.now(UTC),
                   reason="family moved")
    session.commit()
    body = api(client, w, "coord", "GET", f"/api/v1/courses/{course['code']}").get_json()
    assert body["status"] == "cancelled" and body["cancel_reason"] == "referral_closed"
    assert {s["status"] for s in body["session_list"]} == {"cancelled"}
    assert {s["cancel_reason"] for s in body["session_list"]} == {"referral_closed"}


def test_a_running_course_holds_its_places_in_the_following_weeks_of_a_plan(app, client, session,
                                                                            w):
    """Through the plan adapters: the intake capacity left each week is what the schedules offer
    less what the running course holds (2 sessions a week for 3 weeks, then nothing)."""
    weekly_rule(session, places=1)
    start = next_monday()
    with app.app_context():
        before = adapters.build_instance(session, start_date=start, horizon_weeks=6,
                                         policy=DEFAULT_POLICY)
    course = book_course(client, w, w["referrals"][0], weeks=3)
    # it has begun: its first session is attended (the case is in rehabilitation)
    session.execute(update(Appointment).where(
        Appointment.id == int(course["session_list"][0]["code"][1:])).values(status="fulfilled"))
    session.commit()
    with app.app_context():
        after = adapters.build_instance(session, start_date=start, horizon_weeks=6,
                                        policy=DEFAULT_POLICY)

    def capacity(built):
        f = next(f for f in built.data["facilities"] if f["id"] == "CT01")
        value = f["capacity"]["autism_training"]
        return value if isinstance(value, list) else [value] * 6

    assert [b - a for b, a in zip(capacity(before), capacity(after), strict=True)] == \
        [2, 2, 2, 0, 0, 0]


def _race(app, calls):
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, body, token):
        c = app.test_client()
        barrier.wait()
        resp = c.post("/api/v1/courses", json=body, headers={"Authorization": f"Bearer {token}"})
        results[i] = resp.status_code

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    assert all(r is not None for r in results)
    return results


def test_courses_racing_for_the_same_group_seats_never_double_book(app, client, session, w):
    """12 coordinators at once book 12-session courses into the same group sessions (3 seats):
    3 courses are booked whole, 9 get 409 and book nothing; one referral booked twice at once
    gets one course. The slots beyond the window are generated once."""
    weekly_rule(session, places=3)
    referrals_ = [new_child_referral(session, w) for _ in range(12)]
    session.commit()
    preview = api(client, w, "coord", "POST", "/api/v1/courses/preview",
                  pattern(referrals_[0], weeks=6)).get_json()
    chosen = picks(preview)
    assert len(chosen) == 12
    token = w["tokens"]["coord"]
    calls = [({**pattern(r, weeks=6), "to_book": chosen}, token) for r in referrals_]
    calls.append(({**pattern(referrals_[0], weeks=6), "to_book": chosen}, token))
    results = _race(app, calls)
    assert results.count(201) == 3 and results.count(409) == len(calls) - 3, results
    session.expire_all()
    per_referral = dict(session.execute(select(Appointment.referral_id, func.count())
                                        .where(Appointment.status == "booked")
                                        .group_by(Appointment.referral_id)).all())
    assert sorted(per_referral.values()) == [12, 12, 12]
    assert session.scalar(select(func.count()).select_from(Course)) == 3
    assert invariants(session) == CLEAN
    # no slot was generated twice: one open slot per practitioner and time
    dupes = session.execute(select(Slot.practitioner_id, Slot.starts_at, func.count())
                            .where(Slot.status == "open")
                            .group_by(Slot.practitioner_id, Slot.starts_at)
                            .having(func.count() > 1)).all()
    assert dupes == []


# --- pages --------------------------------------------------------------------------------------
def _logged_in(app, user):
    from tests.factories import log_in

    c = app.test_client()
    log_in(c, user)
    return c


def test_the_course_pages_errors_in_place_scope_and_a_whole_course_cancelled(app, session, w):
    from tests.responses import csrf_token

    weekly_rule(session)
    r = w["referrals"][0]
    coord = _logged_in(app, w["users"]["coord"])
    staff = _logged_in(app, w["users"]["staff"])
    url = f"/referrals/{r.code}/course"
    form_page = coord.get(url).get_data(as_text=True)
    token = csrf_token(form_page)
    # no weekday: 422 with the error at the weekdays
    resp = coord.post(url, data={"csrf_token": token, "step": "preview", "weeks": "2"})
    assert resp.status_code == 422
    assert 'id="course-weekdays-error"' in resp.get_data(as_text=True)
    # the preview, then the confirmation of every session shown
    form = {"csrf_token": token, "weekdays": ["2", "4"], "start_time": "14:00", "weeks": "2",
            "first_day": next_monday().isoformat()}
    page = coord.post(url, data={**form, "step": "preview"}).get_data(as_text=True)
    import re

    sessions = re.findall(r'name="session" id="session-\d+" value="([^"]+)"', page)
    assert len(sessions) == 4
    resp = coord.post(url, data={**form, "step": "confirm", "session": sessions})
    assert resp.status_code == 303 and "/courses/CR" in resp.headers["Location"]
    course_url = resp.headers["Location"]
    # the sending clinic books no course at the centre, but follows it read-only
    assert staff.get(url).status_code == 404
    seen = staff.get(course_url)
    assert seen.status_code == 200 and "/change" not in seen.get_data(as_text=True)
    # cancel the whole course from its page
    page = coord.get(course_url).get_data(as_text=True)
    resp = coord.post(course_url + "/change", data={
        "csrf_token": csrf_token(page), "action": "cancel", "scope": "all", "number": "1",
        "reason": "family_request"})
    assert resp.status_code == 303
    session.expire_all()
    course = session.scalar(select(Course))
    assert course.status == "cancelled"
    assert session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.status == "booked")) == 0
    # the clinic's defaulter list answers
    assert staff.get("/booking/defaulters").status_code == 200


# --- a course and the waitlist -------------------------------------------------------------------
def _course_jump_audits(session):
    from rehab_net.auth.models import AuditEvent

    return [e for e in session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "course")) if (e.detail or {}).get("action") == "jump_waitlist"]


def test_a_course_that_passes_over_a_better_placed_waiting_case_needs_a_reason(
        app, client, session, w):
    """The waitlist's rule holds for a whole course as for one booking: refused without a
    reason (nothing booked), booked with one, the reason on each session, audited once."""
    from rehab_net.booking import waitlist

    weekly_rule(session, places=1)
    child = w["referrals"][0]
    with app.app_context():
        waitlist.add(session, child, note=None, principal=None, now=datetime.now(UTC))
    adult = new_child_referral(session, w, birth_date=date(1980, 1, 1))
    session.commit()
    body = pattern(adult, weeks=3)
    preview = api(client, w, "coord", "POST", "/api/v1/courses/preview", body).get_json()
    # the preview says which sessions pass over the waiting child, before anything is booked
    assert [s["waiting_ahead"] for s in preview["sessions"]] == [1] * 6
    to_book = {**body, "to_book": picks(preview)}
    refused = api(client, w, "coord", "POST", "/api/v1/courses", to_book)
    assert refused.status_code == 409, refused.get_json()
    got = refused.get_json()
    assert got["code"] == "booking.course_jumps_waitlist"
    assert got["params"]["sessions"] == 6 and got["params"]["count"] == 1
    assert got["params"]["referral"] == child.code
    assert [e["field"] for e in got["errors"]] == ["jump_reason"]
    assert session.scalar(select(func.count()).select_from(Appointment)) == 0
    assert session.scalar(select(func.count()).select_from(Course)) == 0
    reason = "a school holiday block agreed with the surgeon"
    booked = api(client, w, "coord", "POST", "/api/v1/courses", {**to_book, "jump_reason": reason})
    assert booked.status_code == 201, booked.get_json()
    session.expire_all()
    assert {a.jump_reason for a in session.scalars(select(Appointment))} == {reason}
    [event] = _course_jump_audits(session)
    assert event.reason == reason and event.detail["sessions"] == 6
    assert event.detail["entries"][0]["referral"] == child.code
    assert waitlist.open_entry(session, child.id).status == "waiting"  # the child still waits


def test_a_course_on_days_the_waiting_family_cannot_come_passes_over_nobody(app, client, session,
                                                                            w):
    from rehab_net.booking import waitlist

    weekly_rule(session, places=1)
    mondays_only = w["referrals"][0]
    with app.app_context():
        waitlist.add(session, mondays_only, note=None, principal=None, now=datetime.now(UTC),
                     weekdays=[1])
    adult = new_child_referral(session, w, birth_date=date(1980, 1, 1))
    session.commit()
    preview = api(client, w, "coord", "POST", "/api/v1/courses/preview",
                  pattern(adult, weeks=2)).get_json()
    assert [s["waiting_ahead"] for s in preview["sessions"]] == [0] * 4
    course = book_course(client, w, adult, weeks=2)  # Tuesdays and Thursdays
    assert course["sessions"] == 4
    session.expire_all()
    assert {a.jump_reason for a in session.scalars(select(Appointment))} == {None}
    assert _course_jump_audits(session) == []


def test_the_course_page_asks_why_a_course_goes_before_the_waitlist(app, session, w):
    import re

    from rehab_net.booking import waitlist
    from tests.responses import csrf_token

    weekly_rule(session, places=1)
    with app.app_context():
        waitlist.add(session, w["referrals"][0], note=None, principal=None,
                     now=datetime.now(UTC))
    adult = new_child_referral(session, w, birth_date=date(1980, 1, 1))
    session.commit()
    coord = _logged_in(app, w["users"]["coord"])
    url = f"/referrals/{adult.code}/course"
    form = {"csrf_token": csrf_token(coord.get(url).get_data(as_text=True)),
            "weekdays": ["2", "4"], "start_time": "14:00", "weeks": "1",
            "first_day": next_monday().isoformat()}
    page = coord.post(url, data={**form, "step": "preview"}).get_data(as_text=True)
    sessions = re.findall(r'name="session" id="session-\d+" value="([^"]+)"', page)
    assert page.count("<td><strong>1</strong></td>") == len(sessions) == 2  # passed over, shown
    refused = coord.post(url, data={**form, "step": "confirm", "session": sessions})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409 and 'id="course-jump_reason-error"' in html
    assert "等候个案" in html and w["referrals"][0].code in html  # in Chinese, naming the first
    assert session.scalar(select(func.count()).select_from(Appointment)) == 0
    booked = coord.post(url, data={**form, "step": "confirm", "session": sessions,
                                   "jump_reason": "术后复查，外科医生要求本周进行"})
    assert booked.status_code == 303
    assert len(_course_jump_audits(session)) == 1
