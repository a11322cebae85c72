"""Reading and writing the optimiser's files: the instance and solution JSON of
../shared/SOLVER_FORMAT.md (version 1).

An instance is validated completely before anything is built, and every problem is collected as
`<json path>: <rule>` and reported at once (InstanceError): whoever prepared the file wants to fix
them all in one go. A 1,000,000-case file is validated column by column: each field of all cases is
gathered into one list and checked in bulk (the set of value types, numpy range tests). Only values
the bulk check does not accept are looked at one by one, by the per-value rules below, which are the
only place a rule is worded. The happy path is thus a few C-level passes per field, with no Python
branching per case.

Writing builds the JSON text directly, one array element per line (greppable, diffable), into a
temporary file that then replaces the target, so a crash never leaves half a file behind."""
from __future__ import annotations

import json
import math
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from itertools import islice, repeat
from operator import is_not, itemgetter
from pathlib import Path

import numpy as np

from solver.instance import (
    FORMAT_INSTANCE,
    FORMAT_SOLUTION,
    NO_DEADLINE,
    NO_FACILITY,
    PRIORITIES,
    REASONS,
    TIERS,
    Cases,
    Facilities,
    Instance,
    Policy,
    Solution,
)
from solver.limits import (
    COST_HEADROOM,
    MAX_AMOUNT,
    case_cost_terms,
    cost_multiplier,
    fits,
    largest_case_cost,
    network_nodes,
)

try:  # Optional: about 10x faster to write and 25% faster to read than the json module.
    import orjson
except ImportError:  # pragma: no cover - the json module gives the same documents
    orjson = None

INT32_MAX = int(np.iinfo(np.int32).max)  # weeks and capacities are stored as int32
MAX_HORIZON = 520

TOP_KEYS = ("format", "name", "horizon_weeks", "policy", "facilities", "cases")
POLICY_KEYS = ("priority_weights", "wait_cost_per_week", "travel_cost_per_km", "road_factor",
               "unassigned_cost", "tier_cost", "reassign_cost")
FACILITY_KEYS = ("id", "tier", "lat", "lon", "capacity")
CASE_KEYS = ("id", "service", "priority", "lat", "lon", "release_week", "deadline_week",
             "max_travel_km", "current")
CURRENT_KEYS = ("facility", "week")

