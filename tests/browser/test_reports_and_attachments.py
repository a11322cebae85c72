"""Issue 15 in a real browser: the sending clinic attaches a file to a referral on a phone
(390 px) with the keyboard alone, a wrong file refused at the field; a planner reads the quarterly
report and downloads it as CSV and XLSX (the same columns as the page), and the quarter to date;
a clinic's list of its patients' appointments. Axe clean at 1366 and 390 px, error states too."""
from __future__ import annotations

import csv
import io
import os
from datetime import date

import pytest
from openpyxl import load_workbook

from rehab_net.referrals.models import ReferralAttachment
from rehab_net.reports import quarterly
from tests.browser.helpers import (
    DESK,
    PHONE,
    assert_no_axe_violations,
    choose_file_by_keyboard,
    fits,
    sqlite_only,
    tab_to,
)
from tests.factories import create_case, create_person, create_user
from tests.referral_world import add_child, drive, referral_network


def _shot(page, name: str) -> None:
    """A screenshot for the README (docs/screenshots/), when REHAB_TEST_SHOTS names a folder."""
    folder = os.environ.get("REHAB_TEST_SHOTS")
    if folder:
        width = page.viewport_size["width"]
        page.screenshot(path=os.path.join(folder, f"{name}-{width}.png"), full_page=True)


@pytest.fixture
def world(app, session):
    r = referral_network(session)
    for i in range(6):
        create_case(session, create_person(session, birth_date=date(2022, 1, 1 + i)),
                    registered_on=date(2026, 8, 1 + i))
    add_child(session, r)
    r["users"] = {"staff": create_user(session, "staff", grants=[("clinic", r["station"])]),
                  "planner": create_user(session, "planner", grants=[("planner", None)])}
    session.commit()
    r["referral"] = drive(session, r, "sent").code
    with app.app_context():
        quarterly.generate(session, "2026-Q3", today=date(2026, 11, 16), actor="test")
    session.commit()
    return r


@sqlite_only
def test_a_file_attached_with_the_keyboard_only_on_a_phone(page, log_in_as, world, session,
                                                           page_watch, tmp_path):
    page_watch.allow_console(r"status of 422")  # the form answers 422 while it has an error
    wrong, pdf = tmp_path / "notes.txt", tmp_path / "评估摘要.pdf"
    wrong.write_text("not a PDF")
    pdf.write_bytes(b"%PDF-1.7 an assessment summary")
    page.set_viewport_size(PHONE)
    log_in_as(world["users"]["staff"])
    code = world["referral"]
    page.goto(f"/referrals/{code}")
    assert fits(page)
    assert_no_axe_violations(page, "referral page with the upload form at 390 px")
    for chosen, expect_error in ((wrong, True), (pdf, False)):
        choose_file_by_keyboard(page, "#file", chosen)
        tab_to(page, "#attach")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        if expect_error:
            assert page.locator("#error-summary").count() == 1
            assert "文件必须是 PDF、PNG 或 JPEG 文件" in page.locator("#file-error").inner_text()
            assert "file-error" in page.locator("#file").get_attribute("aria-describedby")
            assert fits(page)
            assert_no_axe_violations(page, "upload refused at 390 px")
            _shot(page, "referral-attachment-error")
    assert "评估摘要.pdf" in page.locator(".flash-success").inner_text()
    link = page.locator("#attachments ~ .table-scroll a[download], #attachments ~ table a")
    assert link.first.inner_text() == "评估摘要.pdf"
    assert fits(page)
    assert_no_axe_violations(page, "referral page with its attachment at 390 px")
    _shot(page, "referral-attachments")
    page.set_viewport_size(DESK)
    assert_no_axe_violations(page, "referral page with its attachment at 1366 px")
    _shot(page, "referral-attachments")
    with page.expect_download() as download:
        link.first.focus()
        page.keyboard.press("Enter")
    assert open(download.value.path(), "rb").read() == pdf.read_bytes()
    session.expire_all()
    assert session.query(ReferralAttachment).count() == 1


