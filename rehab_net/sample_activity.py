"""Load the sample region's activity (sample_network/activity.py writes the files): the
practitioners and their schedule rules, the slots from HISTORY_DAYS before the load day to the
end of the booking window, then every referral, appointment and waitlist step of activity.csv
replayed THROUGH the real operations (referrals.operations, booking.operations, waitlist) at
its recorded time. So each state, event row, notification and case status is what the live
system makes of that work; nothing is written behind the operations' back but one thing: the
cases with activity start from "waiting" (cases.csv records where they end).

Days in activity.csv are offsets from the load day; times are local. A step is never earlier
than the previous step of its case (an appointment found later than planned moves the steps
after it). App edge: it drives people, referrals and booking."""
from __future__ import annotations

import csv
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rehab_net.booking import generation, schedules, waitlist
from rehab_net.booking import operations as booking
from rehab_net.booking.models import ScheduleRule, Slot
from rehab_net.clock import day_of, local_midnight, zone
from rehab_net.csvimport import ImportProblems, Problem
from rehab_net.errors import DomainError
from rehab_net.network.models import Facility, Service
from rehab_net.people.models import Case
from rehab_net.referrals.operations.workflow import create_referral, re_refer, transition
from rehab_net.referrals.states import REFERRAL

FILES = ("practitioners.csv", "schedule_rules.csv", "activity.csv")
HISTORY_WEEKS = 17  # past slots: the booking history of the sample (activity.HISTORY_DAYS)
DOWN_REASON = "康复治疗阶段结束，下转社区继续康复"
SEARCH = 40  # slots looked at for one booking


def present(directory: Path) -> bool:
    return all((Path(directory) / name).is_file() for name in FILES)


def read(directory: Path) -> dict[str, list[dict]]:
    tables = {}
    for name in FILES:
        with open(Path(directory) / name, encoding="utf-8", newline="") as fh:
            tables[name] = list(csv.DictReader(fh))
    return tables


def load(session: Session, tables: dict[str, list[dict]], *, today: date,
         now: datetime) -> dict[str, int]:
    """Everything in the caller's transaction; a refused step is an ImportProblems naming its
    line (nothing is kept)."""
    first = today - timedelta(weeks=HISTORY_WEEKS)
    try:
        for row in tables["practitioners.csv"]:
            schedules.create_practitioner(session, {
                "code": row["code"], "name": row["name"], "profession": row["profession"],
                "facility_codes": row["facility_codes"].split(";")}, principal=None,
                today=first)
    except DomainError as exc:
        raise ImportProblems([Problem("practitioners.csv", 0, "-", exc.detail)]) from None
    rules(session, tables["schedule_rules.csv"], first=first, now=now)
    # The slots from `first` to the end of the booking window, in one run of the generator
    # (schedules.create_rule would run it once per rule, over the window only).
    tz = zone()
    generation.generate(session, today=first, now=datetime.combine(first, time(0), tz),
                        weeks=HISTORY_WEEKS + current_app.config["BOOKING_WINDOW_WEEKS"])
    replay = _Replay(session, today, now)
    replay.start([r["case_code"] for r in tables["activity.csv"]])
    # The operations flush where they must; no autoflush before every query in between (the
    # replay's own reads see what those flushes wrote): about a third fewer flushes.
    with session.no_autoflush:
        for line, row in enumerate(tables["activity.csv"], start=2):
            try:
                replay.step(row)
            except DomainError as exc:
                raise ImportProblems([Problem(
                    "activity.csv", line, row["action"],
                    f"{exc.detail} {exc.errors or ''}".strip())]) from None
    session.flush()
    return {"practitioners.csv": len(tables["practitioners.csv"]),
            "schedule_rules.csv": len(tables["schedule_rules.csv"]),
            "activity.csv": len(tables["activity.csv"]),
            "slots": session.query(Slot).count(), **replay.missed}


