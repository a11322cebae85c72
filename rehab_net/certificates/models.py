"""Disability certificates (第二代残疾人证) and their events.

The 20-character number is not stored: it is the holder's resident ID (people's, encrypted there)
+ the category digit + the grade digit, then "B<n>" for the n-th reissue. Deriving it keeps it
always the holder's, and keeps personal data in one place (people/models.py PERSONAL_FIELDS).
The date columns are what the daily job (jobs.py) compares with the day: ``valid_until``,
``freeze_on`` (6 months after a move out not transferred), ``lapse_on`` (a year after freezing)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rehab_net.certificates.states import CERTIFICATE_STATES, LIVE_STATES
from rehab_net.db import Base, UTCDateTime, utcnow
from rehab_net.people.models import Person
from rehab_net.vocab import sql_in

LIVE_SQL = sql_in("state", LIVE_STATES)


class Certificate(Base):
    __tablename__ = "certificate"
    __table_args__ = (
        CheckConstraint(sql_in("state", CERTIFICATE_STATES), name="state"),
        CheckConstraint("category_digit BETWEEN 1 AND 7", name="category_digit"),
        CheckConstraint("grade BETWEEN 1 AND 4", name="grade"),
        CheckConstraint("reissue BETWEEN 0 AND 99", name="reissue"),
        CheckConstraint("valid_until > issued_on", name="validity"),
        # one certificate in force per person: the database refuses a second (two clerks at once)
        Index("uq_certificate_live_person", "person_id", unique=True,
              sqlite_where=text(LIVE_SQL), postgresql_where=text(LIVE_SQL)),
        Index("ix_certificate_state_valid_until", "state", "valid_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    category_digit: Mapped[int] = mapped_column(Integer)  # GB/T 26341: 1 vision ... 7 multiple
    grade: Mapped[int] = mapped_column(Integer)  # 1 most severe ... 4
    reissue: Mapped[int] = mapped_column(Integer, default=0)  # 0 = the original; n = "Bn"
    issued_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)  # the last day it is valid
    state: Mapped[str] = mapped_column(String(16), default="valid")
    moved_out_on: Mapped[date | None] = mapped_column(Date)  # holder left the region
    transferred_on: Mapped[date | None] = mapped_column(Date)  # taken in by their new place
    freeze_on: Mapped[date | None] = mapped_column(Date, index=True)  # moved, not transferred
    frozen_on: Mapped[date | None] = mapped_column(Date)
    lapse_on: Mapped[date | None] = mapped_column(Date, index=True)  # frozen a year
    ended_on: Mapped[date | None] = mapped_column(Date)  # cancelled, replaced or expired
    end_reason: Mapped[str | None] = mapped_column(Text)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    person: Mapped[Person] = relationship()
    replaces: Mapped[Certificate | None] = relationship(remote_side=[id])
    __mapper_args__ = {"version_id_col": version}

    @property
    def suffix(self) -> str:
        return f"B{self.reissue}" if self.reissue else ""

    @property
    def number(self) -> str:
        """Personal data (it holds the resident ID): masked wherever it is shown."""
        return f"{self.person.resident_id}{self.category_digit}{self.grade}{self.suffix}"


class CertificateEvent(Base):
    """One change of a certificate's state: who or what moved it, when, the day the rule took
    effect, from, to, and why. Never updated."""

    __tablename__ = "certificate_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    on: Mapped[date] = mapped_column(Date)  # the day it took effect (a rule's date)
    actor: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str | None] = mapped_column(Text)
