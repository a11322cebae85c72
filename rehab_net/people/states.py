"""The case workflow in one table (rehab_net.states is the idiom). Today a user changes a case's
status by hand (PATCH /cases, update_case checks the change against this table); planning,
referrals and booking will drive most changes (issue 14) through people.operations.move_case,
in their own transaction. docs/states.md says how to add a status."""
from __future__ import annotations

from rehab_net.states import Action, Machine

CASE = Machine("case", ("registered", "waiting", "assigned", "in_service", "completed",
                        "closed"), (
    Action("wait", ("registered", "assigned", "in_service", "completed"), "waiting",
           past="put on the waiting list"),
    Action("assign", ("waiting",), "assigned", past="assigned"),
    Action("start", ("assigned",), "in_service", past="started"),
    Action("complete", ("in_service",), "completed", past="completed"),
    Action("close", ("registered", "waiting", "assigned", "in_service", "completed"), "closed",
           past="closed"),
))
CASE_STATUSES = CASE.states
# Counted as open (in the lists, the reports, the planner's demand). A completed case is not,
# though it may wait again (a new need), so it is not final either.
OPEN_CASE_STATUSES = CASE.subset("registered", "waiting", "assigned", "in_service")
# The demand a plan places: cases not yet assigned a place.
WAITING_CASE_STATUSES = CASE.subset("registered", "waiting")

