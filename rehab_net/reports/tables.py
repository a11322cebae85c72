"""The tables of a quarterly report, built once for the page, the CSV and the XLSX, so the three
always show the same tables with the same columns (tests/test_reports.py compares them). Titles,
headers and row names are in the request's language: districts, categories, priority classes and
tiers by name, never by code. Call inside a request (or a test request context)."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from rehab_net.i18n import local_name
from rehab_net.network.models import Region
from rehab_net.reports.quarterly import NOT_COUNTS
from rehab_net.vocab import label

# The one list of each table's figures, in the order the page and the files show them.
CASE_FIGURES = ("registered", "served", "attended", "waiting", "children_served_within_4_weeks",
                "waiting_days_median", "waiting_days_p90")
REFERRAL_FIGURES = ("sent", "up", "down", "answered", "answered_in_time", "closed_loops",
                    "median_days_to_acceptance")
UTILISATION_FIGURES = ("places", "attended", "share")
TRAVEL_FIGURES = ("road_km_median", "road_km_p90", "share_over_200_km")
RESCUE_FIGURES = ("children", "funded_months", "amount", "over_cap")
SHARES = {"share", "share_over_200_km"}  # fractions: a percentage on the page
FIGURE_LABELS = {
    "registered": _l("registered in the quarter"), "served": _l("served"),
    "attended": _l("attended appointments"), "waiting": _l("waiting at the end"),
    "children_served_within_4_weeks": _l("children 0-6 served within 4 weeks"),
    "waiting_days_median": _l("median days waited"),
    "waiting_days_p90": _l("days waited, 90th percentile"),
    "sent": _l("sent"), "up": _l("sent up"), "down": _l("sent down"), "answered": _l("answered"),
    "answered_in_time": _l("answered in time"), "closed_loops": _l("closed loops"),
    "median_days_to_acceptance": _l("median days to acceptance"),
    "places": _l("places offered"), "share": _l("share attended"),
    "road_km_median": _l("road km, median"), "road_km_p90": _l("road km, 90th percentile"),
    "share_over_200_km": _l("share placed over 200 km"),
    "children": _l("children 0-6 funded"), "funded_months": _l("funded months"),
    "amount": _l("amount funded (yuan)"), "over_cap": _l("children over a cap this year"),
}
# While the quarter runs, "at the end" is "now".
TO_DATE_LABELS = {"registered": _l("registered so far"), "waiting": _l("waiting now")}


@dataclass
class Table:
    """One table: ``key`` names it (the page's anchor), ``title`` is its caption and sheet
    name (at most 31 characters, Excel's limit), ``figures`` its columns after the first,
    ``headers`` all column headers, ``rows`` [row name, value per figure] (None: not known)."""

    key: str
    title: str
    figures: tuple[str, ...]
    headers: list[str]
    rows: list[list]
    empty: str


def _district_names(session: Session, data: dict) -> dict[str, str]:
    codes = set()
    for block in ("by_district", "referrals_by_district", "rescue_by_district"):
        codes |= set(data.get(block) or {})
    codes |= set((data.get("utilisation") or {}).get("by_district") or {})
    codes.discard("-")
    if not codes:
        return {}
    return {r.code: local_name(r) for r in session.scalars(
        select(Region).where(Region.code.in_(codes)))}


def _value(values: dict, figure: str):
    """A figure of a row: a missing count is 0, a missing duration or share is not known."""
    value = values.get(figure)
    if value is None and figure not in NOT_COUNTS and figure not in TRAVEL_FIGURES:
        return 0
    return value


def tables(session: Session, data: dict) -> list[Table]:
    """The report's tables, in the order the page and the files show them."""
    to_date = bool(data.get("to_date"))
    districts = _district_names(session, data)

    def district(code: str) -> str:
        return _("district not known") if code == "-" else districts.get(code, code)

    def headers(first, figures):
        names = {**FIGURE_LABELS, **(TO_DATE_LABELS if to_date else {})}
        return [str(first)] + [str(names[f]) for f in figures]

    def table(key, title, first, figures, block: dict, name, empty):
        rows = [[name(k)] + [_value(v, f) for f in figures] for k, v in block.items()]
        return Table(key, str(title), figures, headers(first, figures), rows, str(empty))

    # A planner of some districts reads no network-wide rows: those tables say so.
    partial = bool(data.get("districts_only"))
    none = _l("No cases.")
    network_only = _l("Shown to network-wide planners only.")
    totals = {} if partial else {"all": data.get("totals") or {}}
    out = [
        table("totals", _l("Cases, whole network"), _l("Area"), CASE_FIGURES, totals,
              lambda k: _("All districts"), network_only),
        table("by_district", _l("Cases by district"), _l("District"), CASE_FIGURES,
              data.get("by_district") or {}, district, none),
        table("by_category", _l("Cases by category"), _l("Category"), CASE_FIGURES,
              data.get("by_category") or {}, label, network_only if partial else none),
        table("by_priority", _l("Cases by priority class"), _l("Priority class"), CASE_FIGURES,
              data.get("by_priority") or {}, label, network_only if partial else none),
        table("referrals_by_district", _l("Referrals by sending district"),
              _l("District of the sender"), REFERRAL_FIGURES,
              data.get("referrals_by_district") or {}, district,
              _l("No referrals sent in the quarter.")),
    ]
    utilisation = data.get("utilisation") or {}
    out += [
        table("utilisation_by_tier", _l("Utilisation by tier"), _l("Tier"), UTILISATION_FIGURES,
              utilisation.get("by_tier") or {}, label, _l("No places offered.")),
        table("utilisation_by_district", _l("Utilisation by district"), _l("District"),
              UTILISATION_FIGURES, utilisation.get("by_district") or {}, district,
              _l("No places offered.")),
    ]
    out.append(table("rescue_by_district", _l("Rescue training by district"),
                     _l("District"), RESCUE_FIGURES, data.get("rescue_by_district") or {},
                     district, _l("No child's training funded in the quarter.")))
    plan = data.get("plan")
    out.append(table("travel", _l("Travel, from the last plan"), _l("Plan"), TRAVEL_FIGURES,
                     {plan["plan_id"]: plan} if plan else {},
                     lambda k: _("Plan %(id)s", id=k), _l("No plan finished in the quarter.")))
    return out


def about(data: dict, *, made: str | None) -> list[list[str]]:
    """The lines above the tables in the files: which quarter, which days, how small counts
    are shown; a quarter to date says so with its as-of day."""
    lines = [[_("Quarter"), data.get("quarter", "")], [_("From"), data.get("from", "")],
             [_("To"), data.get("to", "")]]
    if data.get("to_date"):
        lines.append([_("To date"), _("figures so far, as of %(day)s; not final",
                                      day=data.get("to", ""))])
    if made:
        lines.append([_("Made"), made])
    lines.append([_("Note"), _("Counts of 1 to 4 people are shown as <5.")])
    return lines
