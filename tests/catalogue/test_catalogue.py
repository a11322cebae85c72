"""The national basic rehabilitation service catalogue (issue 16, part 2): every dose rule on
hand-set days, ages and versions, the import (good and bad files, nothing half-written), a case's
items against its attended appointments, the worklist per facility and who may read it, the
pages. On SQLite and PostgreSQL (the `app` fixture)."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from rehab_net.auth.models import AuditEvent
from rehab_net.booking import generation, schedules
from rehab_net.booking.models import Appointment
from rehab_net.catalogue import importer
from rehab_net.catalogue import operations as ops
from rehab_net.catalogue.models import CatalogueItem, CatalogueService, CatalogueVersion
from rehab_net.catalogue.rules import eligible, evaluate, window
from rehab_net.csvimport import ImportProblems
from rehab_net.network import operations as network
from tests.factories import (
    add_clinics,
    create_case,
    create_person,
    create_referral,
    create_user,
    log_in,
    tiny_network,
    token_for,
)

TODAY = date(2026, 11, 16)  # a Monday (tests/conftest.py pins the app's day to it)
ZONE = ZoneInfo("Asia/Shanghai")


def monthly(months, day=15, year=2026):
    return [date(year, m, day) for m in months]


# --- months_per_year: auditory-verbal training at least 10 months a year ----------------------
def test_ten_months_a_year_met_by_ten_months_with_a_session():
    dose = evaluate("months_per_year", 10, None, monthly(range(1, 11)), today=TODAY)
    assert (dose.status, dose.delivered, dose.needed, dose.shortfall) == ("met", 10, 10, 0)


def test_ten_months_a_year_due_this_month_while_it_can_still_be_met():
    # 9 months so far; November and December are left: one more month meets it
    dose = evaluate("months_per_year", 10, None, monthly(range(1, 10)), today=TODAY)
    assert (dose.status, dose.shortfall, dose.due_on) == ("due", 1, date(2026, 11, 30))


def test_ten_months_a_year_due_next_month_when_this_one_has_its_session():
    days = monthly(range(1, 9)) + [date(2026, 11, 2)]  # 9 months, November among them
    dose = evaluate("months_per_year", 10, None, days, today=TODAY)
    assert (dose.status, dose.delivered, dose.due_on) == ("due", 9, date(2026, 12, 31))


def test_ten_months_a_year_missed_when_the_months_left_cannot_reach_it():
    dose = evaluate("months_per_year", 10, None, monthly(range(1, 7)), today=TODAY)
    assert (dose.status, dose.delivered, dose.shortfall) == ("missed", 6, 4)


def test_several_sessions_in_one_month_count_as_one_month():
    days = [date(2026, 3, d) for d in (2, 9, 16, 23)]
    dose = evaluate("months_per_year", 10, None, days, today=TODAY)
    assert dose.delivered == 1


def test_a_case_registered_in_september_needs_the_months_pro_rata():
    # since 1 September: 4 months of the year -> ceil(10 x 4 / 12) = 4 months needed
    since, until = window(year=2026, birth_date=date(2022, 3, 1), min_age=0, max_age=6,
                          registered_on=date(2026, 9, 1))
    assert (since, until) == (date(2026, 9, 1), date(2026, 12, 31))
    dose = evaluate("months_per_year", 10, None, [date(2026, 9, 8), date(2026, 10, 6)],
                    today=TODAY, since=since, until=until)
    assert (dose.status, dose.delivered, dose.needed, dose.due_on) == (
        "due", 2, 4, date(2026, 11, 30))
    # sessions before the case was registered do not count towards this year's dose
    early = evaluate("months_per_year", 10, None, monthly(range(1, 9)), today=TODAY,
                     since=since, until=until)
    assert early.delivered == 0


def test_the_seventh_birthday_ends_the_childrens_window():
    since, until = window(year=2026, birth_date=date(2019, 7, 1), min_age=0, max_age=6,
                          registered_on=date(2025, 1, 1))
    assert (since, until) == (date(2026, 1, 1), date(2026, 6, 30))
    dose = evaluate("months_per_year", 10, None, monthly(range(1, 6)), today=date(2026, 6, 10),
                    since=since, until=until)
    assert dose.needed == 5 and dose.status == "met"  # ceil(10 x 6 / 12)


# --- times_per_year: hearing aids tuned at least twice a year ------------------------------------
def test_tuned_twice_this_year_is_met_and_the_next_tuning_half_a_year_after_the_last():
    dose = evaluate("times_per_year", 2, None, [date(2026, 3, 10), date(2026, 9, 1)],
                    today=TODAY)
    assert (dose.status, dose.delivered, dose.due_on) == ("met", 2, date(2027, 3, 2))


def test_tuned_once_in_march_is_overdue_since_september():
    dose = evaluate("times_per_year", 2, None, [date(2026, 3, 10)], today=TODAY)
    assert (dose.status, dose.shortfall, dose.due_on) == ("overdue", 1, date(2026, 9, 8))


def test_tuned_once_in_july_is_due_by_the_end_of_the_year():
    dose = evaluate("times_per_year", 2, None, [date(2026, 7, 1)], today=TODAY)
    assert (dose.status, dose.due_on) == ("due", date(2026, 12, 30))


def test_never_tuned_is_due_today_and_last_years_tunings_do_not_count():
    assert evaluate("times_per_year", 2, None, [], today=TODAY).due_on == TODAY
    dose = evaluate("times_per_year", 2, None, [date(2025, 6, 1), date(2025, 12, 1)],
                    today=TODAY)
    assert (dose.status, dose.delivered, dose.due_on) == ("overdue", 0, date(2026, 6, 1))


def test_deliveries_after_today_are_not_counted():
    dose = evaluate("times_per_year", 2, None, [date(2026, 3, 10), date(2026, 12, 1)],
                    today=TODAY)
    assert dose.delivered == 1 and dose.last_on == date(2026, 3, 10)


# --- weekly_for_weeks: orientation and mobility training weekly for at least 2 months --------
def weekly(first: date, weeks: int, weekday_shift: int = 0):
    return [first + timedelta(weeks=n, days=weekday_shift) for n in range(weeks)]


def test_eight_weeks_in_a_row_is_met():
    dose = evaluate("weekly_for_weeks", 8, None, weekly(date(2026, 9, 1), 8), today=TODAY)
    assert (dose.status, dose.delivered) == ("met", 8)


def test_a_run_still_going_is_due_by_the_sunday_after_next():
    # Tuesdays 6 Oct .. 10 Nov: 6 weeks; last week had its session, this week has none yet
    dose = evaluate("weekly_for_weeks", 8, None, weekly(date(2026, 10, 6), 6), today=TODAY)
    assert (dose.status, dose.delivered, dose.shortfall, dose.due_on) == (
        "due", 6, 2, date(2026, 11, 22))


def test_a_week_without_a_session_breaks_the_run_off():
    dose = evaluate("weekly_for_weeks", 8, None, weekly(date(2026, 9, 1), 4), today=TODAY)
    assert (dose.status, dose.delivered, dose.due_on) == ("missed", 4, date(2026, 10, 4))
    # a new run after the break counts from its own first week
    again = evaluate("weekly_for_weeks", 8, None,
                     weekly(date(2026, 9, 1), 4) + weekly(date(2026, 11, 3), 2), today=TODAY)
    assert (again.status, again.delivered) == ("due", 2)


def test_two_sessions_in_one_week_count_as_one_week_and_weeks_run_monday_to_sunday():
    days = [date(2026, 11, 2), date(2026, 11, 8), date(2026, 11, 9)]  # Mon, Sun | Mon
    dose = evaluate("weekly_for_weeks", 8, None, days, today=TODAY)
    assert dose.delivered == 2


# --- once, and replacement cycles: a white cane re-assessed every 3 years ----------------------
def test_a_white_cane_is_met_until_its_cycle_then_due_then_overdue():
    met = evaluate("once", 1, 36, [date(2023, 11, 20)], today=TODAY)
    assert (met.status, met.replace_on) == ("met", date(2026, 11, 20))
    due = evaluate("once", 1, 36, [date(2023, 11, 16)], today=TODAY)
    assert (due.status, due.due_on) == ("due", TODAY)
    late = evaluate("once", 1, 36, [date(2023, 11, 1)], today=TODAY)
    assert (late.status, late.due_on, late.shortfall) == ("overdue", date(2026, 11, 1), 0)


def test_never_fitted_is_due_today():
    dose = evaluate("once", 1, 36, [], today=TODAY)
    assert (dose.status, dose.due_on, dose.shortfall, dose.replace_on) == ("due", TODAY, 1, None)


@pytest.mark.parametrize("birth, category, expected", [
    (date(2019, 11, 17), "hearing", True),   # 6 until tomorrow
    (date(2019, 11, 16), "hearing", False),  # 7 today: out of the 0-6 part
    (date(2022, 1, 1), "speech", True),       # an item for hearing and speech
    (date(2022, 1, 1), "vision", False),
])
def test_eligible_ages_and_categories(birth, category, expected):
    assert eligible(min_age=0, max_age=6, categories=("hearing", "speech"), birth_date=birth,
                    category=category, on=TODAY) is expected


# --- the import ---------------------------------------------------------------------------------
HEADER = ("version,effective_from,code,part,category,kind,name_zh,name_en,min_age,max_age,"
          "categories,rule,amount,cycle_months\n")
ITEMS = (
    "2025,2025-01-01,C-AUT-TRAIN,0-6,autism,training,孤独症儿童康复训练,Autism training,0,6,"
    "autism,months_per_year,9,\n"
    "2026,2026-01-01,C-AUT-TRAIN,0-6,autism,training,孤独症儿童康复训练,Autism training,0,6,"
    "autism,months_per_year,10,\n"
    "2026,2026-01-01,A-AUT-TRAIN,7+,autism,training,孤独症康复训练,Autism training (7+),7,,"
    "autism,months_per_year,6,\n"
    "2026,2026-01-01,A-PHYS-TRAIN,7+,physical,training,肢体运动功能训练,Physical therapy,7,,"
    "physical;multiple,weekly_for_weeks,12,\n"
    "2026,2026-01-01,A-PHYS-AID,7+,physical,device_fitting,辅助器具适配,Mobility aid,7,,"
    "physical,once,,36\n"
)
MAPPING = ("service_code,item_code\nautism_training,C-AUT-TRAIN\nautism_training,A-AUT-TRAIN\n"
           "physical_follow_up,A-PHYS-TRAIN\nphysical_follow_up,A-PHYS-AID\n")


def write_files(tmp_path: Path, items=ITEMS, mapping=MAPPING) -> Path:
    (tmp_path / "catalogue.csv").write_text(HEADER + items, encoding="utf-8")
    (tmp_path / "catalogue_services.csv").write_text(mapping, encoding="utf-8")
    return tmp_path


def load(session, directory: Path) -> dict[str, int]:
    counts = importer.write(session, importer.validate(session, [directory]))
    session.flush()
    return counts


def problems_of(session, directory: Path) -> list[str]:
    with pytest.raises(ImportProblems) as exc:
        importer.validate(session, [directory])
    return [str(p) for p in exc.value.problems]


def run(app, *args):
    from rehab_net.cli import main

    return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))


def test_the_import_loads_versions_items_and_the_mapping(app, session, tmp_path):
    tiny_network(session)
    assert load(session, write_files(tmp_path)) == {"catalogue.csv": 5,
                                                    "catalogue_services.csv": 4}
    assert [v.code for v in ops.versions(session)] == ["2026", "2025"]
    assert ops.version_on(session, date(2025, 12, 31)).code == "2025"
    assert ops.version_on(session, date(2026, 1, 1)).code == "2026"
    assert ops.version_on(session, date(2024, 12, 31)) is None
    old = ops.items_of(session, ops.get_version(session, "2025"))
    assert [(i.code, i.amount) for i in old] == [("C-AUT-TRAIN", 9)]  # kept for history
    aid = session.scalar(select(CatalogueItem).where(CatalogueItem.code == "A-PHYS-AID"))
    assert (aid.rule, aid.amount, aid.cycle_months, aid.max_age) == ("once", 1, 36, None)
    assert ops.services_of_items(session)["A-PHYS-TRAIN"] == ["physical_follow_up"]


def test_a_version_is_loaded_once_and_the_mapping_replaced_per_service(app, session, tmp_path):
    tiny_network(session)
    load(session, write_files(tmp_path))
    again = problems_of(session, tmp_path)
    assert [p.split(" is loaded")[0] for p in again if ":version:" in p] == [
        "catalogue.csv:2:version: version 2025", "catalogue.csv:3:version: version 2026"]
    (tmp_path / "catalogue.csv").unlink()
    (tmp_path / "catalogue_services.csv").write_text(
        "service_code,item_code\nautism_training,C-AUT-TRAIN\n", encoding="utf-8")
    load(session, tmp_path)
    pairs = set(session.execute(select(CatalogueService.item_code)).scalars())
    assert pairs == {"C-AUT-TRAIN", "A-PHYS-TRAIN", "A-PHYS-AID"}  # autism's list replaced


@pytest.mark.parametrize("items, mapping, expected", [
    (ITEMS.replace("0-6,autism,training,孤独症儿童康复训练,Autism training,0,6",
                   "0-6,autism,training,孤独症儿童康复训练,Autism training,0,8", 1), MAPPING,
     "catalogue.csv:2:max_age: must be at most 6 in the 0-6 part"),
    (ITEMS.replace("Autism training (7+),7,", "Autism training (7+),5,"), MAPPING,
     "catalogue.csv:4:min_age: must be at least 7 in the 7+ part"),
    (ITEMS.replace("weekly_for_weeks,12", "weekly_for_weeks,"), MAPPING,
     "catalogue.csv:5:amount: is required by the rule weekly_for_weeks"),
    (ITEMS.replace("months_per_year,10", "months_per_year,13"), MAPPING,
     "catalogue.csv:3:amount: must be at most 12 for the rule months_per_year"),
    (ITEMS.replace("2026,2026-01-01,A-AUT", "2026,2026-02-01,A-AUT"), MAPPING,
     "catalogue.csv:4:effective_from: version 2026 starts on 2026-01-01 on line 3"),
    (ITEMS.replace("2025,2025-01-01", "2025,2026-01-01"), MAPPING,
     "catalogue.csv:3:effective_from: version 2025 starts on 2026-01-01 already"),
    (ITEMS + ITEMS.splitlines(keepends=True)[2], MAPPING,
     "catalogue.csv:7:code: duplicates line 4 of version 2026"),
    (ITEMS.replace("autism,months_per_year,6", "hearing,months_per_year,6"), MAPPING,
     "catalogue.csv:4:categories: must include the item's own category autism"),
    (ITEMS.replace("months_per_year,9", "fortnightly,9"), MAPPING,
     "catalogue.csv:2:rule: must be one of once, times_per_year"),
    (ITEMS, MAPPING + "no_such_service,C-AUT-TRAIN\n",
     "catalogue_services.csv:6:service_code: service no_such_service does not exist"),
    (ITEMS, MAPPING + "autism_training,X-NONE\n",
     "catalogue_services.csv:6:item_code: catalogue item X-NONE does not exist in any version"),
    (ITEMS, MAPPING + "autism_training,A-PHYS-AID\n",
     "catalogue_services.csv:6:item_code: item A-PHYS-AID is not for the category autism"),
    (ITEMS, MAPPING + "autism_training,C-AUT-TRAIN\n",
     "catalogue_services.csv:6:item_code: duplicates line 2"),
])
def test_a_bad_file_names_file_row_and_column(app, session, tmp_path, items, mapping, expected):
    tiny_network(session)
    found = problems_of(session, write_files(tmp_path, items, mapping))
    assert any(p.startswith(expected) for p in found), found


def test_the_cli_imports_all_or_nothing(app, session, tmp_path):
    tiny_network(session)
    session.commit()
    bad = write_files(tmp_path, mapping=MAPPING + "no_such_service,C-AUT-TRAIN\n")
    result = run(app, "import", "catalogue", str(bad))
    assert result.exit_code == 2 and "nothing was imported" in result.output
    session.rollback()
    assert session.scalar(select(func.count()).select_from(CatalogueVersion)) == 0
    assert session.scalar(select(func.count()).select_from(CatalogueItem)) == 0
    good = write_files(tmp_path)
    result = run(app, "import", "catalogue", str(good / "catalogue.csv"),
                 str(good / "catalogue_services.csv"))
    assert result.exit_code == 0, result.output
    assert "imported 5 catalogue, 4 catalogue_services" in result.output
    session.rollback()
    assert session.scalar(select(func.count()).select_from(CatalogueItem)) == 5


def test_the_sample_catalogue_maps_every_sample_service():
    import csv

    from rehab_net.cli import SAMPLE_DIR

    services = {r["code"] for r in csv.DictReader(open(SAMPLE_DIR / "services.csv"))}
    mapped = {r["service_code"]
              for r in csv.DictReader(open(SAMPLE_DIR / "catalogue_services.csv"))}
    assert mapped == services
    rows = list(csv.DictReader(open(SAMPLE_DIR / "catalogue.csv", encoding="utf-8")))
    by = {(r["version"], r["code"]): r for r in rows}
    # the examples, in the version in force
    assert (by["2026", "C-HEAR-AVT"]["rule"], by["2026", "C-HEAR-AVT"]["amount"]) == (
        "months_per_year", "10")
    assert (by["2026", "A-HEAR-TUNE"]["rule"], by["2026", "A-HEAR-TUNE"]["amount"]) == (
        "times_per_year", "2")
    assert (by["2026", "A-VIS-OM"]["rule"], by["2026", "A-VIS-OM"]["amount"]) == (
        "weekly_for_weeks", "8")
    assert by["2026", "A-VIS-CANE"]["cycle_months"] == "36"
    assert {r["part"] for r in rows} == {"0-6", "7+"}
    assert {r["kind"] for r in rows} == {"training", "device_fitting", "surgery", "medication",
                                         "nursing", "assessment"}


# --- a case against what was delivered, and the worklist ---------------------------------------
@pytest.fixture
def cat(app, session, tmp_path):
    """tiny_network with a second centre, the catalogue above, a therapist at CT01 and the
    station, a child referred to CT01 and an adult to the station; staff of each role."""
    r = tiny_network(session)
    r["centre2"] = network.create_facility(session, dict(
        code="CT02", name_zh="第二康复中心", name_en="Second Centre", tier="centre",
        region_code="150702", lat=49.2, lon=119.7, ownership="public", designated=True,
        status="open"))
    network.create_facility(session, dict(
        code="CL01", name_zh="测试社区卫生室", name_en="Ceshi Clinic", tier="clinic",
        region_code="150702001001", lat=49.21, lon=119.7, ownership="public", designated=False,
        status="open"))
    load(session, write_files(tmp_path))
    r["dr"] = schedules.create_practitioner(session, dict(
        code="TH9", name="王治疗师", profession="therapist",
        facility_codes=["CT01", "ST150702001"]),
        principal=None, today=TODAY)
    now = datetime(2026, 1, 2, 2, 0, tzinfo=UTC)
    r["child"] = create_case(session, create_person(session, code="PCHILD", name="张小明",
                                                    birth_date=date(2022, 3, 1)),
                             code="KCHILD", registered_on=date(2025, 12, 1))
    r["adult"] = create_case(session, create_person(session, code="PADULT", name="李大山",
                                                    birth_date=date(1980, 1, 1)),
                             code="KADULT", category="physical", service_code="physical_follow_up",
                             registered_on=date(2025, 12, 1))
    # the child referred up from the station to CT01, the adult from the clinic to the station
    for case, sender, receiver, direction in (
            (r["child"], "ST150702001", "CT01", "up"),
            (r["adult"], "CL01", "ST150702001", "up")):
        r[f"ref_{case.code}"] = create_referral(
            session, "accepted", now=now, today=date(2026, 1, 2), case_code=case.code,
            sender_code=sender, receiver_code=receiver, direction=direction,
            service_code=case.service.code, reason="training")
    users = {"coordinator": create_user(session, "ccoord", grants=[("coordinator", r["centre"])]),
             "coordinator2": create_user(session, "ccoord2",
                                         grants=[("coordinator", r["centre2"])]),
             "clinic": create_user(session, "cstaff", grants=[("clinic", r["station"])]),
             "planner": create_user(session, "cplanner", grants=[("planner", r["district"])]),
             "admin": create_user(session, "cadmin", grants=[("admin", None)]),
             "auditor": create_user(session, "cauditor", grants=[("auditor", None)])}
    r["users"] = users
    session.commit()
    r["tokens"] = {k: token_for(session, u) for k, u in users.items()}
    return r


def attend(session, r, case, day: date, *, hour=9, status="fulfilled", facility=None,
           service=None):
    """An appointment of the case on that local day, attended (or as ``status``)."""
    start = datetime.combine(day, time(hour, 0), ZONE).astimezone(UTC)
    facility = facility or r["centre"]
    service = service or case.service
    slot = generation.create_slot(session, practitioner_id=r["dr"].id, facility_id=facility.id,
                                  service_id=service.id, starts_at=start,
                                  ends_at=start + timedelta(minutes=45), places=1,
                                  now=start - timedelta(days=7))
    session.add(Appointment(slot_id=slot.id, place=1, referral_id=r[f"ref_{case.code}"].id,
                            case_id=case.id, person_id=case.person_id,
                            practitioner_id=r["dr"].id, facility_id=facility.id,
                            service_id=service.id, starts_at=start, ends_at=slot.ends_at,
                            status=status, created_by="test",
                            **({"cancel_reason": "family_request", "cancelled_at": start}
                               if status == "cancelled" else {})))
    session.flush()


def test_a_childs_training_months_come_from_attended_appointments_only(app, session, cat):
    with app.app_context():
        child = cat["child"]
        for month in range(1, 10):
            attend(session, cat, child, date(2026, month, 12))
        attend(session, cat, child, date(2026, 10, 12), status="noshow")
        attend(session, cat, child, date(2026, 10, 13), status="cancelled", hour=10)
        [dose] = ops.doses(session, [child], TODAY)
        assert dose.item.code == "C-AUT-TRAIN" and dose.item.version.code == "2026"
        assert (dose.dose.status, dose.dose.delivered, dose.dose.needed, dose.dose.due_on) == (
            "due", 9, 10, date(2026, 11, 30))
        attend(session, cat, child, date(2026, 10, 20), status="arrived")
        [dose] = ops.doses(session, [child], TODAY)
        assert dose.dose.status == "met"


def test_an_appointment_is_counted_on_its_local_day(app, session, cat):
    # 1 October 01:00 in Shanghai is 30 September 17:00 UTC: October's session
    with app.app_context():
        child = cat["child"]
        attend(session, cat, child, date(2026, 10, 1), hour=1)
        [dose] = ops.doses(session, [child], TODAY)
        assert dose.dose.last_on == date(2026, 10, 1)


def test_the_version_in_force_on_the_day_gives_the_rule(app, session, cat):
    with app.app_context():
        [dose] = ops.doses(session, [cat["child"]], date(2025, 12, 15))
        assert (dose.item.version.code, dose.item.amount) == ("2025", 9)


def test_an_adults_items_follow_age_and_category(app, session, cat):
    with app.app_context():
        adult = cat["adult"]
        attend(session, cat, adult, date(2026, 11, 10), facility=cat["station"])
        found = {d.item.code: d.dose for d in ops.doses(session, [adult], TODAY)}
        assert set(found) == {"A-PHYS-TRAIN", "A-PHYS-AID"}  # not the autism items
        assert (found["A-PHYS-TRAIN"].status, found["A-PHYS-TRAIN"].delivered) == ("due", 1)
        # a follow-up visit fits the mobility aid too in this mapping: met, renewed in 3 years
        assert found["A-PHYS-AID"].replace_on == date(2029, 11, 10)


def test_the_worklist_holds_the_facilitys_cases_late_first(app, session, cat):
    with app.app_context():
        attend(session, cat, cat["child"], date(2026, 3, 12))
        rows = ops.worklist(session, cat["centre"].id, TODAY, scope=_everywhere())
        assert [(d.case.code, d.item.code, d.dose.status) for d in rows] == [
            ("KCHILD", "C-AUT-TRAIN", "missed")]
        assert ops.worklist(session, cat["centre"].id, TODAY, scope=_everywhere(),
                            status="due") == []
        rows2 = ops.worklist(session, cat["station"].id, TODAY, scope=_everywhere())
        assert [(d.case.code, d.item.code) for d in rows2] == [("KADULT", "A-PHYS-AID"),
                                                              ("KADULT", "A-PHYS-TRAIN")]
        assert [d.item.code for d in ops.worklist(session, cat["station"].id, TODAY,
                                                  scope=_everywhere(), category="autism")] == []
        assert [d.item.code for d in ops.worklist(session, cat["station"].id, TODAY,
                                                  scope=_everywhere(), item="A-PHYS-AID")] == [
            "A-PHYS-AID"]
        # a facility that took nothing on has an empty worklist
        assert ops.worklist(session, cat["centre2"].id, TODAY, scope=_everywhere()) == []


def _everywhere():
    from rehab_net.auth.permissions import EVERYWHERE

    return EVERYWHERE


def call(client, cat, role, url):
    return client.get(url, headers={"Authorization": f"Bearer {cat['tokens'][role]}"})


@pytest.mark.parametrize("role, facility, expected", [
    ("coordinator", "", 200), ("coordinator", "CT01", 200), ("coordinator", "CT02", 404),
    ("coordinator2", "CT02", 200), ("clinic", "", 200), ("clinic", "ST150702001", 200),
    ("clinic", "CT01", 404),
    ("planner", "CT01", 403), ("admin", "CT01", 403), ("auditor", "CT01", 403),
])
def test_the_worklist_api_is_the_users_own_facilities(app, client, session, cat, role, facility,
                                                      expected):
    url = "/api/v1/catalogue/worklist" + (f"?facility={facility}" if facility else "")
    resp = call(client, cat, role, url)
    assert resp.status_code == expected, resp.get_json()


def test_the_worklist_api_pages_masks_names_and_audits_the_list(app, client, session, cat):
    resp = call(client, cat, "coordinator", "/api/v1/catalogue/worklist?page_size=1")
    assert resp.status_code == 200
    [row] = resp.get_json()
    assert row["case_code"] == "KCHILD" and row["person_name"] == "张**"
    # nothing attended all year: 10 months can no longer be reached
    assert row["status"] == "missed" and row["due_on"] == "2026-11-30"
    assert "X-Pagination" in resp.headers
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "list",
                                                    AuditEvent.object_type == "case")
                           .order_by(AuditEvent.id.desc()))
    assert event.detail["codes"] == ["KCHILD"] and event.detail["filters"]["facility"] == "CT01"
    bad = call(client, cat, "coordinator", "/api/v1/catalogue/worklist?status=met")
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "status"


def test_a_cases_doses_over_the_api_are_an_audited_read(app, client, session, cat):
    resp = call(client, cat, "coordinator", "/api/v1/cases/KCHILD/catalogue")
    assert resp.status_code == 200
    assert [d["item_code"] for d in resp.get_json()] == ["C-AUT-TRAIN"]
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "read", AuditEvent.object_code == "KCHILD")) == 1
    assert call(client, cat, "planner", "/api/v1/cases/KCHILD/catalogue").status_code == 403


def test_the_items_api_gives_the_version_in_force_or_a_named_one(app, client, session, cat):
    items = call(client, cat, "planner", "/api/v1/catalogue/items?category=autism").get_json()
    assert [(i["code"], i["amount"], i["version"]) for i in items] == [
        ("C-AUT-TRAIN", 10, "2026"), ("A-AUT-TRAIN", 6, "2026")]  # the 0-6 part first
    old = call(client, cat, "planner", "/api/v1/catalogue/items?on=2025-06-01").get_json()
    assert [(i["code"], i["amount"]) for i in old] == [("C-AUT-TRAIN", 9)]
    assert call(client, cat, "planner",
                "/api/v1/catalogue/items?on=2024-06-01").status_code == 404
    assert call(client, cat, "planner", "/api/v1/catalogue/items?version=1999").status_code == 404
    versions = call(client, cat, "planner", "/api/v1/catalogue/versions").get_json()
    assert [v["code"] for v in versions] == ["2026", "2025"]


def test_the_pages_worklist_case_section_and_catalogue(app, client, session, cat):
    log_in(client, cat["users"]["coordinator"])
    page = client.get("/catalogue/worklist", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "KCHILD" in html and "张**" in html
    assert "张小明" not in html
    assert client.get("/catalogue/worklist?facility=CT02").status_code == 404
    assert client.get("/catalogue/worklist?status=nonsense").status_code == 400
    case = client.get("/cases/KCHILD", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "C-AUT-TRAIN" in case and "in at least 10 months a year" in case
    zh = client.get("/catalogue", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "孤独症儿童康复训练" in zh and "2026" in zh
    old = client.get("/catalogue?version=2025").get_data(as_text=True)
    assert "C-AUT-TRAIN" in old and "A-AUT-TRAIN" not in old


def test_a_network_wide_user_types_the_worklists_facility(app, client, session, cat):
    """1,474 facilities make no list box: the code or a part of the name is typed, a name gives
    the matching facilities to choose from (paged), a code the worklist."""
    add_clinics(session, 60)
    session.commit()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = client.get("/catalogue/worklist").get_data(as_text=True)
    assert '<select id="facility"' not in html and '<input id="facility"' in html
    found = client.get("/catalogue/worklist?facility=Test Clinic 5&status=overdue")
    text = found.get_data(as_text=True)
    assert found.status_code == 200 and "11 facilities match" in text
    assert "facility=CL005" in text and "facility=CL050" in text and "status=overdue" in text
    many = client.get("/catalogue/worklist?facility=Clinic").get_data(as_text=True)
    assert "61 facilities match" in many and 'rel="next"' in many
    assert "Ceshi Clinic (CL01)" in many and "facility=CL060" not in many  # by code: CL01 10th
    assert "facility=CL060" in client.get(
        "/catalogue/worklist?facility=Clinic&page=2").get_data(as_text=True)
    shown = client.get("/catalogue/worklist?facility=CT01").get_data(as_text=True)
    assert "KCHILD" in shown and 'value="CT01"' in shown
    none = client.get("/catalogue/worklist?facility=NOPE").get_data(as_text=True)
    assert "None of your facilities has that code or name." in none
    # a coordinator of one facility keeps the list box of their own
    log_in(client, cat["users"]["coordinator"])
    own = client.get("/catalogue/worklist").get_data(as_text=True)
    assert '<select id="facility"' in own and "CL005" not in own
