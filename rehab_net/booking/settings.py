"""Booking settings: the app's config, else a REHAB_<NAME> environment variable, else the
default (the type of the default decides how a variable is read)."""
from __future__ import annotations

import os

from flask import current_app, has_app_context

DEFAULTS = {
    "BOOKING_HOLD_MINUTES": 10,        # a hold (pending) expires unconfirmed after this
    "BOOKING_OFFER_HOURS": 24,         # a waitlist offer (proposed) expires after this
    "BOOKING_OFFER_LEAD_HOURS": 2,     # no offer of a slot starting sooner than this
    "BOOKING_WINDOW_WEEKS": 8,         # slots are generated this far ahead
    "BOOKING_HOLIDAY_FILES": "",       # extra holiday CSV files, separated by ':'
}


def setting(name: str, default=None):
    if default is None:
        default = DEFAULTS[name]
    value = current_app.config.get(name) if has_app_context() else None
    if value is None:
        value = os.environ.get(f"REHAB_{name}")
    if value is None or value == "":
        return default
    if isinstance(default, bool):
        return str(value).lower() in ("1", "true", "yes")
    if isinstance(default, int | float) and not isinstance(value, int | float):
        return type(default)(value)
    return value
