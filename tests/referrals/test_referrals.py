"""Two-way referrals: the transition table, who may act, the full loop up and back down, two
coordinators at once, deadlines and escalation on a controlled clock, re-referral."""
from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from rehab_net.auth.models import AuditEvent
from rehab_net.network import operations as network
from rehab_net.referrals.models import Notification, Referral
from rehab_net.referrals.operations.deadline_check import check_deadlines
from rehab_net.referrals.operations.workflow import create_referral, transition
from rehab_net.referrals.states import ACTIONS, REFERRAL_STATES, USER_ACTIONS
from tests.factories import create_case, create_person, create_plan
from tests.fhir_schema import piecewise_errors, root_errors
from tests.planning_helpers import solve_here, waiting_list
from tests.referral_world import GOOD, MONDAY_9, drive, up_body


def api(anonymous, net, who, method, url, body=None):
    return anonymous.open(url, method=method, json=body,
                          headers={"Authorization": f"Bearer {net['tokens'][who]}"})


@pytest.mark.parametrize("state", REFERRAL_STATES)
def test_every_state_and_every_action(anonymous, session, net, state):
    """The whole table: each user action from each state is taken (200) or refused (409)."""
    for action in USER_ACTIONS:
        session.expire_all()  # the case as the last request left it
        referral = drive(session, net, state)
        who = "staff" if ACTIONS[action].side == "sender" else "coord"
        got = api(anonymous, net, who, "POST", f"/api/v1/referrals/{referral.code}/{action}", GOOD)
        if state in ACTIONS[action].sources:
            assert got.status_code == 200, (state, action, got.json)
            assert got.json["state"] == ACTIONS[action].target
            assert got.json["events"][-1]["action"] == action
        else:
            assert got.status_code == 409, (state, action, got.json)
            assert got.json["errors"][0] == {"field": "state", "rule": f"is {state}",
                                             "code": "referral.state_is",
                                             "params": {"state": state}}
            session.expire_all()
            assert session.get(Referral, referral.id).state == state  # nothing written


@pytest.mark.parametrize("action,body,field", [
    ("decline", {"reason": "full"}, "reason_code"),
    ("return", {}, "reason"),
    ("cancel", {}, "reason"),
    ("complete", {}, "outcome"),
])
def test_steps_that_need_a_reason_or_outcome(anonymous, session, net, action, body, field):
    start = {"decline": "received", "return": "received", "cancel": "sent",
             "complete": "in_progress"}[action]
    referral = drive(session, net, start)
    who = "staff" if ACTIONS[action].side == "sender" else "coord"
    got = api(anonymous, net, who, "POST", f"/api/v1/referrals/{referral.code}/{action}", body)
    assert got.status_code == 422 and got.json["errors"][0]["field"] == field


def test_only_the_right_side_acts_and_others_do_not_see_it(anonymous, session, net):
    referral = drive(session, net, "sent")
    url = f"/api/v1/referrals/{referral.code}"
    assert api(anonymous, net, "staff", "POST", url + "/receive").status_code == 403
    assert api(anonymous, net, "coord", "POST", url + "/cancel", GOOD).status_code == 403
    assert api(anonymous, net, "stranger", "GET", url).status_code == 404
    assert api(anonymous, net, "planner", "GET", url).status_code == 200  # the district's planner
    assert api(anonymous, net, "planner", "POST", url + "/receive").status_code == 403