def rules(session: Session, rows: list[dict], *, first: date, now: datetime) -> None:
    """The weekly rules, checked as schedules.create_rule checks them (the practitioner works
    there, the facility's tier runs the service, the hours hold whole slots), valid from
    `first`; their slots are made afterwards, all at once."""
    for line, row in enumerate(rows, start=2):
        data = {"practitioner_code": row["practitioner_code"],
                "facility_code": row["facility_code"], "service_code": row["service_code"],
                "weekdays": [int(d) for d in row["weekdays"].split(";")],
                "start_time": time.fromisoformat(row["start_time"]),
                "end_time": time.fromisoformat(row["end_time"]),
                "slot_minutes": int(row["slot_minutes"]), "places": int(row["places"]),
                "valid_from": first}
        try:
            schedules._check_shape("weekly", data)
            facts = schedules._rule_facts(session, data, None)
        except DomainError as exc:
            raise ImportProblems([Problem("schedule_rules.csv", line, "-",
                                          f"{exc.detail} {exc.errors or ''}".strip())]) from None
        session.add(ScheduleRule(
            kind="weekly", practitioner=facts["practitioner"], facility=facts["facility"],
            service=facts["service"], weekdays=schedules.weekday_mask(data["weekdays"]),
            start_time=data["start_time"], end_time=data["end_time"],
            slot_minutes=data["slot_minutes"], places=data["places"], valid_from=first,
            active=True, created_at=now, updated_at=now))
    session.flush()


