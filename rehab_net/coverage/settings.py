"""The coverage targets and the children's rescue rule, from the configuration (rehab_net/config.py,
REHAB_* variables; docs/coverage.md). Read on each use, so a test or a deployment changes them
without code; a malformed value is refused at app start (``check``)."""
from __future__ import annotations

import json
from dataclasses import dataclass

from flask import current_app

# The coverage groups: the priority classes (people/rules.py), each person in one of them.
GROUPS = ("child", "severe", "poor", "standard")
# Targets: the share of the persons with a need to be served in the year. "all" is the overall
# target, and the target of a group not named.
DEFAULT_TARGETS = {"all": 0.80, "child": 0.95, "severe": 0.95, "poor": 1.0, "standard": 0.80}


def parse_targets(value) -> dict[str, float]:
    """REHAB_COVERAGE_TARGETS: JSON overriding parts of DEFAULT_TARGETS, e.g. {"poor": 0.98}."""
    targets = dict(DEFAULT_TARGETS)
    if not value:
        return targets
    override = json.loads(value) if isinstance(value, str) else value
    for key, share in override.items():
        if key not in targets:
            raise ValueError(f"REHAB_COVERAGE_TARGETS: {key!r} is none of {sorted(targets)}")
        if not isinstance(share, int | float) or isinstance(share, bool) or not 0 <= share <= 1:
            raise ValueError(f"REHAB_COVERAGE_TARGETS: {key} must be a share from 0 to 1")
        targets[key] = float(share)
    return targets


def targets() -> dict[str, float]:
    return parse_targets(current_app.config.get("COVERAGE_TARGETS"))


def base_year() -> int:
    return int(current_app.config.get("COVERAGE_BASE_YEAR") or 2021)


def small_cell() -> int:
    """Cells counting 1 .. N-1 persons are shown as "<N"."""
    return max(1, int(current_app.config.get("COVERAGE_SMALL_CELL") or 5))


@dataclass(frozen=True)
class RescueRule:
    """The provincial rule of the children's rescue programme (免费抢救性康复) as configured:
    training funded for at most ``months_cap`` months a year at ``monthly_price`` yuan a month,
    at most ``amount_cap`` yuan a year, in one category a year when ``one_category``; a child is
    warned about ``warn_months`` months before a cap."""

    months_cap: int = 10
    monthly_price: int = 2000
    amount_cap: int = 20000
    one_category: bool = True
    warn_months: int = 2


def rescue_rule() -> RescueRule:
    c = current_app.config
    rule = RescueRule(months_cap=int(c.get("RESCUE_MONTHS_CAP", 10)),
                      monthly_price=int(c.get("RESCUE_MONTHLY_PRICE", 2000)),
                      amount_cap=int(c.get("RESCUE_AMOUNT_CAP", 20000)),
                      one_category=bool(c.get("RESCUE_ONE_CATEGORY", True)),
                      warn_months=int(c.get("RESCUE_WARN_MONTHS", 2)))
    if not 1 <= rule.months_cap <= 12 or rule.monthly_price < 0 or rule.amount_cap < 0 \
            or rule.warn_months < 0:
        raise ValueError("REHAB_RESCUE_*: months cap 1-12, price, amount cap and warning "
                         "months at least 0")
    return rule


def check(app) -> None:
    """Refuse a malformed configuration at start, not on the first page that reads it."""
    with app.app_context():
        targets(), base_year(), small_cell(), rescue_rule()
