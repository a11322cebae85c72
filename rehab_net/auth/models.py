"""Users, their role grants, API tokens, login attempts and the append-only audit log."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rehab_net.db import Base, UTCDateTime, utcnow
from rehab_net.network.models import Facility, Region
from rehab_net.vocab import AUDIT_ACTIONS, FACILITY_ROLES, ROLES, sql_in


class User(Base):
    __tablename__ = "user_account"  # "user" is reserved in PostgreSQL

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change or deactivation: every session issued before is void.
    session_epoch: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="RoleGrant.id")
    __mapper_args__ = {"version_id_col": version}

    @property
    def audit_label(self) -> str:
        return self.username


class RoleGrant(Base):
    """A role at a place. Facility roles name the facility (the scope is its region); the others
    name a region, or none for the whole network."""

    __tablename__ = "role_grant"
    __table_args__ = (
        CheckConstraint(sql_in("role", ROLES), name="role"),
        CheckConstraint("facility_id IS NULL OR region_id IS NULL", name="one_place"),
        CheckConstraint(f"NOT ({sql_in('role', FACILITY_ROLES)}) OR region_id IS NULL",
                        name="facility_role_place"),
        UniqueConstraint("user_id", "role", "region_id", "facility_id",
                         name="uq_role_grant_place"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    role: Mapped[str] = mapped_column(String(16))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="grants")
    region: Mapped[Region | None] = relationship()
    facility: Mapped[Facility | None] = relationship()

    @property
    def audit_label(self) -> str:
        place = self.facility or self.region
        return f"{self.user.username}:{self.role}@{place.code if place else '*'}"[:64]

    @property
    def scope_region_id(self) -> int | None:
        """The region whose subtree this grant covers; None = the whole network.

        Station and clinic staff cover their facility's township or village. A centre draws
        its cases from a wider area, so its coordinators cover the facility's district (the
        referral inbox will narrow this to the cases actually referred to the centre)."""
        if self.facility is None:
            return self.region_id
        if self.role == "coordinator":
            from rehab_net.network.operations import district_of

            return district_of(self.facility.region).id
        return self.facility.region_id


class ApiToken(Base):
    """A personal API token. Only its SHA-256 is stored: the token is 256 random bits, so a fast
    hash is safe (a slow password hash would cost every API call tens of milliseconds)."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # shown in lists to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def audit_label(self) -> str:
        return f"{self.user.username}:{self.prefix}"[:64]


class LoginAttempt(Base):
    """Every login attempt: the throttle counts recent failures per username and per address."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_remote_addr_at", "remote_addr", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    remote_addr: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    succeeded: Mapped[bool] = mapped_column(Boolean)


class AuditEvent(Base):
    """One audited act. Append-only: database triggers refuse UPDATE and DELETE (migration 0003).
    `detail` never holds personal values, only field names, counts and codes."""

    __tablename__ = "audit_event"
    __table_args__ = (
        CheckConstraint(sql_in("action", AUDIT_ACTIONS), name="action"),
        Index("ix_audit_event_object", "object_type", "object_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(80), index=True)  # username, or system:<job>
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(16), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_code: Mapped[str | None] = mapped_column(String(64))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict | None] = mapped_column(JSON)