class _Replay:
    def __init__(self, session: Session, today: date, now: datetime):
        self.session, self.today, self.now = session, today, now
        self.tz = zone()
        self.midnight = local_midnight(today).astimezone(UTC)
        self.referrals: dict = {}  # the file's key -> Referral
        self.appointments: dict = {}  # the file's key -> its latest Appointment
        self.last: dict[str, datetime] = {}  # case code -> the time of its latest step
        self.taken: dict[int, int] = defaultdict(int)
        self.slots: dict[tuple[int, int], list] = {}
        self.missed = {"unbooked": 0}
        self.facility_ids = dict(session.execute(select(Facility.code, Facility.id)).all())
        self.service_ids = dict(session.execute(select(Service.code, Service.id)).all())

    def start(self, case_codes) -> None:
        """The cases with activity wait before their first referral."""
        codes = sorted(set(case_codes))
        for i in range(0, len(codes), 500):
            self.session.execute(update(Case).where(Case.code.in_(codes[i:i + 500]))
                                 .values(status="waiting")
                                 .execution_options(synchronize_session=False))
        self.session.expire_all()

    def at(self, row: dict, earliest: datetime | None = None) -> datetime:
        if row["time"]:
            local = datetime.combine(self.today + timedelta(days=int(row["day"])),
                                     time.fromisoformat(row["time"]), self.tz)
            moment = local.astimezone(UTC)
        else:
            moment = earliest or self.now
        previous = self.last.get(row["case_code"])
        if previous is not None and moment <= previous:
            moment = previous + timedelta(minutes=1)
        if int(row["day"]) < 0:
            moment = min(moment, self.midnight - timedelta(minutes=1))
        moment = min(moment, self.now - timedelta(minutes=1))  # history is never ahead
        self.last[row["case_code"]] = moment
        return moment

    def step(self, row: dict) -> None:
        action, key = row["action"], row["referral"]
        s = self.session
        if action == "create":
            up = row["direction"] == "up"
            moment = self.at(row)
            data = {"sender_code": row["sender_code"], "receiver_code": row["receiver_code"],
                    "case_code": row["case_code"], "service_code": row["service_code"],
                    "direction": row["direction"], "urgency": row["urgency"],
                    "reason": row["text"] if up else DOWN_REASON,
                    "home_programme": None if up else row["text"],
                    "answers_code": self.referrals[row["of"]].code if row["of"] else None}
            self.referrals[key] = create_referral(s, data, principal=None, now=moment,
                                                  today=day_of(moment))
        elif action == "re_refer":
            moment = self.at(row)
            self.referrals[key] = re_refer(
                s, self.referrals[row["of"]], row["receiver_code"], principal=None, now=moment,
                today=day_of(moment))
        elif action in ("book", "waitlist", "offer", "cancel_appointment"):
            self.booking(action, key, row)
        elif action in ("fulfil", "noshow", "arrive"):
            self.attendance(action, key, row)
        else:
            referral = self.referrals[key]
            moment = self.at(row)
            text = row["text"] or None
            kwargs = {"decline": {"reason_code": text}, "complete": {"outcome": text},
                      "expire": {"reason": "no answer before the deadlines lapsed"}}.get(
                action, {"reason": text})
            transition(s, referral, action, principal=None, now=moment, **kwargs)

    # --- booking --------------------------------------------------------------------------------
    def _slots(self, referral) -> list:
        pair = (referral.receiver_id, referral.service_id)
        if pair not in self.slots:
            self.slots[pair] = list(self.session.execute(
                select(Slot.id, Slot.starts_at, Slot.places).where(
                    Slot.facility_id == pair[0], Slot.service_id == pair[1],
                    Slot.status == "open").order_by(Slot.starts_at, Slot.id)))
        return self.slots[pair]

    def _free(self, referral, after: datetime, before: datetime | None):
        for slot_id, starts_at, places in self._slots(referral):
            starts_at = starts_at if starts_at.tzinfo else starts_at.replace(tzinfo=UTC)
            if starts_at <= after or self.taken[slot_id] >= places:
                continue
            if before is not None and starts_at >= before:
                return
            yield slot_id

    def booking(self, action: str, key: str, row: dict) -> None:
        s, referral = self.session, self.referrals[key]
        if action == "waitlist":
            waitlist.add(s, referral, note=row["text"] or None, principal=None,
                         now=self.at(row))
            return
        if action == "offer":
            lead = self.now + timedelta(hours=current_app.config["BOOKING_OFFER_LEAD_HOURS"])
            for slot_id in self._free(referral, lead, None):
                offered = waitlist.offer_slot(s, slot_id, self.now)
                if offered is not None:
                    self.taken[offered.slot_id] += 1
                return
            return
        if action == "cancel_appointment":
            appointment = self.appointments.get(key)
            if appointment is not None and appointment.status == "booked":
                booking.cancel(s, appointment, reason=row["text"], note=None, principal=None,
                               now=self.at(row), offer=False)
                self.taken[appointment.slot_id] -= 1
            return
        moment = self.at(row)
        day = self.today + timedelta(days=int(row["slot_day"]))
        wanted = local_midnight(day).astimezone(UTC)
        # history stays before the load day; a future booking inside the window
        before = self.midnight if int(row["slot_day"]) < 0 else None
        tried = 0
        for slot_id in self._free(referral, max(moment, wanted), before):
            tried += 1
            if tried > SEARCH:
                break
            try:
                with s.begin_nested():
                    appointment, _ = booking.book(s, referral=referral, slot_id=slot_id,
                                                  hold=False, principal=None, now=moment)
            except DomainError:  # the person is busy then: the next slot
                continue
            self.taken[slot_id] += 1
            self.appointments[key] = appointment
            return
        self.missed["unbooked"] += 1
        self.appointments.pop(key, None)

    def attendance(self, action: str, key: str, row: dict) -> None:
        s, referral = self.session, self.referrals[key]
        appointment = self.appointments.get(key)
        if appointment is None or appointment.status != "booked":
            # no slot was found for it: the receiver starts the referral itself
            if action == "fulfil" and REFERRAL.can("start", referral.state):
                transition(s, referral, "start", principal=None, now=self.at(row))
            return
        starts = appointment.starts_at if appointment.starts_at.tzinfo else \
            appointment.starts_at.replace(tzinfo=UTC)
        ends = appointment.ends_at if appointment.ends_at.tzinfo else \
            appointment.ends_at.replace(tzinfo=UTC)
        if action == "arrive":
            booking.arrive(s, appointment, principal=None, now=starts - timedelta(minutes=5))
            return
        self.last[row["case_code"]] = max(self.last.get(row["case_code"], ends), ends)
        if action == "fulfil":
            booking.fulfil(s, appointment, principal=None, now=ends)
        else:
            booking.noshow(s, appointment, principal=None, now=ends)
            self.taken[appointment.slot_id] -= 1
