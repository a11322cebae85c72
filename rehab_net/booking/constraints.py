"""The database's names for the booking invariants, and the 409 each one answers.

PostgreSQL reports the constraint's name (``diag.constraint_name``); SQLite's triggers raise
their name as the message, and its unique indexes name the columns. Migration 0005 creates them
all; their DDL is there (a migration is frozen in time)."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from rehab_net.errors import Conflict

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
    PLACE: ("Every place of this slot is taken.", "slot_id", "has no free place"),
    PERSON_OVERLAP: ("The person already has an appointment at an overlapping time.",
                     "slot_id", "overlaps another appointment of the person"),
    PRACTITIONER_OVERLAP: ("The practitioner already has a slot at an overlapping time "
                           "(at this or another facility).", "practitioner_code",
                           "is busy at that time"),
    IDEMPOTENCY: ("This Idempotency-Key was already used for another request.",
                  "Idempotency-Key", "was used for another request"),
    WAITLIST_OPEN: ("The referral is already on the waitlist.", "referral_code",
                    "is already waiting"),
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
        return Conflict(detail, errors=[{"field": field, "rule": rule, "constraint": name}])
    return Conflict("The change conflicts with existing data (a rule of the database).")
