"""The quarterly report (统计季报) of a quarter just ended: cases registered, served and waiting by
district, category and priority class; children 0-6 served within 4 weeks; referrals sent,
answered within the deadline, closed loops; capacity utilisation and travel burden (from the last
plan of the quarter). Aggregates never reveal an individual: every count from 1 to 4 is shown as
"<5" (and totals that would let one recompute it are kept, the suppressed cell is not)."""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rehab_net.auth import audit
from rehab_net.clock import day_of, zone
from rehab_net.errors import field_error
from rehab_net.network import operations as network
from rehab_net.people.models import Case, Person
from rehab_net.people.rules import child_birth_cutoff, priority_class
from rehab_net.people.states import OPEN_CASE_STATUSES
from rehab_net.reports.models import QuarterlyReport
from rehab_net.schemas import MAX_YEAR, MIN_YEAR

SMALL = 5  # counts 1..SMALL-1 are suppressed
SUPPRESSED = "<5"
CHILD_FAST_DAYS = 28


QUARTER = re.compile(r"([0-9]{4})-Q([1-4])")


def quarter_bounds(quarter: str) -> tuple[date, date]:
    """'2026-Q3' -> (2026-07-01, 2026-10-01): the first day in, the first day after. The one
    parser of a quarter in a request (API and pages): a year outside MIN_YEAR..MAX_YEAR is a 422
    like a malformed one, never a date() error (9999-Q4 has no first day after, 0000-Q1 no day)."""
    match = QUARTER.fullmatch(quarter)
    if not match or not MIN_YEAR <= int(match[1]) <= MAX_YEAR:
        raise field_error("quarter", f"must look like 2026-Q3, a year from {MIN_YEAR} to "
                                     f"{MAX_YEAR}", location="path")
    year, q = int(match[1]), int(match[2])
    start = date(year, 3 * q - 2, 1)
    end = date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
    return start, end


def suppress(value):
    """A count of 1-4 people becomes '<5'; zero and larger counts stay."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < SMALL:
        return SUPPRESSED
    return value


def _suppress_tree(tree):
    if isinstance(tree, dict):
        return {k: (v if k in NOT_PEOPLE else _suppress_tree(v)) for k, v in tree.items()}
    return suppress(tree)


NOT_PEOPLE = {"plan_id", "offered", "quarter", "from", "to"}  # numbers that count no one


def build(session: Session, quarter: str, *, today: date) -> dict:
    start, end = quarter_bounds(quarter)
    if end > today:
        raise field_error("quarter", "has not ended yet")
    from rehab_net.referrals import stats
    from rehab_net.referrals.models import Referral, ReferralEvent

    local = zone()
    start_utc = datetime.combine(start, time(0), local).astimezone(UTC)
    end_utc = datetime.combine(end, time(0), local).astimezone(UTC)
    district_of = network.district_codes(session)
    last_day = end - timedelta(days=1)
    # served: a referral of the case started (in_progress) during the quarter
    started = dict(session.execute(
        select(Referral.case_id, func.min(ReferralEvent.at))
        .join(ReferralEvent, ReferralEvent.referral_id == Referral.id)
        .where(ReferralEvent.action == "start", ReferralEvent.at >= start_utc,
               ReferralEvent.at < end_utc).group_by(Referral.case_id)).all())
    first_referred = dict(session.execute(
        select(Referral.case_id, func.min(Referral.waiting_since))
        .group_by(Referral.case_id)).all())
    blocks = {k: defaultdict(lambda: defaultdict(int)) for k in ("district", "category",
                                                                  "priority")}
    totals: dict[str, int] = defaultdict(int)
    child_cutoff = child_birth_cutoff(last_day)
    rows = session.execute(select(Case.id, Case.category, Case.grade, Case.status,
                                  Case.registered_on, Person.birth_date, Person.poverty_status,
                                  Person.home_region_id)
                           .join(Person, Case.person_id == Person.id)
                           .where(Case.registered_on < end))
    for r in rows:
        keys = {"district": district_of.get(r.home_region_id) or "-", "category": r.category,
                "priority": priority_class(birth_date=r.birth_date, grade=r.grade,
                                           poverty_status=r.poverty_status, on=last_day)}
        figures = []
        if start <= r.registered_on:
            figures.append("registered")
        if r.id in started:
            figures.append("served")
            since = first_referred.get(r.id)
            if (r.birth_date > child_cutoff and since is not None
                    and (day_of(started[r.id]) - since).days <= CHILD_FAST_DAYS):
                figures.append("children_served_within_4_weeks")
        if r.status in OPEN_CASE_STATUSES and r.id not in started:
            figures.append("waiting")
        for figure in figures:
            totals[figure] += 1
            for block, key in keys.items():
                blocks[block][key][figure] += 1
    plan = _last_plan(session, start_utc, end_utc)
    referral_figures = stats.figures(session, start_utc, end_utc)
    data = {
        "quarter": quarter, "from": start.isoformat(), "to": last_day.isoformat(),
        "totals": dict(totals),
        "by_district": {k: dict(v) for k, v in sorted(blocks["district"].items())},
        "by_category": {k: dict(v) for k, v in sorted(blocks["category"].items())},
        "by_priority": {k: dict(v) for k, v in sorted(blocks["priority"].items())},
        "referrals_by_district": referral_figures,
        "plan": None if plan is None else {
            "plan_id": plan.id, "utilisation": plan.kpis.get("utilisation"),
            "road_km_median": plan.kpis.get("road_km_median"),
            "road_km_p90": plan.kpis.get("road_km_p90"),
            "share_over_200_km": plan.kpis.get("share_over_200_km")},
    }
    return _suppress_tree(data)


def _last_plan(session: Session, start_utc: datetime, end_utc: datetime):
    from rehab_net.planning.models import Plan

    return session.scalar(select(Plan).where(
        Plan.finished_at >= start_utc, Plan.finished_at < end_utc, Plan.scenario_id.is_(None),
        Plan.kpis.is_not(None)).order_by(Plan.finished_at.desc()))


def generate(session: Session, quarter: str, *, today: date, actor: str) -> QuarterlyReport:
    """Build and store (or replace) the quarter's report."""
    data = build(session, quarter, today=today)
    report = session.scalar(select(QuarterlyReport).where(QuarterlyReport.quarter == quarter))
    if report is None:
        report = QuarterlyReport(quarter=quarter, data=data, generated_by=actor)
        session.add(report)
    else:
        report.data, report.generated_by = data, actor
        report.generated_at = datetime.now(UTC)
    session.flush()
    audit.record(session, "create", "quarterly_report", quarter)
    return report


def job(session: Session, now: datetime) -> dict:
    """The scheduler's quarterly job: the report of the quarter that ended before `now`."""
    from rehab_net.jobs import previous_quarter

    quarter = previous_quarter(now)
    report = generate(session, quarter, today=day_of(now),
                      actor="system:scheduler")
    return {"quarter": report.quarter}


def for_districts(data: dict, codes: set[str] | None) -> dict:
    """What a planner of the districts ``codes`` reads of a report (None: network-wide, all):
    the rows of those districts; no network total, category, priority or plan figure."""
    if codes is None:
        return data
    return {"quarter": data.get("quarter"), "from": data.get("from"), "to": data.get("to"),
            "totals": {}, "by_category": {}, "by_priority": {}, "plan": None,
            **{block: {k: v for k, v in (data.get(block) or {}).items() if k in codes}
               for block in ("by_district", "referrals_by_district")}}
