"""A district planner sees the figures of its districts only, in a plan (API and pages) as in
the quarterly report, with no network-wide total; only a network-wide planner (plan.run)
regenerates a report. Two districts: Hailar 150702 (the district planner's) and 150727."""
from __future__ import annotations

from datetime import date

import pytest

from rehab_net.clock import today
from rehab_net.reports import quarterly
from tests.factories import create_plan, create_user, log_in, token_for
from tests.permission_world import call
from tests.planning_helpers import solve_here
from tests.referral_world import drive


@pytest.fixture
def both(world, session):
    world["users"]["nplanner"] = user = create_user(session, "nplanner",
                                                    grants=[("planner", None)])
    session.commit()
    world["tokens"]["nplanner"] = token_for(session, user)
    return world


@pytest.fixture
def plan_id(app, both, session):
    with app.app_context():  # the app's today
        plan = create_plan(session, today=today())
    session.commit()
    solve_here(session, plan.id)
    return plan.id


def test_a_district_planner_reads_only_its_districts_kpis(anonymous, both, plan_id):
    full = call(anonymous, both, "nplanner", "GET", f"/api/v1/plans/{plan_id}").json
    assert set(full["kpis"]["districts"]) == {"150702", "150727"}
    assert "cases" in full["kpis"] and full["objective"] is not None
    mine = call(anonymous, both, "planner", "GET", f"/api/v1/plans/{plan_id}")
    assert mine.status_code == 200
    kpis = mine.json["kpis"]
    assert set(kpis["districts"]) == {"150702"}
    assert set(kpis["unplaced_by_district"]) <= {"150702"}
    assert set(kpis["utilisation"]) == {"district"}
    assert set(kpis["utilisation"]["district"]) <= {"150702"}
    for total in ("cases", "placed", "objective", "by_priority", "facility_load"):
        assert total not in kpis
    assert mine.json["objective"] is None and mine.json["assigned"] is None
    listed = call(anonymous, both, "planner", "GET", "/api/v1/plans").json
    assert [set(p["kpis"]["districts"]) for p in listed] == [{"150702"}]
    assert "cases" in call(anonymous, both, "nplanner", "GET", "/api/v1/plans").json[0]["kpis"]


def test_the_plan_pages_hide_network_totals_from_a_district_planner(app, both, plan_id):
    client = app.test_client()
    log_in(client, both["users"]["nplanner"])
    objective = "{:,.2f}".format(
        call(app.test_client(), both, "nplanner", "GET", f"/api/v1/plans/{plan_id}")
        .json["objective"])
    assert objective in client.get(f"/plans/{plan_id}").get_data(as_text=True)
    client = app.test_client()
    log_in(client, both["users"]["planner"])
    for url in (f"/plans/{plan_id}", "/plans"):
        page = client.get(url)
        assert page.status_code == 200 and objective not in page.get_data(as_text=True), url
        assert "150727" not in page.get_data(as_text=True), url


def test_a_district_planner_reads_its_rows_of_the_report_and_cannot_write_one(
        app, anonymous, both, session):
    quarter = f"{date.today().year}-Q{(date.today().month - 1) // 3 + 1}"
    with app.app_context():
        quarterly.generate(session, quarter, today=date(2100, 1, 1), actor="test")
    session.commit()
    url = f"/api/v1/reports/quarterly/{quarter}"
    full = call(anonymous, both, "nplanner", "GET", url).json["data"]
    assert set(full["by_district"]) == {"150702", "150727"} and full["totals"]
    mine = call(anonymous, both, "planner", "GET", url)
    assert mine.status_code == 200
    data = mine.json["data"]
    assert set(data["by_district"]) == {"150702"} and data["totals"] == {}
    assert data["by_category"] == {} and data["by_priority"] == {} and data["plan"] is None
    assert set(data["referrals_by_district"]) <= {"150702"}
    (listed,) = call(anonymous, both, "planner", "GET", "/api/v1/reports/quarterly").json
    assert set(listed["data"]["by_district"]) == {"150702"}
    assert call(anonymous, both, "planner", "PUT", "/api/v1/reports/quarterly/2026-Q3") \
        .status_code == 403
    assert call(anonymous, both, "nplanner", "PUT", "/api/v1/reports/quarterly/2026-Q3") \
        .status_code == 200