_PRIORITY_INDEX = {p: i for i, p in enumerate(PRIORITIES)}
_TIER_INDEX = {t: i for i, t in enumerate(TIERS)}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class InstanceError(Exception):
    """An instance file that breaks the contract; `problems` lists every `<json path>: <rule>`."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{self.problems[0] if self.problems else 'invalid instance'}{more}")


class _Sentinel:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


# An absent required key: bulk type checks see it as one more wrong type, the rules say "required".
_MISSING = _Sentinel("<missing>")
# A field of a case that is not an object at all: that case has one problem, not one per field.
_SKIP = _Sentinel("<skip>")


def _member(base: str, key) -> str:
    """The JSON path of `key` inside `base`: a.b for plain names, a["odd key"] otherwise."""
    if isinstance(key, str) and _IDENTIFIER.match(key):
        return f"{base}.{key}" if base else key
    return f"{base}[{json.dumps(key, ensure_ascii=False)}]"


def _quote(value) -> str:
    return json.dumps(value, ensure_ascii=False)


class _Problems:
    """Problems with a sort key each, so they come out in document order whatever order the
    column-wise checks found them in."""

    def __init__(self):
        self._items: list[tuple[tuple, str]] = []

    def add(self, key: tuple, path: str, rule: str) -> None:
        self._items.append((key, f"{path}: {rule}"))

    def __bool__(self) -> bool:
        return bool(self._items)

    def texts(self) -> list[str]:
        return [text for _, text in sorted(self._items, key=lambda item: item[0])]


# --- the rules for one value: (converted value, None) or (None, the rule it breaks) -----------

def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _integer(value, lo: int, hi: int, rule: str, over: str | None = None):
    """An integer in lo..hi; integral floats such as 3.0 count (some JSON writers emit them).
    Returns (the int, None) or (None, the rule broken); `over` words a value above hi."""
    if value is _MISSING:
        return None, "required"
    if not _is_number(value) or (isinstance(value, float) and not value.is_integer()):
        return None, rule
    number = int(value)
    if number < lo:
        return None, rule
    if number > hi:
        return None, over or f"must be at most {hi}"
    return number, None


def _number(value, lo: float, hi: float, rule: str, *, type_rule: str | None = None,
            above_lo: bool = False, over: str | None = None):
    """A finite number in lo..hi (lo < x when above_lo); booleans are not numbers. `rule` words a
    value out of range, `type_rule` (default: `rule`) a value that is not a number, `over`
    (default: `rule`) a value above hi."""
    if value is _MISSING:
        return None, "required"
    if not _is_number(value):
        return None, type_rule or rule
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a double
        return None, over or rule
    if not math.isfinite(number):
        return None, "must be a finite number"
    if number < lo or (above_lo and number == lo):
        return None, rule
    if number > hi:
        return None, over or rule
    return number, None


# Every policy number enters the objective: at most limits.MAX_AMOUNT (2^53), see there why.
_OVER_AMOUNT = (f"must be at most {MAX_AMOUNT:.0f} (2^53: a larger amount cannot become an "
                "exact integer cost)")


def _amount(value, rule: str = "must be a number >= 0", *, above_lo: bool = False):
    return _number(value, 0.0, MAX_AMOUNT, rule, above_lo=above_lo, over=_OVER_AMOUNT)


def _text(value, rule: str = "must be a non-empty string"):
    if value is _MISSING:
        return None, "required"
    if not isinstance(value, str) or not value:
        return None, rule
    return value, None


def _choice(value, index: dict[str, int], names: tuple[str, ...]):
    if value is _MISSING:
        return None, "required"
    if isinstance(value, str) and value in index:
        return index[value], None
    return None, "must be one of " + ", ".join(names)


def _lat(value):
    return _number(value, -90.0, 90.0, "must be between -90 and 90", type_rule="must be a number")


def _lon(value):
    return _number(value, -180.0, 180.0, "must be between -180 and 180",
                   type_rule="must be a number")


def _week_or_null(value):
    if value is None:
        return NO_DEADLINE, None
    return _integer(value, 0, INT32_MAX, "must be an integer >= 0 or null")


def _km_or_null(value):
    if value is None:
        return math.inf, None
    return _number(value, 0.0, math.inf, "must be a number >= 0 or null")


def _release(value):
    return _integer(value, 0, INT32_MAX, "must be an integer >= 0")


def _unknown_keys(obj: dict, known: tuple[str, ...], path: str, key: tuple, out: _Problems):
    for k in obj:
        if k not in known:
            out.add(key + (len(known),), _member(path, k), "unknown key")


# --- reading -------------------------------------------------------------------------------------

def read_instance(path) -> Instance:
    """Read and validate an instance file. Raises OSError when it cannot be read, and InstanceError
    when it breaks the contract (a file that is not UTF-8 JSON: with the line and column)."""
    path = Path(path)
    raw = path.read_bytes()
    data = _loads(raw, path)
    del raw  # the text is as large as the file; the parsed tree is all we need from here on
    return _parse(data, consume=True)


def parse_instance(data: dict) -> Instance:
    """Validate an instance document (as parsed from JSON) and build its column arrays.
    Raises InstanceError listing every problem."""
    return _parse(data, consume=False)


def _loads(raw: bytes, path: Path):
    try:
        if orjson is not None:
            return orjson.loads(raw)
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line, column = _line_column(raw, exc.start)
        raise InstanceError([f"{path}:{line}:{column}: not UTF-8 text"]) from None
    except json.JSONDecodeError as exc:  # orjson's error is a subclass
        if "UTF-8" in exc.msg:  # orjson does not say where; decoding does
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as utf:
                line, column = _line_column(raw, utf.start)
                raise InstanceError([f"{path}:{line}:{column}: not UTF-8 text"]) from None
        if orjson is not None:
            # The json module also reads the tokens NaN and Infinity (and integers beyond 64
            # bits), which orjson refuses without saying which value; parsed, the validation
            # names their JSON path and the rule.
            try:
                return json.loads(raw.decode("utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError):
                pass
        raise InstanceError([f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"]) \
            from None


def _line_column(raw: bytes, offset: int) -> tuple[int, int]:
    line = raw.count(b"\n", 0, offset) + 1
    return line, offset - (raw.rfind(b"\n", 0, offset) + 1) + 1


def _parse(data, consume: bool) -> Instance:
    """`consume` lets the parser drop the case objects from `data` once their columns are taken,
    which frees most of a large document's memory early (only for documents it owns)."""
    out = _Problems()
    if not isinstance(data, dict):
        raise InstanceError(["instance: must be a JSON object"])
    _unknown_keys(data, TOP_KEYS, "", (0,), out)

    fmt = data.get("format", _MISSING)
    if fmt is _MISSING:
        out.add((0, 0), "format", "required")
    elif fmt != FORMAT_INSTANCE:
        out.add((0, 0), "format", f'must be "{FORMAT_INSTANCE}"')
    name, rule = _text(data.get("name", _MISSING))
    if rule:
        out.add((0, 1), "name", rule)
    between = f"must be an integer between 1 and {MAX_HORIZON}"
    horizon, rule = _integer(data.get("horizon_weeks", _MISSING), 1, MAX_HORIZON, between, between)
    if rule:
        out.add((0, 2), "horizon_weeks", rule)

    policy = _parse_policy(data.get("policy", {}), out)
    facilities = _parse_facilities(data.get("facilities", _MISSING), horizon, out)
    raw_cases = data.get("cases", _MISSING)
    if consume and "cases" in data:
        data["cases"] = None
    cases = _parse_cases(raw_cases, horizon, facilities, out, consume)
    del raw_cases

    if out:
        raise InstanceError(out.texts())
    services = sorted(set(facilities.services) | cases.services)
    instance = Instance(name=name, horizon_weeks=horizon, policy=policy, services=services,
                        facilities=facilities.build(services, horizon),
                        cases=cases.build(services))
    _check_cost_range(instance)
    return instance


