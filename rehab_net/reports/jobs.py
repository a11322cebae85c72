"""The quarterly report as a scheduler job: on the first day of each quarter, for the quarter just
ended; quarters missed while no scheduler ran are made up at its next start (registered by
rehab_net.reports.init_app)."""
from __future__ import annotations

from rehab_net.scheduler import Job

QUARTERLY = Job.quarterly("quarterly_report", "rehab_net.reports.quarterly:job", hour=1)
