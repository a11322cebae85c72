"""Import of network files (regions, facilities, services, capacities): docs/import-format.md.

validate() reads and checks everything and returns the rows; write() stores them. The CLI calls
both inside one transaction, so a bad file changes nothing."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from rehab_net import csvimport as ci
from rehab_net.csvimport import Column, FileSpec, Problem
from rehab_net.db import upsert_by_code
from rehab_net.network.models import Capacity, Facility, Region, Service
from rehab_net.vocab import (
    CATEGORIES,
    FACILITY_STATUSES,
    OWNERSHIPS,
    REGION_KINDS,
    REGION_LEVELS,
    SERVICE_KINDS,
    TIERS,
)

LAT, LON = ci.number(-90, 90), ci.number(-180, 180)


def _tiers(value: str) -> list[str]:
    tiers = [t.strip() for t in value.split(";")]
    bad = [t for t in tiers if t not in TIERS]
    if bad or not tiers:
        raise ci.CellError(f"must be tiers from {', '.join(TIERS)} separated by ;")
    if len(set(tiers)) != len(tiers):
        raise ci.CellError("names a tier twice")
    return tiers


SPECS = {s.name: s for s in (
    FileSpec("regions.csv", (
        Column("code", ci.code), Column("parent_code", ci.code, optional=True),
        Column("level", ci.one_of(REGION_LEVELS)),
        Column("kind", ci.one_of(sorted({k for ks in REGION_KINDS.values() for k in ks}))),
        Column("name_zh", ci.text(64)), Column("name_en", ci.text(128)),
        Column("lat", LAT), Column("lon", LON),
    )),
    FileSpec("facilities.csv", (
        Column("code", ci.code), Column("name_zh", ci.text(128)), Column("name_en", ci.text(200)),
        Column("tier", ci.one_of(TIERS)), Column("region_code", ci.code),
        Column("lat", LAT), Column("lon", LON), Column("ownership", ci.one_of(OWNERSHIPS)),
        Column("designated", ci.boolean), Column("status", ci.one_of(FACILITY_STATUSES)),
    )),
    FileSpec("services.csv", (
        Column("code", ci.code), Column("category", ci.one_of(CATEGORIES)),
        Column("kind", ci.one_of(SERVICE_KINDS)),
        Column("name_zh", ci.text(64)), Column("name_en", ci.text(128)),
        Column("tiers", _tiers), Column("home_ok", ci.boolean),
        Column("duration_minutes", ci.integer(1, 1440)),
    )),
    FileSpec("capacities.csv", (
        Column("facility_code", ci.code), Column("service_code", ci.code),
        Column("effective_from", ci.iso_date),
        Column("weekly_intake", ci.integer(0, 10000)),
        Column("concurrent_places", ci.integer(0, 100000)),
    )),
)}

# Digits of a region code at each level (GB/T 2260 plus the statistical extension).
CODE_DIGITS = {"city": 6, "district": 6, "township": 9, "village": 12}


@dataclass
class NetworkRows:
    tables: dict[str, ci.Table]

    def rows(self, name: str) -> list[dict]:
        t = self.tables.get(name)
        return t.rows if t else []


def validate(session: Session, paths) -> NetworkRows:
    """Read and check the given network files against each other and the database."""
    problems: list[Problem] = []
    files = ci.pick_files(paths, SPECS)
    if not files:
        raise ci.ImportProblems([Problem("-", 0, "-", "no network file given ("
                                         + ", ".join(SPECS) + ")")])
    tables = {name: ci.read_table(SPECS[name], Path(p), problems) for name, p in files.items()}
    for name, t in tables.items():
        if name != "capacities.csv":  # capacities are keyed by facility, service and date
            ci.check_unique(t, "code", problems)
    regions = _check_regions(session, tables.get("regions.csv"), problems)
    facility_tiers = _check_facilities(session, tables.get("facilities.csv"), regions, problems)
    service_tiers = _check_services(session, tables.get("services.csv"), problems)
    _check_capacities(session, tables.get("capacities.csv"), facility_tiers, service_tiers,
                      problems)
    if problems:
        raise ci.ImportProblems(problems)
    return NetworkRows(tables)


def _each(table: ci.Table | None):
    if table is None:
        return []
    return zip(table.rows, table.lines, strict=True)


def _check_regions(session, table, problems) -> dict[str, str]:
    """Returns code -> level for the regions known after this import."""
    levels = dict(session.execute(select(Region.code, Region.level)).all())
    rows = list(_each(table))
    levels.update({r["code"]: r["level"] for r, _ in rows})
    for r, line in rows:
        level, code_ = r["level"], r["code"]
        if r["kind"] not in REGION_KINDS[level]:
            problems.append(Problem("regions.csv", line, "kind", f"must be one of "
                                    f"{', '.join(REGION_KINDS[level])} for a {level}"))
        if not (code_.isdigit() and len(code_) == CODE_DIGITS[level]):
            problems.append(Problem("regions.csv", line, "code",
                                    f"must be {CODE_DIGITS[level]} digits for a {level}"))
        parent = r["parent_code"]
        if level == "city":
            if parent is not None:
                problems.append(Problem("regions.csv", line, "parent_code",
                                        "must be empty for a city"))
            continue
        if parent is None:
            problems.append(Problem("regions.csv", line, "parent_code",
                                    f"is required for a {level}"))
            continue
        want = REGION_LEVELS[REGION_LEVELS.index(level) - 1]
        if parent not in levels:
            problems.append(Problem("regions.csv", line, "parent_code",
                                    f"region {parent} does not exist"))
        elif levels[parent] != want:
            problems.append(Problem("regions.csv", line, "parent_code",
                                    f"must be a {want} (one level above a {level}), "
                                    f"{parent} is a {levels[parent]}"))
        elif level in ("township", "village") and not code_.startswith(parent):
            problems.append(Problem("regions.csv", line, "code",
                                    f"must start with its parent's code {parent}"))
    return levels


def _check_facilities(session, table, regions, problems) -> dict[str, str]:
    """Returns code -> tier for the facilities known after this import."""
    tiers = dict(session.execute(select(Facility.code, Facility.tier)).all())
    for r, line in _each(table):
        tiers[r["code"]] = r["tier"]
        if r["region_code"] not in regions:
            problems.append(Problem("facilities.csv", line, "region_code",
                                    f"region {r['region_code']} does not exist"))
    return tiers


def _check_services(session, table, problems) -> dict[str, list[str]]:
    """Returns code -> tiers for the services known after this import."""
    known = {s.code: s.tiers for s in session.scalars(select(Service))}
    for r, line in _each(table):
        known[r["code"]] = r["tiers"]
        expected = f"{r['category']}_{r['kind']}"
        if r["code"] != expected:
            problems.append(Problem("services.csv", line, "code",
                                    f"must be <category>_<kind>, here {expected}"))
    return known


def _check_capacities(session, table, facility_tiers, service_tiers, problems) -> None:
    seen: dict[tuple, int] = {}
    for r, line in _each(table):
        key = (r["facility_code"], r["service_code"], r["effective_from"])
        if key in seen:
            problems.append(Problem("capacities.csv", line, "effective_from",
                                    f"duplicates line {seen[key]} (same facility, service and "
                                    "date)"))
        seen.setdefault(key, line)
        tier = facility_tiers.get(r["facility_code"])
        if tier is None:
            problems.append(Problem("capacities.csv", line, "facility_code",
                                    f"facility {r['facility_code']} does not exist"))
        tiers = service_tiers.get(r["service_code"])
        if tiers is None:
            problems.append(Problem("capacities.csv", line, "service_code",
                                    f"service {r['service_code']} does not exist"))
        elif tier is not None and tier not in tiers:
            problems.append(Problem("capacities.csv", line, "service_code",
                                    f"service {r['service_code']} is not delivered at tier {tier} "
                                    f"(only {';'.join(tiers)})"))


def write(session: Session, data: NetworkRows) -> dict[str, int]:
    """Store validated rows; returns the number of rows per file."""
    regions = sorted(data.rows("regions.csv"), key=lambda r: REGION_LEVELS.index(r["level"]))
    region_ids = dict(session.execute(select(Region.code, Region.id)).all())
    for level in REGION_LEVELS:  # parents first, so their ids exist
        level_rows = [
            {k: v for k, v in r.items() if k != "parent_code"}
            | {"parent_id": region_ids.get(r["parent_code"])}
            for r in regions if r["level"] == level
        ]
        if level_rows:
            region_ids.update(upsert_by_code(session, Region, level_rows))
    facility_rows = [
        {k: v for k, v in r.items() if k != "region_code"}
        | {"region_id": region_ids[r["region_code"]]}
        for r in data.rows("facilities.csv")
    ]
    upsert_by_code(session, Facility, facility_rows)
    service_rows = []
    for r in data.rows("services.csv"):
        row = {k: v for k, v in r.items() if k != "tiers"}
        row.update({f"at_{t}": t in r["tiers"] for t in TIERS})
        service_rows.append(row)
    upsert_by_code(session, Service, service_rows)
    _write_capacities(session, data.rows("capacities.csv"))
    return {name: len(t.rows) for name, t in data.tables.items()}


def _write_capacities(session: Session, rows: list[dict]) -> None:
    if not rows:
        return
    facility_ids = dict(session.execute(select(Facility.code, Facility.id)).all())
    service_ids = dict(session.execute(select(Service.code, Service.id)).all())
    values = [{
        "facility_id": facility_ids[r["facility_code"]],
        "service_id": service_ids[r["service_code"]],
        "effective_from": r["effective_from"], "weekly_intake": r["weekly_intake"],
        "concurrent_places": r["concurrent_places"],
    } for r in rows]
    # A re-imported (facility, service, date) replaces the old figure for that date.
    existing = {(f, s, d): id_ for id_, f, s, d in session.execute(
        select(Capacity.id, Capacity.facility_id, Capacity.service_id, Capacity.effective_from))}
    stale = [existing[(v["facility_id"], v["service_id"], v["effective_from"])] for v in values
             if (v["facility_id"], v["service_id"], v["effective_from"]) in existing]
    for i in range(0, len(stale), 5000):
        session.execute(delete(Capacity).where(Capacity.id.in_(stale[i:i + 5000])))
    for i in range(0, len(values), 5000):
        session.execute(insert(Capacity), values[i:i + 5000])
