"""The stored quarterly reports: one per quarter, regenerated in place on request."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rehab_net.db import Base, UTCDateTime, utcnow


class QuarterlyReport(Base):
    __tablename__ = "quarterly_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    quarter: Mapped[str] = mapped_column(String(7), unique=True)  # "2026-Q3"
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    generated_by: Mapped[str] = mapped_column(String(80))
    data: Mapped[dict] = mapped_column(JSON)  # small cells already suppressed
    version: Mapped[int] = mapped_column(Integer, default=1)
