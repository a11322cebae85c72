"""The sample's activity: practitioners, their weekly schedule rules, and the referrals,
appointments and waitlist entries that give the cases the statuses cases.csv records.

Three files (docs/import-format.md does not cover them: they are the sample's own, loaded by
rehab_net/sample_activity.py):
- practitioners.csv: code, name, profession, facility_codes (";" between sites; some have two);
- schedule_rules.csv: the weekly rule of a practitioner at one site for one service, sized so
  the places a week are close to the capacity row in force (booking/capacity.py takes the
  schedules as the plan's weekly intake where they exist);
- activity.csv: one step a line, in the order to replay: referral steps (create, send, receive,
  accept, ...), appointment steps (book, fulfil, arrive, noshow, cancel_appointment) and
  waitlist steps (waitlist, offer). Days are OFFSETS from the day the sample is loaded (day -1 is
  the day before), times local; so a referral sent "yesterday" is always fresh and a booked
  appointment always ahead, whatever day `make run` is first run on. The offsets are drawn so
  that every step falls after the case's registration for a load on or after REFERENCE_DAY.

The cases of a status get the work that produces it (referrals.states.case_status_for):
accepted -> an accepted referral; in_service -> one in rehabilitation (started by an attended
appointment where the receiver has schedules, else by the receiver); completed -> outcome
recorded; closed -> acknowledged, or closed by the accepted down-referral; some waiting cases
have declined, returned, expired or cancelled referrals; some are referred (sent or received:
this module sets their status in cases.csv to "referred"); a few have drafts only."""
from __future__ import annotations

import math
from collections import defaultdict
from datetime import date

from sample_network.geography import distance_km
from sample_network.network import Capacity, Facility, Service
from sample_network.people import REFERENCE_DAY, Case, Person

HISTORY_DAYS = 120  # slots are generated from this many days before the load day
# A few stations with schedules besides the centres: the demo station, and the seat stations
# of the divisions without a centre of their own that run children's training.
DEMO_STATION = "ST0001"
EXTRA_STATIONS = 3
PROFESSION = {"assessment": "physician", "surgery": "physician", "device_fitting": "technician",
              "training": "therapist", "day_care": "nurse", "follow_up": "nurse"}
GROUP_KINDS = ("training", "day_care")  # group sessions: several places a slot
GROUP_PLACES = 4
DAY_START = 8 * 60  # 08:00
DAY_MINUTES = 8 * 60  # a practitioner's working day at most

ACTIVITY_COLUMNS = ("referral", "case_code", "action", "day", "time", "sender_code",
                    "receiver_code", "service_code", "direction", "urgency", "slot_day", "text",
                    "of")
PRACTITIONER_COLUMNS = ("code", "name", "profession", "facility_codes")
RULE_COLUMNS = ("practitioner_code", "facility_code", "service_code", "weekdays", "start_time",
                "end_time", "slot_minutes", "places")

# How many waiting cases get which unanswered or abandoned referral, and how many are referred.
WAITING_ENDS = {"declined": 150, "returned": 70, "expired": 60, "cancelled": 50}
REFERRED = {"sent": 120, "received": 90}
DRAFTS = 40
RE_REFERRED_SHARE = 0.1  # accepted cases whose first referral was declined, then re-referred
DOWN_SHARE = 0.12  # in_service and closed cases carried on by a down-referral
FINISHED_BOOKED = 0.3  # completed and closed cases whose course began at a booked appointment
REASONS = {
    "assessment": "申请{name}，请安排评估",
    "surgery": "经评估需{name}，请安排手术",
    "device_fitting": "申请{name}，请安排适配",
    "training": "申请{name}，请安排入训",
    "day_care": "申请{name}，请安排日间照料",
    "follow_up": "申请{name}，请安排社区随访",
}
OUTCOMES = ("疗程完成，功能明显改善", "疗程完成，功能部分改善，建议居家训练",
            "评估完成，已出具康复方案", "适配完成，使用良好")
ADVICE = ("请补充残疾证及近期评估报告后再转", "请先完成基层评估后再转", "请补充监护人联系方式")
CANCEL_TEXT = ("家属要求取消", "患者已迁居外地", "家属选择自行就医")
HOME_PROGRAMME = "居家训练每日30分钟，社区康复站每月随访一次"
DECLINE_CODES = ("no_capacity", "not_eligible", "incomplete_referral", "patient_unreachable",
                 "other")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "建国秀英海燕志强丽娟文博晓明春梅玉兰国华淑珍宏伟桂芳振宇雅琴俊杰婉清"
