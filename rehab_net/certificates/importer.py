"""Import of certificate lists (certificates.csv): docs/import-format.md.

The contract of every import: everything is checked first, each problem names FILE:ROW:COLUMN,
nothing is written unless there is none. Problems never quote a number (personal data). A row's
state is not given: it follows from its dates on the day of the import (rules.history, the
daily job's rules), and its event rows are written as the job would have written them."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from rehab_net import csvimport as ci
from rehab_net.auth import audit
from rehab_net.certificates import rules
from rehab_net.certificates.models import Certificate, CertificateEvent
from rehab_net.certificates.states import LIVE_STATES
from rehab_net.csvimport import Column, FileSpec, Problem
from rehab_net.people.identifiers import IdentifierError
from rehab_net.people.models import Person

NAME = "certificates.csv"


def _number(value: str) -> rules.Number:
    try:
        return rules.parse_number(value)
    except IdentifierError as exc:
        raise ci.CellError(str(exc)) from None


SPEC = FileSpec(NAME, (
    Column("code", ci.code), Column("person_code", ci.code), Column("number", _number),
    Column("issued_on", ci.iso_date),
    Column("moved_out_on", ci.iso_date, optional=True),
    Column("transferred_on", ci.iso_date, optional=True),
    Column("cancelled_on", ci.iso_date, optional=True),
    Column("cancel_reason", ci.text(500), optional=True),
))
SPECS = {NAME: SPEC}


def validate(session: Session, paths, *, today) -> dict[str, ci.Table]:
    problems: list[Problem] = []
    files = ci.pick_files(paths, SPECS)
    if not files:
        raise ci.ImportProblems([Problem("-", 0, "-", f"no certificates file given ({NAME})")])
    table = ci.read_table(SPEC, Path(files[NAME]), problems)
    ci.check_unique(table, "code", problems)
    persons = {code: (pid, rid, birth) for code, pid, rid, birth in session.execute(
        select(Person.code, Person.id, Person.resident_id, Person.birth_date))}
    existing = set(session.scalars(select(Certificate.code)))
    live = dict(session.execute(select(Certificate.person_id, Certificate.code)
                                .where(Certificate.state.in_(LIVE_STATES))).all())
    live_line: dict[int, int] = {}
    for r, line in zip(table.rows, table.lines, strict=True):
        def problem(column, rule, line=line):
            problems.append(Problem(NAME, line, column, rule))

        if r.get("code") in existing:
            problem("code", f"certificate {r['code']} exists already")
        person = persons.get(r.get("person_code"))
        if r.get("person_code") and person is None:
            problem("person_code", f"person {r['person_code']} does not exist")
        number, issued = r.get("number"), r.get("issued_on")
        if person is not None and number is not None:
            try:
                rules.check_holder(number, person[1])
            except IdentifierError as exc:
                problem("number", str(exc))
        if issued is not None:
            if issued > today:
                problem("issued_on", "is in the future")
            elif person is not None and issued < person[2]:
                problem("issued_on", "is before the holder's birth")
        for column in ("moved_out_on", "transferred_on", "cancelled_on"):
            day = r.get(column)
            if day is not None and day > today:
                problem(column, "is in the future")
            elif day is not None and issued is not None and day < issued:
                problem(column, "is before issued_on")
        if r.get("transferred_on") and not r.get("moved_out_on"):
            problem("transferred_on", "needs moved_out_on (a transfer follows a move out)")
        elif (r.get("transferred_on") and r.get("moved_out_on")
              and r["transferred_on"] < r["moved_out_on"]):
            problem("transferred_on", "is before moved_out_on")
        if r.get("cancelled_on") and not r.get("cancel_reason"):
            problem("cancel_reason", "is needed when cancelled_on is given")
        if person is None or issued is None or number is None:
            continue
        r["_steps"] = _steps(r, today)
        if _ends(r):
            continue
        if person[0] in live:
            problem("person_code", f"the holder has a certificate in force already: "
                                   f"{live[person[0]]}")
        elif person[0] in live_line:
            problem("person_code", f"the holder has a certificate in force on line "
                                   f"{live_line[person[0]]} already")
        else:
            live_line[person[0]] = line
    if problems:
        raise ci.ImportProblems(problems)
    return {NAME: table}


def _until(r) -> object:
    return rules.valid_until(r["issued_on"])


def _freeze(r):
    moved = r.get("moved_out_on")
    return rules.freeze_on(moved) if moved and not r.get("transferred_on") else None


def _steps(r, today) -> list[tuple[str, object]]:
    """The date rules' steps up to today, cut at a cancellation by hand."""
    cancelled = r.get("cancelled_on")
    steps = rules.history(_until(r), _freeze(r), cancelled or today)
    if cancelled is not None and not (steps and rules.TARGETS[steps[-1][0]] != "frozen"):
        steps.append(("cancel", cancelled))
    return steps


def _ends(r) -> bool:
    return bool(r["_steps"]) and r["_steps"][-1][0] in ("lapse", "expire", "cancel")


def write(session: Session, tables: dict[str, ci.Table]) -> dict[str, int]:
    """Insert the rows with the state their dates give, and their event rows."""
    table = tables[NAME]
    person_ids = dict(session.execute(select(Person.code, Person.id)).all())
    actor = audit.current_actor()[0]
    for r in table.rows:
        number: rules.Number = r["number"]
        state, frozen_on, lapse, ended_on = "valid", None, None, None
        for action, on in r["_steps"]:
            state = "cancelled" if action == "cancel" else rules.TARGETS[action]
            if action == "freeze":
                frozen_on, lapse = on, rules.lapse_on(on)
            if state in ("cancelled", "expired"):
                ended_on = on
        cert = Certificate(
            code=r["code"], person_id=person_ids[r["person_code"]],
            category_digit=number.category_digit, grade=number.grade, reissue=number.reissue,
            issued_on=r["issued_on"], valid_until=_until(r), state=state,
            moved_out_on=r.get("moved_out_on"), transferred_on=r.get("transferred_on"),
            freeze_on=_freeze(r), frozen_on=frozen_on, lapse_on=lapse, ended_on=ended_on,
            end_reason=r.get("cancel_reason") if state == "cancelled" else None)
        session.add(cert)
        session.flush()
        before = None
        events = [("issue", r["issued_on"])] + r["_steps"]
        for action, on in events:
            after = ("valid" if action == "issue" else "cancelled" if action == "cancel"
                     else rules.TARGETS[action])
            session.add(CertificateEvent(certificate_id=cert.id, on=on, actor=actor,
                                         action=action, from_state=before, to_state=after,
                                         cause=r.get("cancel_reason") if action == "cancel"
                                         else None))
            before = after
    session.flush()
    return {NAME: len(table.rows)}