def _check_cost_range(instance: Instance) -> None:
    """Each number may be fine and their combination not: the largest cost of one case times the
    size of the network must fit OR-Tools' int64 costs at scale 1 (limits.py). Names the input
    that contributes most."""
    policy, horizon = instance.policy, instance.horizon_weeks
    cases = len(instance.cases)
    nodes = network_nodes(cases, instance.facilities.capacity)
    multiplier = cost_multiplier(cases, nodes)
    max_cost = largest_case_cost(policy, horizon)
    if fits(max_cost, 1, multiplier):
        return
    path, _ = max(case_cost_terms(policy, horizon), key=itemgetter(1))
    raise InstanceError([
        f"{path}: too large for this instance: a case can cost up to {max_cost:.6g}, and with "
        f"{cases} cases and up to {nodes} network nodes the optimiser's 64-bit integer costs "
        f"allow at most {COST_HEADROOM / multiplier:.6g}"])


def _parse_policy(policy, out: _Problems) -> Policy | None:
    key = (1,)
    if not isinstance(policy, dict):
        out.add(key, "policy", "must be an object")
        return None
    _unknown_keys(policy, POLICY_KEYS, "policy", key, out)
    values = {}
    for n, name in enumerate(POLICY_KEYS):
        if name not in policy:
            continue
        path = f"policy.{name}"
        value = policy[name]
        if name in ("priority_weights", "tier_cost"):
            names = PRIORITIES if name == "priority_weights" else TIERS
            if not isinstance(value, dict):
                out.add(key + (n,), path, "must be an object")
                continue
            _unknown_keys(value, names, path, key + (n,), out)
            values[name] = {}
            for m, sub in enumerate(names):
                if sub in value:
                    number, rule = _amount(value[sub])
                    if rule:
                        out.add(key + (n, m), f"{path}.{sub}", rule)
                    values[name][sub] = number
        elif name == "road_factor":
            values[name], rule = _amount(value, "must be a number > 0", above_lo=True)
            if rule:
                out.add(key + (n,), path, rule)
        else:
            values[name], rule = _amount(value)
            if rule:
                out.add(key + (n,), path, rule)
    return None if out else Policy.from_mapping(values)


