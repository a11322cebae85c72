"""Practitioners and where they practise, schedules, slots, appointments and the waitlist.

The invariants live in the database, on SQLite and PostgreSQL alike (constraints.py names them,
migration 0005 creates them):

- a slot never holds more active appointments than its places: one ``slot_place`` row per place,
  each appointment takes one (composite foreign key), and a partial unique index over
  (slot_id, place) of the active appointments lets no place be taken twice;
- a practitioner is never in two places at once: the open slots of one practitioner never
  overlap (PostgreSQL: an exclusion constraint over tstzrange; SQLite: triggers);
- a person never has two overlapping active appointments (the same, over appointments).

Cancelled and no-show appointments, and withdrawn slots, never count.
"""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rehab_net.auth import models as _auth  # noqa: F401  (user_account, for the foreign key)
from rehab_net.booking.states import (
    ACTIVE_APPOINTMENT_STATUSES,
    APPOINTMENT_STATUSES,
    COURSE_STATUSES,
    HELD_APPOINTMENT_STATUSES,
    OPEN_WAITLIST_STATUSES,
    WAITLIST_STATUSES,
)
from rehab_net.db import Base, UTCDateTime, utcnow
from rehab_net.network.models import Facility, Service
from rehab_net.people.models import Case
from rehab_net.referrals.models import Referral
from rehab_net.vocab import (
    CANCEL_REASONS,
    DAY_PARTS,
    EXCEPTION_KINDS,
    PROFESSIONS,
    SCHEDULE_KINDS,
    SLOT_STATUSES,
    sql_in,
)

ACTIVE_SQL = sql_in("status", ACTIVE_APPOINTMENT_STATUSES)
OPEN_WAITLIST_SQL = sql_in("status", OPEN_WAITLIST_STATUSES)


class Practitioner(Base):
    """A rehab physician, therapist, nurse or technician. Staff, not a patient: no personal data
    beyond a work name."""

    __tablename__ = "practitioner"
    __table_args__ = (CheckConstraint(sql_in("profession", PROFESSIONS), name="profession"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    profession: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    sites: Mapped[list[PractitionerFacility]] = relationship(
        back_populates="practitioner", order_by="PractitionerFacility.facility_id")
    __mapper_args__ = {"version_id_col": version}

    @property
    def facilities(self) -> list[Facility]:
        return [s.facility for s in self.sites]


class PractitionerFacility(Base):
    """A facility where a practitioner practises (多点执业). Schedules reference this pair, so a
    rule for a facility the practitioner does not practise at cannot exist."""

    __tablename__ = "practitioner_facility"

    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioner.id"), primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"), primary_key=True,
                                             index=True)
    since: Mapped[date | None] = mapped_column(Date)

    practitioner: Mapped[Practitioner] = relationship(back_populates="sites")
    facility: Mapped[Facility] = relationship()


