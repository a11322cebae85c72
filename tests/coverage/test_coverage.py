"""Coverage against targets and the children's rescue ledger (issue 16, part 4), on the
hand-built population of tests/coverage_world.py: every expected figure below is counted by hand
from its docstring. Both databases (the ``app`` fixture)."""
from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from rehab_net.coverage import figures, ledger, settings
from rehab_net.reports import quarterly
from tests import coverage_world
from tests.factories import create_user, log_in, token_for

TODAY = date(2026, 11, 16)
NOW = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)


@pytest.fixture
def world(app, session):
    app.config.update(COVERAGE_BASE_YEAR=2025, COVERAGE_SMALL_CELL=1)
    return coverage_world.build(session)


def cube(data: dict) -> dict:
    return {(r["district"], r["category"], r["group"]): r for r in data["rows"]}


def figures_of(row: dict) -> tuple:
    return (row["need"], row["served"], row["share"], row["need_cumulative"],
            row["served_cumulative"], row["share_cumulative"])


def test_coverage_of_the_hand_built_population(app, session, world):
    """2026 so far: need A1 A2 A3 A6 B1 B2 (A4 and A5 closed before 2026), served A1 A6 B1 B2.
    Since 2025: A5 (closed September 2025) has a need too, and A3 was served in 2025; A4 closed
    in 2024 is never counted."""
    with app.app_context():
        data = figures.build(session, 2026, today=TODAY)
        assert (data["from"], data["to"], data["to_date"]) == ("2026-01-01", "2026-11-16", True)
        c = cube(data)
        assert figures_of(c["all", "all", "all"]) == (6, 4, 0.6667, 7, 5, 0.7143)
        assert figures_of(c["all", "all", "child"]) == (3, 2, 0.6667, 3, 2, 0.6667)
        assert figures_of(c["all", "all", "severe"]) == (1, 0, 0.0, 1, 1, 1.0)
        assert figures_of(c["all", "all", "poor"]) == (1, 1, 1.0, 1, 1, 1.0)
        # B2 this year; A5 (not served) joins since 2025
        assert figures_of(c["all", "all", "standard"]) == (1, 1, 1.0, 2, 1, 0.5)
        # by district
        assert figures_of(c["150702", "all", "all"]) == (4, 2, 0.5, 5, 3, 0.6)
        assert figures_of(c["150727", "all", "all"]) == (2, 2, 1.0, 2, 2, 1.0)
        # by category: A6 counts in both, once in "all"; nobody with a physical need was served
        assert figures_of(c["all", "autism", "all"]) == (5, 4, 0.8, 6, 4, 0.6667)
        assert figures_of(c["all", "physical", "all"]) == (2, 0, 0.0, 2, 1, 0.5)
        assert figures_of(c["150702", "physical", "poor"]) == (1, 0, 0.0, 1, 0, 0.0)
        assert ("all", "all", "dibao") not in c and not any(k[0] == "-" for k in c)


def test_targets_are_configurable_and_each_group_is_judged_by_its_own(app, session, world):
    with app.app_context():
        c = cube(figures.build(session, 2026, today=TODAY))
        assert [(g, c["all", "all", g]["target"], c["all", "all", g]["met"])
                for g in ("all", "child", "severe", "poor", "standard")] == [
            ("all", 0.8, False), ("child", 0.95, False), ("severe", 0.95, False),
            ("poor", 1.0, True), ("standard", 0.8, True)]
        app.config["COVERAGE_TARGETS"] = '{"all": 0.6, "standard": 1}'
        c = cube(figures.build(session, 2026, today=TODAY))
        assert (c["all", "all", "all"]["met"], c["all", "all", "child"]["target"]) == (True, 0.95)
        with pytest.raises(ValueError, match="none of"):
            settings.parse_targets('{"everyone": 0.5}')
        with pytest.raises(ValueError, match="from 0 to 1"):
            settings.parse_targets('{"poor": 95}')


def test_small_cells_are_suppressed_with_their_shares(app, session, world):
    """With N = 3: counts of 1 and 2 are "<3", and a share or "met" made from one as well."""
    with app.app_context():
        app.config["COVERAGE_SMALL_CELL"] = 3
        c = cube(figures.build(session, 2026, today=TODAY))
        assert figures_of(c["all", "all", "all"]) == (6, 4, 0.6667, 7, 5, 0.7143)
        assert figures_of(c["all", "all", "child"]) == (3, "<3", "<3", 3, "<3", "<3")
        assert c["all", "all", "child"]["met"] is None
        assert figures_of(c["all", "all", "severe"]) == ("<3", 0, "<3", "<3", "<3", "<3")
        assert figures_of(c["150727", "all", "all"]) == ("<3", "<3", "<3", "<3", "<3", "<3")
        assert [figures.suppressed(n, 5) for n in (0, 1, 4, 5)] == [0, "<5", "<5", 5]


