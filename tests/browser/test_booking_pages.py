"""Booking in a real browser: the week calendar, the booking page, the appointment, the day's
list and the waitlist pass axe (WCAG 2.1 A/AA) with zero violations, and a coordinator books a
slot with the keyboard alone (no pointer, no drag)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from rehab_net.booking import operations as ops
from rehab_net.booking import waitlist
from rehab_net.booking.models import Appointment
from tests.booking_world import (
    at,
    make_slot,
    next_monday,
)
from tests.browser.helpers import (
    assert_focus_visible,
    assert_no_axe_violations,
    focused,
    sqlite_only,
    tab_to,
)

NOW = datetime.now(UTC)


def test_calendar_waitlist_and_booking_pages_pass_axe(app, page, log_in_as, w, session):
    monday = next_monday()
    free = make_slot(session, w, at(monday, 9), places=2)
    make_slot(session, w, at(monday, 10), facility=w["station"])
    full = make_slot(session, w, at(monday + timedelta(days=1), 9))
    with app.app_context():
        appt, _ = ops.book(session, referral=w["referrals"][0], slot_id=full.id, hold=False,
                           principal=None, now=NOW)
        ops.book(session, referral=w["referrals"][1], slot_id=free.id, hold=True,
                 principal=None, now=NOW)
        waitlist.add(session, w["referrals"][2], note="mornings", principal=None, now=NOW)
    session.commit()
    log_in_as(w["users"]["coord"])
    start = monday.isoformat()
    for path in (f"/booking/facilities/CT01/week?start={start}",
                 f"/booking/practitioners/DR1/week?start={start}",
                 "/booking/waitlist?facility=CT01", "/booking",
                 f"/referrals/{w['referrals'][2].code}/book?start={start}",
                 f"/appointments/{appt.code}", f"/booking/day?facility=CT01&date={start}",
                 f"/booking/slots/{free.id}"):
        response = page.goto(path)
        assert response.status == 200, path
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        assert_no_axe_violations(page, path)
    page.goto(f"/booking/facilities/CT01/week?start={start}")
    assert page.locator("table.week caption").count() == 1
    assert page.locator("table.week th[scope=col]").count() == 8  # the time + 7 days


@sqlite_only
def test_a_booking_made_with_the_keyboard_only(page, log_in_as, w, session):
    monday = next_monday()
    slot = make_slot(session, w, at(monday, 9))
    session.commit()
    code = w["referrals"][0].code
    log_in_as(w["users"]["coord"])
    page.goto(f"/referrals/{code}/book?start={monday.isoformat()}")
    tab_to(page, "#mode-hold")
    assert_focus_visible(page)
    page.keyboard.press("ArrowDown")  # the radio group: "book it now"
    assert page.locator("#mode-book").is_checked()
    tab_to(page, f"button[name=slot_id][value='{slot.id}']")
    assert_focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/appointments/A" in page.url
    assert page.locator("#appointment-status").count() == 1
    assert_no_axe_violations(page, "the appointment just booked")
    appt = session.scalar(select(Appointment).where(Appointment.referral_id
                                                    == w["referrals"][0].id))
    assert appt is not None and appt.status == "booked" and appt.slot_id == slot.id
    # and cancelling it, by keyboard too
    tab_to(page, "#cancel-reason")
    description, _ = focused(page)
    assert "select" in description
    page.keyboard.press("ArrowDown")
    assert page.locator("#cancel-reason").input_value() == "family_request", \
        page.locator("#cancel-reason").input_value()
    tab_to(page, "#do-cancel")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    session.expire_all()
    assert session.get(Appointment, appt.id).status == "cancelled"


@sqlite_only
def test_when_the_family_can_come_and_a_jump_reason_with_the_keyboard(page, page_watch,
                                                                      log_in_as, w, session):
    """The waitlist form's checkboxes are ticked with Space; a booking that would pass over the
    waiting child shows the warning and the reason field in place (axe-clean), and with a
    reason typed it is made."""
    monday = next_monday()
    slot = make_slot(session, w, at(monday, 9))
    session.commit()
    child, other = w["referrals"][0], w["referrals"][1]
    log_in_as(w["users"]["coord"])
    page.goto(f"/referrals/{child.code}/book?start={monday.isoformat()}")
    assert_no_axe_violations(page, "the booking page with the waitlist form")
    for box in ("#available_weekdays-1", "#available_parts-morning"):
        tab_to(page, box, max_tabs=100)
        assert_focus_visible(page)
        page.keyboard.press("Space")
        assert page.locator(box).is_checked()
    tab_to(page, "#add-to-waitlist")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/booking/waitlist" in page.url
    assert_no_axe_violations(page, "the waitlist with when the family can come")
    page.goto(f"/referrals/{other.code}/book?start={monday.isoformat()}")
    page_watch.allow_console(r"status of 409 \(CONFLICT\)")  # the refusal answers 409
    tab_to(page, "#mode-hold")
    page.keyboard.press("ArrowDown")
    tab_to(page, f"button[name=slot_id][value='{slot.id}']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#jump-reason").count() == 1
    assert_no_axe_violations(page, "the warning that the booking passes over the waitlist")
    tab_to(page, "#jump-reason")
    page.keyboard.type("review ordered by the surgeon")
    tab_to(page, "#book-anyway")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/appointments/A" in page.url
    appt = session.scalar(select(Appointment).where(Appointment.referral_id == other.id))
    assert appt.jump_reason == "review ordered by the surgeon" and appt.status == "booked"
    session.rollback()
