"""Disability certificates (issue 16, part 3): the number rules, every transition and its
dates (hand-set days), the daily job, the API and its errors, who may do what, the import
(good and bad files, nothing half-written) and the pages. On SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from rehab_net.auth.models import AuditEvent
from rehab_net.certificates import operations as ops
from rehab_net.certificates import rules
from rehab_net.certificates.models import Certificate, CertificateEvent
from rehab_net.certificates.states import CERTIFICATE
from rehab_net.errors import Conflict, Invalid
from rehab_net.people.identifiers import IdentifierError, make_resident_id
from tests.factories import create_person, tiny_network
from tests.permission_world import call

RID = make_resident_id("150702", date(1980, 5, 17), 42)
NOW = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 16)


# --- the number -------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix, reissue", [("", 0), ("B1", 1), ("b2", 2), ("B12", 12),
                                             ("B99", 99)])
def test_a_number_is_the_resident_id_category_grade_and_a_reissue_suffix(suffix, reissue):
    n = rules.parse_number(f"{RID}42{suffix}")
    assert (n.resident_id, n.category_digit, n.grade, n.reissue) == (RID, 4, 2, reissue)


@pytest.mark.parametrize("value, code", [
    (RID[:17], "certificate.number_format"),
    (RID + "4", "certificate.number_format"),
    (RID + "82", "case.certificate_category_digit"),
    (RID + "02", "case.certificate_category_digit"),
    (RID + "45", "case.certificate_grade_digit"),
    (RID[:17] + ("0" if RID[17] != "0" else "1") + "42", "person.id_check_character"),
    (RID + "42B0", "certificate.suffix_format"),
    (RID + "42B100", "certificate.suffix_format"),
    (RID + "42C1", "certificate.suffix_format"),
    (RID + "42B", "certificate.suffix_format"),
])
def test_a_bad_number_names_the_rule_and_never_the_number(value, code):
    with pytest.raises(IdentifierError) as exc:
        rules.parse_number(value)
    assert exc.value.rule.code == code and RID not in str(exc.value)


def test_the_number_must_hold_the_holders_resident_id():
    other = make_resident_id("150702", date(1980, 5, 17), 43)
    with pytest.raises(IdentifierError) as exc:
        rules.check_holder(rules.parse_number(f"{other}42"), RID)
    assert exc.value.rule.code == "certificate.not_holder"
    rules.check_holder(rules.parse_number(f"{RID.lower()}42"), RID)


def test_autism_is_certified_as_mental():
    assert rules.category_digit("autism") == rules.category_digit("mental") == 6
    assert rules.category_digit("multiple") == 7


# --- the dates --------------------------------------------------------------------------------
@pytest.mark.parametrize("issued, until", [
    (date(2026, 11, 16), date(2036, 11, 15)),
    (date(2026, 3, 1), date(2036, 2, 29)),  # 2036 is a leap year
    (date(2024, 2, 29), date(2034, 2, 28)),  # 29 Feb + 10 years = 1 March, less a day
])
def test_valid_ten_years_less_a_day(issued, until):
    assert rules.valid_until(issued) == until


@pytest.mark.parametrize("moved, freeze", [
    (date(2026, 3, 15), date(2026, 9, 15)),
    (date(2026, 8, 31), date(2027, 3, 1)),  # no 31 February: the 1st of March
    (date(2026, 7, 31), date(2027, 1, 31)),
    (date(2027, 8, 29), date(2028, 2, 29)),
])
def test_frozen_six_months_after_the_move_out(moved, freeze):
    assert rules.freeze_on(moved) == freeze


def test_history_of_a_move_never_transferred():
    until = rules.valid_until(date(2020, 1, 10))
    assert rules.history(until, date(2024, 9, 15), date(2025, 9, 14)) == [
        ("freeze", date(2024, 9, 15))]
    assert rules.history(until, date(2024, 9, 15), date(2025, 9, 15)) == [
        ("freeze", date(2024, 9, 15)), ("lapse", date(2025, 9, 15))]
    # frozen, then the validity ends before the year is out: it expires
    assert rules.history(until, date(2029, 6, 1), date(2031, 1, 1)) == [
        ("freeze", date(2029, 6, 1)), ("expire", date(2030, 1, 10))]
    # expiry and freezing on one day: expiry wins
    assert rules.history(until, date(2030, 1, 10), date(2030, 2, 1)) == [
        ("expire", date(2030, 1, 10))]


def test_the_table():
    assert CERTIFICATE.final == ("cancelled", "expired")
    assert CERTIFICATE.actions_from("valid") == ["cancel"]
    assert CERTIFICATE.actions_from("frozen") == ["cancel"]
    assert CERTIFICATE.targets_from("frozen") == {"valid", "cancelled", "expired"}


# --- the life cycle, on both databases ---------------------------------------------------------
@pytest.fixture
def holder(session):
    net = tiny_network(session)
    person = create_person(session, code="PH", birth_date=date(1980, 5, 17))
    session.commit()
    net["person"] = person
    return net


def issue(session, on=date(2020, 1, 10), **kw):
    data = {"person_code": "PH", "category": "physical", "grade": 2, "issued_on": on} | kw
    return ops.issue(session, data, today=TODAY, now=NOW)


def events(session, cert):
    return [(e.action, e.from_state, e.to_state, e.on) for e in session.scalars(
        select(CertificateEvent).where(CertificateEvent.certificate_id == cert.id)
        .order_by(CertificateEvent.id))]


def test_issue_numbers_dates_and_one_in_force_per_person(session, holder):
    cert = issue(session)
    assert cert.code == "C000001" and cert.state == "valid"
    assert cert.number == holder["person"].resident_id + "42"
    assert cert.valid_until == date(2030, 1, 9)
    assert ops.renewal_opens(cert) == date(2029, 10, 11)
    with pytest.raises(Conflict) as exc:
        issue(session, on=date(2021, 1, 1))
    assert exc.value.code == "certificate.live_exists" and "C000001" in exc.value.detail
    for on, code in ((date(2026, 11, 17), "certificate.issued_future"),
                     (date(1980, 5, 16), "certificate.issued_before_birth")):
        with pytest.raises(Invalid) as exc:
            issue(session, on=on)
        assert exc.value.errors[0]["field"] == "issued_on" and exc.value.code == code


def test_the_database_refuses_a_second_certificate_in_force(session, holder):
    issue(session)
    session.commit()
    session.add(Certificate(code="CX", person_id=holder["person"].id, category_digit=4,
                            grade=2, reissue=0, issued_on=date(2021, 1, 1),
                            valid_until=date(2030, 12, 31), state="frozen"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    session.add(Certificate(code="CY", person_id=holder["person"].id, category_digit=4,
                            grade=2, reissue=0, issued_on=date(2010, 1, 1),
                            valid_until=date(2019, 12, 31), state="expired"))
    session.flush()  # an ended one is history, not in force


def test_reissue_takes_the_next_suffix_and_replaces_the_old(session, holder):
    first = issue(session)
    b1 = ops.reissue(session, first, on=date(2023, 5, 1), today=TODAY, now=NOW, reason="lost")
    assert b1.number.endswith("42B1") and b1.valid_until == first.valid_until
    assert first.state == "cancelled" and first.ended_on == date(2023, 5, 1)
    assert first.end_reason == "lost" and b1.replaces is first
    b2 = ops.reissue(session, b1, on=date(2024, 5, 1), today=TODAY, now=NOW)
    assert b2.number.endswith("42B2") and b1.state == "cancelled"
    assert events(session, first) == [("issue", None, "valid", date(2020, 1, 10)),
                                      ("replace", "valid", "cancelled", date(2023, 5, 1))]
    with pytest.raises(Conflict) as exc:  # the replaced one cannot be reissued again
        ops.reissue(session, first, on=date(2024, 6, 1), today=TODAY, now=NOW)
    assert exc.value.params["state"] == "cancelled"
    with pytest.raises(Invalid):
        ops.reissue(session, b2, on=date(2019, 1, 1), today=TODAY, now=NOW)


def test_renewal_opens_ninety_days_before_the_end_and_after_expiry(session, holder):
    cert = issue(session, on=date(2017, 1, 10))  # valid until 2027-01-09
    with pytest.raises(Invalid) as exc:
        ops.renew(session, cert, on=date(2026, 10, 10), today=TODAY, now=NOW)
    assert exc.value.code == "certificate.renew_not_due"
    new = ops.renew(session, cert, on=date(2026, 10, 11), today=TODAY, now=NOW, grade=3)
    assert cert.state == "cancelled" and new.state == "valid" and new.grade == 3
    assert new.valid_until == date(2036, 10, 10) and new.number.endswith("43")
    # an expired certificate stays expired; the renewal is a new one
    old = issue_expired(session, holder)
    assert old.state == "expired"


def issue_expired(session, holder):
    from tests.factories import create_person

    person = create_person(session, code="PE")
    cert = ops.issue(session, {"person_code": "PE", "category": "autism", "grade": 1,
                               "issued_on": date(2015, 6, 1)}, today=TODAY, now=NOW)
    ops.apply_dates(session, TODAY, NOW)
    assert cert.state == "expired" and cert.ended_on == date(2025, 6, 1)
    new = ops.renew(session, cert, on=TODAY, today=TODAY, now=NOW)
    assert new.number == person.resident_id + "61" and new.state == "valid"
    return cert


def test_moved_out_frozen_after_six_months_then_cancelled_after_a_year(session, holder):
    cert = issue(session)
    ops.record_move_out(session, cert, on=date(2024, 3, 15), today=date(2024, 3, 20), now=NOW)
    assert cert.freeze_on == date(2024, 9, 15) and cert.state == "valid"
    assert ops.apply_dates(session, date(2024, 9, 14), NOW) == {
        "frozen": 0, "cancelled": 0, "expired": 0}
    assert cert.state == "valid"
    assert ops.apply_dates(session, date(2024, 9, 15), NOW)["frozen"] == 1
    session.refresh(cert)
    assert cert.state == "frozen" and cert.frozen_on == date(2024, 9, 15)
    assert cert.lapse_on == date(2025, 9, 15)
    assert ops.apply_dates(session, date(2025, 9, 14), NOW)["cancelled"] == 0
    assert ops.apply_dates(session, date(2025, 9, 15), NOW)["cancelled"] == 1
    session.refresh(cert)
    assert cert.state == "cancelled" and cert.ended_on == date(2025, 9, 15)
    assert events(session, cert)[1:] == [("freeze", "valid", "frozen", date(2024, 9, 15)),
                                         ("lapse", "frozen", "cancelled", date(2025, 9, 15))]
    assert ops.apply_dates(session, date(2025, 9, 16), NOW)["cancelled"] == 0  # idempotent


def test_a_late_run_dates_each_step_by_its_rule(session, holder):
    cert = issue(session)
    ops.record_move_out(session, cert, on=date(2024, 3, 15), today=date(2024, 3, 20), now=NOW)
    ops.apply_dates(session, TODAY, NOW)  # nobody ran the job for two years
    assert cert.state == "cancelled"
    assert [e[3] for e in events(session, cert)] == [date(2020, 1, 10), date(2024, 9, 15),
                                                   date(2025, 9, 15)]


def test_a_move_recorded_late_applies_the_past_rules_at_once(session, holder):
    cert = issue(session)
    ops.record_move_out(session, cert, on=date(2026, 1, 5), today=TODAY, now=NOW)
    assert cert.state == "frozen" and cert.frozen_on == date(2026, 7, 5)


def test_transfer_in_time_stops_the_freeze_and_unfreezes_a_frozen_one(session, holder):
    cert = issue(session)
    ops.record_move_out(session, cert, on=date(2024, 3, 15), today=date(2024, 3, 20), now=NOW)
    ops.transfer(session, cert, on=date(2024, 9, 14), today=date(2024, 9, 14), now=NOW)
    assert cert.freeze_on is None and cert.transferred_on == date(2024, 9, 14)
    ops.apply_dates(session, date(2025, 12, 1), NOW)
    assert cert.state == "valid"
    # moved again, frozen, then transferred in: unfrozen
    ops.record_move_out(session, cert, on=date(2025, 1, 2), today=date(2025, 12, 1), now=NOW)
    assert cert.state == "frozen"
    with pytest.raises(Invalid) as exc:
        ops.transfer(session, cert, on=date(2025, 1, 1), today=TODAY, now=NOW)
    assert exc.value.code == "certificate.transfer_before_move"
    ops.transfer(session, cert, on=date(2026, 2, 1), today=TODAY, now=NOW)
    assert cert.state == "valid" and cert.frozen_on is None and cert.lapse_on is None
    assert events(session, cert)[-1] == ("unfreeze", "frozen", "valid", date(2026, 2, 1))
    with pytest.raises(Invalid) as exc:  # nothing pending any more
        ops.transfer(session, cert, on=TODAY, today=TODAY, now=NOW)
    assert exc.value.code == "certificate.no_move"


def test_expired_at_the_end_of_validity(session, holder):
    cert = issue(session, on=date(2016, 11, 16))  # valid until 2026-11-15
    ops.apply_dates(session, date(2026, 11, 15), NOW)
    assert cert.state == "valid"
    ops.apply_dates(session, date(2026, 11, 16), NOW)
    session.refresh(cert)
    assert cert.state == "expired" and cert.ended_on == date(2026, 11, 16)
    with pytest.raises(Conflict):
        ops.cancel(session, cert, reason="x", on=TODAY, today=TODAY, now=NOW)


def test_cancel_by_hand_needs_a_reason_and_is_audited(session, holder):
    cert = issue(session)
    with pytest.raises(Invalid) as exc:
        ops.cancel(session, cert, reason=" ", on=TODAY, today=TODAY, now=NOW)
    assert exc.value.errors[0]["field"] == "reason"
    ops.cancel(session, cert, reason="holder died", on=TODAY, today=TODAY, now=NOW)
    assert cert.state == "cancelled" and cert.end_reason == "holder died"
    audited = session.scalars(select(AuditEvent.detail).where(
        AuditEvent.object_type == "certificate", AuditEvent.action == "update")).all()
    assert {"action": "cancel", "from": "valid", "to": "cancelled",
            "on": TODAY.isoformat()} in audited


def test_two_clerks_at_once_one_wins_the_other_learns_the_state(session, holder):
    cert = issue(session)
    session.commit()
    stale_version = cert.version
    ops.cancel(session, cert, reason="revoked", on=TODAY, today=TODAY, now=NOW)
    with pytest.raises(Conflict) as exc:  # the other clerk read "valid" and the old version
        CERTIFICATE.move(session, Certificate, cert.id, "cancel", from_state="valid",
                         expected_version=stale_version)
    assert exc.value.code == "state.raced" and exc.value.params["state"] == "cancelled"
    session.rollback()


def test_the_daily_job_runs_once_a_day_with_the_days_rules(app, session, holder):
    from rehab_net.certificates.jobs import DATE_RULES
    from rehab_net.scheduler import load_jobs, run_job

    assert DATE_RULES in load_jobs()
    cert = issue(session, on=date(2016, 11, 17))  # last valid day 2026-11-16
    session.commit()
    night = datetime(2026, 11, 16, 17, 30, tzinfo=UTC)  # 01:30 on 17 November in Shanghai
    with app.app_context():
        assert DATE_RULES.period_of(night) == "2026-11-17"
    assert run_job(app, DATE_RULES, night - timedelta(days=1)) == "done"
    session.expire_all()
    assert session.get(Certificate, cert.id).state == "valid"
    session.rollback()
    assert run_job(app, DATE_RULES, night) == "done"
    assert run_job(app, DATE_RULES, night) == "skipped"
    session.expire_all()
    got = session.get(Certificate, cert.id)
    assert got.state == "expired" and got.ended_on == date(2026, 11, 17)
    actor = session.scalar(select(CertificateEvent.actor).where(
        CertificateEvent.action == "expire"))
    assert actor.startswith("system")


# --- the API ------------------------------------------------------------------------------------
def test_api_issue_read_steps_and_errors(client, session, holder):
    got = client.post("/api/v1/certificates", json={"person_code": "PH", "category": "autism",
                                                   "grade": 1, "issued_on": "2020-01-10"})
    assert got.status_code == 201, got.json
    body = got.json
    assert body["code"] == "C000001" and body["state"] == "valid"
    assert body["number"].startswith(holder["person"].resident_id[:3])
    assert holder["person"].resident_id not in got.get_data(as_text=True)
    assert body["valid_until"] == "2030-01-09" and body["renewal_due_on"] == "2029-10-11"
    again = client.post("/api/v1/certificates", json={"person_code": "PH", "category": "autism",
                                                     "grade": 1})
    assert again.status_code == 409 and again.json["code"] == "certificate.live_exists"
    bad = client.post("/api/v1/certificates/C000001/move-out", json={"on": "2027-01-01"})
    assert bad.status_code == 422
    assert bad.json["errors"][0]["field"] == "on" and "future" in bad.json["errors"][0]["rule"]
    moved = client.post("/api/v1/certificates/C000001/move-out", json={"on": "2025-09-01"})
    assert moved.status_code == 200 and moved.json["state"] == "frozen"
    assert moved.json["lapse_on"] == "2027-03-01"
    refused = client.post("/api/v1/certificates/C000001/reissue", json={})
    assert refused.status_code == 409 and refused.json["errors"][0]["field"] == "state"
    assert "frozen" in refused.json["detail"]
    back = client.post("/api/v1/certificates/C000001/transfer", json={"on": "2026-11-01"})
    assert back.json["state"] == "valid"
    new = client.post("/api/v1/certificates/C000001/reissue", json={"reason": "lost"})
    assert new.json["code"] == "C000002" and new.json["number"].endswith("B1")
    assert new.json["replaces"] == "C000001"
    assert client.post("/api/v1/certificates/C000002/cancel", json={}).status_code == 422
    listed = client.get("/api/v1/certificates?state=cancelled").json
    assert [c["code"] for c in listed] == ["C000001"]
    assert client.get("/api/v1/certificates/C999").status_code == 404


def test_api_due_for_renewal(client, session, holder):
    other = create_person(session, code="PD")
    issue(session)  # renewal opens 2029
    ops.issue(session, {"person_code": other.code, "category": "vision", "grade": 3,
                        "issued_on": date(2017, 1, 10)}, today=TODAY, now=NOW)  # opens 2026-10
    session.commit()
    due = client.get("/api/v1/certificates?renewal_due=true").json
    assert [c["person_code"] for c in due] == ["PD"]


# --- who may do what ------------------------------------------------------------------------------
@pytest.fixture
def certs(world, session):
    for person in (world["in"], world["out"]):
        ops.issue(session, {"person_code": person.code, "category": "autism", "grade": 3,
                            "issued_on": date(2024, 1, 1), "code": f"C_{person.code}"},
                  today=TODAY, now=NOW)
    session.commit()
    return world


@pytest.mark.parametrize("role, method, urls, body, in_status, out_status", [
    ("coordinator", "GET", ("/api/v1/certificates/C_PIN", "/api/v1/certificates/C_POUT"), None,
     200, 404),
    ("clinic", "GET", ("/api/v1/certificates/C_PIN", "/api/v1/certificates/C_POUT"), None,
     200, 404),
    ("planner", "GET", ("/api/v1/certificates/C_PIN", "/api/v1/certificates/C_POUT"), None,
     403, 403),
    ("admin", "GET", ("/api/v1/certificates/C_PIN", "/api/v1/certificates/C_POUT"), None,
     403, 403),
    ("auditor", "GET", ("/api/v1/certificates/C_PIN", "/api/v1/certificates/C_POUT"), None,
     403, 403),
    ("clinic", "POST", ("/api/v1/certificates/C_PIN/cancel", "/api/v1/certificates/C_POUT/cancel"),
     {"reason": "revoked"}, 200, 404),
    ("coordinator", "POST", ("/api/v1/certificates/C_PIN/cancel",
                             "/api/v1/certificates/C_POUT/cancel"), {"reason": "x"}, 403, 403),
    ("planner", "POST", ("/api/v1/certificates/C_PIN/move-out",
                         "/api/v1/certificates/C_POUT/move-out"), {}, 403, 403),
    ("admin", "POST", ("/api/v1/certificates/C_PIN/reissue",
                       "/api/v1/certificates/C_POUT/reissue"), {}, 403, 403),
])
def test_permissions(anonymous, certs, role, method, urls, body, in_status, out_status):
    assert call(anonymous, certs, role, method, urls[0], body).status_code == in_status
    assert call(anonymous, certs, role, method, urls[1], body).status_code == out_status


def test_only_clinic_staff_issue_and_only_in_their_area(anonymous, world, session):
    body = {"category": "physical", "grade": 2}
    assert call(anonymous, world, "clinic", "POST", "/api/v1/certificates",
                {"person_code": "PIN", **body}).status_code == 201
    out = call(anonymous, world, "clinic", "POST", "/api/v1/certificates",
               {"person_code": "POUT", **body})
    assert out.status_code == 422 and out.json["errors"][0]["field"] == "person_code"
    for role in ("coordinator", "planner", "admin", "auditor"):
        assert call(anonymous, world, role, "POST", "/api/v1/certificates",
                    {"person_code": "PIN", **body}).status_code == 403
    listed = call(anonymous, world, "coordinator", "GET", "/api/v1/certificates").json
    assert [c["person_code"] for c in listed] == ["PIN"]


# --- the import ---------------------------------------------------------------------------------
def run(app, *args):
    from rehab_net.cli import main

    return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))


HEADER = "code,person_code,number,issued_on,moved_out_on,transferred_on,cancelled_on,cancel_reason"


@pytest.fixture
def people3(session):
    tiny_network(session)
    persons = [create_person(session, code=f"PI{i}") for i in range(3)]
    session.commit()
    return persons


def test_import_a_good_file_states_follow_the_dates(app, session, people3, tmp_path):
    a, b, c = people3
    path = tmp_path / "certificates.csv"
    path.write_text("\n".join([
        HEADER,
        f"CA,{a.code},{a.resident_id}42,2020-01-10,,,,",
        f"CB,{b.code},{b.resident_id}61B1,2020-01-10,2025-09-01,,,",  # frozen 2026-03-01
        f"CC0,{c.code},{c.resident_id}11,2012-05-01,,,2015-01-01,lost",  # cancelled by hand
        f"CC1,{c.code},{c.resident_id}11B1,2015-01-01,2019-03-01,,,",  # frozen, lapsed
        f"CC2,{c.code},{c.resident_id}72,2021-06-01,,,,",
    ]) + "\n", encoding="utf-8")
    result = run(app, "import", "certificates", str(path))
    assert result.exit_code == 0, result.output
    session.expire_all()
    got = {x.code: x for x in session.scalars(select(Certificate))}
    assert {k: v.state for k, v in got.items()} == {
        "CA": "valid", "CB": "frozen", "CC0": "cancelled", "CC1": "cancelled", "CC2": "valid"}
    assert got["CB"].reissue == 1 and got["CB"].lapse_on == date(2027, 3, 1)
    assert got["CC1"].ended_on == date(2020, 9, 1) and got["CC0"].end_reason == "lost"
    assert events(session, got["CC1"]) == [
        ("issue", None, "valid", date(2015, 1, 1)),
        ("freeze", "valid", "frozen", date(2019, 9, 1)),
        ("lapse", "frozen", "cancelled", date(2020, 9, 1))]
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "import")) == 1


def test_import_a_bad_file_names_every_problem_and_writes_nothing(app, session, people3,
                                                                 tmp_path):
    a, b, c = people3
    path = tmp_path / "certificates.csv"
    path.write_text("\n".join([
        HEADER,
        f"CA,{a.code},{a.resident_id}42,2020-01-10,,,,",  # good
        f"CB,{b.code},{a.resident_id}42,2020-01-10,,,,",  # a's ID on b
        f"CC,{c.code},{c.resident_id}49,2020-01-10,,,,",  # grade 9
        f"CD,{c.code},{c.resident_id}42B0,2020-01-10,,,,",  # bad suffix
        f"CE,PNONE,{c.resident_id}42,2020-01-10,,,,",
        f"CF,{a.code},{a.resident_id}42B1,2027-01-10,,,,",  # future; a holds CA (line 2)
        f"CA,{c.code},{c.resident_id}42,2020-01-10,,2021-01-01,,",  # dup code; transfer alone
        f"CH,{c.code},{c.resident_id}42,2020-01-10,,,2021-01-01,",  # no reason
    ]) + "\n", encoding="utf-8")
    result = run(app, "import", "certificates", str(path))
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.startswith("certificates.csv:")]
    where = {tuple(ln.split(":")[1:3]) for ln in lines}
    assert {("3", "number"), ("4", "number"), ("5", "number"), ("6", "person_code"),
            ("7", "issued_on"), ("8", "code"), ("8", "transferred_on"),
            ("9", "cancel_reason")} <= where
    assert any("certificate in force on line 2" in ln for ln in lines)
    assert a.resident_id not in result.output and c.resident_id not in result.output
    assert "nothing was imported" in result.output
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Certificate)) == 0


def test_import_refuses_a_second_certificate_in_force_in_the_database(app, session, people3,
                                                                     tmp_path):
    a = people3[0]
    ops.issue(session, {"person_code": a.code, "category": "physical", "grade": 2},
              today=TODAY, now=NOW)
    session.commit()
    path = tmp_path / "certificates.csv"
    path.write_text(f"{HEADER}\nCZ,{a.code},{a.resident_id}42B1,2021-01-10,,,,\n",
                    encoding="utf-8")
    result = run(app, "import", "certificates", str(path))
    assert result.exit_code == 2 and "certificates.csv:2:person_code" in result.output
    assert "C000001" in result.output


# --- pages ---------------------------------------------------------------------------------------
def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_person_page_shows_certificates_with_state_and_renewal(client, session, holder):
    issue(session)
    session.commit()
    html = client.get("/persons/PH").get_data(as_text=True)
    assert "C000001" in html and "有效" in html and "2029-10-11" in html
    assert holder["person"].resident_id + "42" not in html
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def test_certificates_page_filters_and_steps_with_errors_in_place(client, session, holder):
    cert = issue(session)
    session.commit()
    html = client.get("/certificates?state=valid").get_data(as_text=True)
    assert "C000001" in html and holder["person"].resident_id not in html
    assert "C000001" not in client.get("/certificates?state=frozen").get_data(as_text=True)
    assert "C000001" not in client.get("/certificates?due=1").get_data(as_text=True)
    assert client.get("/certificates?state=nonsense").status_code == 400
    page = client.get("/certificates/C000001").get_data(as_text=True)
    got = client.post("/certificates/C000001/cancel",
                      data={"csrf_token": _token(page), "on": "", "reason": ""})
    assert got.status_code == 422 and 'id="reason-error"' in got.get_data(as_text=True)
    got = client.post("/certificates/C000001/move_out",
                      data={"csrf_token": _token(page), "on": "2025-09-01"})
    assert got.status_code == 303
    html = client.get("/certificates/C000001").get_data(as_text=True)
    assert "冻结" in html and "2027-03-01" in html
    session.expire_all()
    assert session.get(Certificate, cert.id).state == "frozen"
    reads = session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_type == "certificate", AuditEvent.action == "read"))
    assert reads >= 2


def test_issue_page(client, session, holder):
    page = client.get("/certificates/new?person=PH").get_data(as_text=True)
    form = {"csrf_token": _token(page), "person_code": "PH", "category": "autism", "grade": "",
            "issued_on": "2020-02-30"}
    got = client.post("/certificates/new", data=form)
    html = got.get_data(as_text=True)
    assert got.status_code == 422 and 'id="grade-error"' in html and 'id="issued_on-error"' in html
    got = client.post("/certificates/new", data={**form, "grade": "1", "issued_on": "2020-02-28"})
    assert got.status_code == 303 and got.headers["Location"].endswith("/certificates/C000001")
    again = client.post("/certificates/new", data={**form, "grade": "1", "issued_on": ""})
    assert again.status_code == 409 and "C000001" in again.get_data(as_text=True)
