"""Deadlines of the open referral states, in working days (local days, clock.zone(); China's
public holidays and make-up working days from the holiday calendar, rehab_net/workdays.py).

A state's deadline runs from the moment the referral entered it. Past the deadline the receiving
facility is told (overdue); past a second deadline as long again, the district's planners are told
(escalated); a referral still not received or answered after a third is expired and its sender
told, so it can be sent elsewhere. Children aged 0-6 are never handled slower than "urgent".
"""
from __future__ import annotations

import json
from datetime import datetime

from rehab_net.workdays import add_working_days

# state -> urgency -> working days to leave it (None: no deadline)
DEFAULT_DEADLINES: dict[str, dict[str, int]] = {
    "sent": {"emergency": 1, "urgent": 2, "routine": 5},          # to be received
    "received": {"emergency": 1, "urgent": 5, "routine": 10},     # to be answered
    "accepted": {"emergency": 2, "urgent": 10, "routine": 20},    # to start
    "completed": {"emergency": 5, "urgent": 10, "routine": 10},   # the sender to acknowledge
}
EXPIRING_STATES = ("sent", "received")
URGENCY_RANK = {"routine": 0, "urgent": 1, "emergency": 2}


def parse(config_value: str | dict | None) -> dict[str, dict[str, int]]:
    """REHAB_REFERRAL_DEADLINES: JSON overriding parts of DEFAULT_DEADLINES."""
    table = {state: dict(days) for state, days in DEFAULT_DEADLINES.items()}
    if not config_value:
        return table
    override = json.loads(config_value) if isinstance(config_value, str) else config_value
    for state, days in override.items():
        if state not in table:
            raise ValueError(f"REHAB_REFERRAL_DEADLINES: {state} has no deadline")
        for urgency, n in days.items():
            if urgency not in URGENCY_RANK or not isinstance(n, int) or n < 1:
                raise ValueError(f"REHAB_REFERRAL_DEADLINES: {state}.{urgency} must be a whole "
                                 "number of working days >= 1")
            table[state][urgency] = n
    return table


def effective_urgency(urgency: str, is_child: bool) -> str:
    if is_child and URGENCY_RANK[urgency] < URGENCY_RANK["urgent"]:
        return "urgent"
    return urgency


def deadlines_for(state: str, urgency: str, is_child: bool, entered: datetime,
                  table: dict[str, dict[str, int]]) -> tuple[datetime | None, ...]:
    """(due, escalate, expire) for a referral entering ``state`` at ``entered``."""
    days = table.get(state, {}).get(effective_urgency(urgency, is_child))
    if days is None:
        return None, None, None
    due = add_working_days(entered, days)
    escalate = add_working_days(due, days)
    expire = add_working_days(escalate, days) if state in EXPIRING_STATES else None
    return due, escalate, expire