class _FacilityColumns:
    """Validated facilities, kept as lists until the service list (it needs the cases) is known."""

    def __init__(self):
        self.ids: list[str] = []
        self.index: dict[str, int] = {}  # id -> first position, for references from cases
        self.tier: list[int] = []
        self.lat: list[float] = []
        self.lon: list[float] = []
        self.capacity: list[dict[str, list[int] | int]] = []
        self.services: set[str] = set()
        self.listed = True  # False when `facilities` itself is unusable: references go unchecked

    def build(self, services: list[str], horizon: int) -> Facilities:
        column = {s: i for i, s in enumerate(services)}
        capacity = np.zeros((len(self.ids), len(services), horizon), dtype=np.int32)
        for j, caps in enumerate(self.capacity):
            for service, weekly in caps.items():
                capacity[j, column[service], :] = weekly
        return Facilities(ids=self.ids, tier=np.array(self.tier, dtype=np.int8),
                          lat=np.array(self.lat, dtype=np.float64),
                          lon=np.array(self.lon, dtype=np.float64), capacity=capacity)


def _parse_facilities(items, horizon: int | None, out: _Problems) -> _FacilityColumns:
    result = _FacilityColumns()
    if items is _MISSING or not isinstance(items, list):
        out.add((2,), "facilities", "required" if items is _MISSING else "must be a list")
        result.listed = False
        return result
    for j, item in enumerate(items):
        path, key = f"facilities[{j}]", (2, j)
        if not isinstance(item, dict):
            out.add(key, path, "must be an object")
            continue
        _unknown_keys(item, FACILITY_KEYS, path, key, out)
        checks = (("id", _text), ("tier", lambda v: _choice(v, _TIER_INDEX, TIERS)),
                  ("lat", _lat), ("lon", _lon))
        values = []
        for n, (field, check) in enumerate(checks):
            value, rule = check(item.get(field, _MISSING))
            if rule:
                out.add(key + (n,), f"{path}.{field}", rule)
            values.append(value)
        fid, tier, lat, lon = values
        if fid is not None:
            if fid in result.index:
                out.add(key + (0,), f"{path}.id",
                        f"duplicate id {_quote(fid)} (first at facilities[{result.index[fid]}])")
            else:
                result.index[fid] = j
        caps = _parse_capacity(item.get("capacity", _MISSING), horizon, f"{path}.capacity",
                               key + (4,), out)
        result.services.update(caps)
        result.ids.append(fid)
        result.tier.append(tier)
        result.lat.append(lat)
        result.lon.append(lon)
        result.capacity.append(caps)
    return result


def _parse_capacity(caps, horizon: int | None, path: str, key: tuple, out: _Problems) -> dict:
    if caps is _MISSING:
        out.add(key, path, "required")
        return {}
    if not isinstance(caps, dict):
        out.add(key, path, "must be an object")
        return {}
    result = {}
    rule = "must be an integer >= 0 or a list of weekly integers >= 0"
    for k, (service, weekly) in enumerate(caps.items()):
        if not service:
            out.add(key + (k,), _member(path, service), "service names must be non-empty strings")
            continue
        if type(weekly) is int and 0 <= weekly <= INT32_MAX:  # the common case, quickly
            result[service] = weekly
        elif isinstance(weekly, list):
            if horizon is not None and len(weekly) != horizon:
                out.add(key + (k,), _member(path, service),
                        f"expected {horizon} weekly values, got {len(weekly)}")
                continue
            if set(map(type, weekly)) == {int} and 0 <= min(weekly) and max(weekly) <= INT32_MAX:
                result[service] = weekly
                continue
            values = []
            for t, value in enumerate(weekly):
                number, problem = _integer(value, 0, INT32_MAX, "must be an integer >= 0")
                if problem:
                    out.add(key + (k, t), f"{_member(path, service)}[{t}]", problem)
                values.append(number)
            result[service] = values
        else:
            number, problem = _integer(weekly, 0, INT32_MAX, rule)
            if problem:
                out.add(key + (k,), _member(path, service), problem)
            result[service] = number
    return result


class _CaseColumns:
    def __init__(self, n: int):
        self.ids: list = []
        self.service_names: list = []
        self.services: set[str] = set()
        self.priority = np.zeros(n, dtype=np.int8)
        self.lat = np.zeros(n)
        self.lon = np.zeros(n)
        self.release = np.zeros(n, dtype=np.int32)
        self.deadline = np.full(n, NO_DEADLINE, dtype=np.int32)
        self.max_travel_km = np.full(n, math.inf)
        self.current_facility = np.full(n, NO_FACILITY, dtype=np.int32)
        self.current_week = np.zeros(n, dtype=np.int32)

    def build(self, services: list[str]) -> Cases:
        index = {s: i for i, s in enumerate(services)}
        service = np.fromiter(map(index.__getitem__, self.service_names), dtype=np.int32,
                              count=len(self.service_names))
        self.service_names = []
        return Cases(ids=self.ids, service=service, priority=self.priority, lat=self.lat,
                     lon=self.lon, release=self.release, deadline=self.deadline,
                     max_travel_km=self.max_travel_km, current_facility=self.current_facility,
                     current_week=self.current_week)


