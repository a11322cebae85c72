"""The plan workflow in one table (rehab_net.states is the idiom): a worker claims a queued plan
and finishes it optimal, feasible or error; a user cancels it. Every change is one conditional
UPDATE, so two processes never both move the same plan. docs/states.md says how to add a
state."""
from __future__ import annotations

from rehab_net.states import Action, Machine

PLAN = Machine("plan", ("queued", "running", "optimal", "feasible", "error", "cancelled"), (
    Action("claim", ("queued",), "running", "system"),
    Action("cancel", ("queued",), "cancelled"),  # a running plan is asked to stop instead
    Action("stop", ("running",), "cancelled", "system"),  # its worker ends the optimiser
    Action("fail", ("queued", "running"), "error", "system"),  # queued: it could not be queued
    Action("finish_optimal", ("running",), "optimal", "system"),
    Action("finish_feasible", ("running",), "feasible", "system"),
))
PLAN_STATUSES = PLAN.states
FINISHED_STATUSES = PLAN.final  # optimal, feasible, error, cancelled
SOLVED_STATUSES = PLAN.subset("optimal", "feasible")  # with results
