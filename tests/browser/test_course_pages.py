"""A coordinator books a course of therapy from a referral (issue 16, part 1): the pattern with
the keyboard alone on a phone (390 px) in Chinese, the preview with a closed day's alternatives,
one confirmation booking every session; the course page and the clinic's defaulter list, in
English on a desk (1366 px). axe clean at every step; the page never scrolls sideways."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select

from rehab_net.booking import schedules
from rehab_net.booking.models import Appointment, Course
from tests.booking_world import ZONE, local_today, next_monday
from tests.browser.helpers import DESK, PHONE, assert_no_axe_violations, fits, sqlite_only, tab_to


@sqlite_only
def test_a_course_booked_with_a_preview_and_one_confirmation(app, page, log_in_as, w, session,
                                                            page_watch):
    tuesday = next_monday() + timedelta(days=1)
    with app.app_context():
        schedules.create_rule(session, {
            "practitioner_code": "DR1", "facility_code": "CT01",
            "service_code": "autism_training", "weekdays": [1, 2, 3, 4, 5],
            "start_time": time(14), "end_time": time(16), "slot_minutes": 60, "places": 4,
            "valid_from": local_today()}, principal=None, today=local_today(),
            now=datetime.now(UTC))
        schedules.create_exception(session, {
            "kind": "closure", "facility_code": "CT01",
            "starts_at": datetime.combine(tuesday, time(0), ZONE),
            "ends_at": datetime.combine(tuesday + timedelta(days=1), time(0), ZONE)},
            principal=None, today=local_today(), now=datetime.now(UTC))
    session.commit()
    referral = w["referrals"][0]
    page.set_viewport_size(PHONE)
    log_in_as(w["users"]["coord"])
    page.goto(f"/referrals/{referral.code}/course")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert fits(page)
    assert_no_axe_violations(page, "course pattern form")
    # the pattern with the keyboard alone: Tuesday and Thursday at 14:00 for 3 weeks
    tab_to(page, "#course-weekdays-2", max_tabs=80)
    page.keyboard.press("Space")
    tab_to(page, "#course-weekdays-4")
    page.keyboard.press("Space")
    tab_to(page, "#course-start_time")
    page.keyboard.type("1400")
    tab_to(page, "#course-weeks")
    page.keyboard.press("Control+a")
    page.keyboard.type("3")
    tab_to(page, "#course-first_day")
    page.fill("#course-first_day", next_monday().isoformat())
    tab_to(page, "#preview")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    summary = page.locator("#preview-summary").inner_text()
    assert "5" in summary and "6" in summary, summary  # 5 of 6; the closed Tuesday missed
    assert "机构停诊" in page.locator("#miss-1").inner_text()
    assert fits(page)
    assert_no_axe_violations(page, "course preview")
    # take the nearest alternative for the closed day, then confirm the whole course
    tab_to(page, "#alt-1-none", max_tabs=120)  # a radio group: Tab reaches the checked one
    page.keyboard.press("ArrowDown")
    assert page.locator("#alt-1-1").is_checked()
    tab_to(page, "#confirm")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/courses/CR" in page.url
    assert page.get_by_role("status").count() >= 1
    assert page.locator("#course-status").inner_text() == "进行中"
    assert fits(page)
    assert_no_axe_violations(page, "course page")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.referral_id == referral.id, Appointment.status == "booked")) == 6
    code = session.scalar(select(Course.id))
    session.rollback()
    # English, on a desk: the course page and the sending clinic's defaulter list
    page.set_viewport_size(DESK)
    with page.expect_navigation():
        page.locator("form.language button[value='en']").click()
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(f"/courses/CR{code:07d}")
    assert page.locator("#course-status").inner_text() == "Running"
    assert "This and the following sessions" in page.content()
    assert_no_axe_violations(page, "course page in English")
    page.goto("/booking/defaulters")
    assert "No course has 3 missed sessions in a row." in page.content()
    assert_no_axe_violations(page, "defaulter list in English")
    page_watch.allow_console(r"status of 4\d\d")
