"""Import of the service catalogue (catalogue.csv) and of which services deliver its items
(catalogue_services.csv): docs/import-format.md.

The contract of every import: everything is checked first, each problem names FILE:ROW:COLUMN,
nothing is written unless there is none. A version is loaded once and never changed (a version
code or a start day already in the database is a problem): a new version supersedes it from
its day and the old one stays for history. The mapping file gives, for each service it names,
the whole list of its items (a re-import replaces that service's list)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from rehab_net import csvimport as ci
from rehab_net.catalogue.models import CatalogueItem, CatalogueService, CatalogueVersion
from rehab_net.csvimport import Column, FileSpec, Problem
from rehab_net.network.models import Service
from rehab_net.vocab import (
    CATALOGUE_CATEGORIES,
    CATALOGUE_KINDS,
    CATALOGUE_PARTS,
    CATEGORIES,
    DOSE_RULES,
)

CATALOGUE = "catalogue.csv"
MAPPING = "catalogue_services.csv"
# the largest amount of each rule (a year has 12 months and 52 weeks; more than weekly
# sessions a year is a frequency the catalogue does not state)
AMOUNT_MAX = {"once": 1, "times_per_year": 52, "months_per_year": 12, "weekly_for_weeks": 52}
CHILD_MAX_AGE = 6  # the 0-6 part ends at the 7th birthday


def _categories(value: str) -> tuple[str, ...]:
    found = tuple(c.strip() for c in value.split(";"))
    if not found or any(c not in CATEGORIES for c in found):
        raise ci.CellError(f"must be categories from {', '.join(CATEGORIES)} separated by ;")
    if len(set(found)) != len(found):
        raise ci.CellError("names a category twice")
    return found


SPECS = {s.name: s for s in (
    FileSpec(CATALOGUE, (
        Column("version", ci.code), Column("effective_from", ci.iso_date),
        Column("code", ci.code), Column("part", ci.one_of(CATALOGUE_PARTS)),
        Column("category", ci.one_of(CATALOGUE_CATEGORIES)),
        Column("kind", ci.one_of(CATALOGUE_KINDS)),
        Column("name_zh", ci.text(64)), Column("name_en", ci.text(128)),
        Column("min_age", ci.integer(0, 120)), Column("max_age", ci.integer(0, 120), optional=True),
        Column("categories", _categories, optional=True),
        Column("rule", ci.one_of(DOSE_RULES)), Column("amount", ci.integer(1, 52), optional=True),
        Column("cycle_months", ci.integer(1, 240), optional=True),
    )),
    FileSpec(MAPPING, (Column("service_code", ci.code), Column("item_code", ci.code))),
)}


def validate(session: Session, paths) -> dict[str, ci.Table]:
    problems: list[Problem] = []
    files = ci.pick_files(paths, SPECS)
    if not files:
        raise ci.ImportProblems([Problem("-", 0, "-",
                                         f"no catalogue file given ({CATALOGUE}, {MAPPING})")])
    tables = {name: ci.read_table(SPECS[name], Path(path), problems)
              for name, path in files.items()}
    item_codes = set(session.scalars(select(CatalogueItem.code)))
    if CATALOGUE in tables:
        item_codes |= _check_items(session, tables[CATALOGUE], problems)
    if MAPPING in tables:
        _check_mapping(session, tables[MAPPING], tables.get(CATALOGUE), item_codes, problems)
    if problems:
        raise ci.ImportProblems(problems)
    return tables


def _check_items(session: Session, table: ci.Table, problems: list[Problem]) -> set[str]:
    versions = dict(session.execute(select(CatalogueVersion.code,
                                           CatalogueVersion.effective_from)).all())
    taken_days = {day: code for code, day in versions.items()}
    starts: dict[str, tuple[object, int]] = {}  # version -> (its day, the line that gave it)
    seen: dict[tuple[str, str], int] = {}
    for r, line in zip(table.rows, table.lines, strict=True):
        def problem(column, rule, line=line):
            problems.append(Problem(CATALOGUE, line, column, rule))

        version, day = r["version"], r["effective_from"]
        if version in versions and version not in starts:  # said once, on its first line
            problem("version", f"version {version} is loaded already; versions are never "
                               "changed: give the new one another code and day")
        if version not in starts:
            starts[version] = (day, line)
            if taken_days.setdefault(day, version) != version:
                problem("effective_from", f"version {taken_days[day]} starts on {day} already")
        elif starts[version][0] != day:
            first_day, first_line = starts[version]
            problem("effective_from", f"version {version} starts on {first_day} on line "
                                      f"{first_line}; one version has one start day")
        key = (version, r["code"])
        if key in seen:
            problem("code", f"duplicates line {seen[key]} of version {version}; must be unique")
        seen.setdefault(key, line)
        _check_ages(r, problem)
        amount = r.get("amount")
        if amount is None:
            if r["rule"] != "once":
                problem("amount", f"is required by the rule {r['rule']}")
            r["amount"] = 1
        elif amount > AMOUNT_MAX[r["rule"]]:
            problem("amount", f"must be at most {AMOUNT_MAX[r['rule']]} for the rule {r['rule']}")
        if r.get("categories") is None:
            r["categories"] = (r["category"],)
        elif r["category"] not in r["categories"]:
            problem("categories", f"must include the item's own category {r['category']}")
    return {r["code"] for r in table.rows}


def _check_ages(r, problem) -> None:
    lo, hi = r["min_age"], r.get("max_age")
    if r["part"] == "0-6":
        if hi is None:
            problem("max_age", "is required in the 0-6 part (at most 6)")
        elif hi > CHILD_MAX_AGE:
            problem("max_age", "must be at most 6 in the 0-6 part")
    elif lo <= CHILD_MAX_AGE:
        problem("min_age", "must be at least 7 in the 7+ part")
    if hi is not None and hi < lo:
        problem("max_age", "must not be below min_age")


def _check_mapping(session: Session, table: ci.Table, items: ci.Table | None,
                   item_codes: set[str], problems: list[Problem]) -> None:
    services = dict(session.execute(select(Service.code, Service.category)).all())
    categories: dict[str, set[str]] = {}
    for code, cats in session.execute(select(CatalogueItem.code, CatalogueItem.categories)):
        categories.setdefault(code, set()).update(cats.split(";"))
    for r in (items.rows if items else []):
        categories.setdefault(r["code"], set()).update(r["categories"])
    seen: dict[tuple[str, str], int] = {}
    for r, line in zip(table.rows, table.lines, strict=True):
        def problem(column, rule, line=line):
            problems.append(Problem(MAPPING, line, column, rule))

        category = services.get(r["service_code"])
        if category is None:
            problem("service_code", f"service {r['service_code']} does not exist")
        if r["item_code"] not in item_codes:
            problem("item_code", f"catalogue item {r['item_code']} does not exist in any version")
        elif category is not None and category not in categories.get(r["item_code"], ()):
            problem("item_code", f"item {r['item_code']} is not for the category {category} of "
                                 f"service {r['service_code']}")
        key = (r["service_code"], r["item_code"])
        if key in seen:
            problem("item_code", f"duplicates line {seen[key]}; must be unique")
        seen.setdefault(key, line)


def write(session: Session, tables: dict[str, ci.Table]) -> dict[str, int]:
    counts: dict[str, int] = {}
    if CATALOGUE in tables:
        rows = tables[CATALOGUE].rows
        versions: dict[str, CatalogueVersion] = {}
        for r in rows:
            if r["version"] not in versions:
                versions[r["version"]] = CatalogueVersion(code=r["version"],
                                                          effective_from=r["effective_from"])
                session.add(versions[r["version"]])
            session.add(CatalogueItem(
                version=versions[r["version"]], code=r["code"], part=r["part"],
                category=r["category"], kind=r["kind"], name_zh=r["name_zh"],
                name_en=r["name_en"], min_age=r["min_age"], max_age=r.get("max_age"),
                categories=";".join(r["categories"]), rule=r["rule"], amount=r["amount"],
                cycle_months=r.get("cycle_months")))
        counts[CATALOGUE] = len(rows)
    if MAPPING in tables:
        rows = tables[MAPPING].rows
        service_ids = dict(session.execute(select(Service.code, Service.id)).all())
        named = {service_ids[r["service_code"]] for r in rows}
        session.execute(delete(CatalogueService).where(CatalogueService.service_id.in_(named)))
        session.add_all(CatalogueService(service_id=service_ids[r["service_code"]],
                                         item_code=r["item_code"]) for r in rows)
        counts[MAPPING] = len(rows)
    session.flush()
    return counts