def test_the_full_loop_up_and_back_down(anonymous, session, net):
    sent = api(anonymous, net, "staff", "POST", "/api/v1/referrals", up_body(send=True))
    assert sent.status_code == 201 and sent.json["state"] == "sent"
    assert sent.json["fhir_task_status"] == "requested"
    code = sent.json["code"]
    counts = api(anonymous, net, "coord", "GET", "/api/v1/referrals/counts").json
    assert counts["incoming"]["needs_action"] == 1 and counts["unread_notifications"] == 1
    for action, body in (("receive", {}), ("accept", {}), ("start", {}),
                         ("complete", {"outcome": "assessed; home programme set"})):
        got = api(anonymous, net, "coord", "POST", f"/api/v1/referrals/{code}/{action}", body)
        assert got.status_code == 200, got.json
    # the centre refers the child back down to the station with a home programme
    down = api(anonymous, net, "coord", "POST", "/api/v1/referrals", {
        "case_code": "KCHILD", "receiver_code": "ST150702001", "direction": "down",
        "reason": "continue at the station", "answers_code": code, "send": True,
        "home_programme": "3 sessions a week; parents trained in play-based exercises"})
    assert down.status_code == 201, down.json
    for action in ("receive", "accept"):
        got = api(anonymous, net, "staff", "POST",
                  f"/api/v1/referrals/{down.json['code']}/{action}", {})
        assert got.status_code == 200
    up = api(anonymous, net, "staff", "GET", f"/api/v1/referrals/{code}").json
    assert up["state"] == "closed" and up["outcome"] == "assessed; home programme set"
    assert [e["action"] for e in up["events"]] == [
        "create", "send", "receive", "accept", "start", "complete", "close"]
    assert up["events"][-1]["reason"] == f"down-referral {down.json['code']} accepted"
    outbox = api(anonymous, net, "staff", "GET",
                 "/api/v1/referrals?side=outgoing&box=recently_closed").json
    assert [r["code"] for r in outbox] == [code]
    kinds = [n["kind"] for n in api(anonymous, net, "staff", "GET", "/api/v1/notifications").json]
    assert {"referral_answered", "referral_completed", "referral_received"} <= set(kinds)


def test_the_api_marks_a_notification_read_once_and_only_for_whom_it_went_to(
        anonymous, session, net):
    drive(session, net, "sent")
    note = session.query(Notification).filter_by(facility_id=net["centre"].id).one()
    url = f"/api/v1/notifications/{note.id}/read"
    assert api(anonymous, net, "stranger", "POST", url).status_code == 404
    session.expire_all()
    assert session.get(Notification, note.id).read_at is None
    assert api(anonymous, net, "coord", "POST", url).status_code == 204
    session.expire_all()
    first = session.get(Notification, note.id).read_at
    assert first is not None
    assert api(anonymous, net, "coord2", "POST", url).status_code == 204  # again: no change
    session.expire_all()
    assert session.get(Notification, note.id).read_at == first
    missing = api(anonymous, net, "coord", "POST", f"/api/v1/notifications/{note.id + 99}/read")
    assert missing.status_code == 404
    assert missing.json["detail"] == f"There is no notification {note.id + 99}."


