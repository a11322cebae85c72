"""Persons and cases. Personal data lives only in the columns listed in PERSONAL_FIELDS, so the
security work (encryption at rest, masking, audited reads) has one place to act on."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from rehab_net.db import Base, UTCDateTime, utcnow
from rehab_net.network.models import Region, Service
from rehab_net.people.states import CASE_STATUSES
from rehab_net.protection import Encrypted, blind_index
from rehab_net.vocab import CATEGORIES, POVERTY_STATUSES, SEXES, sql_in

# Columns holding personal data, by table. Nothing else may hold it (not logs, not URLs, not the
# audit log: it names these fields when they change, never their values). Identifiers are also
# encrypted at rest (rehab_net/protection.py).
PERSONAL_FIELDS = {
    "person": ("name", "resident_id", "guardian_name", "guardian_phone"),
    "case": ("certificate_number",),
}


class Person(Base):
    __tablename__ = "person"
    __table_args__ = (
        CheckConstraint(sql_in("sex", SEXES), name="sex"),
        CheckConstraint(sql_in("poverty_status", POVERTY_STATUSES), name="poverty_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    # personal data -----------------------------------------------------------------------------
    name: Mapped[str] = mapped_column(String(64))
    resident_id: Mapped[str] = mapped_column(Encrypted("person.resident_id"))
    # HMAC of the number: exact lookup and uniqueness without decrypting anything.
    resident_id_index: Mapped[str] = mapped_column(String(64), unique=True)
    guardian_name: Mapped[str | None] = mapped_column(String(64))
    guardian_phone: Mapped[str | None] = mapped_column(String(32))
    # -------------------------------------------------------------------------------------------
    birth_date: Mapped[date] = mapped_column(Date, index=True)
    sex: Mapped[str] = mapped_column(String(1))
    home_region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    poverty_status: Mapped[str] = mapped_column(String(16), default="none")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    home_region: Mapped[Region] = relationship()
    cases: Mapped[list[Case]] = relationship(back_populates="person", order_by="Case.id")
    __mapper_args__ = {"version_id_col": version}

    @validates("resident_id")
    def _index_resident_id(self, _key, value):
        self.resident_id_index = blind_index(value)
        return value


class Case(Base):
    """A person's rehab need being handled. The priority class is derived (people/rules.py)."""

    __tablename__ = "case"
    __table_args__ = (
        CheckConstraint(sql_in("category", CATEGORIES), name="category"),
        CheckConstraint("grade BETWEEN 1 AND 4", name="grade"),
        CheckConstraint(sql_in("status", CASE_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    grade: Mapped[int] = mapped_column(Integer)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    registered_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="registered", index=True)
    certificate_number: Mapped[str | None] = mapped_column(
        Encrypted("case.certificate_number"))  # personal data: it embeds the resident ID
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    person: Mapped[Person] = relationship(back_populates="cases")
    service: Mapped[Service] = relationship()
    __mapper_args__ = {"version_id_col": version}


class CaseEvent(Base):
    """One change of a case's status: who or what moved it, when, from, to, and the work that
    caused it (e.g. "referral R000001 accepted"). Never updated."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str | None] = mapped_column(Text)
