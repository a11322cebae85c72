"""The coordinator's schedule pages (issue 15) through the test client: practitioners and their
sites, weekly rules and one-off sessions, leave and closures with the booked appointments they
hit, the search of other facilities near the patient, who may manage what (another facility's
practitioner or rule is a 404), and the day's list showing names only to the facility's staff."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from rehab_net.auth.models import AuditEvent
from rehab_net.booking import schedules
from rehab_net.booking.models import (
    Practitioner,
    PractitionerFacility,
    ScheduleException,
    ScheduleRule,
    Slot,
)
from tests.booking_world import at, local_today, make_slot, next_monday
from tests.factories import create_appointment, create_user, log_in
from tests.responses import csrf_token as _csrf

NOW = datetime.now(UTC)


def _post(client, url: str, page: str, **form):
    return client.post(url, data={"csrf_token": _csrf(page), **form})


def _rule_form(**over):
    return {"kind": "weekly", "facility_code": "CT01", "service_code": "autism_training",
            "weekdays": ["1", "3"], "start_time": "14:00", "end_time": "16:00",
            "slot_minutes": "60", "places": "2", "valid_from": "", "valid_until": "", **over}


def _text(response) -> str:
    return response.get_data(as_text=True)


# --- practitioners ------------------------------------------------------------------------------
def test_add_a_practitioner_with_errors_in_place_then_success(coord, w, session):
    page = _text(coord.get("/booking/practitioners"))
    assert "李医生" in page and "王治疗师" in page
    assert 'id="new-facility_codes-CT01"' in page
    assert 'id="new-facility_codes-ST150702001"' not in page  # not the coordinator's facility
    bad = _post(coord, "/booking/practitioners", page, code="a b", name="", profession="cook")
    assert bad.status_code == 422
    html = _text(bad)
    for field in ("code", "name", "profession", "facility_codes"):
        assert f'id="new-{field}-error"' in html, field
        assert f'href="#new-{field}"' in html  # the error summary links to the field
    assert 'aria-invalid="true"' in html
    taken = _post(coord, "/booking/practitioners", page, code="DR1", name="张医生",
                  profession="physician", facility_codes="CT01")
    assert taken.status_code == 409 and 'id="new-code-error"' in _text(taken)
    done = _post(coord, "/booking/practitioners", page, code="NU1", name="赵护士",
                 profession="nurse", facility_codes="CT01")
    assert done.status_code == 303 and done.headers["Location"].endswith(
        "/booking/practitioners/NU1")
    nurse = session.scalar(select(Practitioner).where(Practitioner.code == "NU1"))
    assert nurse.name == "赵护士" and [f.code for f in nurse.facilities] == ["CT01"]
    shown = _text(coord.get("/booking/practitioners/NU1"))
    assert "赵护士" in shown and "NU1" in shown  # the flash and the page


def test_another_facilitys_facility_is_refused_in_place(staff, w):
    page = _text(staff.get("/booking/practitioners"))
    got = _post(staff, "/booking/practitioners", page, code="X1", name="某人",
                profession="nurse", facility_codes="CT01")
    assert got.status_code == 422 and 'id="new-facility_codes-error"' in _text(got)


def test_edit_a_practitioner_and_their_sites(app, coord, w, session):
    page = _text(coord.get("/booking/practitioners/TH1"))
    bad = _post(coord, "/booking/practitioners/TH1", page, name="", profession="therapist",
                active="1")
    assert bad.status_code == 422 and 'id="details-name-error"' in _text(bad)
    done = _post(coord, "/booking/practitioners/TH1", page, name="王治疗师二",
                 profession="therapist", active="1")
    assert done.status_code == 303
    session.expire_all()
    assert session.scalar(select(Practitioner.name).where(Practitioner.code == "TH1")) \
        == "王治疗师二"
    # DR1 practises at CT01 and the station: the coordinator removes CT01 only when no rule
    # of DR1 is there; the station's site is not theirs to remove
    page = _text(coord.get("/booking/practitioners/DR1"))
    assert 'action="/booking/practitioners/DR1/sites/CT01/remove"' in page
    assert 'action="/booking/practitioners/DR1/sites/ST150702001/remove"' not in page
    with app.app_context():
        schedules.create_rule(session, dict(
            practitioner_code="DR1", facility_code="CT01", service_code="autism_training",
            weekdays=[2], start_time=time(14), end_time=time(15), slot_minutes=60,
            valid_from=local_today()), principal=None, today=local_today(), now=NOW)
        session.commit()
    refused = _post(coord, "/booking/practitioners/DR1/sites/CT01/remove", page)
    assert refused.status_code == 303
    assert "在此机构有排班" in _text(coord.get(refused.headers["Location"]))  # the flash
    assert session.get(PractitionerFacility, (w["dr"].id, w["centre"].id)) is not None
    foreign = _post(coord, "/booking/practitioners/DR1/sites/ST150702001/remove", page)
    assert foreign.status_code == 303
    session.expire_all()
    assert session.get(PractitionerFacility, (w["dr"].id, w["station"].id)) is not None


# --- weekly rules and one-off sessions ----------------------------------------------------------
def test_weekly_rule_errors_in_place_then_its_slots(coord, w, session):
    url = "/booking/practitioners/TH1/rules"
    page = _text(coord.get("/booking/practitioners/TH1"))
    for over, field in (({"end_time": "13:00"}, "end_time"),
                        ({"start_time": "9am"}, "start_time"),
                        ({"weekdays": []}, "weekdays"),
                        ({"slot_minutes": "0"}, "slot_minutes"),
                        ({"valid_from": "2030-02-01", "valid_until": "2030-01-01"},
                         "valid_until"),
                        ({"service_code": "physical_follow_up"}, "service_code"),
                        ({"facility_code": "ST150702001"}, "facility_code")):
        got = _post(coord, url, page, **_rule_form(**over))
        assert got.status_code == 422, (over, got.status_code)
        html = _text(got)
        assert f'id="rule-{field}-error"' in html, (over, html[:2000])
        assert f'href="#rule-{field}"' in html
    assert session.scalar(select(ScheduleRule.id)) is None
    done = _post(coord, url, page, **_rule_form())
    assert done.status_code == 303 and done.headers["Location"].endswith("#rules")
    rule = session.scalar(select(ScheduleRule))
    assert (rule.kind, rule.weekdays, rule.places) == ("weekly", 0b101, 2)
    assert session.scalars(select(Slot).where(Slot.rule_id == rule.id)).first() is not None
    shown = _text(coord.get("/booking/practitioners/TH1"))
    assert f'href="/booking/rules/{rule.id}"' in shown
    assert f'action="/booking/rules/{rule.id}/end"' in shown


def test_overlapping_time_at_another_site_is_a_form_error(app, coord, w, session):
    """DR1 works Monday to Friday mornings at the station; the centre's coordinator gives DR1
    Monday 10:00-11:00 at the centre: refused at the start time, nothing saved."""
    with app.app_context():
        schedules.create_rule(session, dict(
            practitioner_code="DR1", facility_code="ST150702001", service_code="autism_training",
            weekdays=[1, 2, 3, 4, 5], start_time=time(9), end_time=time(12), slot_minutes=60,
            valid_from=local_today()), principal=None, today=local_today(), now=NOW)
        session.commit()
    page = _text(coord.get("/booking/practitioners/DR1"))
    got = _post(coord, "/booking/practitioners/DR1/rules", page, **_rule_form(
        weekdays=["1"], start_time="10:00", end_time="11:00"))
    assert got.status_code == 409
    assert 'id="rule-start_time-error"' in _text(got)
    session.expire_all()
    assert session.scalar(select(ScheduleRule.id).where(
        ScheduleRule.facility_id == w["centre"].id)) is None
    monday = next_monday()
    session_form = _post(coord, "/booking/practitioners/DR1/rules", page, kind="session",
                         facility_code="CT01", service_code="autism_training",
                         on=monday.isoformat(), start_time="09:30", end_time="10:30",
                         slot_minutes="60", places="1")
    assert session_form.status_code == 409
    assert 'id="session-start_time-error"' in _text(session_form)


def test_one_off_session_from_the_same_page(coord, w, session):
    page = _text(coord.get("/booking/practitioners/TH1"))
    assert 'id="session-on"' in page
    missing = _post(coord, "/booking/practitioners/TH1/rules", page, kind="session",
                    facility_code="CT01", service_code="autism_training", on="",
                    start_time="09:00", end_time="12:00", slot_minutes="60", places="4")
    assert missing.status_code == 422 and 'id="session-on-error"' in _text(missing)
    day = next_monday() + timedelta(days=5)  # a Saturday
    done = _post(coord, "/booking/practitioners/TH1/rules", page, kind="session",
                 facility_code="CT01", service_code="autism_training", on=day.isoformat(),
                 start_time="09:00", end_time="12:00", slot_minutes="60", places="4")
    assert done.status_code == 303
    rule = session.scalar(select(ScheduleRule))
    assert (rule.kind, rule.valid_from, rule.valid_until) == ("session", day, day)
    assert len(list(session.scalars(select(Slot).where(Slot.rule_id == rule.id)))) == 3


def test_edit_and_end_a_rule(app, coord, w, session):
    with app.app_context():
        rule, _counts = schedules.create_rule(session, dict(
            practitioner_code="TH1", facility_code="CT01", service_code="autism_training",
            weekdays=[1], start_time=time(9), end_time=time(11), slot_minutes=60,
            valid_from=local_today()), principal=None, today=local_today(), now=NOW)
        session.commit()
    page = _text(coord.get(f"/booking/rules/{rule.id}"))
    assert 'value="09:00"' in page and 'id="edit-weekdays-1" name="weekdays" value="1" checked' \
        in page
    bad = _post(coord, f"/booking/rules/{rule.id}", page, **_rule_form(
        start_time="11:00", end_time="10:00"))
    assert bad.status_code == 422 and 'id="edit-end_time-error"' in _text(bad)
    done = _post(coord, f"/booking/rules/{rule.id}", page, **_rule_form(
        weekdays=["2"], start_time="08:00", end_time="10:00", places="1"))
    assert done.status_code == 303
    session.expire_all()
    rule = session.get(ScheduleRule, rule.id)
    assert (rule.weekdays, rule.start_time) == (0b10, time(8))
    ended = _post(coord, f"/booking/rules/{rule.id}/end", page)
    assert ended.status_code == 303
    session.expire_all()
    assert session.get(ScheduleRule, rule.id).active is False
    assert session.scalar(select(Slot.id).where(Slot.rule_id == rule.id,
                                                Slot.status == "open")) is None


# --- leave and closures -------------------------------------------------------------------------
def test_leave_lists_the_booked_appointments_it_hits(coord, w, session):
    monday = next_monday()
    slot = make_slot(session, w, at(monday, 9), practitioner=w["therapist"])
    appt = create_appointment(session, w["referrals"][0], slot, now=NOW)
    session.commit()
    page = _text(coord.get("/booking/practitioners/TH1"))
    bad = _post(coord, "/booking/practitioners/TH1/leave", page,
                first_day=monday.isoformat(), last_day=(monday - timedelta(days=1)).isoformat())
    assert bad.status_code == 422 and 'id="leave-last_day-error"' in _text(bad)
    empty = _post(coord, "/booking/practitioners/TH1/leave", page, first_day="", last_day="")
    assert empty.status_code == 422 and 'id="leave-first_day-error"' in _text(empty)
    done = _post(coord, "/booking/practitioners/TH1/leave", page, first_day=monday.isoformat(),
                 last_day=monday.isoformat(), reason="培训")
    assert done.status_code == 303
    shown = _text(coord.get("/booking/practitioners/TH1"))
    assert f'href="/appointments/{appt.code}"' in shown and "培训" in shown
    leave = session.scalar(select(ScheduleException))
    assert leave.kind == "leave" and leave.practitioner_id == w["therapist"].id
    listed = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "list", AuditEvent.object_type == "appointment")).all()
    assert any(appt.code in (e.detail or {}).get("codes", []) for e in listed)
    withdrawn = _post(coord, f"/booking/exceptions/{leave.id}/delete", shown)
    assert withdrawn.status_code == 303
    assert session.scalar(select(ScheduleException.id)) is None


def test_closure_form_lists_hits_and_withdraws(coord, w, session):
    monday = next_monday()
    slot = make_slot(session, w, at(monday, 10))
    appt = create_appointment(session, w["referrals"][1], slot, now=NOW)
    session.commit()
    page = _text(coord.get("/booking/closures"))
    assert 'value="ST150702001"' not in page  # only the coordinator's facilities
    bad = _post(coord, "/booking/closures", page, facility_code="ST150702001",
                first_day=monday.isoformat(), last_day="x")
    assert bad.status_code == 422
    html = _text(bad)
    assert 'id="closure-facility_code-error"' in html and 'id="closure-last_day-error"' in html
    done = _post(coord, "/booking/closures", page, facility_code="CT01",
                 first_day=monday.isoformat(), last_day=(monday + timedelta(days=1)).isoformat(),
                 reason="装修")
    assert done.status_code == 303
    shown = _text(coord.get("/booking/closures"))
    assert f'href="/appointments/{appt.code}"' in shown and "装修" in shown
    closure = session.scalar(select(ScheduleException))
    assert _post(coord, f"/booking/exceptions/{closure.id}/delete", shown).status_code == 303


# --- who manages what ---------------------------------------------------------------------------
def test_a_coordinator_cannot_manage_another_facilitys_practitioners(app, staff, coord, w,
                                                                      session):
    """TH1 practises at the centre only: the station's staff get 404 for TH1's page and every
    form of it, and for the centre's rules and leave; the planner may not manage at all."""
    with app.app_context():
        rule, _counts = schedules.create_rule(session, dict(
            practitioner_code="TH1", facility_code="CT01", service_code="autism_training",
            weekdays=[1], start_time=time(9), end_time=time(11), slot_minutes=60,
            valid_from=local_today()), principal=None, today=local_today(), now=NOW)
        closure, _ = schedules.create_exception(session, dict(
            kind="closure", facility_code="CT01", starts_at=at(next_monday(), 0),
            ends_at=at(next_monday(), 23)), principal=None, today=local_today(), now=NOW)
    session.commit()
    page = _text(staff.get("/booking/practitioners"))
    assert "TH1" not in page and "DR1" in page  # DR1 also practises at the station
    assert staff.get("/booking/practitioners/TH1").status_code == 404
    for url, form in (("/booking/practitioners/TH1", {"name": "x", "profession": "nurse"}),
                      ("/booking/practitioners/TH1/rules", _rule_form()),
                      ("/booking/practitioners/TH1/leave", {"first_day": "2030-01-01",
                                                            "last_day": "2030-01-01"}),
                      ("/booking/practitioners/TH1/sites", {"facility_code": "ST150702001"}),
                      (f"/booking/rules/{rule.id}", _rule_form()),
                      (f"/booking/rules/{rule.id}/end", {}),
                      (f"/booking/exceptions/{closure.id}/delete", {})):
        assert _post(staff, url, page, **form).status_code == 404, url
    assert staff.get(f"/booking/rules/{rule.id}").status_code == 404
    session.expire_all()
    assert session.get(ScheduleRule, rule.id).active is True
    # DR1 is shared: the station's staff manage DR1, but give DR1 no rule at the centre
    dr_page = _text(staff.get("/booking/practitioners/DR1"))
    assert 'value="CT01"' not in dr_page.split('id="rules"')[1]
    refused = _post(staff, "/booking/practitioners/DR1/rules", dr_page, **_rule_form())
    assert refused.status_code == 422 and 'id="rule-facility_code-error"' in _text(refused)
    planner = app.test_client()
    log_in(planner, w["users"]["planner"])
    assert planner.get("/booking/practitioners").status_code == 403
    assert planner.get("/booking/closures").status_code == 403


