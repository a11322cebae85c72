"""A quarterly report as an XLSX workbook: the totals, then one sheet per block."""
from __future__ import annotations

import io

from rehab_net import spreadsheet
from rehab_net.reports import quarterly
from rehab_net.reports.models import QuarterlyReport


def xlsx(report: QuarterlyReport) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "totals"
    sheet.append(spreadsheet.row(["quarter", report.quarter, "from", report.data["from"], "to",
                                  report.data["to"]]))
    sheet.append([])
    for key, value in report.data["totals"].items():
        sheet.append(spreadsheet.row([key, value]))
    utilisation = report.data.get("utilisation") or {}
    blocks = [(block, block.removeprefix("by_").split("_")[0], report.data.get(block) or {})
              for block in ("by_district", "by_category", "by_priority", "referrals_by_district")]
    blocks += [(f"utilisation_{block}", block.removeprefix("by_"), utilisation.get(block) or {})
               for block in ("by_tier", "by_district")]
    for title, first, rows in blocks:
        ws = book.create_sheet(title)
        columns = sorted({c for v in rows.values() for c in v})
        ws.append(spreadsheet.row([first] + columns))
        for key, values in rows.items():
            ws.append(spreadsheet.row([key] + [
                values.get(c, None if c in quarterly.NOT_COUNTS else 0) for c in columns]))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
