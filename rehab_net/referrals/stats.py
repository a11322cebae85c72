"""The referral figures of a period, by district (for the quarterly report): referrals sent,
answered, answered in time, closed loops, median days from sending to acceptance.

One query (below; docs/referrals.md shows it as SQL) returns one row per referral sent in the
period with its district; the figures are counted from those rows, because SQLite has no median.
The district is the sending facility's."""
from __future__ import annotations

import statistics
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from rehab_net.network.models import Facility, Region
from rehab_net.network.operations import DISTRICT_LEVELS


def _district_column():
    """The sending facility's district: its region, or that region's ancestors (at most 2 up)."""
    region, parent, grand = aliased(Region), aliased(Region), aliased(Region)
    from sqlalchemy import case

    district = case((region.level.in_(DISTRICT_LEVELS), region.code),
                    (parent.level.in_(DISTRICT_LEVELS), parent.code), else_=grand.code)
    return district, region, parent, grand


def period_query(start: datetime, end: datetime):
    from rehab_net.referrals.models import Referral

    district, region, parent, grand = _district_column()
    sender = aliased(Facility)
    return (select(district.label("district"), Referral.direction, Referral.state,
                   Referral.sent_at, Referral.answered_at, Referral.accepted_at,
                   Referral.answer_due_at, Referral.closed_at)
            .join(sender, Referral.sender_id == sender.id)
            .join(region, sender.region_id == region.id)
            .outerjoin(parent, region.parent_id == parent.id)
            .outerjoin(grand, parent.parent_id == grand.id)
            .where(Referral.sent_at >= start, Referral.sent_at < end))


def figures(session: Session, start: datetime, end: datetime) -> dict[str, dict]:
    """district code -> {sent, up, down, answered, answered_in_time, closed_loops,
    median_days_to_acceptance}."""
    out: dict[str, dict] = {}
    days: dict[str, list[float]] = {}
    for row in session.execute(period_query(start, end)):
        f = out.setdefault(row.district, dict.fromkeys(
            ("sent", "up", "down", "answered", "answered_in_time", "closed_loops"), 0))
        f["sent"] += 1
        f[row.direction] += 1
        if row.answered_at is not None:
            f["answered"] += 1
            f["answered_in_time"] += (row.answer_due_at is None
                                      or row.answered_at <= row.answer_due_at)
        f["closed_loops"] += row.direction == "up" and row.state == "closed"
        if row.accepted_at is not None:
            days.setdefault(row.district, []).append(
                (row.accepted_at - row.sent_at).total_seconds() / 86400)
    for district, f in out.items():
        d = days.get(district)
        f["median_days_to_acceptance"] = round(statistics.median(d), 1) if d else None
    return out
