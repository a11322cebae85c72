"""Where and when there is a free place: free slots of a service in a date range, at the tiers
allowed, near a place, soonest first. Distances are road km as the optimiser estimates them
(``rehab_net.policy.road_km``, as referral suggestions show them)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from rehab_net.booking.models import Appointment, Slot
from rehab_net.booking.places import live
from rehab_net.network.models import Facility, Service
from rehab_net.policy import road_km


@dataclass
class Near:
    lat: float
    lon: float
    max_km: float | None = None


def facility_distances(session: Session, facilities: list[Facility], near: Near | None) -> dict:
    """facility id -> road km from `near` (empty without a place)."""
    if near is None or not facilities:
        return {}
    import numpy as np

    lat = np.array([f.lat for f in facilities])
    lon = np.array([f.lon for f in facilities])
    km = road_km(session, near.lat, near.lon, lat, lon)
    return {f.id: round(float(k), 1) for f, k in zip(facilities, km, strict=True)}


def search(session: Session, *, service: Service, starts: datetime, ends: datetime,
           now: datetime, near: Near | None = None, tiers=None, facility_ids=None):
    """(a select of free Slot rows, soonest first, with the free places as a second column;
    facility id -> road km). Tiers default to those the service may be given at."""
    tiers = list(tiers or service.tiers)
    facilities = list(session.scalars(select(Facility).where(
        Facility.status == "open", Facility.tier.in_(tiers))))
    if facility_ids is not None:
        facilities = [f for f in facilities if f.id in facility_ids]
    km = facility_distances(session, facilities, near)
    if near is not None and near.max_km is not None:
        facilities = [f for f in facilities if km[f.id] <= near.max_km]
    taken = (select(func.count()).where(Appointment.slot_id == Slot.id, live(now))
             .correlate(Slot).scalar_subquery())
    free = (Slot.places - taken).label("free_places")
    stmt = (select(Slot, free).where(
        Slot.service_id == service.id, Slot.status == "open",
        Slot.facility_id.in_([f.id for f in facilities]),
        Slot.starts_at >= max(starts, now), Slot.starts_at < ends, free > 0))
    order = [Slot.starts_at]
    if km and len(facilities) > 1:  # at the same time, the nearer first
        order.append(case({f.id: km[f.id] for f in facilities}, value=Slot.facility_id,
                          else_=0.0))
    stmt = stmt.order_by(*order, Slot.id)
    return stmt, km
