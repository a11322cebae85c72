"""Masks for personal data shown in lists and API output. Pure functions, no imports from the
modules that use them, so schemas (the bottom layer) and pages alike can mask."""
from __future__ import annotations


def mask_name(name: str | None) -> str | None:
    """张三丰 -> 张**: enough to tell records apart in a list, not to identify a child."""
    if not name:
        return name
    return name[0] + "*" * max(1, len(name) - 1)


def mask(value: str | None) -> str | None:
    """Show the first 3 and last 4 characters of an identifier, hide the rest."""
    if not value:
        return value
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