def test_the_report_page_and_download_show_a_district_planner_its_rows(app, both, session):
    import io

    from openpyxl import load_workbook

    quarter = f"{date.today().year}-Q{(date.today().month - 1) // 3 + 1}"
    with app.app_context():
        quarterly.generate(session, quarter, today=date(2100, 1, 1), actor="test")
    session.commit()
    client = app.test_client()
    log_in(client, both["users"]["planner"])
    page = client.get(f"/reports/{quarter}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "Hailar District" in page.get_data(as_text=True)  # districts by name
    assert "New Barag Right Banner" not in page.get_data(as_text=True)
    assert "新右旗" not in client.get(f"/reports/{quarter}.csv").get_data(as_text=True)
    book = load_workbook(io.BytesIO(client.get(f"/reports/{quarter}.xlsx",
                                               headers={"Accept-Language": "en"}).data))
    assert [r[0] for r in book["Cases by district"].iter_rows(min_row=2, values_only=True)] \
        == ["Hailar District"]
    assert list(book["Cases, whole network"].iter_rows(min_row=2, values_only=True)) == []


def test_only_staff_of_the_two_facilities_download_a_referral_attachment(app, session, net):
    """A planner reads referrals (received in its region), not their clinical documents."""
    from rehab_net.referrals.operations.attachments import add_attachment

    net["users"]["nplanner"] = create_user(session, "nplanner2", grants=[("planner", None)])
    session.commit()
    net["tokens"]["nplanner"] = token_for(session, net["users"]["nplanner"])
    referral = drive(session, net, "sent")
    attachment = add_attachment(session, referral, "summary.pdf", b"%PDF-1.7 x",
                                principal=None)
    session.commit()
    api_url = f"/api/v1/referrals/{referral.code}/attachments/{attachment.id}"
    page_url = f"/referrals/{referral.code}/attachments/{attachment.id}"
    for who, status in (("staff", 200), ("coord", 200), ("planner", 404), ("nplanner", 404)):
        client = app.test_client()
        assert client.get(f"/api/v1/referrals/{referral.code}", headers={
            "Authorization": f"Bearer {net['tokens'][who]}"}).status_code == 200, who
        got = client.get(api_url, headers={"Authorization": f"Bearer {net['tokens'][who]}"})
        assert got.status_code == status, (who, got.status_code)
        if status == 200:
            assert got.data == b"%PDF-1.7 x"
        client = app.test_client()
        log_in(client, net["users"][who])
        assert client.get(page_url).status_code == status, who


@pytest.fixture
def two_plans(app, both, session):
    """Two finished plans of a network with capacity in both districts (so each district has
    facility loads and shadow prices of its own)."""
    from rehab_net.network import operations as network

    network.set_capacity(session, both["station2"], dict(
        service_code="physical_follow_up", effective_from=date(2026, 1, 1), weekly_intake=5,
        concurrent_places=10))
    session.commit()
    ids = []
    for _ in range(2):
        with app.app_context():  # the app's today
            plan = create_plan(session, today=today())
        session.commit()
        solve_here(session, plan.id)
        ids.append(plan.id)
    return ids


def test_a_district_planner_sees_the_loads_of_its_own_facilities_only(anonymous, both,
                                                                      two_plans):
    plan_id = two_plans[0]
    for path in ("facilities", "shadow-prices"):
        url = f"/api/v1/plans/{plan_id}/{path}?page_size=100"
        full = {r["facility_code"] for r in call(anonymous, both, "nplanner", "GET", url).json}
        mine = {r["facility_code"] for r in call(anonymous, both, "planner", "GET", url).json}
        if path == "facilities":
            assert "ST150727001" in full, full
        assert "ST150727001" not in mine and mine <= full, (path, mine)


def test_the_comparison_shows_a_district_planner_its_districts_only(app, anonymous, both,
                                                                     two_plans):
    ids = ",".join(map(str, two_plans))
    full = call(anonymous, both, "nplanner", "GET", f"/api/v1/plans/compare?plans={ids}").json
    assert "150727" in full["plans"][0]["kpis"]["districts"]
    mine = call(anonymous, both, "planner", "GET", f"/api/v1/plans/compare?plans={ids}")
    assert mine.status_code == 200
    for entry in mine.json["plans"]:
        assert set(entry["kpis"]["districts"]) == {"150702"}
        assert "cases" not in entry["kpis"] and "facility_load" not in entry["kpis"]
    client = app.test_client()
    log_in(client, both["users"]["planner"])
    for url in (f"/compare?plans={ids}", f"/compare.csv?plans={ids}",
                f"/compare.csv?plans={ids}&table=facility_load"):
        got = client.get(url)
        assert got.status_code == 200, url
        assert "150727" not in got.get_data(as_text=True), url
    client = app.test_client()
    log_in(client, both["users"]["nplanner"])
    assert "150727" in client.get(f"/compare.csv?plans={ids}&table=districts").get_data(
        as_text=True)
