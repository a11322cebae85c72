"""The database's names for the booking invariants, and the 409 each one answers.

PostgreSQL reports the constraint's name (``diag.constraint_name``); SQLite's triggers raise
their name as the message, and its unique indexes name the columns. Migration 0005 creates them
all; their DDL is there (a migration is frozen in time)."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from rehab_net.booking import messages as _messages  # noqa: F401 - registers the codes
from rehab_net.errors import Conflict
from rehab_net.messages import message

PLACE = "uq_appointment_active_place"
PERSON_OVERLAP = "ex_appointment_person_overlap"
PRACTITIONER_OVERLAP = "ex_slot_practitioner_overlap"
IDEMPOTENCY = "uq_appointment_idempotency_key"
WAITLIST_OPEN = "uq_waitlist_entry_open_referral"

# SQLite's message for a unique index names the columns instead.
SQLITE_UNIQUE = {
    "appointment.slot_id, appointment.place": PLACE,
    "appointment.idempotency_key, appointment.created_by_user_id": IDEMPOTENCY,
    "waitlist_entry.referral_id": WAITLIST_OPEN,
}

CONFLICTS = {
    PLACE: ("booking.slot_full", "slot_id", "booking.slot_full_rule"),
    PERSON_OVERLAP: ("booking.person_overlap", "slot_id", "booking.person_overlap_rule"),
    PRACTITIONER_OVERLAP: ("practitioner.overlap", "practitioner_code",
                           "practitioner.busy_rule"),
    IDEMPOTENCY: ("booking.key_used", "Idempotency-Key", "booking.key_reused"),
    WAITLIST_OPEN: ("waitlist.open", "referral_code", "waitlist.open_rule"),
}


def constraint_of(err: IntegrityError) -> str | None:
    """The name of the booking constraint an IntegrityError broke, or None."""
    orig = err.orig
    diag = getattr(orig, "diag", None)
    if diag is not None and getattr(diag, "constraint_name", None):
        return diag.constraint_name
    message = str(orig)
    for name in (PERSON_OVERLAP, PRACTITIONER_OVERLAP):
        if name in message:
            return name
    if message.startswith("UNIQUE constraint failed: "):
        return SQLITE_UNIQUE.get(message.removeprefix("UNIQUE constraint failed: ").strip())
    return None


def conflict_for(err: IntegrityError) -> Conflict:
    """A 409 that says which rule the database enforced (never the values)."""
    name = constraint_of(err)
    if name in CONFLICTS:
        detail, field, rule = CONFLICTS[name]
        return Conflict(detail, errors=[{"field": field, "rule": message(rule),
                                         "constraint": name}])
    return Conflict("booking.db_conflict")
