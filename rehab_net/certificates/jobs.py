"""The certificates' daily job (run by `rehab-net scheduler`, registered by
rehab_net.certificates.init_app): every night at 01:30 local time the date rules are applied
(operations.apply_dates). A night missed is covered by the next run, which dates each step the
day its rule took effect."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from rehab_net.clock import day_of
from rehab_net.scheduler import Job


def apply_dates(session: Session, now: datetime) -> dict:
    from rehab_net.certificates.operations import apply_dates as apply

    return apply(session, day_of(now), now)


DATE_RULES = Job.daily("certificate-date-rules", "rehab_net.certificates.jobs:apply_dates",
                       hour=1, minute=30)
