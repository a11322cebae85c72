"""The tables of a comparison of plans, built once for the page and for the downloads (CSV and
XLSX), so a file always holds the numbers the page shows; and a scenario's changes in words and as
CSV. Call inside a request: labels are in the page's language."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from rehab_net import spreadsheet
from rehab_net.i18n import local_name
from rehab_net.network.models import Facility, Region, Service
from rehab_net.planning import scenarios
from rehab_net.planning.models import Plan, Scenario
from rehab_net.vocab import PRIORITY_CLASSES, TIERS, label

TABLES = ("kpis", "districts", "facility_load")
UNKNOWN_DISTRICT = "None"  # how kpis.compute names the district of cases without one


# --- the comparison -----------------------------------------------------------------------------
@dataclass
class Row:
    """One figure of every compared plan: ``values`` in plan order, ``deltas`` against the first
    (None for the baseline itself, or when either value is missing)."""

    key: str
    label: str
    kind: str  # count, weeks, km, share, cost
    better: str | None  # "up", "down" or None (neither is better)
    values: list
    deltas: list = field(default_factory=list)


@dataclass
class Comparison:
    plans: list[dict]  # {id, name, label, status, horizon_weeks, plan}
    kpis: list[Row]
    district_metrics: list[tuple[str, str, str, str | None]]  # (key, label, kind, better)
    districts: list[dict]  # {code, name, lat, lon, rows: {metric: Row}}
    facilities: list[dict]  # {code, name, tier, lat, lon, new: [bool], closed: [bool], rows}

    @property
    def baseline(self) -> dict:
        return self.plans[0]


def _kpi_rows() -> list[tuple[str, str, str, str | None]]:
    rows = [("cases", _("Cases"), "count", None),
            ("placed", _("Cases placed"), "count", "up")]
    rows += [(f"by_priority.{p}.placed", _("Placed: %(group)s", group=label(p)), "count", "up")
             for p in PRIORITY_CLASSES]
    rows += [
        ("children_within_4_weeks", _("Children 0-6 placed to start within 4 weeks"), "count",
         "up"),
        ("children_within_12_weeks", _("Children 0-6 placed to start within 12 weeks"), "count",
         "up"),
        ("wait_weeks_median", _("Waiting weeks of those placed: median"), "weeks", "down"),
        ("wait_weeks_p90", _("Waiting weeks of those placed: 90th percentile"), "weeks", "down"),
        ("road_km_median", _("Road km of those placed: median"), "km", "down"),
        ("road_km_p90", _("Road km of those placed: 90th percentile"), "km", "down"),
        ("share_over_200_km", _("Share placed over 200 road km away"), "share", "down"),
        ("unplaced_by_reason.capacity", _("Unplaced: no free place"), "count", "down"),
        ("unplaced_by_reason.no_eligible_facility", _("Unplaced: no eligible facility"),
         "count", "down"),
    ]
    rows += [(f"utilisation.tier.{t}.share", _("Utilisation: %(tier)s", tier=label(t)), "share",
              None) for t in TIERS]
    rows.append(("objective", _("Objective (total cost; lower is better)"), "cost", "down"))
    return rows


def _district_metrics() -> list[tuple[str, str, str, str | None]]:
    return [("cases", _("Cases"), "count", None),
            ("placed", _("Placed"), "count", "up"),
            ("unplaced", _("Unplaced"), "count", "down"),
            ("children_within_4_weeks", _("Children 0-6 within 4 weeks"), "count", "up"),
            ("children_within_12_weeks", _("Children 0-6 within 12 weeks"), "count", "up"),
            ("wait_weeks_median", _("Median waiting weeks"), "weeks", "down"),
            ("road_km_median", _("Median road km"), "km", "down")]


def _get(data: dict | None, path: str):
    value = data
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    if value is None and path.startswith("unplaced_by_reason.") and data is not None:
        return 0  # kpis list only the reasons that occur
    return value


def _deltas(values: list) -> list:
    base = values[0]
    out = [None]
    for v in values[1:]:
        ok = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (v, base))
        out.append(round(v - base, 4) if ok else None)
    return out


def _row(key: str, text: str, kind: str, better: str | None, values: list) -> Row:
    return Row(key, text, kind, better, values, _deltas(values))


def _opened(plan: Plan) -> dict[str, dict]:
    return {c["code"]: c for c in (plan.parameters or {}).get("changes", [])
            if c.get("kind") == "open_facility"}


def _closed(plan: Plan) -> set[str]:
    return {c["facility"] for c in (plan.parameters or {}).get("changes", [])
            if c.get("kind") == "close_facility"}


def plan_label(plan: Plan) -> str:
    name = (plan.parameters or {}).get("scenario")
    return f"#{plan.id} {name}" if name else _("#%(id)d baseline", id=plan.id)


def build(session: Session, plans: list[Plan]) -> Comparison:
    """Everything the comparison page shows, from scenarios.compare (which refuses plans without
    results with an Invalid naming the field "plans")."""
    result = scenarios.compare(session, plans)
    entries = result["plans"]
    figures = [e["kpis"] for e in entries]
    info = [{"id": p.id, "name": (p.parameters or {}).get("scenario"), "label": plan_label(p),
             "status": p.status, "horizon_weeks": p.horizon_weeks, "plan": p} for p in plans]
    kpi_rows = [_row(key, text, kind, better, [_get(k, key) for k in figures])
                for key, text, kind, better in _kpi_rows()]

    metrics = _district_metrics()
    codes = sorted({c for k in figures for c in (*k.get("districts", {}),
                                                 *k.get("unplaced_by_district", {}))},
                   key=lambda c: (c == UNKNOWN_DISTRICT, c))
    regions = {r.code: r for r in session.scalars(
        select(Region).where(Region.code.in_([c for c in codes if c != UNKNOWN_DISTRICT])))}
    districts = []
    for code in codes:
        region = regions.get(code)
        rows = {}
        for key, text, kind, better in metrics:
            if key == "unplaced":
                values = [k.get("unplaced_by_district", {}).get(code, 0) for k in figures]
            else:
                values = [(k.get("districts", {}).get(code) or {}).get(
                    key, 0 if kind == "count" else None) for k in figures]
            rows[key] = _row(key, text, kind, better, values)
        districts.append({"code": code, "region": region,
                          "name": local_name(region) if region is not None
                          else _("Unknown district"),
                          "lat": region.lat if region is not None else None,
                          "lon": region.lon if region is not None else None, "rows": rows})

    load_codes = sorted({c for k in figures for c in k.get("facility_load", {})}
                        | {c for p in plans for c in _closed(p)})
    known = {f.code: f for f in session.scalars(select(Facility).where(
        Facility.code.in_(load_codes)))} if load_codes else {}
    opened = [_opened(p) for p in plans]
    closed = [_closed(p) for p in plans]
    facilities = []
    for code in load_codes:
        f = known.get(code)
        new = next((o[code] for o in opened if code in o), None)
        if f is None and new is None:
            continue  # neither live nor opened by these plans: nothing to place it by
        loads = [k.get("facility_load", {}).get(code) or {"used": 0, "offered": 0}
                 for k in figures]
        used = [x["used"] for x in loads]
        offered = [x["offered"] for x in loads]
        share = [round(u / o, 4) if o else None for u, o in zip(used, offered, strict=True)]
        facilities.append({
            "code": code, "facility": f,
            "name": local_name(f) if f is not None else _("New facility %(code)s", code=code),
            "tier": f.tier if f is not None else new["tier"],
            "lat": f.lat if f is not None else new["lat"],
            "lon": f.lon if f is not None else new["lon"],
            "new": [code in o and f is None for o in opened],
            "closed": [code in c for c in closed],
            "rows": {"used": _row("used", _("Intakes used"), "count", None, used),
                     "offered": _row("offered", _("Intakes offered"), "count", None, offered),
                     "share": _row("share", _("Load (used / offered)"), "share", None, share)}})
    return Comparison(info, kpi_rows, metrics, districts, facilities)


# --- tables for the files -----------------------------------------------------------------------
def _plan_headers(cmp: Comparison) -> list[str]:
    values = [p["label"] for p in cmp.plans]
    changes = [_("Change %(plan)s vs #%(base)d", plan=p["label"], base=cmp.baseline["id"])
               for p in cmp.plans[1:]]
    return values + changes


def _numbers(row: Row) -> list:
    return list(row.values) + list(row.deltas[1:])


def _table(cmp: Comparison, table: str) -> tuple[list[str], list[tuple[dict, Row]]]:
    """The identifying columns of a table and, per line, their cells and the figures' Row."""
    if table == "kpis":
        return [_("Key"), _("Figure")], [({"key": r.key, "figure": r.label}, r)
                                         for r in cmp.kpis]
    if table == "districts":
        return ([_("District code"), _("District"), _("Key"), _("Figure")],
                [({"code": d["code"], "name": d["name"], "key": key,
                   "figure": d["rows"][key].label}, d["rows"][key])
                 for d in cmp.districts for key, *_rest in cmp.district_metrics])
    if table == "facility_load":
        return ([_("Facility code"), _("Facility"), _("Tier"), _("Key"), _("Figure")],
                [({"code": f["code"], "name": f["name"], "tier": f["tier"], "key": key,
                   "figure": f["rows"][key].label}, f["rows"][key])
                 for f in cmp.facilities for key in ("used", "offered", "share")])
    raise ValueError(table)