PROFESSION_TITLE = {"physician": "医师", "therapist": "治疗师", "nurse": "护士",
                    "technician": "技师"}


class Activity:
    """What build() makes: the three tables, and the cases it moved to "referred"."""

    def __init__(self):
        self.practitioners: list[dict] = []
        self.rules: list[dict] = []
        self.steps: list[dict] = []


def build(rng, persons: list[Person], facilities: list[Facility], services: list[Service],
          capacities: list[Capacity]) -> Activity:
    out = Activity()
    by_code = {f.code: f for f in facilities}
    service_of = {s.code: s for s in services}
    intake = _intake_in_force(capacities)
    scheduled = _rule_facilities(facilities, intake)
    _schedules(rng, out, scheduled, by_code, service_of, intake)
    with_rules = {(r["facility_code"], r["service_code"]) for r in out.rules}
    offering = defaultdict(list)  # service code -> open facilities offering it
    for (f_code, s_code), n in sorted(intake.items()):
        if n > 0 and by_code[f_code].status == "open":
            offering[s_code].append(by_code[f_code])
    clinics = _clinics_by_township(facilities)
    stations = {f.region.code: f for f in facilities if f.tier == "station"
                and f.status == "open"}
    ctx = _Context(rng, out, offering, with_rules, clinics, stations, service_of)
    cases = [c for p in persons for c in p.cases]
    by_status = defaultdict(list)
    for c in cases:
        by_status[c.status].append(c)
    for status in ("accepted", "in_service", "completed", "closed"):
        for c in by_status[status]:
            ctx.history(c, status)
    waiting = [c for c in by_status["waiting"]
               if (REFERENCE_DAY - c.registered_on).days > 40]
    rng.shuffle(waiting)
    pool = iter(waiting)
    for end, n in {**WAITING_ENDS, **REFERRED}.items():
        for _ in range(n):
            ctx.unanswered(next(pool), end)
    for _ in range(DRAFTS):
        ctx.draft(next(pool))
    ctx.offers()
    out.steps = ctx.ordered()
    return out


# --- schedules ----------------------------------------------------------------------------------
def _intake_in_force(capacities: list[Capacity]) -> dict[tuple[str, str], int]:
    """(facility, service) -> the weekly intake of the row in force on REFERENCE_DAY."""
    rows = sorted((c for c in capacities if c.effective_from <= REFERENCE_DAY.isoformat()),
                  key=lambda c: c.effective_from)
    return {(c.facility.code, c.service.code): c.weekly_intake for c in rows}


def _rule_facilities(facilities: list[Facility], intake) -> list[Facility]:
    centres = [f for f in facilities if f.tier == "centre" and f.status == "open"]
    trainers = [f for f in facilities if f.tier == "station" and f.status == "open"
                and f.code != DEMO_STATION
                and any(intake.get((f.code, s), 0) > 0 for s in ("autism_training",
                                                                  "hearing_training"))]
    demo = [f for f in facilities if f.code == DEMO_STATION]
    return centres + demo + trainers[:EXTRA_STATIONS]


def _shape(weekly: int, kind: str, duration: int) -> tuple[int, int, int]:
    """(places a slot, slot minutes, slots a week) giving about `weekly` places a week."""
    places = min(GROUP_PLACES, weekly) if kind in GROUP_KINDS else 1
    return places, duration, max(1, math.ceil(weekly / places))


