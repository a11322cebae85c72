"""The scheduler's table: one row per job and period (the claim that makes a period run once)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rehab_net.db import Base, UTCDateTime, utcnow
from rehab_net.vocab import sql_in

JOB_RUN_STATUSES = ("running", "done", "failed")


class JobRun(Base):
    """One run of a job for one period: the claim that makes a period run once."""

    __tablename__ = "job_run"
    __table_args__ = (
        UniqueConstraint("job", "period"),
        CheckConstraint(sql_in("status", JOB_RUN_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="running")
    detail: Mapped[dict | None] = mapped_column(JSON)  # what the job function returned
    error: Mapped[str | None] = mapped_column(Text)  # why, when failed
