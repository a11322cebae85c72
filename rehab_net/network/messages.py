"""The codes of the network refusals (regions, facilities, services, capacity) and their English
msgids (rehab_net/messages.py)."""
from __future__ import annotations

from rehab_net.messages import N_, define

define({
    "region.not_found": N_("There is no region %(code)s."),
    "facility.not_found": N_("There is no facility %(code)s."),
    "service.not_found": N_("There is no service %(code)s."),
    "network.code_unknown": N_("%(code)s does not exist"),
    "region.exists": N_("Region %(code)s exists already."),
    "region.kind_unknown": N_("must be one of %(kinds)s for a %(level)s"),
    "region.city_parent": N_("must be empty for a city"),
    "region.parent_level": N_("must be a %(want)s (one level above a %(level)s)"),
    "facility.exists": N_("Facility %(code)s exists already."),
    "facility.tier_capacity": N_("the facility has capacity for services a %(tier)s may not "
                                 "deliver: %(services)s"),
    "service.exists": N_("Service %(code)s exists already."),
    "service.tiers_in_use": N_("facilities of tier %(tiers)s have capacity for this service; "
                               "keep those tiers"),
    "capacity.tier": N_("%(service)s is not delivered at tier %(tier)s (only %(tiers)s)"),
    "capacity.exists": N_("A capacity of %(service)s from %(date)s exists already; add one from "
                          "another date."),
    "network.outside_region": N_("That is outside the region you administer."),
    "network.whole_network_only": N_("Only an admin of the whole network may change regions and "
                                     "services."),
    "service.tier_twice": N_("names a tier twice"),
    "service.tiers_needed": N_("must name at least one tier"),
    "region.code_format": N_("must be 6, 9 or 12 digits (GB/T 2260 and its extension)"),
})
