"""Plans, their proposals (one row per case), the load they put on each facility and service, the
shadow prices of binding capacities (the policy weights: rehab_net/policy.py)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rehab_net.db import Base, UTCDateTime, utcnow
from rehab_net.messages import CATALOGUE, message
from rehab_net.network.models import Facility, Region, Service
from rehab_net.people.models import Case
from rehab_net.planning import messages as _messages  # noqa: F401 - registers the plan codes
from rehab_net.planning.states import FINISHED_STATUSES, PLAN_STATUSES
from rehab_net.vocab import PRIORITY_CLASSES, sql_in

# The solver's reasons for leaving a case without a place (SOLVER_FORMAT.md).
UNASSIGNED_REASONS = ("no_eligible_facility", "capacity")
MAX_HORIZON_WEEKS = 52


class Plan(Base):
    """One optimiser run. The row is also the job's progress record (and, without Redis, the
    queue): a worker claims it queued -> running and finishes it optimal, feasible or error."""

    __tablename__ = "plan"
    __table_args__ = (
        CheckConstraint(sql_in("status", PLAN_STATUSES), name="status"),
        CheckConstraint(f"horizon_weeks BETWEEN 1 AND {MAX_HORIZON_WEEKS}", name="horizon_weeks"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The worker touches this while it waits for the optimiser; a running plan whose heartbeat
    # stopped belongs to a worker that died, and is marked error (operations.fail_stale_plans).
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    start_date: Mapped[date] = mapped_column(Date)  # the Monday of week 0
    horizon_weeks: Mapped[int] = mapped_column(Integer)
    parameters: Mapped[dict] = mapped_column(JSON)  # {"policy": {...}, "time_limit": seconds}
    fingerprint: Mapped[str | None] = mapped_column(String(64))  # sha256 of the instance
    case_count: Mapped[int | None] = mapped_column(Integer)
    facility_count: Mapped[int | None] = mapped_column(Integer)
    assigned_count: Mapped[int | None] = mapped_column(Integer)
    objective: Mapped[float | None] = mapped_column(Float)
    bound: Mapped[float | None] = mapped_column(Float)
    wall_seconds: Mapped[float | None] = mapped_column(Float)
    stats: Mapped[dict | None] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(Text)  # why, when error or cancelled (English)
    # ... and the same as a code of the catalogue (planning/messages.py) with its parameters, so
    # a page shows it in the reader's language; None for a text written before codes (0016).
    message_code: Mapped[str | None] = mapped_column(String(64))
    message_params: Mapped[dict | None] = mapped_column(JSON)
    # A what-if run: the scenario, whose changes are copied into parameters["changes"] when the
    # run is queued (editing the scenario later does not change what this run solved).
    scenario_id: Mapped[int | None] = mapped_column(ForeignKey("scenario.id"), index=True)
    kpis: Mapped[dict | None] = mapped_column(JSON)  # planning/kpis.py, once finished

    scenario: Mapped[Scenario | None] = relationship()

    @property
    def shown_message(self) -> str | None:
        """The message in the request's language (the English text where it has no code)."""
        if self.message_code in CATALOGUE:
            return message(self.message_code, **(self.message_params or {})).translated()
        return self.message

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def kind(self) -> str:
        """What the run is: ``plan`` (a plain plan of the live network, the only kind that is a
        baseline and has proposals), ``scenario`` (a what-if run: figures only) or ``sweep`` (a
        scale-up sweep: its kpis are a ranking of candidates). operations.plain_plans() is the
        same rule in SQL."""
        parameters = self.parameters or {}
        if parameters.get("scaleup") is not None:
            return "sweep"
        if self.scenario_id is not None or parameters.get("changes") is not None:
            return "scenario"
        return "plan"


class Scenario(Base):
    """A named set of changes on top of the live network (planning/changes.py). Never a copy of
    the network, never applied to it: runs apply the changes to the optimiser's instance."""

    __tablename__ = "scenario"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[list] = mapped_column(JSON)
    copied_from_id: Mapped[int | None] = mapped_column(ForeignKey("scenario.id"))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}


class PlanAssignment(Base):
    """The plan's proposal for one case: a facility and a start week, or the reason it has none.
    The case's district is kept as it was when the plan ran, so the plan's figures stay put."""

    __tablename__ = "plan_assignment"
    __table_args__ = (
        UniqueConstraint("plan_id", "case_id"),
        CheckConstraint(sql_in("priority", PRIORITY_CLASSES), name="priority"),
        CheckConstraint(sql_in("reason", UNASSIGNED_REASONS), name="reason"),
        CheckConstraint("(facility_id IS NOT NULL AND week IS NOT NULL AND reason IS NULL) OR "
                        "(facility_id IS NULL AND week IS NULL AND reason IS NOT NULL)",
                        name="placed_or_reason"),
        Index("ix_plan_assignment_plan_facility", "plan_id", "facility_id"),
        Index("ix_plan_assignment_plan_district", "plan_id", "district_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    priority: Mapped[str] = mapped_column(String(16))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"))
    week: Mapped[int | None] = mapped_column(Integer)
    start_date: Mapped[date | None] = mapped_column(Date)
    road_km: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(String(32))

    case: Mapped[Case] = relationship()
    service: Mapped[Service] = relationship()
    district: Mapped[Region | None] = relationship()
    facility: Mapped[Facility | None] = relationship()


class PlanLoad(Base):
    """Per facility and service of the instance: the weekly capacity the optimiser saw and the
    intakes the plan puts there. Stored because capacities change after the plan ran."""

    __tablename__ = "plan_load"
    __table_args__ = (UniqueConstraint("plan_id", "facility_id", "service_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    capacity: Mapped[list] = mapped_column(JSON)  # H weekly intake places
    assigned: Mapped[list] = mapped_column(JSON)  # H weekly intakes proposed
    capacity_total: Mapped[int] = mapped_column(Integer)
    assigned_total: Mapped[int] = mapped_column(Integer)
    utilisation: Mapped[float | None] = mapped_column(Float)  # None when there is no capacity

    facility: Mapped[Facility] = relationship()
    service: Mapped[Service] = relationship()


class PlanShadowPrice(Base):
    """How much the optimal cost would fall with one more intake place at (facility, service,
    week): where one more place helps most. Only binding capacities have one."""

    __tablename__ = "plan_shadow_price"
    __table_args__ = (UniqueConstraint("plan_id", "facility_id", "service_id", "week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    week: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)

    plan: Mapped[Plan] = relationship()
    facility: Mapped[Facility] = relationship()
    service: Mapped[Service] = relationship()
