"""Referrals, their event history, attachments, and the notifications they raise."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rehab_net.db import Base, UTCDateTime, utcnow
from rehab_net.network.models import Facility, Region, Service
from rehab_net.people.models import Case
from rehab_net.referrals.states import REFERRAL_STATES
from rehab_net.vocab import (
    DECLINE_REASONS,
    DIRECTIONS,
    NOTIFICATION_KINDS,
    URGENCIES,
    sql_in,
)


class Referral(Base):
    """One referral of a case from a sender facility to a receiving one. Its state changes only
    through operations.workflow.transition (a conditional UPDATE: of two people acting at once,
    one wins) and every change is a ReferralEvent."""

    __tablename__ = "referral"
    __table_args__ = (
        CheckConstraint(sql_in("state", REFERRAL_STATES), name="state"),
        CheckConstraint(sql_in("direction", DIRECTIONS), name="direction"),
        CheckConstraint(sql_in("urgency", URGENCIES), name="urgency"),
        CheckConstraint(f"decline_reason IS NULL OR {sql_in('decline_reason', DECLINE_REASONS)}",
                        name="decline_reason"),
        CheckConstraint("sender_id <> receiver_id", name="two_facilities"),
        Index("ix_referral_receiver_state", "receiver_id", "state"),
        Index("ix_referral_sender_state", "sender_id", "state"),
        Index("ix_referral_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    receiver_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    direction: Mapped[str] = mapped_column(String(8))
    urgency: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    # a down-referral: the up-referral it answers, and the plan for continued rehab
    answers_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"))
    home_programme: Mapped[str | None] = mapped_column(Text)
    # a re-referral: the declined or returned referral it replaces
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"))
    state: Mapped[str] = mapped_column(String(16), default="draft")
    decline_reason: Mapped[str | None] = mapped_column(String(32))
    state_reason: Mapped[str | None] = mapped_column(Text)  # why declined/returned/cancelled
    outcome: Mapped[str | None] = mapped_column(Text)
    # The case waits from its first referral on: copied at sending from the earliest one.
    waiting_since: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # accepted/declined/returned
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the deadline to answer, fixed at receipt (due_at moves on with the state): "in time"
    answer_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Deadline of the current state (None when the state has none), and what the periodic
    # check has done about it: first overdue (receiver told), then escalated (planner told).
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalate_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    case: Mapped[Case] = relationship()
    sender: Mapped[Facility] = relationship(foreign_keys=[sender_id])
    receiver: Mapped[Facility] = relationship(foreign_keys=[receiver_id])
    service: Mapped[Service] = relationship()
    answers: Mapped[Referral | None] = relationship(remote_side=[id], foreign_keys=[answers_id])
    replaces: Mapped[Referral | None] = relationship(remote_side=[id], foreign_keys=[replaces_id])
    events: Mapped[list[ReferralEvent]] = relationship(
        back_populates="referral", order_by="ReferralEvent.id")
    attachments: Mapped[list[ReferralAttachment]] = relationship(
        back_populates="referral", order_by="ReferralAttachment.id")


class ReferralEvent(Base):
    """One transition: who, when, from, to, why. Never updated."""

    __tablename__ = "referral_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)

    referral: Mapped[Referral] = relationship(back_populates="events")


class ReferralAttachment(Base):
    """An assessment summary or similar: PDF, PNG or JPEG, at most 5 MB, kept in the database
    (one backup holds everything; the files are small and few)."""

    __tablename__ = "referral_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))

    referral: Mapped[Referral] = relationship(back_populates="attachments")


class Notification(Base):
    """A message to a facility's staff (or a region's planners), in-app; also the outbox a later
    SMS or e-mail sender drains (``delivered_at``)."""

    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint(sql_in("kind", NOTIFICATION_KINDS), name="kind"),
        CheckConstraint("(facility_id IS NULL) <> (region_id IS NULL)", name="one_recipient"),
        Index("ix_notification_facility_read", "facility_id", "read_at"),
        Index("ix_notification_region_read", "region_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    referral: Mapped[Referral] = relationship()
    facility: Mapped[Facility | None] = relationship()
    region: Mapped[Region | None] = relationship()