def _parse_cases(items, horizon: int | None, facilities: _FacilityColumns, out: _Problems,
                 consume: bool) -> _CaseColumns:
    if items is _MISSING:
        out.add((3,), "cases", "required")
        return _CaseColumns(0)
    if not isinstance(items, list):
        out.add((3,), "cases", "must be a list")
        return _CaseColumns(0)
    n = len(items)
    result = _CaseColumns(n)
    columns = _case_columns(items, out)
    if consume:
        items.clear()  # the columns hold the values; the n dicts themselves can go
    del items

    def report(field: int, problems: list[tuple[int, str]]) -> None:
        for i, rule in problems:
            out.add((3, i, field), f"cases[{i}].{CASE_KEYS[field]}", rule)

    ids = columns.pop(0)
    report(0, _check_strings(ids))
    _check_unique(ids, out)
    result.ids = ids

    names = columns.pop(0)
    bad_names = _check_strings(names)
    report(1, bad_names)
    result.service_names = names
    result.services = set(names) if not bad_names else {
        s for s in names if isinstance(s, str) and s}

    report(2, _fill(result.priority, columns.pop(0), _fast_priority,
                    lambda v: _choice(v, _PRIORITY_INDEX, PRIORITIES)))
    report(3, _fill(result.lat, columns.pop(0), _fast_range(-90.0, 90.0), _lat))
    report(4, _fill(result.lon, columns.pop(0), _fast_range(-180.0, 180.0), _lon))
    report(5, _fill(result.release, columns.pop(0), _fast_int, _release))
    report(6, _fill(result.deadline, columns.pop(0), _fast_int_or_null, _week_or_null))
    report(7, _fill(result.max_travel_km, columns.pop(0), _fast_km_or_null, _km_or_null))
    _parse_current(columns.pop(0), horizon, facilities, result, out)
    return result


def _case_columns(items: list, out: _Problems) -> list[list]:
    """One list per CASE_KEYS field (absent required keys as _MISSING, absent optional ones as their
    default, every field of a case that is not an object as _SKIP), reporting cases that are not
    objects and unknown keys."""
    if set(map(type, items)) <= {dict}:
        try:  # The files we write carry every key: a C-level pass per key takes them all.
            columns = [list(map(itemgetter(field), items)) for field in CASE_KEYS]
        except KeyError:
            columns = None
        if columns is not None:
            if set(map(len, items)) - {len(CASE_KEYS)}:
                _report_unknown_case_keys(items, out)
            return columns
    objects = []
    for i, item in enumerate(items):
        if type(item) is dict:
            objects.append(item)
        else:
            out.add((3, i), f"cases[{i}]", "must be an object")
            objects.append(None)
    _report_unknown_case_keys([o if o is not None else {} for o in objects], out)
    defaults = {"release_week": 0, "deadline_week": None, "max_travel_km": None, "current": None}
    return [[_SKIP if item is None else item.get(field, defaults.get(field, _MISSING))
             for item in objects] for field in CASE_KEYS]


def _report_unknown_case_keys(items: list[dict], out: _Problems) -> None:
    known = frozenset(CASE_KEYS)
    for i, ok in enumerate(map(known.issuperset, items)):
        if not ok:
            _unknown_keys(items[i], CASE_KEYS, f"cases[{i}]", (3, i), out)


def _check_strings(values: list) -> list[tuple[int, str]]:
    if set(map(type, values)) <= {str} and "" not in values:
        return []
    problems = []
    for i, value in enumerate(values):
        if value is _SKIP:
            continue
        _, rule = _text(value)
        if rule:
            problems.append((i, rule))
    return problems


def _check_unique(ids: list, out: _Problems) -> None:
    comparable = ids
    if not set(map(type, ids)) <= {str}:  # bad ids are reported already; compare the others
        comparable = [v for v in ids if isinstance(v, str)]
    if len(set(comparable)) == len(comparable):
        return
    first: dict[str, int] = {}
    for i, value in enumerate(ids):
        if not isinstance(value, str) or not value:
            continue
        if value in first:
            out.add((3, i, 0), f"cases[{i}].id",
                    f"duplicate id {_quote(value)} (first at cases[{first[value]}])")
        else:
            first[value] = i


