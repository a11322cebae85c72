"""The coverage page's tables, built once for the page, the CSV and the XLSX (the reports' Table
and export.py), so the three show the same columns. Names in the request's language: districts,
categories and groups by name, never by code. Call inside a request."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from rehab_net.coverage.figures import ALL, FIGURES, UNKNOWN_DISTRICT
from rehab_net.coverage.ledger import ChildLedger
from rehab_net.coverage.settings import GROUPS, RescueRule
from rehab_net.i18n import local_name
from rehab_net.network.models import Region
from rehab_net.reports.tables import Table
from rehab_net.vocab import CATEGORIES, label

SHARES = {"share", "target", "share_cumulative"}  # fractions: a percentage on the page
LEDGER_FIGURES = ("district", "category", "trained", "funded_months", "months_left", "amount",
                  "other_months", "booked_ahead", "status")
STATUS_LABELS = {
    "over": _l("over a cap: months not funded"),
    "will_exceed": _l("booked sessions pass the cap"),
    "at_cap": _l("at the cap"), "near": _l("near the cap"), "ok": _l("within the caps")}


def _headers(data: dict) -> dict[str, str]:
    year, span = data["year"], f"{data['base_year']}-{data['year']}"
    return {
        "need": _("with a need, %(year)s", year=year), "served": _("served, %(year)s", year=year),
        "share": _("share served, %(year)s", year=year), "target": _("target"),
        "met": _("target met"), "need_cumulative": _("with a need, %(span)s", span=span),
        "served_cumulative": _("served, %(span)s", span=span),
        "share_cumulative": _("share served, %(span)s", span=span)}


def _cell(row: dict | None, figure: str, targets: dict, group: str):
    if row is None:  # nobody in the cell
        return {"need": 0, "served": 0, "need_cumulative": 0, "served_cumulative": 0,
                "target": targets.get(group, targets[ALL])}.get(figure)
    value = row.get(figure)
    if figure == "met" and value is not None:
        return _("yes") if value else _("no")
    return value


def district_names(session: Session, codes) -> dict[str, str]:
    codes = {c for c in codes if c not in (ALL, UNKNOWN_DISTRICT)}
    if not codes:
        return {}
    return {r.code: local_name(r) for r in session.scalars(
        select(Region).where(Region.code.in_(codes)))}


def tables(session: Session, data: dict, category: str | None) -> list[Table]:
    """By group, by district, by district and group (in ``category``, or all of them), and by
    category (all groups): the page's tables in its order."""
    cube = {(r["district"], r["category"], r["group"]): r for r in data["rows"]}
    names = district_names(session, {d for d, _c, _g in cube})
    districts = sorted({d for d, _c, _g in cube if d != ALL},
                       key=lambda d: (d == UNKNOWN_DISTRICT, d))
    targets, cat = data["targets"], category or ALL
    heads = _headers(data)

    def district(code: str) -> str:
        if code == UNKNOWN_DISTRICT:
            return _("district not known")
        return names.get(code, code)

    def group_name(group: str) -> str:
        return _("All groups") if group == ALL else (
            _("Others") if group == "standard" else label(group))

    def table(key, title, first, keys, name):
        rows = [[name(k)] + [_cell(cube.get(k), f, targets, k[2]) for f in FIGURES]
                for k in keys]
        return Table(key, str(title), FIGURES, [str(first)] + [heads[f] for f in FIGURES],
                     rows, _("No one with a need."))

    total = _("Your districts") if data.get("districts_only") else _("All districts")
    return [
        table("by_group", _("Coverage by group"), _("Group"),
              [(ALL, cat, g) for g in (ALL, *GROUPS)],
              lambda k: f"{total}: {group_name(k[2])}"),
        table("by_district", _("Coverage by district"), _("District"),
              [(d, cat, ALL) for d in districts], lambda k: district(k[0])),
        table("by_district_group", _("By district and group"),
              _("District and group"),
              [(d, cat, g) for d in districts for g in GROUPS if (d, cat, g) in cube],
              lambda k: f"{district(k[0])}: {group_name(k[2])}"),
        table("by_category", _("Coverage by category"), _("Category"),
              [(ALL, c, ALL) for c in CATEGORIES if (ALL, c, ALL) in cube],
              lambda k: label(k[1])),
    ]


def about(data: dict, category: str | None, *, made: str) -> list[list[str]]:
    """The lines above the tables in the files."""
    lines = [[_("Year"), str(data["year"])], [_("From"), data["from"]], [_("To"), data["to"]],
             [_("Cumulative from"), f"{data['base_year']}-01-01"],
             [_("Category"), label(category) if category else _("all categories")]]
    if data.get("to_date"):
        lines.append([_("To date"), _("figures so far, as of %(day)s; not final",
                                      day=data["to"])])
    lines += [[_("Made"), made], [_("Note"), small_note(data["small_cell"])]]
    return lines


def small_note(small: int) -> str:
    if small <= 1:
        return _("No count is suppressed.")
    return _("Counts of 1 to %(most)s persons are shown as <%(small)s, and so are the shares "
             "made from them.", most=small - 1, small=small)


def ledger_table(session: Session, children: list[ChildLedger], rule: RescueRule,
                 title: str) -> Table:
    names = district_names(session, {c.district for c in children})
    headers = [_("Child"), _("District"), _("Funded category"), _("Months trained"),
               _("Funded months (cap %(cap)s)", cap=rule.months_cap), _("Months left"),
               _("Amount funded, yuan (cap %(cap)s)", cap=rule.amount_cap),
               _("Months in another category, not funded"), _("Months booked ahead"),
               _("Status")]
    rows = [[c.person_code,
             _("district not known") if c.district == UNKNOWN_DISTRICT else
             names.get(c.district, c.district),
             label(c.category), len(c.trained), c.funded_months, c.months_left, c.amount,
             c.other_months, c.booked_ahead, str(STATUS_LABELS[c.status])] for c in children]
    return Table("ledger", title, LEDGER_FIGURES, [str(h) for h in headers], rows,
                 _("No child trained this year."))


def totals_table(session: Session, totals: dict[str, dict]) -> Table:
    from rehab_net.reports.tables import FIGURE_LABELS, RESCUE_FIGURES

    names = district_names(session, totals)
    rows = [[_("district not known") if d == UNKNOWN_DISTRICT else names.get(d, d)]
            + [v[f] for f in RESCUE_FIGURES] for d, v in totals.items()]
    return Table("rescue_totals", _("Funded per district this year"), RESCUE_FIGURES,
                 [_("District")] + [str(FIGURE_LABELS[f]) for f in RESCUE_FIGURES], rows,
                 _("No child trained this year."))


def rule_text(rule: RescueRule) -> str:
    text = _("Training funded up to %(months)s months a year at %(price)s yuan a month, at most "
             "%(cap)s yuan a year; warned %(warn)s months before a cap.",
             months=rule.months_cap, price=rule.monthly_price, cap=rule.amount_cap,
             warn=rule.warn_months)
    if rule.one_category:
        text += " " + _("One category a year: the category of the first training of the year.")
    return text
