"""The catalogue pages (issue 16, part 2): a centre's coordinator on a phone (390 px), in
Chinese, filters the worklist and opens a case from it with the keyboard alone; the case page's
catalogue section shows the item, what was delivered and when the next is due; the same pages
and the catalogue itself in English at 1366 px; axe clean on each; nothing scrolls sideways."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from rehab_net.booking import generation, schedules
from rehab_net.booking.models import Appointment
from rehab_net.catalogue.models import CatalogueItem, CatalogueService, CatalogueVersion
from tests.browser.helpers import (
    DESK,
    PHONE,
    assert_focus_visible,
    assert_no_axe_violations,
    fits,
    login,
    tab_to,
)
from tests.factories import (
    TEST_PASSWORD,
    create_case,
    create_person,
    create_referral,
    create_user,
    tiny_network,
)

ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def world(session):
    """CT01 took on two children's autism training; one attended in 9 months of 2026 (one more
    month meets the 10), the other in March only (cannot reach 10 this year)."""
    r = tiny_network(session)
    version = CatalogueVersion(code="2026", effective_from=date(2026, 1, 1))
    session.add_all([version, CatalogueItem(
        version=version, code="C-AUT-TRAIN", part="0-6", category="autism", kind="training",
        name_zh="孤独症儿童康复训练", name_en="Autism intervention training (children)",
        min_age=0, max_age=6, categories="autism", rule="months_per_year", amount=10),
        CatalogueService(service_id=r["autism_training"].id, item_code="C-AUT-TRAIN")])
    dr = schedules.create_practitioner(session, dict(
        code="TH1", name="王治疗师", profession="therapist", facility_codes=["CT01"]),
        principal=None, today=date(2026, 1, 2))
    for code, months in (("KONE", range(1, 10)), ("KTWO", (3,))):
        case = create_case(session, create_person(session, code=f"P{code}", name="乌日娜",
                                                  birth_date=date(2022, 3, 1)),
                           code=code, registered_on=date(2025, 12, 1))
        referral = create_referral(session, "accepted", now=datetime(2026, 1, 2, tzinfo=UTC),
                                   today=date(2026, 1, 2), case_code=code,
                                   sender_code="ST150702001", receiver_code="CT01",
                                   service_code="autism_training", reason="training")
        for month in months:
            start = datetime.combine(date(2026, month, 12 if code == "KONE" else 13),
                                     time(9), ZONE).astimezone(UTC)
            slot = generation.create_slot(
                session, practitioner_id=dr.id, facility_id=r["centre"].id,
                service_id=r["autism_training"].id, starts_at=start,
                ends_at=start + timedelta(minutes=45), places=1, now=start)
            session.add(Appointment(
                slot_id=slot.id, place=1, referral_id=referral.id, case_id=case.id,
                person_id=case.person_id, practitioner_id=dr.id, facility_id=r["centre"].id,
                service_id=r["autism_training"].id, starts_at=start, ends_at=slot.ends_at,
                status="fulfilled", created_by="test"))
    create_user(session, "coord", grants=[("coordinator", r["centre"])])
    session.commit()
    return r


def test_the_worklist_and_the_case_section_by_keyboard_on_a_phone_then_in_english(
        page, live_server, world):
    page.set_viewport_size(PHONE)
    login(page, live_server, "coord", TEST_PASSWORD)
    page.goto("/catalogue/worklist")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    table = page.locator("table").inner_text()
    assert "KONE" in table and "KTWO" in table and "乌**" in table and "乌日娜" not in table
    # late first: the one that can no longer reach 10 months, then the one due this month
    assert table.index("KTWO") < table.index("KONE")
    assert "本年已无法达标或已中断" in table and "每年至少 10 个月" in table
    assert fits(page)
    assert_no_axe_violations(page, "catalogue worklist on a phone")
    # filter to what is due, with the keyboard alone
    tab_to(page, "#status", max_tabs=80)
    page.keyboard.press("ArrowDown")  # any -> due
    assert page.locator("#status").input_value() == "due"
    tab_to(page, "form.filters button[type=submit]")
    assert_focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    table = page.locator("table").inner_text()
    assert "KONE" in table and "KTWO" not in table
    assert_no_axe_violations(page, "worklist filtered to what is due")
    tab_to(page, "a[href='/cases/KONE']", max_tabs=80)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    section = page.locator("#case-catalogue-caption").locator("..").inner_text()
    assert "孤独症儿童康复训练" in section and "9 / 10" in section and "待提供" in section
    assert "2026年11月30日" in section or "2026-11-30" in section
    assert fits(page)
    assert_no_axe_violations(page, "case page with its catalogue section")
    # English, on a desk
    page.set_viewport_size(DESK)
    with page.expect_navigation():
        page.locator("form.language button[value='en']").click()
    assert page.locator("html").get_attribute("lang") == "en"
    section = page.locator("#case-catalogue-caption").locator("..").inner_text()
    assert "Autism intervention training (children)" in section and "9 of 10" in section
    assert "in at least 10 months a year" in section
    page.goto("/catalogue/worklist")
    assert "Cannot be met this year or broken off" in page.locator("table").inner_text()
    assert_no_axe_violations(page, "worklist in English")
    page.goto("/catalogue")
    assert "C-AUT-TRAIN" in page.locator("table").inner_text()
    assert_no_axe_violations(page, "catalogue in English")
    assert fits(page)