# Bulk checks: each returns (converted array, mask of the values it accepts), or None when the
# column cannot be converted in bulk. They may reject a good value (the per-value rule then accepts
# it) but must never accept a bad one.
_Fast = Callable[[list], "tuple[np.ndarray, np.ndarray] | None"]


def _fill(target: np.ndarray, values: list, fast: _Fast, slow) -> list[tuple[int, str]]:
    """Convert `values` into `target` in place; returns [(index, rule)] for bad values."""
    converted = None
    if values:
        try:
            converted = fast(values)
        except (OverflowError, TypeError, ValueError):
            converted = None
    if converted is None:
        suspects = range(len(values))
    else:
        array, ok = converted
        if ok.all():
            target[:] = array
            return []
        target[ok] = array[ok]
        suspects = np.flatnonzero(~ok).tolist()
    problems = []
    for i in suspects:
        value = values[i]
        if value is _SKIP:
            continue
        number, rule = slow(value)
        if rule:
            problems.append((i, rule))
        else:
            target[i] = number
    return problems


def _fast_priority(values: list):
    array = np.fromiter(map(_PRIORITY_INDEX.get, values, repeat(-1)), dtype=np.int8,
                        count=len(values))
    return array, array >= 0


def _fast_range(lo: float, hi: float) -> _Fast:
    def fast(values: list):
        if not set(map(type, values)) <= {int, float}:
            return None
        array = np.array(values, dtype=np.float64)
        return array, (array >= lo) & (array <= hi)  # NaN fails both comparisons
    return fast


def _fast_int(values: list):
    if set(map(type, values)) != {int}:
        return None
    array = np.array(values, dtype=np.int64)
    return array, (array >= 0) & (array <= INT32_MAX)


def _fast_int_or_null(values: list):
    types = set(map(type, values))
    if not types <= {int, type(None)}:
        return None
    if type(None) in types:
        values = [NO_DEADLINE if v is None else v for v in values]
    array = np.array(values, dtype=np.int64)
    return array, (array >= 0) & (array <= INT32_MAX)


def _fast_km_or_null(values: list):
    if not set(map(type, values)) <= {int, float, type(None)}:
        return None
    array = np.array(values, dtype=np.float64)  # None becomes NaN
    nulls = np.isnan(array)
    if int(nulls.sum()) != values.count(None):  # a real NaN among them: let the rule word it
        return None
    ok = nulls | ((array >= 0) & np.isfinite(array))
    array[nulls] = math.inf
    return array, ok


def _parse_current(values: list, horizon: int | None, facilities: _FacilityColumns,
                   result: _CaseColumns, out: _Problems) -> None:
    index = facilities.index
    field = CASE_KEYS.index("current")
    # Few cases hold a place: find them in one C-level pass rather than a Python loop over all.
    held = np.fromiter(map(is_not, values, repeat(None)), dtype=bool, count=len(values))
    for i in np.flatnonzero(held).tolist():
        value = values[i]
        if value is _SKIP:
            continue
        path, key = f"cases[{i}].current", (3, i, field)
        if not isinstance(value, dict):
            out.add(key, path, 'must be null or an object {"facility": id, "week": week}')
            continue
        _unknown_keys(value, CURRENT_KEYS, path, key, out)
        fid, rule = _text(value.get("facility", _MISSING))
        if rule:
            out.add(key + (0,), f"{path}.facility", rule)
        elif fid not in index:
            if facilities.listed:
                out.add(key + (0,), f"{path}.facility", f"unknown facility {_quote(fid)}")
        else:
            result.current_facility[i] = index[fid]
        if horizon is None:  # already reported; check what can be checked
            week, rule = _integer(value.get("week", _MISSING), 0, INT32_MAX,
                                  "must be an integer >= 0")
        else:
            between = f"must be an integer between 0 and {horizon - 1}"
            week, rule = _integer(value.get("week", _MISSING), 0, horizon - 1, between, between)
        if rule:
            out.add(key + (1,), f"{path}.week", rule)
        else:
            result.current_week[i] = week