def test_booking_links_to_the_schedule_pages_for_writers_only(app, coord, w):
    html = _text(coord.get("/booking"))
    assert 'href="/booking/practitioners"' in html and 'href="/booking/closures"' in html
    planner = app.test_client()
    log_in(planner, w["users"]["planner"])
    html = _text(planner.get("/booking"))
    assert 'href="/booking/practitioners"' not in html


# --- the day's list -----------------------------------------------------------------------------
def test_the_days_list_shows_names_to_the_facilitys_staff_only(app, coord, w, session):
    monday = next_monday()
    appt = create_appointment(session, w["referrals"][0], make_slot(session, w, at(monday, 9)),
                              now=NOW)
    name = appt.case.person.name
    masked = name[0] + "*" * (len(name) - 1)
    operator = create_user(session, "everywhere", grants=[("coordinator", None)])
    session.commit()
    url = f"/booking/day?facility=CT01&date={monday.isoformat()}"
    html = _text(coord.get(url))
    assert name in html
    audited = session.scalars(select(AuditEvent).where(AuditEvent.object_type == "person",
                                                       AuditEvent.action == "list")).all()
    assert [e.detail["codes"] for e in audited] == [[appt.case.person.code]]
    assert audited[0].detail["filters"]["names"] == "full"
    planner = app.test_client()
    log_in(planner, w["users"]["planner"])
    html = _text(planner.get(url))
    assert masked in html and name not in html
    network_wide = app.test_client()
    log_in(network_wide, operator)
    html = _text(network_wide.get(url))
    assert masked in html and name not in html
    session.expire_all()
    assert len(session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "person", AuditEvent.action == "list")).all()) == 1


# --- other facilities near the patient ----------------------------------------------------------
def test_search_other_facilities_near_the_patient(coord, w, session):
    monday = next_monday()
    here = make_slot(session, w, at(monday, 9))
    session.execute(PractitionerFacility.__table__.insert().values(
        practitioner_id=w["therapist"].id, facility_id=w["station"].id))
    there = make_slot(session, w, at(monday, 8), facility=w["station"],
                      practitioner=w["therapist"])
    session.commit()
    code = w["referrals"][0].code
    book = _text(coord.get(f"/referrals/{code}/book"))
    assert f'href="/referrals/{code}/availability"' in book
    start = monday.isoformat()
    got = coord.get(f"/referrals/{code}/availability?max_km=30&from={start}&to={start}")
    assert got.status_code == 200
    html = _text(got)
    assert html.index(f'href="/booking/slots/{there.id}"') < \
        html.index(f'href="/booking/slots/{here.id}"')  # the soonest first
    assert "测试街道康复站" in html and "市残疾人康复中心" in html
    bad = coord.get(f"/referrals/{code}/availability?max_km=abc&from={start}&to=2000-01-01")
    assert bad.status_code == 422
    html = _text(bad)
    assert 'id="search-max_km-error"' in html
