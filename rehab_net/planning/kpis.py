"""The figures a planner compares scenarios by, computed from an instance and its solution (the
contract's dicts) alone: pure, so a stored instance reproduces them exactly.

- cases placed, by priority class; children 0-6 placed to start within 4 and within 12 weeks;
- waiting weeks (start week - release week) of those placed: median and 90th percentile;
- road km of those placed: median, 90th percentile, share over 200 km;
- unplaced, by reason;
- utilisation (intakes used / intakes offered over the horizon), by tier and by district;
- the objective; and per district (of the case's home) the same case figures.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from rehab_net.vocab import PRIORITY_CLASSES, TIERS

FAR_KM = 200.0
CHILD_WEEKS = (4, 12)


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return round(float(np.percentile(np.asarray(values, dtype=float), q,
                                     method="inverted_cdf")), 1)


def _case_figures(cases: list[dict], placed: dict[str, dict], unplaced: dict[str, str]) -> dict:
    by_priority = {p: {"cases": 0, "placed": 0} for p in PRIORITY_CLASSES}
    waits, kms = [], []
    child_fast = dict.fromkeys(CHILD_WEEKS, 0)
    reasons: dict[str, int] = defaultdict(int)
    for case in cases:
        p = by_priority[case["priority"]]
        p["cases"] += 1
        a = placed.get(case["id"])
        if a is None:
            reasons[unplaced.get(case["id"], "capacity")] += 1
            continue
        p["placed"] += 1
        wait = a["week"] - case.get("release_week", 0)
        waits.append(wait)
        kms.append(a["road_km"])
        if case["priority"] == "child":
            for limit in CHILD_WEEKS:
                child_fast[limit] += a["week"] < limit
    return {
        "cases": len(cases), "placed": sum(p["placed"] for p in by_priority.values()),
        "by_priority": by_priority,
        "children_within_4_weeks": child_fast[4], "children_within_12_weeks": child_fast[12],
        "wait_weeks_median": _percentile(waits, 50), "wait_weeks_p90": _percentile(waits, 90),
        "road_km_median": _percentile(kms, 50), "road_km_p90": _percentile(kms, 90),
        "share_over_200_km": round(sum(k > FAR_KM for k in kms) / len(kms), 4) if kms else None,
        "unplaced_by_reason": dict(sorted(reasons.items())),
    }


def _offered(facility: dict, horizon: int) -> int:
    total = 0
    for value in facility.get("capacity", {}).values():
        total += sum(value) if isinstance(value, list) else value * horizon
    return total


def compute(instance: dict, solution: dict, case_district: dict[str, str | None],
            facility_district: dict[str, str | None]) -> dict:
    """KPIs of one solved instance. ``case_district`` / ``facility_district`` map the instance's
    case and facility ids to district codes (None: unknown)."""
    horizon = instance["horizon_weeks"]
    placed = {a["case"]: a for a in solution.get("assignments", [])}
    unplaced = {u["case"]: u["reason"] for u in solution.get("unassigned", [])}
    facilities = {f["id"]: f for f in instance["facilities"]}
    used: dict[str, int] = defaultdict(int)
    for a in placed.values():
        used[a["facility"]] += 1
    utilisation: dict[str, dict[str, dict]] = {"tier": {}, "district": {}}
    for key, group_of in (("tier", lambda f: f["tier"]),
                          ("district", lambda f: facility_district.get(f["id"]))):
        sums: dict = defaultdict(lambda: [0, 0])
        for f in facilities.values():
            s = sums[group_of(f)]
            s[0] += used.get(f["id"], 0)
            s[1] += _offered(f, horizon)
        utilisation[key] = {str(k): {"used": u, "offered": o,
                                     "share": round(u / o, 4) if o else None}
                            for k, (u, o) in sorted(sums.items(), key=lambda kv: str(kv[0]))}
    for tier in TIERS:
        utilisation["tier"].setdefault(tier, {"used": 0, "offered": 0, "share": None})
    by_district: dict[str | None, list[dict]] = defaultdict(list)
    for case in instance["cases"]:
        by_district[case_district.get(case["id"])].append(case)
    unmet: dict[str, int] = defaultdict(int)
    for case in instance["cases"]:
        if case["id"] not in placed:
            unmet[str(case_district.get(case["id"]))] += 1
    return {
        "objective": solution.get("objective"),
        "status": solution.get("status"),
        **_case_figures(instance["cases"], placed, unplaced),
        "utilisation": utilisation,
        # for the map: intakes used / offered per facility (those offering any), unplaced cases
        # per district of home
        "facility_load": {f["id"]: {"used": used.get(f["id"], 0), "offered": _offered(f, horizon)}
                          for f in facilities.values() if _offered(f, horizon)},
        "unplaced_by_district": dict(sorted(unmet.items())),
        "districts": {str(d): _case_figures(cs, placed, unplaced)
                      for d, cs in sorted(by_district.items(), key=lambda kv: str(kv[0]))},
    }


def deltas(base: dict, other: dict) -> dict:
    """other - base for every number the two KPI dicts share (nested), for the comparison."""
    out = {}
    for key, value in other.items():
        b = base.get(key)
        if isinstance(value, dict) and isinstance(b, dict):
            out[key] = deltas(b, value)
        elif isinstance(value, int | float) and isinstance(b, int | float) \
                and not isinstance(value, bool):
            out[key] = round(value - b, 4)
    return out


def for_districts(figures: dict | None, codes: set[str] | None) -> dict | None:
    """The figures a planner of the districts ``codes`` sees (None: a network-wide planner, who
    sees them all): the rows of those districts only, and no network-level total (cases, placed,
    objective, utilisation by tier, facility loads, a scale-up's ranking), which would tell of
    the other districts."""
    if codes is None or not figures:
        return figures

    def mine(rows):
        return {k: v for k, v in (rows or {}).items() if k in codes}

    return {"status": figures.get("status"),
            "districts": mine(figures.get("districts")),
            "unplaced_by_district": mine(figures.get("unplaced_by_district")),
            "utilisation": {"district": mine((figures.get("utilisation") or {})
                                             .get("district"))}}