# --- writing -------------------------------------------------------------------------------------

def instance_to_dict(instance: Instance) -> dict:
    """The instance as a contract document; parse_instance() of it gives an equal instance."""
    document = instance_to_dict_head(instance)
    document["cases"] = list(_case_dicts(instance))
    return document


def instance_to_dict_head(instance: Instance) -> dict:
    """Everything but the cases (which write_instance streams)."""
    f, c, horizon = instance.facilities, instance.cases, instance.horizon_weeks
    services = instance.services
    # A service that no case asks for and no facility offers would vanish from `services`; one
    # explicit zero keeps the round trip exact.
    used = np.zeros(len(services), dtype=bool)
    used[np.unique(c.service)] = True
    used |= (f.capacity > 0).any(axis=(0, 2)) if len(f) else False
    facilities = []
    for j in range(len(f)):
        capacity = {}
        for s, name in enumerate(services):
            weekly = f.capacity[j, s]
            if weekly.any():
                constant = bool((weekly == weekly[0]).all())
                capacity[name] = int(weekly[0]) if constant else weekly.tolist()
            elif j == 0 and not used[s]:
                capacity[name] = 0
        facilities.append({"id": f.ids[j], "tier": TIERS[f.tier[j]], "lat": float(f.lat[j]),
                           "lon": float(f.lon[j]), "capacity": capacity})
    return {"format": FORMAT_INSTANCE, "name": instance.name, "horizon_weeks": horizon,
            "policy": instance.policy.to_mapping(), "facilities": facilities}


def _case_dicts(instance: Instance) -> Iterator[dict]:
    c, fids = instance.cases, instance.facilities.ids
    services = [instance.services[s] for s in range(len(instance.services))]
    deadline = [None if d == NO_DEADLINE else d for d in c.deadline.tolist()]
    travel = [None if math.isinf(k) else k for k in c.max_travel_km.tolist()]
    current = [None] * len(c)
    for i in np.flatnonzero(c.current_facility != NO_FACILITY).tolist():
        current[i] = {"facility": fids[c.current_facility[i]], "week": int(c.current_week[i])}
    columns = zip(c.ids, map(services.__getitem__, c.service.tolist()),
                  map(PRIORITIES.__getitem__, c.priority.tolist()), c.lat.tolist(),
                  c.lon.tolist(), c.release.tolist(), deadline, travel, current, strict=True)
    for cid, service, priority, lat, lon, release, deadline_week, km, place in columns:
        yield {"id": cid, "service": service, "priority": priority, "lat": lat, "lon": lon,
               "release_week": release, "deadline_week": deadline_week, "max_travel_km": km,
               "current": place}


def write_instance(instance: Instance, path) -> None:
    """Write the instance as contract JSON, one facility and one case per line, atomically."""
    document = instance_to_dict_head(instance)
    head = {k: document[k] for k in ("format", "name", "horizon_weeks")}

    def parts() -> Iterator[bytes]:
        yield _object_open(head)
        yield b',\n"policy":'
        yield _dumps(document["policy"])
        yield b',\n"facilities":'
        yield from _array(document["facilities"])
        yield b',\n"cases":'
        yield from _array(_case_dicts(instance))
        yield b"}\n"

    _write_atomic(path, parts())


def solution_to_dict(solution: Solution, instance: Instance) -> dict:
    """The solution as a contract document (stats last, as in the file)."""
    document = _solution_head(solution, instance)
    document["assignments"] = list(_assignment_rows(solution, instance))
    document["unassigned"] = list(_unassigned_rows(solution, instance))
    document["shadow_prices"] = list(_shadow_price_rows(solution, instance))
    document["stats"] = _plain(dict(solution.stats))
    return document


def write_solution(solution: Solution, instance: Instance, path,
                   finish_stats: Callable[[dict], dict] | None = None) -> None:
    """Write the solution as contract JSON, atomically. The same Solution gives the same bytes.
    `finish_stats`, when given, is called with the stats just before they are written (after the
    rest of the file), so a caller can include the time spent writing."""
    def parts() -> Iterator[bytes]:
        yield _object_open(_solution_head(solution, instance))
        yield b',\n"assignments":'
        yield from _array(_assignment_rows(solution, instance))
        yield b',\n"unassigned":'
        yield from _array(_unassigned_rows(solution, instance))
        yield b',\n"shadow_prices":'
        yield from _array(_shadow_price_rows(solution, instance))
        stats = dict(solution.stats)
        if finish_stats is not None:
            stats = finish_stats(stats)
        yield b',\n"stats":'
        yield _dumps(_plain(stats))
        yield b"}\n"

    _write_atomic(path, parts())


