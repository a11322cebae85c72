"""The coverage page (the year against the targets, a chart beside its table, CSV and XLSX) and
the children's rescue ledger page (templates/coverage/). The page and the files are made from
the same tables (tables.py), written by the reports' export.py."""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from flask_babel import gettext as _

from rehab_net import access, spreadsheet
from rehab_net.clock import today
from rehab_net.coverage import operations as ops
from rehab_net.coverage import settings, tables
from rehab_net.coverage.figures import ALL
from rehab_net.db import get_session, utcnow
from rehab_net.downloads import attachment
from rehab_net.errors import field_error
from rehab_net.i18n import local_datetime
from rehab_net.planning import svg
from rehab_net.reports import export
from rehab_net.vocab import CATEGORIES, label

bp = Blueprint("coverage_pages", __name__)

# endpoint -> permission (rehab_net/access.py; the guard refuses an endpoint not declared).
# Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "coverage_pages.coverage_page": "plan.read",
    "coverage_pages.coverage_file": "plan.read",
    "coverage_pages.rescue_page": "plan.read",
    "coverage_pages.rescue_file": "plan.read",
}


def _year() -> int | None:
    raw = request.args.get("year", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise field_error("year", "coverage.year_range", location="query",
                          min=settings.base_year(), max=today().year)
    return int(raw)


def _coverage():
    category = request.args.get("category") or None
    data = ops.coverage(get_session(), year=_year(), category=category, today=today())
    return data, category


def _title(data: dict) -> str:
    if data["to_date"]:
        return _("Coverage %(year)s to date", year=data["year"])
    return _("Coverage %(year)s", year=data["year"])


def _percent(share) -> str:
    return f"{share * 100:.0f}%"  # whole percents: the bar's label stays inside the picture


def _chart(data: dict, table) -> dict:
    """Bars per group: the share served this year, since the base year, and the target (a
    suppressed share has no bar, "—"); the table beside it has the numbers."""
    figures = table.figures
    at = {f: i + 1 for i, f in enumerate(figures)}
    groups = []
    for row in table.rows:
        values = [row[at["share"]], row[at["share_cumulative"]], row[at["target"]]]
        groups.append((row[0].split(": ", 1)[-1],
                       [v if isinstance(v, float | int) else None for v in values]))
    title = _("Share served by group")
    series = [str(data["year"]), _("since %(year)s", year=data["base_year"]), _("target")]
    desc = _("Bars per group: the share served in %(year)s, since %(base)s, and the target; "
             "the table beside it has the numbers.", year=data["year"], base=data["base_year"])
    return {"title": title, "svg": svg.bar_chart(
        chart_id="chart-coverage", title=title, desc=desc, groups=groups, series=series,
        fmt=_percent, label_width=130, bar_width=180, value_room=110)}


@bp.get("/coverage")
def coverage_page():
    data, category = _coverage()
    made = tables.tables(get_session(), data, category)
    args = {"year": data["year"], **({"category": category} if category else {})}
    return render_template(
        "coverage/coverage.html", data=data, title=_title(data), tables=made,
        chart=_chart(data, made[0]), shares=tables.SHARES, category=category,
        categories=[(c, label(c)) for c in CATEGORIES],
        years=list(range(today().year, settings.base_year() - 1, -1)),
        small_note=tables.small_note(data["small_cell"]), all=ALL,
        csv_url=url_for(".coverage_file", kind="csv", **args),
        xlsx_url=url_for(".coverage_file", kind="xlsx", **args),
        rescue_url=url_for(".rescue_page", year=data["year"]))


def _file(title: str, about: list, made: list, kind: str, filename: str,
          shares=frozenset()) -> Response:
    if kind == "csv":
        body, mimetype = export.csv_bytes(title, about, made), spreadsheet.CSV_TYPE
    else:
        body, mimetype = export.xlsx(title, about, made, shares=shares), spreadsheet.XLSX_TYPE
    return Response(body, mimetype=mimetype, headers=attachment(filename))


@bp.get("/coverage.<any(csv, xlsx):kind>")
def coverage_file(kind: str):
    data, category = _coverage()
    made = tables.tables(get_session(), data, category)
    about = tables.about(data, category, made=local_datetime(utcnow()))
    name = f"rehab-net-coverage-{data['year']}{'-' + category if category else ''}.{kind}"
    return _file(_title(data), about, made, kind, name, tables.SHARES)


def _ledger():
    worklist = request.args.get("worklist") == "1"
    book = ops.rescue_ledger(get_session(), year=_year(), worklist=worklist, today=today(),
                             now=utcnow())
    title = (_("Children near or over a cap, %(year)s", year=book.year) if worklist else
             _("Children's rescue ledger %(year)s", year=book.year))
    session = get_session()
    made = [tables.ledger_table(session, book.shown, book.rule, title),
            tables.totals_table(session, book.totals)]
    return book, worklist, title, made


@bp.get("/coverage/rescue")
def rescue_page():
    book, worklist, title, made = _ledger()
    args = {"year": book.year, **({"worklist": "1"} if worklist else {})}
    return render_template(
        "coverage/rescue.html", book=book, worklist=worklist, title=title, tables=made,
        years=list(range(today().year, settings.base_year() - 1, -1)),
        small_note=tables.small_note(settings.small_cell()), rule_text=tables.rule_text(book.rule),
        csv_url=url_for(".rescue_file", kind="csv", **args),
        xlsx_url=url_for(".rescue_file", kind="xlsx", **args))


@bp.get("/coverage/rescue.<any(csv, xlsx):kind>")
def rescue_file(kind: str):
    book, worklist, title, made = _ledger()
    rule = book.rule
    about = [[_("Year"), str(book.year)], [_("From"), book.start.isoformat()],
             [_("Rule"), tables.rule_text(rule)], [_("Made"), local_datetime(utcnow())],
             [_("Note"), tables.small_note(settings.small_cell())]]
    name = f"rehab-net-rescue-{book.year}{'-worklist' if worklist else ''}.{kind}"
    return _file(title, about, made, kind, name)
