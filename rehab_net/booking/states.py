"""The appointment and waitlist-entry workflows in one table each (rehab_net.states is the idiom):
the vocabularies, the CHECK constraints, the route patterns and the pages' buttons are derived
from them. Appointment statuses are FHIR R4 Appointment.status codes, so the FHIR status is the
state itself. docs/states.md says how to add a state."""
from __future__ import annotations

from rehab_net.booking import messages as _messages  # noqa: F401 - registers the codes
from rehab_net.errors import Conflict
from rehab_net.messages import message
from rehab_net.states import Action, Machine

# past: the words of "An appointment that is booked cannot be <past>." (and the audit's action).
# The order is the API's (and the page's buttons', cancel's form coming last).
APPOINTMENT = Machine("appointment", (
    "proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow"), (
    Action("confirm", ("proposed", "pending"), "booked", past="confirmed"),
    Action("decline", ("proposed",), "cancelled", past="cancelled"),  # the family, an offer
    Action("cancel", ("proposed", "pending", "booked"), "cancelled", past="cancelled"),
    # the old appointment of a reschedule (the new one is booked in the same transaction)
    Action("reschedule", ("pending", "booked"), "cancelled", past="rescheduled"),
    Action("arrive", ("booked",), "arrived", past="marked arrived"),
    Action("fulfil", ("booked", "arrived"), "fulfilled", past="marked attended"),
    Action("noshow", ("booked",), "noshow", past="marked no-show"),
    # holds and waitlist offers past their time (expire_holds, one UPDATE for many)
    Action("expire", ("proposed", "pending"), "cancelled", "system", past="expired"),
))
APPOINTMENT_STATUSES = APPOINTMENT.states
# The statuses that take a place (and the person's and practitioner's time): cancelled and no-show
# never count as conflicts.
ACTIVE_APPOINTMENT_STATUSES = APPOINTMENT.subset("proposed", "pending", "booked", "arrived",
                                                 "fulfilled")
HELD_APPOINTMENT_STATUSES = APPOINTMENT.action("expire").sources  # they expire by themselves
# The statuses of an appointment the person came to: what the quarterly report counts as served.
ATTENDED_APPOINTMENT_STATUSES = APPOINTMENT.subset("arrived", "fulfilled")
# The steps of the API (POST /appointments/<code>/<action>) and of the appointment page.
API_ACTIONS = tuple(a for a in APPOINTMENT.actions if APPOINTMENT.actions[a].side != "system")
PAGE_ACTIONS = tuple(a for a in API_ACTIONS if a != "reschedule")  # a page of its own


def route_pattern(actions: tuple[str, ...]) -> str:
    """The URL converter matching exactly these actions: <any(confirm, ...):action>."""
    return f"<any({', '.join(actions)}):action>"


def _entry_refused(machine: Machine, rule: Action, state: str) -> Conflict:
    return Conflict("waitlist.entry_status", status=state,
                    errors=[{"field": "status",
                             "rule": message("booking.status_is", status=state)}])


def _entry_raced(machine: Machine, fresh) -> Conflict:
    return Conflict("waitlist.changed_meanwhile")


WAITLIST = Machine("waitlist entry", ("waiting", "offered", "booked", "removed"), (
    Action("offer", ("waiting",), "offered", "system"),
    Action("wait_again", ("offered",), "waiting", "system"),  # the offer lapsed or was declined
    Action("book", ("waiting", "offered"), "booked", "system"),
    Action("remove", ("waiting", "offered"), "removed", past="removed"),
), refused=_entry_refused, raced=_entry_raced)
WAITLIST_STATUSES = WAITLIST.states
OPEN_WAITLIST_STATUSES = WAITLIST.open  # waiting, offered: on the list

# A course of therapy (booking/courses.py): a series of sessions (appointments) for one referral.
# Booked all at once, it runs; it is completed (the referral's loop closed) or cancelled (the
# whole course, or the referral ended otherwise).
COURSE = Machine("course", ("active", "completed", "cancelled"), (
    Action("cancel", ("active",), "cancelled", past="cancelled"),
    Action("complete", ("active",), "completed", "system", past="completed"),
))
COURSE_STATUSES = COURSE.states