def read_solution(path) -> dict:
    """A solution file as a dict, after checking it is one (format rehab-net.solution/1)."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        document = orjson.loads(raw) if orjson is not None else json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a JSON document: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_SOLUTION:
        raise ValueError(f'{path}: format: must be "{FORMAT_SOLUTION}"')
    return document


def _solution_head(solution: Solution, instance: Instance) -> dict:
    def number(value):
        return None if value is None or not math.isfinite(value) else float(value)

    if solution.status != "error" and number(solution.objective) is None:
        # The contract requires an objective unless the status is error: such a file would fail
        # `check`, so it is not written at all.
        raise ValueError(f"a solution with status {solution.status} and objective "
                         f"{solution.objective} (only status error may lack one)")

    return {"format": FORMAT_SOLUTION, "instance": instance.name, "status": solution.status,
            "objective": number(solution.objective), "bound": number(solution.bound)}


def _assignment_rows(solution: Solution, instance: Instance) -> Iterator[dict]:
    idx = np.flatnonzero(solution.facility != NO_FACILITY)
    case_ids, facility_ids = instance.cases.ids, instance.facilities.ids
    road = np.round(solution.road_km[idx], 3).tolist()
    return ({"case": case_ids[i], "facility": facility_ids[f], "week": t, "road_km": km}
            for i, f, t, km in zip(idx.tolist(), solution.facility[idx].tolist(),
                                   solution.week[idx].tolist(), road, strict=True))


def _unassigned_rows(solution: Solution, instance: Instance) -> Iterator[dict]:
    idx = np.flatnonzero(solution.facility == NO_FACILITY)
    case_ids = instance.cases.ids
    codes = solution.reason[idx].tolist()
    unknown = sorted(set(codes) - set(REASONS))
    if unknown:
        raise ValueError(f"unassigned cases with reason codes {unknown} (expected {set(REASONS)})")
    return ({"case": case_ids[i], "reason": REASONS[r]}
            for i, r in zip(idx.tolist(), codes, strict=True))


def _shadow_price_rows(solution: Solution, instance: Instance) -> list[dict]:
    f_ids, services = instance.facilities.ids, instance.services
    prices = sorted((-float(v), int(f), int(s), int(t)) for f, s, t, v in solution.shadow_prices)
    return [{"facility": f_ids[f], "service": services[s], "week": t, "value": -v}
            for v, f, s, t in prices]


def _plain(value):
    """Stats as JSON-ready Python values: numpy scalars unwrapped, non-finite floats as null
    (the json module would write NaN, which is not JSON)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _dumps(value) -> bytes:
    if orjson is not None:
        return orjson.dumps(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def _object_open(head: dict) -> bytes:
    """`{"a":1,"b":2` - the start of an object whose remaining members follow."""
    return _dumps(head)[:-1]


def _array(rows: Iterable[dict], chunk: int = 50_000) -> Iterator[bytes]:
    """The pieces of a JSON array of objects with one element per line, encoded a chunk at a time
    (memory stays bounded whatever the length)."""
    rows = iter(rows)
    first = True
    yield b"["
    while batch := list(islice(rows, chunk)):
        yield (b"\n" if first else b",\n") + _lines(batch)
        first = False
    yield b"]" if first else b"\n]"


def _lines(batch: list[dict]) -> bytes:
    """The elements of `batch`, one per line. Encoding the whole list at once is several times
    faster than element by element; "},{" then separates elements, unless a string contains it
    (the count tells; our rows hold no lists of objects), in which case encode one by one."""
    text = _dumps(batch)[1:-1]
    if text.count(b"},{") == len(batch) - 1:
        return text.replace(b"},{", b"},\n{")
    return b",\n".join(_dumps(row) for row in batch)


def _write_atomic(path, parts: Iterable[bytes]) -> None:
    """Write to a new file beside the target, flush it to disk, then rename it over the target:
    readers see the old file or the whole new one, never a part."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # os.open with mode 0o666 lets the umask decide the permissions, as for any new file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            for part in parts:
                handle.write(part)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
