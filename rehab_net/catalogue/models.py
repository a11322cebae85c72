"""The national basic rehabilitation service catalogue as data: versions, their items with the
rules of each, and which services of the network deliver which item.

A version is never changed once loaded: a new one supersedes it from its ``effective_from``
and the old stays for history (what applied on a past day). An item's ``code`` is stable across
versions, so the mapping of services names item codes, not rows of one version."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rehab_net.db import Base, UTCDateTime, utcnow
from rehab_net.network.models import Service
from rehab_net.vocab import (
    CATALOGUE_CATEGORIES,
    CATALOGUE_KINDS,
    CATALOGUE_PARTS,
    DOSE_RULES,
    sql_in,
)


class CatalogueVersion(Base):
    __tablename__ = "catalogue_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # e.g. "2026"
    effective_from: Mapped[date] = mapped_column(Date, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[CatalogueItem]] = relationship(back_populates="version",
                                                      order_by="CatalogueItem.code")


class CatalogueItem(Base):
    """One item of one version. Ages are whole years on the day of the comparison, both
    inclusive (``max_age`` None: no upper bound); ``categories`` the case categories it is for,
    ``;``-separated. ``rule`` and ``amount`` are the minimum dose (rules.py), ``cycle_months``
    the replacement or re-assessment cycle of a device or an assessment."""

    __tablename__ = "catalogue_item"
    __table_args__ = (
        UniqueConstraint("version_id", "code"),
        CheckConstraint(sql_in("part", CATALOGUE_PARTS), name="part"),
        CheckConstraint(sql_in("category", CATALOGUE_CATEGORIES), name="category"),
        CheckConstraint(sql_in("kind", CATALOGUE_KINDS), name="kind"),
        CheckConstraint(sql_in("rule", DOSE_RULES), name="rule"),
        CheckConstraint("amount BETWEEN 1 AND 52", name="amount"),
        CheckConstraint("min_age >= 0 AND (max_age IS NULL OR max_age >= min_age)",
                        name="ages"),
        CheckConstraint("cycle_months IS NULL OR cycle_months BETWEEN 1 AND 240",
                        name="cycle_months"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("catalogue_version.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), index=True)
    part: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))
    min_age: Mapped[int] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)
    categories: Mapped[str] = mapped_column(String(128))
    rule: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int] = mapped_column(Integer)
    cycle_months: Mapped[int | None] = mapped_column(Integer)

    version: Mapped[CatalogueVersion] = relationship(back_populates="items")

    @property
    def category_list(self) -> tuple[str, ...]:
        return tuple(self.categories.split(";"))


class CatalogueService(Base):
    """A service of the network delivers a catalogue item (by the item's code, in any version):
    its attended appointments count as the item's deliveries."""

    __tablename__ = "catalogue_service"

    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(32), primary_key=True)

    service: Mapped[Service] = relationship()
