"""The codes of the planning refusals (plans, scenarios, compare) and their English msgids
(rehab_net/messages.py)."""
from __future__ import annotations

from rehab_net.messages import N_, define

define({
    "scenario.changes_not_list": N_("must be a list of changes"),
    "scenario.kind_unknown": N_("must be one of %(kinds)s"),
    "scenario.required": N_("is required"),
    "scenario.integer_range": N_("must be an integer from %(lo)s to %(hi)s"),
    "scenario.number_range": N_("must be a number from %(lo)s to %(hi)s"),
    "scenario.delta_or_set": N_("give either delta or set"),
    "scenario.percent_or_count": N_("give either percent or count"),
    "scenario.facility_unknown": N_("%(code)s does not exist"),
    "scenario.service_unknown": N_("%(code)s does not exist"),
    "scenario.code_exists": N_("%(code)s exists already"),
    "scenario.tier_unknown": N_("must be one of %(tiers)s"),
    "scenario.capacity_map": N_("must map service codes to intakes per week (0-1000)"),
    "scenario.value_unknown": N_("%(value)s is not a known %(name)s"),
    "scenario.policy_object": N_("must be an object of policy weights"),
    "scenario.name_taken": N_("A scenario is called %(name)s already."),
    "scenario.change_not_found": N_("Scenario %(id)s has no change %(n)s."),
    "plan.no_results": N_("plan(s) %(plans)s have no results yet"),
    "plan.sweep_not_comparable": N_("plan(s) %(plans)s are scale-up sweeps: their figures are a "
                                    "ranking of candidates, shown on the plan's page"),
    "plan.service_unknown": N_("%(code)s does not exist"),
    "plan.start_not_monday": N_("must be a Monday (week 0 starts on it)"),
    "plan.start_past": N_("must not be before this week's Monday, %(monday)s"),
    "plan.start_far": N_("must be within %(weeks)s weeks from today"),
    "plan.cancel_finished": N_("Plan %(id)s has finished (%(status)s); there is nothing to "
                               "cancel."),
    "plan.apply_unfinished": N_("Plan %(id)s is %(status)s: only a finished plan's proposals "
                                "can be applied."),
    "plan.no_proposals": N_("Plan %(id)s is a %(kind)s: only a plan of the live network has "
                            "proposals."),
    "plan.proposal_not_found": N_("Plan %(id)s proposes no place for case %(code)s."),
    "plan.not_district": N_("%(code)s is a %(level)s, not a district"),
    "plan.plans_needed": N_("Give ?plans=BASE,A,..."),
    "plan.compare_ids": N_("2 to 8 plan ids, comma-separated; the first is the baseline"),
    "plan.queue_unavailable": N_("The job queue is not reachable; the plan was not started. Try "
                                 "again later."),
})