@sqlite_only
def test_the_report_page_and_its_csv_and_xlsx(page, log_in_as, world):
    log_in_as(world["users"]["planner"])
    page.set_viewport_size(DESK)
    page.goto("/reports")
    assert_no_axe_violations(page, "report list at 1366 px")
    tab_to(page, "a[href='/reports/2026-Q3']", max_tabs=80)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("h1").inner_text() == "2026-Q3 统计季报"
    headers = [[th.inner_text() for th in t.locator("thead th").all()]
               for t in page.locator("main table").all()]
    titles = [c.inner_text() for c in page.locator("main table caption").all()]
    assert "按旗市区统计的个案" in titles
    assert "海拉尔区" in page.locator("#by_district").inner_text()  # a name, not 150702
    for width in (DESK, PHONE):
        page.set_viewport_size(width)
        assert fits(page)
        assert_no_axe_violations(page, f"report page at {width['width']} px")
        _shot(page, "report")
    page.set_viewport_size(DESK)
    downloads = {}
    for kind in ("csv", "xlsx"):
        link = page.locator(f"a[href='/reports/2026-Q3.{kind}']")
        with page.expect_download() as download:
            link.focus()
            page.keyboard.press("Enter")
        downloads[kind] = open(download.value.path(), "rb").read()
        assert download.value.suggested_filename == f"rehab-net-2026-Q3.{kind}"
    assert downloads["csv"].startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(downloads["csv"].decode("utf-8-sig"))))
    assert [lines[lines.index([t]) + 1] for t in titles] == headers
    book = load_workbook(io.BytesIO(downloads["xlsx"]))
    assert [ws.title for ws in book.worksheets[1:]] == titles
    assert [[c.value for c in ws[1]] for ws in book.worksheets[1:]] == headers
    page.goto("/reports/to-date")
    assert "截至目前" in page.locator("h1").inner_text()
    assert page.locator("#to-date-note").count() == 1
    for width in (DESK, PHONE):
        page.set_viewport_size(width)
        assert fits(page)
        assert_no_axe_violations(page, f"report to date at {width['width']} px")
        _shot(page, "report-to-date")


@sqlite_only
def test_the_clinics_patients_appointments_page(page, log_in_as, world, session, page_watch):
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from rehab_net.booking import generation, schedules
    from tests.factories import create_appointment
    from tests.referral_world import MONDAY_9

    page_watch.allow_console(r"status of 422")
    doctor = schedules.create_practitioner(session, dict(
        code="DR1", name="李医生", profession="physician", facility_codes=["CT01"]),
        principal=None, today=date(2026, 11, 16))
    for day in (18, 20):  # the station's patient at the centre, this week
        starts = datetime.combine(date(2026, 11, day), time(10), ZoneInfo("Asia/Shanghai"))
        slot = generation.create_slot(session, practitioner_id=doctor.id,
                                      facility_id=world["centre"].id,
                                      service_id=world["autism_training"].id, starts_at=starts,
                                      ends_at=starts + timedelta(hours=1), places=1,
                                      now=MONDAY_9)
        create_appointment(session, drive(session, world, "accepted"), slot, now=MONDAY_9)
    session.commit()
    log_in_as(world["users"]["staff"])
    for width in (DESK, PHONE):
        page.set_viewport_size(width)
        page.goto("/booking")
        tab_to(page, "#patients-link", max_tabs=80)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.locator("h1").inner_text() == "本机构患者的预约"
        assert fits(page)
        assert_no_axe_violations(page, f"patients' appointments at {width['width']} px")
        _shot(page, "patients-appointments")
        page.goto("/booking/patients?from=2026-02-30")
        assert page.locator("#from-error").count() == 1
        assert fits(page)
        assert_no_axe_violations(page, f"patients' appointments, a bad day, {width['width']} px")
