"""The quarterly report (统计季报) of a quarter just ended, counted from what happened, never from
plan proposals (docs/reports.md):
- by district, category and priority class: cases registered; served (a case that attended an
  appointment in the quarter); attended appointments; waiting at the end; children 0-6 first
  served within 4 weeks of their wait's start; the median and 90th percentile of days waited by
  the cases first served in the quarter;
- referrals sent, answered within the deadline, closed loops;
- utilisation: the places of the quarter's open slots against the attended appointments, by
  tier and district;
- travel burden from the last plan of the quarter;
- the children's rescue training funded in the quarter, by district (coverage/ledger.py).
Aggregates never reveal an individual: every count from 1 to 4 is shown as "<5", and so are
waiting times made of fewer than 5 cases."""
from __future__ import annotations

import math
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rehab_net.auth import audit
from rehab_net.booking.states import ATTENDED_APPOINTMENT_STATUSES
from rehab_net.clock import day_of, zone
from rehab_net.errors import field_error
from rehab_net.network import operations as network
from rehab_net.people.models import Case, Person
from rehab_net.people.rules import child_birth_cutoff, priority_class
from rehab_net.people.states import OPEN_CASE_STATUSES
from rehab_net.reports import messages as _messages  # noqa: F401 - registers the codes
from rehab_net.reports.models import QuarterlyReport
from rehab_net.scheduler.periods import QUARTER, previous_quarter, quarter_dates, quarter_of
from rehab_net.schemas import MAX_YEAR, MIN_YEAR

SMALL = 5  # counts 1..SMALL-1 are suppressed
SUPPRESSED = "<5"
CHILD_FAST_DAYS = 28


def quarter_bounds(quarter: str) -> tuple[date, date]:
    """'2026-Q3' -> (2026-07-01, 2026-10-01): the first day in, the first day after. The one
    parser of a quarter in a request (API and pages): a year outside MIN_YEAR..MAX_YEAR is a 422
    like a malformed one, never a date() error (9999-Q4 has no first day after, 0000-Q1 no day)."""
    match = QUARTER.fullmatch(quarter)
    if not match or not MIN_YEAR <= int(match[1]) <= MAX_YEAR:
        raise field_error("quarter", "report.quarter_format", location="path", min=MIN_YEAR,
                          max=MAX_YEAR)
    return quarter_dates(int(match[1]), int(match[2]))


