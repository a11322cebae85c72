"""The scheduler's booking jobs (run by `rehab-net scheduler`, one process, never in the web
workers): every five minutes, holds and waitlist offers past their time are cancelled and the places
offered on; every night, the slot window rolls on."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from rehab_net.clock import day_of
from rehab_net.scheduler import Job


def expire(session: Session, now: datetime) -> dict:
    from rehab_net.booking.operations import expire_and_offer

    return expire_and_offer(session, now)


def generate(session: Session, now: datetime) -> dict:
    from rehab_net.booking import generation
    counts = generation.generate(session, today=day_of(now), now=now)
    counts["booked_outside"] = len(counts["booked_outside"])
    return counts


# Registered by rehab_net.booking.init_app.
JOBS = (
    Job.every_minutes("booking-expire-holds", "rehab_net.booking.jobs:expire", minutes=5),
    Job.daily("booking-generate-slots", "rehab_net.booking.jobs:generate", hour=2),
)
