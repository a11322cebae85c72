"""The referral deadline check as a scheduler job: every 5 minutes, in `rehab-net scheduler`
(registered by rehab_net.referrals.init_app)."""
from __future__ import annotations

from rehab_net.scheduler import Job

DEADLINES = Job.every_minutes(
    "referral_deadlines", "rehab_net.referrals.operations.deadline_check:check_deadlines",
    minutes=5)