def _schedules(rng, out: Activity, facilities, by_code, service_of, intake) -> None:
    """One practitioner per facility and service (two when a day is not long enough); a
    practitioner working two days a week or fewer also works at another scheduled facility of
    the same division on the days left (multi-site practice)."""
    pending = []  # (facility, service, places, minutes, weekly slots)
    for f in facilities:
        for s_code in sorted(s for (fc, s), n in intake.items() if fc == f.code and n > 0):
            s = service_of[s_code]
            places, minutes, slots = _shape(intake[(f.code, s_code)], s.kind,
                                            s.duration_minutes)
            per_day = max(1, DAY_MINUTES // minutes)
            while slots > 0:
                take = min(slots, per_day * 5)
                pending.append((f, s, places, minutes, take, per_day))
                slots -= take
    # (practitioner index) -> weekdays used; a practitioner is a list of (facility, days)
    people: list[dict] = []
    part_time: dict[tuple[str, str], dict] = {}  # (division, kind) -> a practitioner with days
    for f, s, places, minutes, slots, _per_day in pending:
        days = min(5, slots)
        per = math.ceil(slots / days)
        key = (f.region.district.code, s.kind)
        mate = part_time.get(key)
        if (days <= 2 and mate is not None and mate["days"] + days <= 5
                and f.code not in mate["sites"]):
            person = mate
            part_time.pop(key)
        else:
            person = {"code": f"P{len(people) + 1:04d}", "kind": s.kind, "days": 0,
                      "sites": []}
            people.append(person)
            if days <= 2:
                part_time[key] = person
        first = person["days"]
        weekdays = list(range(first + 1, first + days + 1))
        person["days"] += days
        if f.code not in person["sites"]:
            person["sites"].append(f.code)
        start = DAY_START
        end = start + per * minutes
        out.rules.append({
            "practitioner_code": person["code"], "facility_code": f.code,
            "service_code": s.code, "weekdays": ";".join(map(str, weekdays)),
            "start_time": _hhmm(start), "end_time": _hhmm(end), "slot_minutes": minutes,
            "places": places})
    for person in people:
        profession = PROFESSION[person["kind"]]
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + PROFESSION_TITLE[profession]
        out.practitioners.append({"code": person["code"], "name": name,
                                  "profession": profession,
                                  "facility_codes": ";".join(person["sites"])})


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _clinics_by_township(facilities):
    out = defaultdict(list)
    for f in facilities:
        if f.tier == "clinic" and f.status == "open":
            out[f.region.parent_code].append(f)
    return out


# --- referrals ----------------------------------------------------------------------------------
class _Context:
    def __init__(self, rng, out, offering, with_rules, clinics, stations, services):
        self.rng, self.out = rng, out
        self.offering, self.with_rules = offering, with_rules
        self.clinics, self.stations, self.services = clinics, stations, services
        self.steps: list[tuple] = []
        self.last: dict[str, tuple[int, int]] = {}  # case code -> (day, minute) of its last step
        self.number = 0
        self.waitlisted: list[str] = []

    # one line
    def step(self, key, case: Case, action, day, minute=None, **fields):
        """One line; a timed step never before the case's previous one (moved 5 minutes after
        it, or to the next morning)."""
        last = self.last.get(case.code)
        if minute is not None and last is not None and (day, minute) <= last:
            day, minute = last[0], last[1] + 5
            if minute > 17 * 60 + 55 and day < -1:
                day, minute = day + 1, 8 * 60
            minute = min(minute, 23 * 60 + 55)
        self.last[case.code] = (day, minute if minute is not None else 17 * 60 + 55)
        row = {c: "" for c in ACTIVITY_COLUMNS}
        row.update(referral=key, case_code=case.code, action=action, day=day,
                   time=_hhmm(minute) if minute is not None else "")
        row.update({k: v for k, v in fields.items() if v is not None})
        self.steps.append(((day, minute if minute is not None else 24 * 60, len(self.steps)),
                           row))

    def ordered(self) -> list[dict]:
        return [row for _, row in sorted(self.steps, key=lambda s: s[0])]

    def minute(self) -> int:
        return self.rng.randrange(8 * 60 + 30, 17 * 60, 5)

    def earliest(self, case: Case) -> int:
        """The first day offset after the case's registration (for a load on REFERENCE_DAY)."""
        return (case.registered_on - REFERENCE_DAY).days + 1

    def sender(self, case: Case) -> Facility | None:
        """The home clinic, or another open clinic of the township."""
        village = case.person.home
        clinics = self.clinics.get(village.parent_code, [])
        home = [c for c in clinics if c.region.code == village.code]
        return (home or clinics or [None])[0]

    def receiver(self, case: Case, sender: Facility, service: str) -> Facility | None:
        """The nearest open facility above the sender that offers the service."""
        rank = {"clinic": 0, "station": 1, "centre": 2}
        home = case.person.home
        options = [f for f in self.offering.get(service, []) if rank[f.tier] > rank[sender.tier]]
        if not options:
            return None
        return min(options, key=lambda f: (distance_km((home.lat, home.lon), (f.lat, f.lon)),
                                           f.code))

    def new(self, case, day, sender, receiver, service, direction="up", urgency=None,
            answers=None) -> str:
        self.number += 1
        key = f"S{self.number:05d}"
        name = self.services[service].name_zh
        text = REASONS[self.services[service].kind].format(name=name)
        self.step(key, case, "create", day, self.minute(), sender_code=sender.code,
                  receiver_code=receiver.code, service_code=service, direction=direction,
                  urgency=urgency or self.rng.choices(("routine", "urgent", "emergency"),
                                                      (0.8, 0.17, 0.03))[0],
                  text=text if direction == "up" else HOME_PROGRAMME, of=answers)
        return key

    def answer(self, key, case, day, action="accept", text=None):
        """send (same day), receive, then the answer; returns the answer's day."""
        self.step(key, case, "send", day, 17 * 60 + 10)
        day += self.rng.randint(1, 2)
        self.step(key, case, "receive", day, 8 * 60 + 40)
        day += self.rng.randint(0, 3)
        self.step(key, case, action, day, self.minute(), text=text)
        return day

    def route(self, case):
        sender = self.sender(case)
        receiver = self.receiver(case, sender, case.service_code) if sender else None
        return sender, receiver

    def history(self, case: Case, status: str) -> None:
        sender, receiver = self.route(case)
        if receiver is None:
            raise ValueError(f"no route for {case.code} ({case.service_code})")
        rng = self.rng
        span = {"accepted": (-45, -3), "in_service": (-75, -16), "completed": (-115, -50),
                "closed": (-115, -55)}[status]
        day = max(self.earliest(case), rng.randint(*span))
        scheduled = (receiver.code, case.service_code) in self.with_rules
        if status == "accepted" and rng.random() < RE_REFERRED_SHARE:
            first = self.new(case, day, sender, receiver, case.service_code)
            day = self.answer(first, case, day, "decline", rng.choice(DECLINE_CODES))
            others = [f for f in self.offering[case.service_code]
                      if f.code != receiver.code and f.tier == receiver.tier]
            if others:
                receiver = min(others, key=lambda f: f.code)
                day += 1
                self.number += 1
                key = f"S{self.number:05d}"
                self.step(key, case, "re_refer", day, self.minute(), receiver_code=receiver.code,
                          of=first)
                day += rng.randint(1, 2)
                self.step(key, case, "receive", day, 8 * 60 + 40)
                self.step(key, case, "accept", day + 1, self.minute())
                self.after_accept(key, case, day + 1,
                                  (receiver.code, case.service_code) in self.with_rules)
                return
            key = self.new(case, day + 1, sender, receiver, case.service_code)
            day += 1
        else:
            key = self.new(case, day, sender, receiver, case.service_code)
        day = self.answer(key, case, day)
        if status == "accepted":
            self.after_accept(key, case, day, scheduled)
            return
        # Finished cases mostly without their appointments: replaying a booking costs load time.
        day = self.start(key, case, day, scheduled and (status == "in_service"
                                                        or rng.random() < FINISHED_BOOKED))
        down = (status in ("in_service", "closed") and receiver.tier == "centre"
                and rng.random() < DOWN_SHARE and self.station_for(case, receiver) is not None)
        if status == "in_service" and not down:
            if scheduled and rng.random() < 0.5:
                self.step(key, case, "book", -rng.randint(1, 3), self.minute(),
                          slot_day=rng.randint(1, 20))
            return
        day += rng.randint(7, 25)
        self.step(key, case, "complete", min(day, -2), self.minute(), text=rng.choice(OUTCOMES))
        day = min(day, -2)
        if status == "completed":
            return
        if down:
            station, service = self.station_for(case, receiver)
            d = self.new(case, day, receiver, station, service, direction="down", answers=key)
            day = min(self.answer(d, case, day), -1)
            if status == "in_service":
                self.step(d, case, "start", day, 16 * 60 + 30)
                return
            day = min(day + rng.randint(10, 30), -1)
            self.step(d, case, "start", day, 9 * 60)
            self.step(d, case, "complete", day, 16 * 60 + 40, text=rng.choice(OUTCOMES))
            self.step(d, case, "acknowledge", day, 16 * 60 + 50)
            return
        self.step(key, case, "acknowledge", min(day + rng.randint(1, 6), -1), self.minute())

    def station_for(self, case: Case, centre: Facility):
        """The home township's station and the follow-up service of the case's category, if
        the station runs it."""
        station = self.stations.get(case.person.home.parent_code)
        service = f"{self.services[case.service_code].category}_follow_up"
        if station is None or station not in self.offering.get(service, []):
            return None
        return station, service

    def start(self, key, case, day, scheduled: bool) -> int:
        """Rehabilitation begins: an attended appointment where the receiver has schedules
        (sometimes after a no-show or a cancellation), else the receiver starts it."""
        rng = self.rng
        if not scheduled:
            day += rng.randint(2, 10)
            self.step(key, case, "start", min(day, -1), 9 * 60)
            return min(day, -1)
        booked = day + rng.randint(0, 1)
        slot = min(booked + rng.randint(2, 8), -1)
        self.step(key, case, "book", booked, self.minute(), slot_day=slot)
        roll = rng.random()
        if roll < 0.12:
            self.step(key, case, "noshow", slot)
            booked, slot = slot + 1, min(slot + rng.randint(3, 7), -1)
            self.step(key, case, "book", booked, 9 * 60, slot_day=slot)
        elif roll < 0.2:
            self.step(key, case, "cancel_appointment", booked + 1, self.minute(),
                      text="family_request")
            booked, slot = booked + 1, min(slot + rng.randint(3, 7), -1)
            self.step(key, case, "book", booked, 17 * 60 + 20, slot_day=slot)
        self.step(key, case, "fulfil", slot)
        if roll > 0.95 and slot < -3:  # came again yesterday; attendance not recorded yet
            self.step(key, case, "book", slot + 1, self.minute(), slot_day=-1)
            self.step(key, case, "arrive", -1)
        return slot

    def after_accept(self, key, case, day, scheduled: bool) -> None:
        """An accepted referral: a booked first appointment, the waitlist, or nothing yet (the
        coordinator's inbox)."""
        if not scheduled:
            return
        roll = self.rng.random()
        booked = min(day + 1, -1)
        if roll < 0.4:
            self.step(key, case, "book", booked, self.minute(), slot_day=self.rng.randint(1, 25))
            if self.rng.random() < 0.1:
                self.step(key, case, "cancel_appointment", -1, 9 * 60 + 15,
                          text="facility_request")
        elif roll < 0.55:
            self.step(key, case, "waitlist", booked, self.minute(),
                      text="暂无合适时段，登记候补")
            self.waitlisted.append((key, case))

    def offers(self) -> None:
        """A third of the waitlisted referrals' facilities offer a freed place on the load day
        (the best-placed waiting case there gets it)."""
        for key, case in self.waitlisted[::3]:
            self.step(key, case, "offer", 0, None)

    def unanswered(self, case: Case, end: str) -> None:
        """A waiting case whose referral was declined, returned, expired or cancelled (it waits
        again), or one referred now (sent or received)."""
        sender, receiver = self.route(case)
        if receiver is None:
            return
        rng = self.rng
        if end in REFERRED:
            day = -rng.randint(1, 3) if end == "sent" else -rng.randint(3, 9)
            key = self.new(case, day, sender, receiver, case.service_code)
            self.step(key, case, "send", day, 17 * 60 + 10)
            if end == "received":
                self.step(key, case, "receive", day + 1, 8 * 60 + 40)
            case.status = "referred"
            return
        day = max(self.earliest(case), -rng.randint(30, 100))
        key = self.new(case, day, sender, receiver, case.service_code)
        if end == "expired":
            self.step(key, case, "send", day, 17 * 60 + 10)
            self.step(key, case, "expire", min(day + 25, -1), 6 * 60)
        elif end == "cancelled":
            self.step(key, case, "send", day, 17 * 60 + 10)
            self.step(key, case, "cancel", day + rng.randint(1, 5), self.minute(),
                      text=rng.choice(CANCEL_TEXT))
        elif end == "declined":
            self.answer(key, case, day, "decline", rng.choice(DECLINE_CODES))
        else:
            self.answer(key, case, day, "return", rng.choice(ADVICE))

    def draft(self, case: Case) -> None:
        sender, receiver = self.route(case)
        if receiver is not None:
            self.new(case, -self.rng.randint(1, 10), sender, receiver, case.service_code)


def first_day(load_day: date) -> date:
    """The first day slots are generated from when the sample is loaded on `load_day`."""
    from datetime import timedelta

    return load_day - timedelta(days=HISTORY_DAYS)