def test_two_coordinators_accept_at_once_exactly_one_wins(app, anonymous, session, net):
    referral = drive(session, net, "received")
    barrier = threading.Barrier(2)
    results = {}

    def accept(who):
        client = app.test_client()
        barrier.wait()
        results[who] = client.post(f"/api/v1/referrals/{referral.code}/accept", json={},
                                   headers={"Authorization": f"Bearer {net['tokens'][who]}"})

    threads = [threading.Thread(target=accept, args=(w,)) for w in ("coord", "coord2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    codes = sorted(r.status_code for r in results.values())
    assert codes == [200, 409], {w: r.get_json() for w, r in results.items()}
    loser = next(r for r in results.values() if r.status_code == 409)
    # each errors[] item also carries its code and params; the field and rule are compared here
    said = [{"field": e["field"], "rule": e["rule"]} for e in loser.get_json()["errors"]]
    assert {"field": "state", "rule": "is now accepted"} in said or \
        said[0] == {"field": "state", "rule": "is accepted"}
    session.expire_all()
    events = [e.action for e in session.get(Referral, referral.id).events]
    assert events.count("accept") == 1


def test_a_stale_version_is_a_conflict(anonymous, session, net):
    referral = drive(session, net, "received")
    got = api(anonymous, net, "coord", "POST", f"/api/v1/referrals/{referral.code}/accept",
              {"version": referral.version - 1})
    assert got.status_code == 409 and got.json["errors"][1]["rule"] == f"is now {referral.version}"


def test_deadlines_overdue_escalation_and_expiry_on_a_controlled_clock(app, session, net):
    with app.app_context():
        referral = drive(session, net, "sent")  # a child: at least urgent, received within 2 days
        assert referral.due_at == MONDAY_9 + timedelta(days=2)
        assert check_deadlines(session, MONDAY_9 + timedelta(days=1)) == {
            "overdue": 0, "escalated": 0, "expired": 0}
        late = referral.due_at + timedelta(hours=1)
        assert check_deadlines(session, late)["overdue"] == 1
        assert check_deadlines(session, late)["overdue"] == 0  # idempotent: told once
        session.commit()
        notes = session.query(Notification).filter_by(kind="referral_overdue").all()
        assert [n.facility_id for n in notes] == [net["centre"].id]
        escalated = check_deadlines(session, referral.escalate_at + timedelta(minutes=1))
        assert escalated["escalated"] == 1
        assert session.query(Notification).filter_by(kind="referral_escalated").one().region_id \
            == net["district"].id
        # a missed run (scheduler down for a week) catches up in one pass, still once each
        assert check_deadlines(session, referral.expires_at + timedelta(days=7)) == {
            "overdue": 0, "escalated": 0, "expired": 1}
        session.commit()
        assert referral.state == "expired"
        assert session.query(Notification).filter_by(kind="referral_expired").one().facility_id \
            == net["station"].id


def test_weekends_do_not_count(app, session, net):
    with app.app_context():
        referral = drive(session, net, "draft")
        friday = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
        transition(session, referral, "send", principal=None, now=friday)
        assert referral.due_at == friday + timedelta(days=4)  # Friday + 2 working days = Tuesday


def test_declined_referral_is_re_referred_in_one_step_and_keeps_its_waiting_time(
        anonymous, session, net):
    referral = drive(session, net, "declined")
    first_waiting = referral.waiting_since
    tips = api(anonymous, net, "staff", "GET",
               f"/api/v1/referrals/{referral.code}/suggestions").json
    assert all(t["facility_code"] != "CT01" for t in tips)  # it declined
    got = api(anonymous, net, "staff", "POST", f"/api/v1/referrals/{referral.code}/re-refer",
              {"receiver_code": "CT01"})
    assert got.status_code == 201 and got.json["state"] == "sent"
    assert got.json["replaces_code"] == referral.code
    assert got.json["waiting_since"] == first_waiting.isoformat()
    answered = [n for n in session.query(Notification).filter_by(kind="referral_answered")]
    assert answered and answered[0].facility_id == net["station"].id  # the sender was told


@pytest.mark.parametrize("body,field", [
    (up_body(receiver_code="ST2"), "direction"),            # a station is not higher
    (up_body(direction="down"), "direction"),                # a centre is not lower
    (up_body(service_code="physical_follow_up"), "service_code"),  # the centre does not offer it
    (up_body(case_code="NOPE"), "case_code"),
    (up_body(receiver_code="ST150702001"), "receiver_code"),   # to itself
])
def test_bad_referrals_are_refused_naming_the_field(anonymous, net, body, field):
    got = api(anonymous, net, "staff", "POST", "/api/v1/referrals", body)
    assert got.status_code == 422 and got.json["errors"][0]["field"] == field, got.json


def test_a_down_referral_answers_an_up_referral_and_carries_the_home_programme(anonymous, net):
    body = {"case_code": "KCHILD", "receiver_code": "ST150702001", "direction": "down",
            "reason": "continue at the station"}
    got = api(anonymous, net, "coord", "POST", "/api/v1/referrals", body)
    assert got.status_code == 422 and got.json["errors"][0]["field"] == "answers_code"
    got = api(anonymous, net, "coord", "POST", "/api/v1/referrals",
              {**body, "answers_code": "R999999"})
    assert got.status_code == 422 and got.json["errors"][0]["field"] == "home_programme"


def test_attachments_are_type_and_size_checked(anonymous, session, net):
    import io

    referral = drive(session, net, "draft")
    url = f"/api/v1/referrals/{referral.code}/attachments"
    headers = {"Authorization": f"Bearer {net['tokens']['staff']}"}
    ok = anonymous.post(url, headers=headers, content_type="multipart/form-data",
                        data={"file": (io.BytesIO(b"%PDF-1.7 summary"), "summary.pdf")})
    assert ok.status_code == 201 and ok.json["content_type"] == "application/pdf"
    bad = anonymous.post(url, headers=headers, content_type="multipart/form-data",
                         data={"file": (io.BytesIO(b"MZ\x90\x00"), "x.pdf")})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "file"
    big = anonymous.post(url, headers=headers, content_type="multipart/form-data",
                         data={"file": (io.BytesIO(b"%PDF-" + b"0" * (5 * 1024 * 1024)), "b.pdf")})
    assert big.status_code in (413, 422)
    got = anonymous.get(f"{url}/{ok.json['id']}", headers=headers)
    assert got.data == b"%PDF-1.7 summary"


def test_quarterly_figures_by_district(app, session, net):
    from rehab_net.referrals import stats

    with app.app_context():
        closed = drive(session, net, "closed")
        drive(session, net, "declined")
        drive(session, net, "sent")
        late = drive(session, net, "received")
        transition(session, late, "accept", principal=None,
                   now=late.answer_due_at + timedelta(hours=1))
        session.commit()
        got = stats.figures(session, datetime(2026, 10, 1, tzinfo=UTC),
                            datetime(2027, 1, 1, tzinfo=UTC))
        # accepted after 0 days and after 5 working days + 1 hour (Monday to Monday): median 3.5
        assert got == {"150702": {"sent": 4, "up": 4, "down": 0, "answered": 3,
                                  "answered_in_time": 2, "closed_loops": 1,
                                  "median_days_to_acceptance": 3.5}}
        assert closed.accepted_at == MONDAY_9


def test_the_fhir_view_validates_against_the_r4_schema(anonymous, session, net):
    referral = drive(session, net, "declined")
    got = api(anonymous, net, "staff", "GET", f"/api/v1/referrals/{referral.code}/fhir")
    assert got.status_code == 200 and got.mimetype == "application/fhir+json"
    bundle = got.get_json(force=True)
    assert piecewise_errors(bundle) == [] and root_errors(bundle) == []
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("ServiceRequest") == 1 and kinds.count("Task") == 1
    task = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task")
    assert task["status"] == "rejected" and task["for"] == {"reference": "Patient/PCHILD"}
    assert net["child"].name not in got.get_data(as_text=True)


def test_a_plans_proposals_become_referrals_from_the_home_clinic(app, client, session):
    from rehab_net.clock import today

    waiting_list(session)
    with app.app_context():
        plan = create_plan(session, today=today(), horizon_weeks=1)
    session.commit()
    solve_here(session, plan.id)
    got = client.post(f"/api/v1/plans/{plan.id}/apply", json={})
    assert got.status_code == 200, got.json
    assert len(got.json["created"]) == 4  # 4 places a week at CT01 in a one-week plan
    referral = client.get(f"/api/v1/referrals/{got.json['created'][0]}").json
    assert (referral["state"], referral["sender_code"], referral["receiver_code"],
            referral["direction"]) == ("draft", "ST150702001", "CT01", "up")
    again = client.post(f"/api/v1/plans/{plan.id}/apply", json={"send": True}).json
    assert again["created"] == [] and {(s["reason"], s["code"]) for s in again["skipped"]} == {
        ("has an open referral", "plan_apply.open_referral")}


def test_a_centre_reads_the_persons_referred_to_it_from_anywhere(app, anonymous, session, net):
    for code, parent, level, kind in (("150727", "150700", "district", "banner"),
                                      ("150727001", "150727", "township", "sumu"),
                                      ("150727001001", "150727001", "village", "gacha")):
        network.create_region(session, dict(code=code, parent_code=parent, level=level,
                                            kind=kind, name_zh="远", name_en="Far", lat=48.5,
                                            lon=116.5))
    far = network.create_facility(session, dict(
        code="STFAR", name_zh="远站", name_en="Far station", tier="station",
        region_code="150727001", lat=48.5, lon=116.5, ownership="public", designated=False,
        status="open"))
    person = create_person(session, code="PFAR", home_region_code="150727001001",
                           birth_date=date(2021, 2, 2))
    create_case(session, person, code="KFAR")
    session.commit()
    assert api(anonymous, net, "coord", "GET", "/api/v1/persons/PFAR").status_code == 404
    with app.app_context():
        create_referral(session, dict(up_body(case_code="KFAR"), sender_code=far.code),
                        principal=None, now=MONDAY_9, today=date(2026, 11, 16), send=True)
    session.commit()
    assert api(anonymous, net, "coord", "GET", "/api/v1/persons/PFAR").status_code == 200
    assert api(anonymous, net, "coord", "GET", "/api/v1/cases/KFAR").status_code == 200
    assert api(anonymous, net, "stranger", "GET", "/api/v1/persons/PFAR").status_code == 404


def test_the_scheduler_runs_the_deadline_check_once_per_slot(app, session, net):
    from rehab_net import scheduler
    from rehab_net.referrals.jobs import DEADLINES

    referral = drive(session, net, "sent")
    late = referral.escalate_at + timedelta(minutes=1)
    assert scheduler.run_job(app, DEADLINES, late) == "done"
    assert scheduler.run_job(app, DEADLINES, late) == "skipped"  # a second trigger, same slot
    session.expire_all()
    kinds = sorted(n.kind for n in session.query(Notification))
    assert kinds == ["referral_escalated", "referral_overdue", "referral_received"]
    assert "referral_deadlines" in [j.id for j in scheduler.load_jobs()]


def test_staff_refer_only_cases_they_may_read_and_re_refer_once(anonymous, session, net):
    network.create_region(session, dict(code="150702002", parent_code="150702",
                                        level="township", kind="street", name_zh="邻",
                                        name_en="Next", lat=49.3, lon=119.8))
    network.create_region(session, dict(code="150702002001", parent_code="150702002",
                                        level="village", kind="community", name_zh="邻社区",
                                        name_en="Next community", lat=49.3, lon=119.8))
    create_case(session, create_person(session, home_region_code="150702002001"), code="KNEXT")
    session.commit()
    other = api(anonymous, net, "staff", "POST", "/api/v1/referrals",
                up_body(case_code="KNEXT"))
    assert other.status_code == 422 and other.json["errors"][0]["field"] == "case_code"
    referral = drive(session, net, "declined")
    url = f"/api/v1/referrals/{referral.code}/re-refer"
    assert api(anonymous, net, "staff", "POST", url, {"receiver_code": "CT01"}).status_code == 201
    again = api(anonymous, net, "staff", "POST", url, {"receiver_code": "CT01"})
    assert again.status_code == 409


def test_a_decline_needs_a_known_reason_code_and_keeps_it_in_the_history(anonymous, session,
                                                                          net):
    referral = drive(session, net, "received")
    url = f"/api/v1/referrals/{referral.code}/decline"
    bad = api(anonymous, net, "coord", "POST", url, {"reason_code": "bogus"})
    assert bad.status_code == 422
    got = api(anonymous, net, "coord", "POST", url, {"reason_code": "no_capacity",
                                                     "reason": "full until March"})
    assert got.json["events"][-1]["reason"] == "no_capacity: full until March"


def test_public_holidays_do_not_count(app, session, net):
    """2026-09-30 (Wed) + 2 working days skips the National Day holiday (Oct 1-7, 2026)."""
    from rehab_net.workdays import is_working_day

    with app.app_context():
        referral = drive(session, net, "draft")
        before_holiday = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
        transition(session, referral, "send", principal=None, now=before_holiday)
        due = referral.due_at.date()
        assert due > date(2026, 10, 7) and is_working_day(due)


def test_a_childs_referral_stores_and_shows_the_urgency_its_deadlines_use(anonymous, session,
                                                                        net, client):
    """Children 0-6 are at least urgent: the form proposes it, and a routine request is stored
    as urgent (what the deadlines count with), not shown as routine."""
    page = client.get("/referrals/new?case=KCHILD").get_data(as_text=True)
    assert re.search(r'<option value="urgent"[^>]*selected', page)
    referral = drive(session, net, "sent")  # asked for as routine
    assert referral.urgency == "urgent"
    assert client.get(f"/api/v1/referrals/{referral.code}").json["urgency"] == "urgent"


def test_the_audit_log_names_a_new_referral_by_its_code(client, session, net):
    referral = drive(session, net, "draft")
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "referral")).all()
    assert [e.object_code for e in events if e.action == "create"] == [referral.code]
    assert not [e for e in events if (e.object_code or "").startswith("tmp-")]
    assert not [e for e in events if e.action == "update" and e.detail == {"fields": ["code"]}]