def suppress(value):
    """A count of 1-4 people becomes '<5'; zero and larger counts stay."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < SMALL:
        return SUPPRESSED
    return value


def _suppress_tree(tree):
    if isinstance(tree, dict):
        return {k: (v if k in NOT_PEOPLE else _suppress_tree(v)) for k, v in tree.items()}
    return suppress(tree)


# Numbers that count no one (the referral block's median days are a duration, not a count).
NOT_PEOPLE = {"median_days_to_acceptance"}
# Figures that are not counts: absent means "not known", never 0.
NOT_COUNTS = {"median_days_to_acceptance", "waiting_days_median", "waiting_days_p90", "share"}


def build(session: Session, quarter: str, *, today: date, to_date: bool = False) -> dict:
    """The quarter's figures, from what happened: attended appointments (served, waiting times,
    utilisation), referrals (their own block) and the cases' registrations and statuses.
    ``to_date``: the running quarter from its first day up to and including ``today`` (the
    figures so far, "waiting" meaning now; never stored); otherwise the quarter must be over."""
    start, end = quarter_bounds(quarter)
    if to_date:
        if not start <= today < end:
            raise field_error("quarter", "report.quarter_not_running")
        end = today + timedelta(days=1)
    elif end > today:
        raise field_error("quarter", "report.quarter_open")
    from rehab_net.referrals import stats

    local = zone()
    start_utc = datetime.combine(start, time(0), local).astimezone(UTC)
    end_utc = datetime.combine(end, time(0), local).astimezone(UTC)
    district_of = network.district_codes(session)
    last_day = end - timedelta(days=1)
    attended = _attended(session, start_utc, end_utc)
    waiting_from = _waiting_from(session)
    blocks = {k: defaultdict(lambda: defaultdict(int)) for k in ("district", "category",
                                                                  "priority")}
    waits: dict[str, dict[str, list[int]]] = {k: defaultdict(list) for k in blocks}
    totals: dict[str, int] = defaultdict(int)
    total_waits: list[int] = []
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
        visits = attended.get(r.id)
        wait = None
        if visits is not None:
            figures.append("served")
            first_ever, in_quarter = visits
            totals["attended"] += in_quarter
            for block, key in keys.items():
                blocks[block][key]["attended"] += in_quarter
            if start_utc <= first_ever:  # first served in this quarter: its wait ends here
                wait = (day_of(first_ever) - waiting_from.get(r.id, r.registered_on)).days
                if r.birth_date > child_cutoff and wait <= CHILD_FAST_DAYS:
                    figures.append("children_served_within_4_weeks")
        if r.status in OPEN_CASE_STATUSES and visits is None:
            figures.append("waiting")
        for figure in figures:
            totals[figure] += 1
            for block, key in keys.items():
                blocks[block][key][figure] += 1
        if wait is not None:
            total_waits.append(wait)
            for block, key in keys.items():
                waits[block][key].append(wait)
    plan = _last_plan(session, start_utc, end_utc)
    referral_figures = stats.figures(session, start_utc, end_utc)
    data = {
        "quarter": quarter, "from": start.isoformat(), "to": last_day.isoformat(),
        **({"to_date": True} if to_date else {}),
        "totals": {**_suppress_tree(dict(totals)), **wait_figures(total_waits)},
        **{f"by_{block}": {key: {**_suppress_tree(dict(values)),
                                 **wait_figures(waits[block][key])}
                           for key, values in sorted(blocks[block].items())}
           for block in blocks},
        "referrals_by_district": _suppress_tree(referral_figures),
        "utilisation": utilisation(session, start_utc, end_utc, district_of),
        "rescue_by_district": rescue_totals(session, start, end),
        "plan": None if plan is None else {
            "plan_id": plan.id,
            "road_km_median": plan.kpis.get("road_km_median"),
            "road_km_p90": plan.kpis.get("road_km_p90"),
            "share_over_200_km": plan.kpis.get("share_over_200_km")},
    }
    return data


def rescue_totals(session: Session, start: date, end: date) -> dict:
    """The children's rescue training funded in the quarter, per district (coverage/ledger.py:
    the year's ledger up to the quarter's end, its months in the quarter)."""
    from rehab_net.coverage import ledger

    children = ledger.ledger(session, date(start.year, 1, 1), end,
                             now=datetime.combine(end, time(0), zone()).astimezone(UTC))
    return ledger.district_totals(children, start, end, small=SMALL)


def _attended(session: Session, start_utc: datetime, end_utc: datetime) -> dict:
    """case id -> (its first attended appointment ever, its attended appointments in the
    quarter), for the cases that attended at least one appointment in the quarter."""
    from rehab_net.booking.models import Appointment

    came = Appointment.status.in_(ATTENDED_APPOINTMENT_STATUSES)
    in_quarter = dict(session.execute(
        select(Appointment.case_id, func.count())
        .where(came, Appointment.starts_at >= start_utc, Appointment.starts_at < end_utc)
        .group_by(Appointment.case_id)).all())
    first = dict(session.execute(
        select(Appointment.case_id, func.min(Appointment.starts_at))
        .where(came, Appointment.case_id.in_(select(Appointment.case_id).where(
            came, Appointment.starts_at >= start_utc, Appointment.starts_at < end_utc)))
        .group_by(Appointment.case_id)).all())
    return {case_id: (_aware(first[case_id]), n) for case_id, n in in_quarter.items()}


def _aware(moment: datetime) -> datetime:
    # func.min() returns the column's raw value: SQLite hands back a naive UTC datetime.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _waiting_from(session: Session) -> dict[int, date]:
    """case id -> the day its wait began: the first referral's waiting_since (the case's
    registration day where it has no referral)."""
    from rehab_net.referrals.models import Referral

    return dict(session.execute(
        select(Referral.case_id, func.min(Referral.waiting_since))
        .where(Referral.waiting_since.is_not(None)).group_by(Referral.case_id)).all())


def wait_figures(days: list[int]) -> dict:
    """Median and 90th percentile of the days waited by the cases first served in the quarter;
    both suppressed like a small count when fewer than SMALL cases make them."""
    if not days:
        return {}
    if len(days) < SMALL:
        return {"waiting_days_median": SUPPRESSED, "waiting_days_p90": SUPPRESSED}
    ordered = sorted(days)
    return {"waiting_days_median": statistics.median(ordered),
            "waiting_days_p90": ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]}


def utilisation(session: Session, start_utc: datetime, end_utc: datetime,
                district_of: dict[int, str | None]) -> dict:
    """Places offered in the quarter's open slots, and those taken by a person who came, per
    tier and per district of the facility. Places and shares count no one, so they are never
    suppressed; attendances are counted people and are."""
    from rehab_net.booking.models import Appointment, Slot
    from rehab_net.network.models import Facility

    offered = session.execute(
        select(Facility.tier, Facility.region_id, func.sum(Slot.places)).select_from(Slot)
        .join(Facility, Slot.facility_id == Facility.id)
        .where(Slot.status == "open", Slot.starts_at >= start_utc, Slot.starts_at < end_utc)
        .group_by(Facility.tier, Facility.region_id)).all()
    came = session.execute(
        select(Facility.tier, Facility.region_id, func.count()).select_from(Appointment)
        .join(Facility, Appointment.facility_id == Facility.id)
        .where(Appointment.status.in_(ATTENDED_APPOINTMENT_STATUSES),
               Appointment.starts_at >= start_utc, Appointment.starts_at < end_utc)
        .group_by(Facility.tier, Facility.region_id)).all()
    cells = {"tier": defaultdict(lambda: [0, 0]), "district": defaultdict(lambda: [0, 0])}
    for column, rows in ((0, offered), (1, came)):
        for tier, region_id, n in rows:
            cells["tier"][tier][column] += int(n or 0)
            cells["district"][district_of.get(region_id) or "-"][column] += int(n or 0)

    def share(places: int, attended: int) -> dict:
        return {"places": places, "attended": suppress(attended),
                "share": round(attended / places, 4) if places else None}

    return {f"by_{kind}": {key: share(*cells[kind][key]) for key in sorted(cells[kind])}
            for kind in cells}


def _last_plan(session: Session, start_utc: datetime, end_utc: datetime):
    """The quarter's last plain plan of the live network (never a scenario run or a sweep)."""
    from rehab_net.planning.models import Plan
    from rehab_net.planning.operations import plain_plans

    return session.scalar(select(Plan).where(
        Plan.finished_at >= start_utc, Plan.finished_at < end_utc, plain_plans(),
        Plan.kpis.is_not(None)).order_by(Plan.finished_at.desc()))