def table_rows(cmp: Comparison, table: str) -> tuple[list[str], list[list]]:
    """(header, rows) of one of TABLES: the raw numbers (shares as fractions), each plan's
    value, then each plan's change against the baseline."""
    head, body = _table(cmp, table)
    return head + _plan_headers(cmp), [list(ident.values()) + _numbers(row)
                                       for ident, row in body]


def _csv(header: list, rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(spreadsheet.row(header))
    writer.writerows(spreadsheet.row("" if v is None else v for v in row) for row in rows)
    # A byte order mark, so spreadsheet programs read the Chinese names as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def comparison_csv(cmp: Comparison, table: str | None = None) -> bytes:
    """One of TABLES, or all three in one file with a first column naming the table."""
    if table is not None:
        return _csv(*table_rows(cmp, table))
    rows = []
    for name in TABLES:
        for ident, row in _table(cmp, name)[1]:
            rows.append([name, ident.get("code", ""), ident.get("name", ""), ident["key"],
                         ident["figure"]] + _numbers(row))
    return _csv([_("Table"), _("Code"), _("Name"), _("Key"), _("Figure")] + _plan_headers(cmp),
                rows)


SHEETS = {"kpis": "KPIs", "districts": "districts", "facility_load": "facility load"}


def comparison_xlsx(cmp: Comparison) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for table in TABLES:
        sheet = book.create_sheet(SHEETS[table])
        header, rows = table_rows(cmp, table)
        sheet.append(spreadsheet.row(header))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(spreadsheet.row(row))
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- a scenario's changes -----------------------------------------------------------------------
def kind_label(kind: str) -> str:
    names = {"capacity": _("Capacity"), "open_facility": _("Open a facility"),
             "close_facility": _("Close a facility"), "outreach": _("Outreach sessions"),
             "demand": _("Demand"), "policy": _("Policy weight")}
    return names.get(kind, kind)


@dataclass
class Names:
    """Local names of the codes a list of changes mentions."""

    facilities: dict[str, str]
    services: dict[str, str]
    districts: dict[str, str]

    @classmethod
    def of(cls, session: Session, changes: list[dict]) -> Names:
        fac = {c[k] for c in changes for k in ("facility",) if c.get(k)}
        svc = {c["service"] for c in changes if c.get("service")}
        svc |= {s for c in changes if isinstance(c.get("capacity"), dict) for s in c["capacity"]}
        dis = {c["district"] for c in changes if c.get("district")}
        return cls(
            {f.code: local_name(f) for f in session.scalars(
                select(Facility).where(Facility.code.in_(fac)))} if fac else {},
            {s.code: local_name(s) for s in session.scalars(
                select(Service).where(Service.code.in_(svc)))} if svc else {},
            {r.code: local_name(r) for r in session.scalars(
                select(Region).where(Region.code.in_(dis)))} if dis else {})

    def facility(self, code: str) -> str:
        name = self.facilities.get(code)
        return f"{name} ({code})" if name else code

    def service(self, code: str) -> str:
        return self.services.get(code) or code

    def district(self, code: str) -> str:
        name = self.districts.get(code)
        return f"{name} ({code})" if name else code


POLICY_KEYS = ("priority_weights.child", "priority_weights.severe", "priority_weights.poor",
               "priority_weights.standard", "wait_cost_per_week", "travel_cost_per_km",
               "road_factor", "unassigned_cost", "tier_cost.centre", "tier_cost.station",
               "tier_cost.clinic", "reassign_cost")


def policy_label(key: str) -> str:
    group, _dot, member = key.partition(".")
    if group == "priority_weights":
        return _("Priority weight: %(group)s", group=label(member))
    if group == "tier_cost":
        return _("Cost of a place at: %(tier)s", tier=label(member))
    return {"wait_cost_per_week": _("Cost per week of waiting"),
            "travel_cost_per_km": _("Cost per road km"),
            "road_factor": _("Road km per straight-line km"),
            "unassigned_cost": _("Cost of leaving a case unplaced"),
            "reassign_cost": _("Cost of moving a case already placed")}.get(key, key)


def flat_policy(values: dict, prefix: str = "") -> list[tuple[str, object]]:
    out = []
    for k, v in values.items():
        if isinstance(v, dict):
            out.extend(flat_policy(v, f"{prefix}{k}."))
        else:
            out.append((f"{prefix}{k}", v))
    return out


def _weeks(change: dict) -> str:
    lo, hi = change.get("from_week", 0), change.get("to_week")
    if hi is None:
        return _("from week %(from)d to the end of the horizon", **{"from": lo})
    if lo == hi:
        return _("in week %(week)d", week=lo)
    return _("weeks %(from)d to %(to)d", **{"from": lo, "to": hi})


def what(change: dict, names: Names) -> str:
    """What a change is about, in a few words (its facility, service, district...)."""
    kind = change.get("kind")
    if kind in ("capacity", "outreach"):
        return f"{names.facility(change['facility'])} · {names.service(change['service'])}"
    if kind == "close_facility":
        return names.facility(change["facility"])
    if kind == "open_facility":
        return f"{change['code']} · {label(change['tier'])}"
    if kind == "demand":
        parts = [names.district(change["district"]) if change.get("district") else
                 _("all districts")]
        if change.get("category"):
            parts.append(label(change["category"]))
        if change.get("priority"):
            parts.append(label(change["priority"]))
        return " · ".join(parts)
    if kind == "policy":
        return "; ".join(policy_label(k) for k, _v in flat_policy(change.get("values", {})))
    return ""


def effect(change: dict, names: Names) -> str:
    """What a change does, in words."""
    kind = change.get("kind")
    if kind == "capacity":
        if "set" in change:
            return _("Intakes per week set to %(n)d, %(weeks)s.", n=change["set"],
                     weeks=_weeks(change))
        n = change.get("delta", 0)
        if n >= 0:
            return _("%(n)d more intakes per week, %(weeks)s.", n=n, weeks=_weeks(change))
        return _("%(n)d fewer intakes per week, %(weeks)s.", n=-n, weeks=_weeks(change))
    if kind == "open_facility":
        caps = "; ".join(_("%(service)s: %(n)d a week", service=names.service(s), n=n)
                         for s, n in (change.get("capacity") or {}).items())
        return _("A new facility at %(lat)s° N, %(lon)s° E offering %(capacity)s.",
                 lat=change["lat"], lon=change["lon"], capacity=caps or _("nothing yet"))
    if kind == "close_facility":
        return _("No more intakes there; the cases it holds are placed anew.")
    if kind == "outreach":
        return _("%(n)d extra intakes in week %(week)d (a visiting day).", n=change["places"],
                 week=change["week"])
    if kind == "demand":
        if "percent" in change:
            p = change["percent"]
            amount = f"{abs(p):g}%"
            return (_("%(amount)s more cases like these.", amount=amount) if p >= 0
                    else _("%(amount)s fewer cases like these.", amount=amount))
        n = change.get("count", 0)
        return (_("%(amount)s more cases like these.", amount=n) if n >= 0
                else _("%(amount)s fewer cases like these.", amount=-n))
    if kind == "policy":
        return "; ".join(_("%(weight)s set to %(value)s", weight=policy_label(k), value=v)
                         for k, v in flat_policy(change.get("values", {})))
    return ""


CHANGE_COLUMNS = ("kind", "facility", "service", "from_week", "to_week", "delta", "set", "code",
                  "tier", "lat", "lon", "capacity", "week", "places", "district", "category",
                  "priority", "percent", "count", "values")


def changes_csv(session: Session, scenario: Scenario) -> bytes:
    """One row per change: its position, every field the change kinds use (the API's names),
    and the change in words."""
    names = Names.of(session, scenario.changes)
    rows = []
    for i, change in enumerate(scenario.changes, 1):
        cells = [i]
        for column in CHANGE_COLUMNS:
            value = change.get(column)
            cells.append(json.dumps(value, ensure_ascii=False) if isinstance(value, dict)
                         else value)
        rows.append(cells + [kind_label(change.get("kind")), what(change, names),
                             effect(change, names)])
    return _csv(["#", *CHANGE_COLUMNS, _("Kind"), _("What"), _("Effect")], rows)
