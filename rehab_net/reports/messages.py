"""The codes of the report refusals and their English msgids (rehab_net/messages.py)."""
from __future__ import annotations

from rehab_net.messages import N_, define

define({
    "report.quarter_format": N_("must look like 2026-Q3, a year from %(min)s to %(max)s"),
    "report.quarter_open": N_("has not ended yet"),
    "report.quarter_not_running": N_("is not the quarter running now"),
    "report.not_found": N_("There is no report for %(quarter)s yet."),
})
