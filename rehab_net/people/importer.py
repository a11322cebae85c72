"""Import of persons and cases (personal data): docs/import-format.md.

Same contract as the network import: everything is checked first, problems name FILE:ROW:COLUMN,
nothing is written unless there is no problem. Problem messages never quote personal data."""
from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from rehab_net import csvimport as ci
from rehab_net.csvimport import Column, FileSpec, Problem
from rehab_net.db import upsert_by_code
from rehab_net.network import operations as network
from rehab_net.people.identifiers import IdentifierError, check_certificate, parse_resident_id
from rehab_net.people.models import Case, Person
from rehab_net.people.states import CASE_STATUSES
from rehab_net.protection import blind_index
from rehab_net.vocab import CATEGORIES, POVERTY_STATUSES, SEXES

PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-\d{7,8})$")


def _resident_id(value: str) -> str:
    try:
        return parse_resident_id(value).number
    except IdentifierError as exc:
        raise ci.CellError(str(exc)) from None


def _phone(value: str) -> str:
    if not PHONE.match(value):
        raise ci.CellError("must be an 11-digit mobile number or a fixed line 0NNN-NNNNNNN")
    return value


SPECS = {s.name: s for s in (
    FileSpec("persons.csv", (
        Column("code", ci.code), Column("name", ci.text(64)),
        Column("resident_id", _resident_id), Column("birth_date", ci.iso_date),
        Column("sex", ci.one_of(SEXES)), Column("home_region_code", ci.code),
        Column("guardian_name", ci.text(64), optional=True),
        Column("guardian_phone", _phone, optional=True),
        Column("poverty_status", ci.one_of(POVERTY_STATUSES)),
    )),
    FileSpec("cases.csv", (
        Column("code", ci.code), Column("person_code", ci.code),
        Column("category", ci.one_of(CATEGORIES)), Column("grade", ci.integer(1, 4)),
        Column("service_code", ci.code), Column("registered_on", ci.iso_date),
        Column("status", ci.one_of(CASE_STATUSES)),
        Column("certificate_number", ci.text(20), optional=True),
    )),
)}


def validate(session: Session, paths, *, today) -> dict[str, ci.Table]:
    problems: list[Problem] = []
    files = ci.pick_files(paths, SPECS)
    if not files:
        raise ci.ImportProblems([Problem("-", 0, "-", "no people file given (persons.csv, "
                                         "cases.csv)")])
    tables = {name: ci.read_table(SPECS[name], Path(p), problems) for name, p in files.items()}
    for t in tables.values():
        ci.check_unique(t, "code", problems)
    persons = _check_persons(session, tables.get("persons.csv"), problems)
    _check_cases(session, tables.get("cases.csv"), persons, problems, today)
    if problems:
        raise ci.ImportProblems(problems)
    return tables


def _check_persons(session, table, problems) -> dict[str, tuple[str, object]]:
    """Returns person code -> (resident_id, birth_date) for persons known after this import."""
    known = {c: (rid, b) for c, rid, b in session.execute(
        select(Person.code, Person.resident_id, Person.birth_date))}
    id_owner = {rid: c for c, (rid, _) in known.items()}
    villages = network.region_codes(session, level="village")
    if table is None:
        return known
    first_line: dict[str, int] = {}
    for r, line in zip(table.rows, table.lines, strict=True):
        rid = parse_resident_id(r["resident_id"])
        if r["birth_date"] != rid.birth_date:
            problems.append(Problem("persons.csv", line, "birth_date",
                                    "does not match the birth date in resident_id"))
        if r["sex"] != rid.sex:
            problems.append(Problem("persons.csv", line, "sex",
                                    "does not match resident_id (its 17th digit: odd = M)"))
        if r["home_region_code"] not in villages:
            problems.append(Problem("persons.csv", line, "home_region_code",
                                    f"must be an existing village-level region, "
                                    f"{r['home_region_code']} is not"))
        if rid.number in first_line:
            problems.append(Problem("persons.csv", line, "resident_id",
                                    f"the same number is on line {first_line[rid.number]}"))
        elif id_owner.get(rid.number, r["code"]) != r["code"]:
            problems.append(Problem("persons.csv", line, "resident_id",
                                    "belongs to another person already registered"))
        first_line.setdefault(rid.number, line)
        known[r["code"]] = (rid.number, rid.birth_date)
    return known


def _check_cases(session, table, persons, problems, today) -> None:
    if table is None:
        return
    services = network.service_categories(session)
    for r, line in zip(table.rows, table.lines, strict=True):
        person = persons.get(r["person_code"])
        if person is None:
            problems.append(Problem("cases.csv", line, "person_code",
                                    f"person {r['person_code']} does not exist"))
        category = services.get(r["service_code"])
        if category is None:
            problems.append(Problem("cases.csv", line, "service_code",
                                    f"service {r['service_code']} does not exist"))
        elif category != r["category"] and r["category"] != "multiple":
            problems.append(Problem("cases.csv", line, "service_code",
                                    f"is a {category} service; the case's category is "
                                    f"{r['category']}"))
        if r["registered_on"] > today:
            problems.append(Problem("cases.csv", line, "registered_on", "is in the future"))
        elif person is not None and r["registered_on"] < person[1]:
            problems.append(Problem("cases.csv", line, "registered_on",
                                    "is before the person's birth"))
        if r["certificate_number"] and person is not None:
            try:
                check_certificate(r["certificate_number"], resident_id=person[0],
                                  category=r["category"], grade=r["grade"])
            except IdentifierError as exc:
                problems.append(Problem("cases.csv", line, "certificate_number", str(exc)))


def write(session: Session, tables: dict[str, ci.Table]) -> dict[str, int]:
    region_ids = network.region_ids(session)
    if "persons.csv" in tables:
        # Core inserts skip the ORM's @validates: the blind index is computed here.
        rows = [{k: v for k, v in r.items() if k != "home_region_code"}
                | {"home_region_id": region_ids[r["home_region_code"]],
                   "resident_id_index": blind_index(r["resident_id"])}
                for r in tables["persons.csv"].rows]
        upsert_by_code(session, Person, rows)
    if "cases.csv" in tables:
        person_ids = dict(session.execute(select(Person.code, Person.id)).all())
        service_ids = network.service_ids(session)
        rows = []
        for r in tables["cases.csv"].rows:
            row = {k: v for k, v in r.items() if k not in ("person_code", "service_code")}
            if row["certificate_number"]:
                row["certificate_number"] = row["certificate_number"].upper()
            row.update(person_id=person_ids[r["person_code"]],
                       service_id=service_ids[r["service_code"]])
            rows.append(row)
        upsert_by_code(session, Case, rows)
    return {name: len(t.rows) for name, t in tables.items()}
