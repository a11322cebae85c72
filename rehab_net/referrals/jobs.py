"""The referral deadline check as a scheduler job: every 5 minutes, in `rehab-net scheduler`."""
from __future__ import annotations

from rehab_net.jobs import Job, register

DEADLINES = register(Job.every_minutes(
    "referral_deadlines", "rehab_net.referrals.operations:check_deadlines", minutes=5))
