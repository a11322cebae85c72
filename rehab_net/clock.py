"""Local dates. Ages and deadlines are local (Asia/Shanghai) dates; storage is UTC."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def today() -> date:
    """Today in the configured zone; REHAB_TODAY (ISO date) pins it for demos and tests."""
    zone = "Asia/Shanghai"
    if has_app_context():
        pinned = current_app.config.get("TODAY")
        if pinned:
            return pinned if isinstance(pinned, date) else date.fromisoformat(pinned)
        zone = current_app.config.get("TIMEZONE", zone)
    return datetime.now(ZoneInfo(zone)).date()