class ScheduleRule(Base):
    """When a practitioner works at a facility for a service: weekly (the weekdays of a mask,
    Monday = bit 0) or a one-off session (one date, kind "session": also on weekends and public
    holidays). Hours are local (Asia/Shanghai); the hours are cut into slots of slot_minutes,
    each with `places` places (1: individual therapy; more: a group)."""

    __tablename__ = "schedule_rule"
    __table_args__ = (
        ForeignKeyConstraint(["practitioner_id", "facility_id"],
                             ["practitioner_facility.practitioner_id",
                              "practitioner_facility.facility_id"],
                             name="fk_schedule_rule_practitioner_facility"),
        CheckConstraint(sql_in("kind", SCHEDULE_KINDS), name="kind"),
        CheckConstraint("weekdays BETWEEN 1 AND 127", name="weekdays"),
        CheckConstraint("start_time < end_time", name="hours"),
        CheckConstraint("slot_minutes BETWEEN 5 AND 480", name="slot_minutes"),
        CheckConstraint("places BETWEEN 1 AND 100", name="places"),
        CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="validity"),
        CheckConstraint("kind = 'weekly' OR valid_until = valid_from", name="session_one_day"),
        Index("ix_schedule_rule_practitioner", "practitioner_id", "active"),
        Index("ix_schedule_rule_facility", "facility_id", "active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="weekly")
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioner.id"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    weekdays: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    slot_minutes: Mapped[int] = mapped_column(Integer)
    places: Mapped[int] = mapped_column(Integer, default=1)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    # Also on make-up working days (调休上班, a weekend day worked instead of a holiday).
    makeup_days: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    practitioner: Mapped[Practitioner] = relationship(overlaps="sites")
    facility: Mapped[Facility] = relationship(overlaps="sites")
    service: Mapped[Service] = relationship()
    __mapper_args__ = {"version_id_col": version}


class ScheduleException(Base):
    """Time off: a practitioner's leave, or a facility's closure. No slot is generated inside it;
    booked slots inside it are kept (the appointments are listed to be moved)."""

    __tablename__ = "schedule_exception"
    __table_args__ = (
        CheckConstraint(sql_in("kind", EXCEPTION_KINDS), name="kind"),
        CheckConstraint("(kind = 'leave' AND practitioner_id IS NOT NULL AND facility_id IS NULL)"
                        " OR (kind = 'closure' AND facility_id IS NOT NULL"
                        " AND practitioner_id IS NULL)", name="subject"),
        CheckConstraint("starts_at < ends_at", name="period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("practitioner.id"), index=True)
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))

    practitioner: Mapped[Practitioner | None] = relationship()
    facility: Mapped[Facility | None] = relationship()


class Slot(Base):
    """A bookable time of one practitioner at one facility for one service, with `places`
    places (one slot_place row each). Times never change: a schedule change withdraws or deletes
    slots and makes new ones. Withdrawn slots are kept only for the appointments that name them."""

    __tablename__ = "slot"
    __table_args__ = (
        CheckConstraint(sql_in("status", SLOT_STATUSES), name="status"),
        CheckConstraint("starts_at < ends_at", name="period"),
        CheckConstraint("places BETWEEN 1 AND 100", name="places"),
        Index("ix_slot_practitioner_starts", "practitioner_id", "starts_at"),
        Index("ix_slot_facility_starts", "facility_id", "starts_at"),
        Index("ix_slot_service_starts", "service_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioner.id"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("schedule_rule.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    places: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    practitioner: Mapped[Practitioner] = relationship()
    facility: Mapped[Facility] = relationship()
    service: Mapped[Service] = relationship()
    rule: Mapped[ScheduleRule | None] = relationship()


class SlotPlace(Base):
    """One place of a slot. An appointment takes exactly one (slot_id, place); the partial
    unique index on appointment lets only one active appointment hold it."""

    __tablename__ = "slot_place"
    __table_args__ = (CheckConstraint("place >= 1", name="place"),)

    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id", ondelete="CASCADE"),
                                         primary_key=True)
    place: Mapped[int] = mapped_column(Integer, primary_key=True)


class WaitlistEntry(Base):
    """A referral waiting for a place at its receiving facility (nothing fitted when it was
    booked). Never silently lost: it leaves the list only by a booking or by a person removing it
    with a reason. When a place frees, the best-placed entry is offered it (a `proposed`
    appointment that expires)."""

    __tablename__ = "waitlist_entry"
    __table_args__ = (
        CheckConstraint(sql_in("status", WAITLIST_STATUSES), name="status"),
        CheckConstraint("status <> 'removed' OR removed_reason IS NOT NULL",
                        name="removed_reason"),
        # one open entry per referral
        Index("uq_waitlist_entry_open_referral", "referral_id", unique=True,
              sqlite_where=text(OPEN_WAITLIST_SQL), postgresql_where=text(OPEN_WAITLIST_SQL)),
        Index("ix_waitlist_entry_facility_status", "facility_id", "service_id", "status"),
        CheckConstraint("available_weekdays BETWEEN 0 AND 127", name="available_weekdays"),
        CheckConstraint("available_parts BETWEEN 0 AND 7", name="available_parts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    note: Mapped[str | None] = mapped_column(Text)
    # When the family can come (local time): weekdays (Monday = bit 0) and parts of the day
    # (vocab.DAY_PARTS, morning = bit 0); 0 = any. Only a slot inside both is offered.
    available_weekdays: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    available_parts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    offers: Mapped[int] = mapped_column(Integer, default=0)  # offers made so far
    removed_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    facility: Mapped[Facility] = relationship()
    service: Mapped[Service] = relationship()
    referral: Mapped[Referral] = relationship()
    case: Mapped[Case] = relationship()


def appointment_code(appointment_id: int) -> str:
    """An appointment's code: its id written out (A0000042)."""
    return f"A{appointment_id:07d}"


class Appointment(Base):
    """One place of one slot for one referral (and so one case and one person).

    Status (FHIR Appointment.status): proposed (a waitlist offer) and pending (a hold) expire
    at hold_expires_at by themselves; booked -> arrived -> fulfilled, or noshow; cancelled with a
    reason. Times, person, practitioner and facility are copied from the slot and the case so the
    database can check overlaps. Changes are conditional UPDATEs (status and version)."""

    __tablename__ = "appointment"
    __table_args__ = (
        ForeignKeyConstraint(["slot_id", "place"], ["slot_place.slot_id", "slot_place.place"],
                             name="fk_appointment_slot_place"),
        CheckConstraint(sql_in("status", APPOINTMENT_STATUSES), name="status"),
        CheckConstraint(f"({sql_in('status', HELD_APPOINTMENT_STATUSES)}) = "
                        "(hold_expires_at IS NOT NULL)", name="hold_expiry"),
        CheckConstraint(f"cancel_reason IS NULL OR {sql_in('cancel_reason', CANCEL_REASONS)}",
                        name="cancel_reason"),
        CheckConstraint("(status = 'cancelled') = (cancel_reason IS NOT NULL)",
                        name="cancelled_with_reason"),
        CheckConstraint("starts_at < ends_at", name="period"),
        UniqueConstraint("idempotency_key", "created_by_user_id"),
        # a place holds at most one active appointment
        Index("uq_appointment_active_place", "slot_id", "place", unique=True,
              sqlite_where=text(ACTIVE_SQL), postgresql_where=text(ACTIVE_SQL)),
        Index("ix_appointment_person_starts", "person_id", "starts_at"),
        Index("ix_appointment_facility_starts", "facility_id", "starts_at"),
        Index("ix_appointment_practitioner_starts", "practitioner_id", "starts_at"),
        Index("ix_appointment_status_hold", "status", "hold_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id"), index=True)
    place: Mapped[int] = mapped_column(Integer)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioner.id"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waitlist_entry_id: Mapped[int | None] = mapped_column(ForeignKey("waitlist_entry.id"),
                                                          index=True)
    rescheduled_from_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(80))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    booked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(32))
    cancel_note: Mapped[str | None] = mapped_column(Text)
    # Why it was booked ahead of a better-placed waiting case that fitted the slot (the audit
    # row of the booking names the entries passed over); None when nobody was passed over.
    jump_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    slot: Mapped[Slot] = relationship()
    practitioner: Mapped[Practitioner] = relationship()
    facility: Mapped[Facility] = relationship()
    service: Mapped[Service] = relationship()
    referral: Mapped[Referral] = relationship()
    case: Mapped[Case] = relationship()
    waitlist_entry: Mapped[WaitlistEntry | None] = relationship()
    rescheduled_from: Mapped[Appointment | None] = relationship(remote_side=[id])

    @property
    def code(self) -> str | None:
        return None if self.id is None else appointment_code(self.id)

    @property
    def audit_label(self) -> str | None:
        return self.code


def appointment_id_of(code: str) -> int | None:
    """A0000123 -> 123; None for anything else."""
    if len(code) < 2 or code[0] not in "Aa" or not code[1:].isdigit() or len(code) > 12:
        return None
    return int(code[1:])



def course_code(course_id: int) -> str:
    """A course's code: its id written out (CR0000042)."""
    return f"CR{course_id:07d}"


def course_id_of(code: str) -> int | None:
    if len(code) < 3 or code[:2].upper() != "CR" or not code[2:].isdigit() or len(code) > 13:
        return None
    return int(code[2:])


class Course(Base):
    """A course of therapy: a series of sessions for one referral (so one case and one person)
    at its receiving facility, for its service, booked all at once from a weekly pattern:
    weekdays (Monday = bit 0) with a part of the day or a start time (local), sessions per week,
    for a number of weeks; optionally one practitioner; group sessions only (slots with more
    than one place) when ``group_only``. Each session is an appointment (course_session)."""

    __tablename__ = "course"
    __table_args__ = (
        CheckConstraint(sql_in("status", COURSE_STATUSES), name="status"),
        CheckConstraint("weekdays BETWEEN 1 AND 127", name="weekdays"),
        CheckConstraint(f"part IS NULL OR {sql_in('part', DAY_PARTS)}", name="part"),
        CheckConstraint("sessions_per_week BETWEEN 1 AND 7", name="sessions_per_week"),
        CheckConstraint("weeks BETWEEN 1 AND 104", name="weeks"),
        CheckConstraint("sessions BETWEEN 1 AND 400", name="sessions"),
        CheckConstraint(f"cancel_reason IS NULL OR {sql_in('cancel_reason', CANCEL_REASONS)}",
                        name="cancel_reason"),
        CheckConstraint("(status = 'cancelled') = (cancel_reason IS NOT NULL)",
                        name="cancelled_with_reason"),
        Index("ix_course_referral", "referral_id"),
        Index("ix_course_facility_status", "facility_id", "status"),
        Index("ix_course_sender_status", "sender_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    # the referral's sender: the family's clinic, whose defaulter list the course is on
    sender_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("practitioner.id"))
    weekdays: Mapped[int] = mapped_column(Integer)
    part: Mapped[str | None] = mapped_column(String(16))
    start_time: Mapped[time | None] = mapped_column(Time)
    sessions_per_week: Mapped[int] = mapped_column(Integer)
    weeks: Mapped[int] = mapped_column(Integer)
    sessions: Mapped[int] = mapped_column(Integer)  # the sessions booked at the start
    first_day: Mapped[date] = mapped_column(Date)
    group_only: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")
    cancel_reason: Mapped[str | None] = mapped_column(String(32))
    cancel_note: Mapped[str | None] = mapped_column(Text)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    referral: Mapped[Referral] = relationship()
    case: Mapped[Case] = relationship()
    facility: Mapped[Facility] = relationship(foreign_keys=[facility_id])
    sender: Mapped[Facility] = relationship(foreign_keys=[sender_id])
    service: Mapped[Service] = relationship()
    practitioner: Mapped[Practitioner | None] = relationship()

    @property
    def code(self) -> str | None:
        return None if self.id is None else course_code(self.id)

    @property
    def audit_label(self) -> str | None:
        return self.code


class CourseSession(Base):
    """An appointment of a course, with its number in the course (1, 2, ...). A session moved
    to another time keeps its number: the old (cancelled, rescheduled) appointment keeps its row
    as history. A table of its own, so ``appointment`` (and its SQLite overlap triggers) is not
    rebuilt."""

    __tablename__ = "course_session"
    __table_args__ = (
        CheckConstraint("number >= 1", name="number"),
        Index("ix_course_session_course_number", "course_id", "number"),
    )

    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    number: Mapped[int] = mapped_column(Integer)

    appointment: Mapped[Appointment] = relationship()
    course: Mapped[Course] = relationship()
