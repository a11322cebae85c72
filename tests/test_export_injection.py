"""Formula injection (OWASP "CSV injection"): every CSV and XLSX export writes a text cell that
starts with = + - @, a tab or a carriage return with a leading single quote; numbers stay
numbers, a negative one included."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from rehab_net import spreadsheet
from rehab_net.planning import exports
from rehab_net.reports.models import QuarterlyReport
from tests.factories import create_person, tiny_network

EVIL = '=HYPERLINK("http://evil","x")'


@pytest.fixture
def net(session):
    r = tiny_network(session)
    r["person"] = create_person(session, code="P1")
    session.commit()
    return r


@pytest.mark.parametrize("value", ["=1+2", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"])
def test_text_that_starts_a_formula_gets_a_quote(value):
    assert spreadsheet.cell(value) == "'" + value


@pytest.mark.parametrize("value", [-3, -2.5, 0, 7, None, "plain", "a=b", ""])
def test_numbers_and_harmless_text_stay_as_they_are(value):
    assert spreadsheet.cell(value) == value


def test_the_audit_export_neutralises_a_reveal_reason(client, session, net):
    got = client.post("/api/v1/persons/P1/reveal", json={"reason": EVIL})
    assert got.status_code == 200
    for url in ("/api/v1/audit-events/export?action=reveal", "/audit/export.csv?action=reveal"):
        body = client.get(url)
        assert body.status_code == 200, url
        rows = list(csv.reader(io.StringIO(body.get_data(as_text=True).lstrip("\ufeff"))))
        reasons = [r[7] for r in rows[1:]]
        assert reasons == ["'" + EVIL], url


def test_plan_comparison_and_changes_csv_neutralise_text(monkeypatch):
    data = exports._csv(["code", EVIL], [[EVIL, -4, 2.5, None]]).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data)))
    assert rows == [["code", "'" + EVIL], ["'" + EVIL, "-4", "2.5", ""]]


def test_plan_comparison_xlsx_neutralises_text_and_keeps_numbers(app, monkeypatch):
    monkeypatch.setattr(exports, "table_rows",
                        lambda cmp, table: (["code", "@x"], [[EVIL, -4]]))
    with app.test_request_context():
        book = load_workbook(io.BytesIO(exports.comparison_xlsx(None)))
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        assert rows == [("code", "'@x"), ("'" + EVIL, -4)]
        assert sheet.cell(2, 2).data_type == "n"


def test_the_quarterly_xlsx_and_csv_neutralise_text(client, session, net):
    session.add(QuarterlyReport(
        quarter="2026-Q2", generated_at=datetime(2026, 7, 1, tzinfo=UTC), generated_by="t",
        data={"from": "2026-04-01", "to": "2026-06-30", "totals": {"registered": -3},
              "by_district": {EVIL: {"registered": 5}}, "by_category": {"@x": {"served": 7}}}))
    session.commit()
    en = {"Accept-Language": "en"}
    got = client.get("/reports/2026-Q2.xlsx", headers=en)
    assert got.status_code == 200
    book = load_workbook(io.BytesIO(got.data))
    totals = list(book["Cases, whole network"].iter_rows(values_only=True))
    assert totals[1][:2] == ("All districts", -3)
    assert book["Cases, whole network"].cell(2, 2).data_type == "n"
    districts = list(book["Cases by district"].iter_rows(values_only=True))
    assert districts[1][:2] == ("'" + EVIL, 5)
    assert list(book["Cases by category"].iter_rows(values_only=True))[1][:3] == ("'@x", 0, 7)
    got = client.get("/reports/2026-Q2.csv", headers=en)
    assert got.status_code == 200 and got.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(got.get_data(as_text=True).lstrip("\ufeff"))))
    assert ["'" + EVIL, "5"] == rows[rows.index(["Cases by district"]) + 2][:2]
    assert ["'@x", "0", "7"] == rows[rows.index(["Cases by category"]) + 2][:3]
