"""The case workflow in one table (rehab_net.states is the idiom). A case's status follows the
work done for it: its referrals move it (referrals/operations/workflow.py, in the same transaction,
by the system actions below; the first attended appointment starts the referral, and so the case).
By hand a user only puts a case back on the waiting list or closes it. docs/states.md says how
to add a status."""
from __future__ import annotations

from rehab_net.states import Action, Machine

STATUSES = ("registered", "waiting", "referred", "accepted", "in_service", "completed", "closed")


def _all_but(target: str) -> tuple[str, ...]:
    return tuple(s for s in STATUSES if s != target)


CASE = Machine("case", STATUSES, (
    # by hand (PATCH /cases, the case page)
    Action("wait", ("registered", "completed"), "waiting", past="put on the waiting list"),
    Action("close", ("registered", "waiting", "referred", "accepted", "in_service", "completed"),
           "closed", past="closed"),
    # followed from the case's referrals (referrals.operations.workflow.case_follows): no button
    Action("refer", _all_but("referred"), "referred", "system", past="referred"),
    Action("accept", _all_but("accepted"), "accepted", "system", past="accepted"),
    Action("start", _all_but("in_service"), "in_service", "system", past="started"),
    Action("complete", _all_but("completed"), "completed", "system", past="completed"),
    Action("conclude", _all_but("closed"), "closed", "system", past="closed"),
    Action("requeue", _all_but("waiting"), "waiting", "system",
           past="put back on the waiting list"),
))
CASE_STATUSES = CASE.states
# Counted as open (in the lists, the reports, the planner's demand).
OPEN_CASE_STATUSES = CASE.subset("registered", "waiting", "referred", "accepted", "in_service")
# The demand a plan places: cases without a place yet (a booked course enters the plan as a
# placement, planning/adapters.py; a case in service is not planned again).
WAITING_CASE_STATUSES = CASE.subset("registered", "waiting", "referred", "accepted")
# status -> the system action that moves a case there
FOLLOW_ACTIONS = {CASE.actions[a].target: a for a in
                  ("refer", "accept", "start", "complete", "conclude", "requeue")}
# the statuses a user may set by hand: the targets of the user actions
MANUAL_ACTIONS = ("wait", "close")
