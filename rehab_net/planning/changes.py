"""A scenario's changes applied to an optimiser instance: pure, on the contract's dicts, never on
the database. The live network stays as it is; the scenario is the instance built from it with
these edits, so its result is reproducible from the stored instance.

A change is a dict with a ``kind``:
- ``capacity``: {facility, service, from_week, to_week, delta | set} intakes per week;
- ``open_facility``: {code, tier, lat, lon, capacity: {service: intakes per week}};
- ``close_facility``: {facility};
- ``outreach``: {facility, service, week, places}: extra intakes in one week (a visiting day);
- ``demand``: {percent | count, district?, category?, priority?}: more (or fewer) cases like the
  matching ones (copies of the first matching cases by id; a negative number drops them);
- ``policy``: {values: {...}}: policy weights for this scenario.
"""
from __future__ import annotations

import copy
import math

KINDS = ("capacity", "open_facility", "close_facility", "outreach", "demand", "policy")


class ChangeError(ValueError):
    """A change names something the instance does not have, or breaks a rule."""

    def __init__(self, index: int, field: str, rule: str):
        super().__init__(f"changes[{index}].{field}: {rule}")
        self.index, self.field, self.rule = index, field, rule


def weeks(facility: dict, service: str, horizon: int) -> list[int]:
    """A facility's intakes of ``service`` in each week of the horizon."""
    value = facility.setdefault("capacity", {}).get(service, 0)
    return list(value) if isinstance(value, list) else [value] * horizon


def _facility(by_id: dict, i: int, code: str) -> dict:
    if code not in by_id:
        raise ChangeError(i, "facility", f"{code} is not in the network")
    return by_id[code]


def apply(instance: dict, changes: list[dict], case_attrs: dict[str, dict]
          ) -> tuple[dict, dict[str, dict]]:
    """The changed instance and the attributes (district, category) of its cases, new copies
    included. ``instance`` and ``case_attrs`` are not modified."""
    out = copy.deepcopy(instance)
    attrs = dict(case_attrs)
    horizon = out["horizon_weeks"]
    by_id = {f["id"]: f for f in out["facilities"]}
    for i, change in enumerate(changes):
        kind = change.get("kind")
        if kind == "capacity":
            f = _facility(by_id, i, change["facility"])
            intakes = weeks(f, change["service"], horizon)
            lo, hi = change.get("from_week", 0), change.get("to_week", horizon - 1)
            if not 0 <= lo <= hi < horizon:
                raise ChangeError(i, "from_week", f"weeks must lie in 0..{horizon - 1}")
            for w in range(lo, hi + 1):
                intakes[w] = (change["set"] if "set" in change
                              else max(0, intakes[w] + change["delta"]))
            f["capacity"][change["service"]] = intakes
        elif kind == "open_facility":
            if change["code"] in by_id:
                raise ChangeError(i, "code", f"{change['code']} exists already")
            new = {"id": change["code"], "tier": change["tier"], "lat": change["lat"],
                   "lon": change["lon"], "capacity": dict(change.get("capacity", {}))}
            out["facilities"].append(new)
            by_id[new["id"]] = new
        elif kind == "close_facility":
            _facility(by_id, i, change["facility"])["capacity"] = {}
        elif kind == "outreach":
            f = _facility(by_id, i, change["facility"])
            intakes = weeks(f, change["service"], horizon)
            if not 0 <= change["week"] < horizon:
                raise ChangeError(i, "week", f"must lie in 0..{horizon - 1}")
            intakes[change["week"]] += change["places"]
            f["capacity"][change["service"]] = intakes
        elif kind == "demand":
            _demand(out, attrs, change, i)
        elif kind == "policy":  # the nested weight tables merge key by key
            for key, value in change.get("values", {}).items():
                out["policy"][key] = ({**out["policy"].get(key, {}), **value}
                                      if isinstance(value, dict) else value)
        else:
            raise ChangeError(i, "kind", f"must be one of {', '.join(KINDS)}")
    # Cases whose current place is at a closed facility lose it (they must be placed anew).
    for case in out["cases"]:
        current = case.get("current")
        if current and not by_id.get(current["facility"], {}).get("capacity"):
            case["current"] = None
    return out, attrs


def _matches(case: dict, attrs: dict, change: dict) -> bool:
    a = attrs.get(case["id"], {})
    return all(change.get(k) in (None, v) for k, v in (
        ("district", a.get("district")), ("category", a.get("category")),
        ("priority", case["priority"])))


def _demand(out: dict, attrs: dict, change: dict, i: int) -> None:
    matching = sorted((c for c in out["cases"] if _matches(c, attrs, change)),
                      key=lambda c: c["id"])
    if "percent" in change:
        n = math.floor(len(matching) * change["percent"] / 100 + 0.5) if change["percent"] >= 0 \
            else -math.floor(len(matching) * -change["percent"] / 100 + 0.5)
    else:
        n = change.get("count", 0)
    if n < 0:
        drop = {c["id"] for c in matching[:-n]}
        out["cases"] = [c for c in out["cases"] if c["id"] not in drop]
        return
    if n and not matching:
        raise ChangeError(i, "district", "no case matches: nothing to grow from")
    for k in range(n):
        source = matching[k % len(matching)]
        copy_ = {**copy.deepcopy(source), "id": f"{source['id']}+{k // len(matching) + 1}",
                 "current": None}
        out["cases"].append(copy_)
        attrs[copy_["id"]] = attrs.get(source["id"], {})
