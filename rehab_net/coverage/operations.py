"""What the API and the pages ask of coverage: the year's figures and the rescue ledger for the
current user (a planner of some districts reads their districts only, as in the reports), and
the ledger's audit line. Flush only, never commit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from rehab_net.auth import audit
from rehab_net.coverage import figures, ledger, settings


def coverage(session: Session, *, year: int | None, category: str | None, today: date) -> dict:
    """The year's coverage (default: this year so far) for the current user."""
    figures.check_category(category)
    return figures.build(session, year or today.year, today=today,
                         codes=figures.scoped_codes(session))


@dataclass
class Ledger:
    year: int
    start: date
    end: date
    rule: settings.RescueRule
    children: list[ledger.ChildLedger]  # the whole year's (the totals are made from them)
    shown: list[ledger.ChildLedger]  # the worklist when asked for, else all of them
    totals: dict[str, dict]


def rescue_ledger(session: Session, *, year: int | None, worklist: bool, today: date,
                  now: datetime) -> Ledger:
    """The year's ledger (default: this year so far) for the current user; the children listed
    are recorded in the audit log (their codes, never more), as every list of persons is."""
    year = year or today.year
    start, end = figures.year_bounds(year, today=today)
    rule = settings.rescue_rule()
    children = ledger.ledger(session, start, end, now=now, codes=figures.scoped_codes(session),
                             rule=rule)
    shown = [c for c in children if ledger.needs_attention(c)] if worklist else children
    if shown:
        audit.record_list(session, "rescue_ledger", [c.person_code for c in shown],
                          {"year": year, "worklist": worklist})
    return Ledger(year, start, end, rule, children, shown,
                  ledger.district_totals(children, start, end, small=settings.small_cell()))


def ledger_json(book: Ledger) -> dict:
    return {
        "year": book.year,
        "rule": {"months_cap": book.rule.months_cap, "monthly_price": book.rule.monthly_price,
                 "amount_cap": book.rule.amount_cap, "one_category": book.rule.one_category,
                 "warn_months": book.rule.warn_months},
        "children": [{"person_code": c.person_code, "district": c.district,
                      "category": c.category, "trained_months": len(c.trained),
                      "funded_months": c.funded_months, "months_left": c.months_left,
                      "amount": c.amount, "other_months": c.other_months,
                      "booked_ahead": c.booked_ahead, "status": c.status}
                     for c in book.shown],
        "totals_by_district": book.totals,
    }