def plans_in_use(session: Session) -> set[int]:
    """The plans the reports need (plan retention keeps them, planning/retention.py): the plan
    each stored report cites, and every quarter's last plain plan, the one ``_last_plan`` reads
    when that quarter's report is made, or made again."""
    from rehab_net.planning.models import Plan
    from rehab_net.planning.operations import plain_plans

    cited = {int(r.data["plan"]["plan_id"]) for r in session.scalars(select(QuarterlyReport))
             if (r.data or {}).get("plan")}
    last: dict[tuple[int, int], tuple[datetime, int]] = {}
    for plan_id, finished in session.execute(select(Plan.id, Plan.finished_at).where(
            plain_plans(), Plan.kpis.is_not(None), Plan.finished_at.is_not(None))):
        quarter = quarter_of(day_of(finished))
        last[quarter] = max(last.get(quarter, (finished, plan_id)), (finished, plan_id))
    return cited | {plan_id for _finished, plan_id in last.values()}


def to_date(session: Session, *, today: date) -> dict:
    """The running quarter's figures so far (up to and including ``today``), computed on each
    request and never stored: the stored report of a quarter is made once it has ended."""
    year, q = quarter_of(today)
    return build(session, f"{year}-Q{q}", today=today, to_date=True)


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
    quarter = previous_quarter(now)
    report = generate(session, quarter, today=day_of(now),
                      actor="system:scheduler")
    return {"quarter": report.quarter}


def for_districts(data: dict, codes: set[str] | None) -> dict:
    """What a planner of the districts ``codes`` reads of a report (None: network-wide, all):
    the rows of those districts; no network total, category, priority or plan figure."""
    if codes is None:
        return data
    utilisation = (data.get("utilisation") or {}).get("by_district") or {}
    return {"quarter": data.get("quarter"), "from": data.get("from"), "to": data.get("to"),
            "to_date": data.get("to_date", False), "districts_only": True, "totals": {},
            "by_category": {}, "by_priority": {}, "plan": None,
            "utilisation": {"by_tier": {},
                            "by_district": {k: v for k, v in utilisation.items() if k in codes}},
            **{block: {k: v for k, v in (data.get(block) or {}).items() if k in codes}
               for block in ("by_district", "referrals_by_district", "rescue_by_district")}}
