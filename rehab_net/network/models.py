"""Regions, facilities, services and dated capacities."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rehab_net.db import Base, UTCDateTime, utcnow
from rehab_net.vocab import (
    CATEGORIES,
    FACILITY_STATUSES,
    OWNERSHIPS,
    REGION_LEVELS,
    SERVICE_KINDS,
    TIERS,
    sql_in,
)

COORDINATE_CHECKS = ("lat BETWEEN -90 AND 90", "lon BETWEEN -180 AND 180")


class Region(Base):
    """An administrative unit: city -> district/banner -> township/sumu/street -> village/gacha."""

    __tablename__ = "region"
    __table_args__ = (
        CheckConstraint(sql_in("level", REGION_LEVELS), name="level"),
        CheckConstraint(COORDINATE_CHECKS[0], name="lat"),
        CheckConstraint(COORDINATE_CHECKS[1], name="lon"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, default=1)

    parent: Mapped[Region | None] = relationship(remote_side=[id])
    __mapper_args__ = {"version_id_col": version}


class Facility(Base):
    """Any provider site. Home rehab is a service mode (Service.home_ok), not a facility."""

    __tablename__ = "facility"
    __table_args__ = (
        CheckConstraint(sql_in("tier", TIERS), name="tier"),
        CheckConstraint(sql_in("ownership", OWNERSHIPS), name="ownership"),
        CheckConstraint(sql_in("status", FACILITY_STATUSES), name="status"),
        CheckConstraint(COORDINATE_CHECKS[0], name="lat"),
        CheckConstraint(COORDINATE_CHECKS[1], name="lon"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(16), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    ownership: Mapped[str] = mapped_column(String(16))
    designated: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")
    version: Mapped[int] = mapped_column(Integer, default=1)

    region: Mapped[Region] = relationship()
    __mapper_args__ = {"version_id_col": version}


class Service(Base):
    """A disability category x a service kind, with the tiers that may deliver it."""

    __tablename__ = "service"
    __table_args__ = (
        CheckConstraint(sql_in("category", CATEGORIES), name="category"),
        CheckConstraint(sql_in("kind", SERVICE_KINDS), name="kind"),
        CheckConstraint("duration_minutes BETWEEN 1 AND 1440", name="duration"),
        CheckConstraint("at_centre OR at_station OR at_clinic", name="some_tier"),
        UniqueConstraint("category", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    category: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))
    at_centre: Mapped[bool] = mapped_column(Boolean, default=False)
    at_station: Mapped[bool] = mapped_column(Boolean, default=False)
    at_clinic: Mapped[bool] = mapped_column(Boolean, default=False)
    home_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}

    @property
    def tiers(self) -> list[str]:
        return [t for t in TIERS if getattr(self, f"at_{t}")]

    @tiers.setter
    def tiers(self, values) -> None:
        for t in TIERS:
            setattr(self, f"at_{t}", t in values)


class Capacity(Base):
    """Places of one service at one facility from a date on. A change is a new row with a later
    effective_from, so history is kept; the capacity on a date is the latest row not after it."""

    __tablename__ = "capacity"
    __table_args__ = (
        UniqueConstraint("facility_id", "service_id", "effective_from"),
        CheckConstraint("weekly_intake BETWEEN 0 AND 10000", name="weekly_intake"),
        CheckConstraint("concurrent_places BETWEEN 0 AND 100000", name="concurrent_places"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    weekly_intake: Mapped[int] = mapped_column(Integer)
    concurrent_places: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    facility: Mapped[Facility] = relationship()
    service: Mapped[Service] = relationship()


def capacities_on(on: date):
    """A select of the Capacity rows in force on a date: per facility and service, the latest row
    whose effective_from is not after it."""
    from sqlalchemy import func

    latest = (
        select(Capacity.facility_id, Capacity.service_id,
               func.max(Capacity.effective_from).label("effective_from"))
        .where(Capacity.effective_from <= on)
        .group_by(Capacity.facility_id, Capacity.service_id)
        .subquery()
    )
    return select(Capacity).join(
        latest,
        (Capacity.facility_id == latest.c.facility_id)
        & (Capacity.service_id == latest.c.service_id)
        & (Capacity.effective_from == latest.c.effective_from),
    )
