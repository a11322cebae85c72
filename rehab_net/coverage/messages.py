"""The codes of the coverage refusals and their English msgids (rehab_net/messages.py)."""
from __future__ import annotations

from rehab_net.messages import N_, define

define({
    "coverage.year_range": N_("must be a year from %(min)s to %(max)s"),
    "coverage.category_unknown": N_("is not a disability category"),
})
