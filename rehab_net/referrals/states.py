"""The referral workflow in one table: which action moves which states where, whose action it is,
and what it must carry. Everything else (views, pages, the deadline job) asks this module."""
from __future__ import annotations

from dataclasses import dataclass

from rehab_net.vocab import OPEN_REFERRAL_STATES


@dataclass(frozen=True)
class Action:
    name: str
    sources: tuple[str, ...]
    target: str
    side: str  # "sender", "receiver" or "system": whose staff may take it
    needs_reason: bool = False  # decline (with a reason code), return (advice), cancel
    needs_outcome: bool = False


ACTIONS = {a.name: a for a in (
    Action("send", ("draft",), "sent", "sender"),
    Action("receive", ("sent",), "received", "receiver"),
    Action("accept", ("received",), "accepted", "receiver"),
    Action("decline", ("received",), "declined", "receiver", needs_reason=True),
    Action("return", ("received",), "returned", "receiver", needs_reason=True),
    Action("start", ("accepted",), "in_progress", "receiver"),
    Action("complete", ("in_progress",), "completed", "receiver", needs_outcome=True),
    Action("acknowledge", ("completed",), "closed", "sender"),
    Action("cancel", tuple(s for s in OPEN_REFERRAL_STATES if s != "completed"), "cancelled",
           "sender", needs_reason=True),
    # the deadline job only: a referral nobody received or answered in time
    Action("expire", ("sent", "received"), "expired", "system"),
    # the loop closes by itself when the down-referral answering a completed referral is accepted
    Action("close", ("completed",), "closed", "system"),
)}
USER_ACTIONS = tuple(name for name, a in ACTIONS.items() if a.side != "system")


def allowed_actions(state: str) -> list[str]:
    return [name for name in USER_ACTIONS if state in ACTIONS[name].sources]
