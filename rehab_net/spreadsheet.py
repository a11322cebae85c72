"""Cells for CSV and XLSX exports, made safe against formula injection (OWASP "CSV injection").

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by a
spreadsheet program as a formula; it gets a leading single quote so it is shown as text. Numbers
(a negative number included) stay numbers. Every export writes its cells through ``cell`` or
``row``."""
from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cell(value):
    """``value`` as an export cell: text that could start a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def row(values) -> list:
    """Every cell of a row through ``cell``."""
    return [cell(v) for v in values]

