"""Where else a declined or returned referral may go (the re-referral form's list)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rehab_net.network import operations as network
from rehab_net.network.models import Facility
from rehab_net.referrals.models import Referral
from rehab_net.referrals.operations.workflow import TIER_RANK
from rehab_net.referrals.states import BOOKABLE_REFERRAL_STATES


def suggestions(session: Session, referral: Referral, today: date, limit: int = 10) -> list[dict]:
    """Open facilities of the right tier that offer the service with places free, nearest first
    (road km as the optimiser estimates it), leaving out the ones that declined or returned it."""
    from rehab_net.policy import road_km

    refused = set(session.scalars(select(Referral.receiver_id).where(
        Referral.case_id == referral.case_id, Referral.state.in_(("declined", "returned")))))
    home = referral.case.person.home_region
    busy = dict(session.execute(select(Referral.receiver_id, func.count()).where(
        Referral.service_id == referral.service_id,
        Referral.state.in_(BOOKABLE_REFERRAL_STATES)).group_by(Referral.receiver_id)).all())
    out = []
    for facility in session.scalars(select(Facility).where(Facility.status == "open")):
        if facility.id in refused | {referral.sender_id}:
            continue
        if (referral.direction == "up") != (TIER_RANK[facility.tier] > TIER_RANK[
                referral.sender.tier]):
            continue
        capacity = next((c for c in network.capacities_in_force(session, facility, today)
                         if c.service_id == referral.service_id), None)
        if capacity is None or capacity.weekly_intake <= 0:
            continue
        free = capacity.concurrent_places - busy.get(facility.id, 0)
        if free <= 0:
            continue
        km = float(road_km(session, home.lat, home.lon, facility.lat, facility.lon))
        out.append({"facility": facility, "road_km": round(km, 1), "free_places": free})
    return sorted(out, key=lambda s: (s["road_km"], s["facility"].code))[:limit]
