"""The codes of the catalogue's refusals and their English msgids (rehab_net/messages.py)."""
from __future__ import annotations

from rehab_net.messages import N_, define

define({
    "catalogue.version_not_found": N_("There is no catalogue version %(code)s."),
    "catalogue.no_version": N_("No version of the service catalogue is in force on %(on)s."),
    "catalogue.facility_not_yours": N_("There is no facility %(code)s among yours."),
    "catalogue.facility_needed": N_("Choose the facility whose worklist to show."),
})
