"""A quarterly report as a file: XLSX (a sheet about the report, then one sheet per table) or CSV
(the same lines, then each table under its title, a blank line between). Both are written from
tables.tables(), the page's tables, so they hold the same columns; every cell goes through
spreadsheet.row (formula injection)."""
from __future__ import annotations

import csv
import io

from rehab_net import spreadsheet
from rehab_net.reports.tables import SHARES, Table

SHEET_NAME_MAX = 31  # Excel's limit
SHEET_NAME_BAD = str.maketrans({c: " " for c in "[]:*?/\\"})


def sheet_name(title: str) -> str:
    return title.translate(SHEET_NAME_BAD)[:SHEET_NAME_MAX]


def xlsx(title: str, about: list[list], tables: list[Table], *, shares=SHARES) -> bytes:
    """``shares``: the figures that are fractions, shown as percentages."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    first = book.active
    first.title = sheet_name(title)
    for line in about:
        first.append(spreadsheet.row(line))
    first.column_dimensions["A"].width = 16
    for table in tables:
        sheet = book.create_sheet(sheet_name(table.title))
        sheet.append(spreadsheet.row(table.headers))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(spreadsheet.row(row))
        for i, figure in enumerate(table.figures, start=2):
            if figure in shares:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.number_format = "0.0%"
        sheet.freeze_panes = "B2"
        sheet.column_dimensions["A"].width = 24
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(title: str, about: list[list], tables: list[Table]) -> bytes:
    """UTF-8 with a byte order mark, so spreadsheet programs read the Chinese as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(spreadsheet.row([title]))
    writer.writerows(spreadsheet.row(line) for line in about)
    for table in tables:
        writer.writerow([])
        writer.writerow(spreadsheet.row([table.title]))
        writer.writerow(spreadsheet.row(table.headers))
        writer.writerows(spreadsheet.row("" if v is None else v for v in row)
                         for row in table.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
