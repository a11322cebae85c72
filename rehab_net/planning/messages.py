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
    # why a plan ended without results, or waits longer (Plan.message_code): the worker, the
    # queue's sweeper and cancelling write them; the plan's page shows them translated
    "plan.cancelled_queued": N_("Cancelled before it started."),
    "plan.cancelled_running": N_("Cancelled while the optimiser was running; no results were "
                                 "stored."),
    "plan.worker_silent": N_("The worker running this plan stopped (no sign of life for "
                             "%(seconds)s s); start a new plan."),
    "plan.worker_error": N_("An unexpected error in the worker stopped this plan; no results "
                            "were stored. The worker's log has the details."),
    "plan.worker_stopped": N_("The worker was stopped while this plan was running; no results "
                              "were stored. Start a new plan."),
    "plan.requeued": N_("The job queue (Redis) lost this plan's job (a restart?); it was queued "
                        "again at %(at)s."),
    "plan.timeout": N_("The optimiser did not finish within %(seconds)s s and was stopped."),
    "plan.crashed": N_("The optimiser's process stopped unexpectedly (%(how)s); no results were "
                       "stored. Start the plan again; if it happens again, export the instance "
                       "with `rehab-net export-instance` and report it."),
    "plan.instance_refused": N_("The instance was refused by the optimiser: %(problems)s"),
    "plan.optimiser_failed": N_("The optimiser failed: %(error)s"),
    "plan.optimiser_error": N_("The optimiser reported an error."),
    "plan.optimiser_said": N_("The optimiser reported an error: %(detail)s"),
    "plan.answer_misfit": N_("The optimiser's answer does not fit the instance: %(error)s"),
    "plan.scenario_misfit": N_("The scenario does not fit the network: %(error)s"),
    "plan.build_failed": N_("Reading the network and cases failed: %(error)s"),
    "plan.sweep_failed": N_("The scale-up sweep failed: %(error)s"),
})
