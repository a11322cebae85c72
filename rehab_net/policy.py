"""The policy the optimiser weighs by (SOLVER_FORMAT.md `policy`), kept as one row, and the one
road-km estimate every part of the app shows: straight-line distance x the policy's road factor,
as the optimiser prices travel. Infrastructure, because referral suggestions, availability search
and planning all read it; planning alone writes it."""
from __future__ import annotations

import copy
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Integer
from sqlalchemy.orm import Mapped, Session, mapped_column

from rehab_net.db import Base, UTCDateTime, utcnow
from solver.costs import haversine_km
from solver.instance import DEFAULT_POLICY


class PolicySetting(Base):
    """The policy weights new plans use, as one row (id 1) holding the contract's `policy` object.
    Until someone saves it the contract's defaults apply (current_policy)."""

    __tablename__ = "policy_setting"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    values: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}


def current_policy(session: Session) -> PolicySetting:
    """The saved policy, or the contract's defaults (an unsaved row) when nobody saved one."""
    saved = session.get(PolicySetting, 1)
    if saved is not None:
        return saved
    return PolicySetting(id=1, values=copy.deepcopy(DEFAULT_POLICY), version=0)


def road_factor(session: Session) -> float:
    """Road km per straight-line km in the policy in force."""
    return float(current_policy(session).values.get("road_factor", DEFAULT_POLICY["road_factor"]))


def road_km(session: Session, lat, lon, lats, lons):
    """Estimated road km from (lat, lon) to each of (lats, lons): numpy arrays broadcast, so one
    point against many facilities is one call."""
    return haversine_km(lat, lon, lats, lons) * road_factor(session)