def test_a_year_before_the_base_year_or_in_the_future_is_refused(client, world):
    for year in (2024, 2027):
        got = client.get(f"/api/v1/coverage?year={year}")
        assert got.status_code == 422 and got.json["errors"][0]["field"] == "year"
    assert client.get("/api/v1/coverage?category=wings").status_code == 422
    assert client.get("/coverage?year=abc").status_code == 422
    assert client.get("/coverage?year=2024").status_code == 422
    got = client.get("/api/v1/coverage?year=2025&category=physical")
    assert got.status_code == 200 and got.json["to_date"] is False
    assert {r["category"] for r in got.json["rows"]} == {"physical"}
    assert cube(got.json)["all", "physical", "severe"]["served"] == 1  # A3, 2025


def test_a_district_planner_reads_its_districts_only(app, session, world):
    planner = create_user(session, "hplanner", grants=[("planner", world["district"])])
    session.commit()
    headers = {"Authorization": f"Bearer {token_for(session, planner)}"}
    data = app.test_client().get("/api/v1/coverage", headers=headers).json
    c = cube(data)
    assert data["districts_only"] is True
    assert {k[0] for k in c} == {"all", "150702"}
    assert figures_of(c["all", "all", "all"]) == (4, 2, 0.5, 5, 3, 0.6)  # Hailar's alone
    book = app.test_client().get("/api/v1/coverage/rescue", headers=headers).json
    assert [ch["person_code"] for ch in book["children"]] == ["A1"]
    assert set(book["totals_by_district"]) == {"150702"}
    page = app.test_client()
    log_in(page, planner)
    html = page.get("/coverage", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Your districts" in html and "New Barag" not in html
    clinic = create_user(session, "cstaff", grants=[("clinic", world["station"])])
    session.commit()
    staff = {"Authorization": f"Bearer {token_for(session, clinic)}"}
    assert app.test_client().get("/api/v1/coverage", headers=staff).status_code == 403


def test_the_rescue_ledger_counts_funded_months_and_warns_before_the_cap(app, session, world):
    """B1 trained February-October (9 months, 18,000 yuan of a 10-month, 20,000-yuan cap) and
    is booked in December: 1 month left, within the 2 warning months; A1 trained in March."""
    with app.app_context():
        children = {c.person_code: c for c in ledger.ledger(
            session, date(2026, 1, 1), date(2026, 11, 17), now=NOW)}
        assert set(children) == {"A1", "B1"}
        b1 = children["B1"]
        assert (b1.category, b1.funded_months, b1.amount, b1.months_left, b1.booked_ahead,
                b1.unfunded, b1.status) == ("autism", 9, 18000, 1, 1, 0, "near")
        assert (children["A1"].funded_months, children["A1"].status) == (1, "ok")
        assert not ledger.needs_attention(children["A1"]) and ledger.needs_attention(b1)
        # an 8-month cap: the 9th month is trained but not funded
        app.config["RESCUE_MONTHS_CAP"] = 8
        b1 = {c.person_code: c for c in ledger.ledger(
            session, date(2026, 1, 1), date(2026, 11, 17), now=NOW)}["B1"]
        assert (b1.funded_months, b1.amount, b1.unfunded, b1.status) == (8, 16000, 1, "over")
        # a 15,000-yuan cap: 7 months at 2,000, the 8th at the 1,000 left, the 9th not funded
        app.config.update(RESCUE_MONTHS_CAP=10, RESCUE_AMOUNT_CAP=15000)
        b1 = {c.person_code: c for c in ledger.ledger(
            session, date(2026, 1, 1), date(2026, 11, 17), now=NOW)}["B1"]
        assert (b1.funded_months, b1.amount, b1.unfunded, b1.status) == (8, 15000, 1, "over")
        assert b1.funded[2026, 9] == 1000


def _rule(**kw) -> settings.RescueRule:
    return settings.RescueRule(**kw)


def _child(visits, ahead=(), **rule) -> ledger.ChildLedger:
    child = ledger.ChildLedger(1, "C", "150702")
    ledger._fill(child, [(date(2026, m, d), c) for m, d, c in visits],
                 [(date(2026, m, d), c) for m, d, c in ahead], _rule(**rule))
    return child


def test_one_category_a_year_and_the_warnings_by_hand():
    # hearing first (January): speech months are counted apart, not funded
    child = _child([(1, 5, "hearing"), (2, 5, "speech"), (2, 20, "hearing"), (3, 1, "speech")])
    assert (child.category, child.trained, child.other_months) == (
        "hearing", [(2026, 1), (2026, 2)], 1)
    assert ledger.needs_attention(child) and child.status == "ok"
    # without the rule every category's months are funded
    child = _child([(1, 5, "hearing"), (3, 1, "speech")], one_category=False)
    assert (child.funded_months, child.other_months) == (2, 0)
    # 8 months trained, 3 booked in new months: the cap of 10 will be passed
    eight = [(m, 3, "autism") for m in range(1, 9)]
    child = _child(eight, ahead=[(9, 1, "autism"), (10, 1, "autism"), (11, 1, "autism")])
    assert (child.months_left, child.booked_ahead, child.status) == (2, 3, "will_exceed")
    child = _child(eight + [(9, 1, "autism"), (10, 1, "autism")])
    assert (child.months_left, child.status) == (0, "at_cap")
    # warned within 2 months of the cap: 7 months trained leave 3 (fine), 8 leave 2
    assert (_child(eight[:7]).status, _child(eight).status) == ("ok", "near")
    # the programme ends at the 7th birthday; a price of 0 funds months without an amount
    child = _child(eight[:3], monthly_price=0)
    assert (child.funded_months, child.amount, child.months_left) == (3, 0, 7)


def test_the_quarterly_report_carries_the_rescue_totals_per_district(app, session, world):
    """Q3 2026: B1 trained July, August, September (3 funded months, 6,000 yuan); Q1: A1 in
    March, B1 in February and March. Small cells are 5 in the quarterly report."""
    from unittest import mock

    with app.app_context():
        with mock.patch.object(quarterly, "SMALL", 1):
            q3 = quarterly.build(session, "2026-Q3", today=TODAY)
            q1 = quarterly.build(session, "2026-Q1", today=TODAY)
        assert q3["rescue_by_district"] == {"150727": {
            "children": 1, "funded_months": 3, "amount": 6000, "over_cap": 0}}
        assert q1["rescue_by_district"] == {
            "150702": {"children": 1, "funded_months": 1, "amount": 2000, "over_cap": 0},
            "150727": {"children": 1, "funded_months": 2, "amount": 4000, "over_cap": 0}}
        hidden = quarterly.build(session, "2026-Q3", today=TODAY)["rescue_by_district"]
        assert hidden == {"150727": {"children": "<5", "funded_months": "<5", "amount": "<5",
                                     "over_cap": 0}}
        scoped = quarterly.for_districts(q1, {"150702"})
        assert set(scoped["rescue_by_district"]) == {"150702"}


def _sheets(body: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(body))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_page_and_the_files_show_the_same_tables(client, world, language):
    lang = {"Accept-Language": language}
    html = client.get("/coverage?year=2026", headers=lang).get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-bars" role="img"' in html
    xlsx = client.get("/coverage.xlsx?year=2026", headers=lang)
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["Content-Disposition"]
    book = _sheets(xlsx.data)
    csv_text = client.get("/coverage.csv?year=2026", headers=lang).data.decode("utf-8-sig")
    titles = list(book)[1:]
    assert len(titles) == 4
    for title in titles:
        assert title in html and title in csv_text
    by_group = book[titles[0]]
    if language == "zh":
        assert by_group[0][0] == "群体" and "0-6岁儿童" in by_group[2][0]
        assert "覆盖率" in list(book)[0]
    else:
        assert by_group[0][:4] == ("Group", "with a need, 2026", "served, 2026",
                                   "share served, 2026")
        assert by_group[1][:4] == ("All districts: All groups", 6, 4, 0.6667)
    ledger_page = client.get("/coverage/rescue?worklist=1", headers=lang)
    assert ledger_page.status_code == 200
    text = ledger_page.get_data(as_text=True)
    assert "B1" in text and ">A1<" not in text  # A1 is fine: not on the worklist
    rescue = _sheets(client.get("/coverage/rescue.xlsx", headers=lang).data)
    assert [row[0] for row in list(rescue.values())[1][1:]] == ["A1", "B1"]


def test_export_cells_cannot_start_a_formula(client, session, world):
    world["district"].name_en = "=HYPERLINK(1)"
    session.commit()
    csv_text = client.get("/coverage.csv", headers={"Accept-Language": "en"}).data.decode()
    assert "'=HYPERLINK(1)" in csv_text and ",=HYPERLINK" not in csv_text
