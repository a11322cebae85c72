"""The referral workflow in one table: which action moves which states where, whose action it is,
and what it must carry. Everything else (the vocabulary, the CHECK constraint, views, pages, the
deadline job, booking) asks this module; docs/states.md says how to add a state."""
from __future__ import annotations

from rehab_net.errors import Conflict
from rehab_net.messages import message
from rehab_net.referrals import messages as _messages  # noqa: F401 - registers the codes
from rehab_net.states import Action, Machine

# Each state with its FHIR R4 codes: (ServiceRequest.status (value set request-status),
# Task.status (task-status)); Task.businessStatus carries our exact state, which tells "returned"
# from "declined" and "closed" from "completed". In the stored order (the CHECK constraint lists
# them so; migrations keep their own literal copy).
FHIR_STATUS = {
    "draft": ("draft", "draft"),
    "sent": ("active", "requested"),
    "received": ("active", "received"),
    "accepted": ("active", "accepted"),
    "declined": ("revoked", "rejected"),
    "returned": ("revoked", "rejected"),
    "in_progress": ("active", "in-progress"),
    "completed": ("completed", "completed"),
    "closed": ("completed", "completed"),
    "cancelled": ("revoked", "cancelled"),
    "expired": ("revoked", "failed"),
}
STATES = tuple(FHIR_STATUS)


def _refused(machine: Machine, rule: Action, state: str) -> Conflict:
    return Conflict("referral.wrong_state", state=state, past=rule.done,
                    allowed=", ".join(rule.sources),
                    errors=[{"field": "state", "rule": message("referral.state_is", state=state)}])


def _raced(machine: Machine, fresh) -> Conflict:
    return Conflict("referral.changed_meanwhile", state=fresh.state,
                    errors=[{"field": "state",
                             "rule": message("referral.state_is_now", state=fresh.state)},
                            {"field": "version",
                             "rule": message("referral.version_is_now", version=fresh.version)}])


# side: "sender", "receiver" or "system" (whose staff may take it); needs_reason: decline (with a
# reason code), return (advice), cancel.
REFERRAL = Machine("referral", STATES, (
    Action("send", ("draft",), "sent", "sender", "sent"),
    Action("receive", ("sent",), "received", "receiver", "received"),
    Action("accept", ("received",), "accepted", "receiver", "accepted"),
    Action("decline", ("received",), "declined", "receiver", "declined", needs_reason=True),
    Action("return", ("received",), "returned", "receiver", "returned", needs_reason=True),
    Action("start", ("accepted",), "in_progress", "receiver", "started"),
    Action("complete", ("in_progress",), "completed", "receiver", "completed",
           needs_outcome=True),
    Action("acknowledge", ("completed",), "closed", "sender", "acknowledged"),
    # every open state but completed (whose outcome is recorded: it is acknowledged instead)
    Action("cancel", ("draft", "sent", "received", "accepted", "in_progress"), "cancelled",
           "sender", "cancelled", needs_reason=True),
    # the deadline job only: a referral nobody received or answered in time
    Action("expire", ("sent", "received"), "expired", "system", "expired"),
    # the loop closes by itself when the down-referral answering a completed referral is accepted
    Action("close", ("completed",), "closed", "system", "closed"),
), column="state", refused=_refused, raced=_raced)

ACTIONS = REFERRAL.actions
USER_ACTIONS = tuple(name for name, a in ACTIONS.items() if a.side != "system")

# Derived vocabularies (the CHECK constraint, schemas, listings).
REFERRAL_STATES = REFERRAL.states
FINAL_REFERRAL_STATES = REFERRAL.final  # no action leaves them
OPEN_REFERRAL_STATES = REFERRAL.open
# A place is booked (or waited for) for a referral in these states.
BOOKABLE_REFERRAL_STATES = REFERRAL.subset("accepted", "in_progress")
# The receiver refers the person back down (a down-referral answering this one) from these.
REFERS_DOWN_STATES = REFERRAL.subset("in_progress", "completed")
# Final because the receiver said no or nobody answered: the sender may send it elsewhere.
UNANSWERED_REFERRAL_STATES = REFERRAL.subset("declined", "returned", "expired")
assert FINAL_REFERRAL_STATES == ("declined", "returned", "closed", "cancelled", "expired")


def allowed_actions(state: str) -> list[str]:
    return REFERRAL.actions_from(state)


def can(action: str, state: str) -> bool:
    return REFERRAL.can(action, state)


def case_status_for(states) -> str | None:
    """The status a case's referrals give it (issue 14): one in rehabilitation (started by the
    first attended appointment) -> in_service; accepted -> accepted; sent or received ->
    referred; otherwise the latest word on the work: completed (outcome recorded, the loop not
    closed yet) -> completed, closed -> closed; only declined, returned, expired or cancelled
    ones -> waiting again. None when there is no referral but drafts (the case keeps its
    status). Open referrals outrank finished ones: a down-referral after a completed
    up-referral carries the case on."""
    sent = set(states) - {"draft"}
    if not sent:
        return None
    for state, status in (("in_progress", "in_service"), ("accepted", "accepted"),
                          ("received", "referred"), ("sent", "referred"),
                          ("completed", "completed"), ("closed", "closed")):
        if state in sent:
            return status
    return "waiting"
