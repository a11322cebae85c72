"""The children's rescue rehabilitation ledger (免费抢救性康复; docs/coverage.md): per child, the
funded months and amount of training this year against the configured rule (settings.RescueRule),
the warnings before a cap, and the totals per district for the quarterly return.

Nothing in the network records what was funded, so the ledger derives it from attendance: a
calendar month (local) with at least one attended training appointment of the child before
their 7th birthday is a trained month; months are funded in order, while the months cap and the
amount cap allow, at the monthly price (the last one at what the amount cap leaves). With "one
category a year" only the category of the child's first attended training of the year is
funded; months in another category are counted apart, unfunded. Booked training sessions still
to come in months not trained yet tell the warning ahead of the cap."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rehab_net.booking.models import Appointment
from rehab_net.booking.states import ATTENDED_APPOINTMENT_STATUSES
from rehab_net.clock import day_of, local_midnight
from rehab_net.coverage import settings
from rehab_net.coverage.figures import UNKNOWN_DISTRICT, suppressed
from rehab_net.network import operations as network
from rehab_net.network.models import Service
from rehab_net.people.models import Person
from rehab_net.people.rules import child_birth_cutoff, is_child

# The ledger's statuses, the most pressing first: months trained beyond a cap (unfunded);
# booked sessions that will pass it; at the cap; within the warning months of it; fine.
STATUSES = ("over", "will_exceed", "at_cap", "near", "ok")
Month = tuple[int, int]


@dataclass
class ChildLedger:
    person_id: int
    person_code: str
    district: str
    category: str | None = None  # the funded category
    trained: list[Month] = field(default_factory=list)  # months trained in the funded category
    funded: dict[Month, int] = field(default_factory=dict)  # funded month -> amount (yuan)
    unfunded: int = 0  # months trained beyond a cap
    other_months: int = 0  # months trained in another category only (one category a year)
    booked_ahead: int = 0  # months still to come with a booked session, not trained yet
    months_left: int = 0
    status: str = "ok"

    @property
    def funded_months(self) -> int:
        return len(self.funded)

    @property
    def amount(self) -> int:
        return sum(self.funded.values())


def _utc(day: date) -> datetime:
    return local_midnight(day).astimezone(UTC)


def ledger(session: Session, start: date, end: date, *, now: datetime,
           codes: set[str] | None = None, rule: settings.RescueRule | None = None
           ) -> list[ChildLedger]:
    """The ledger of the local days [start, end) (a year, or its part so far), one entry per
    child with training in it, in the order of their codes; the districts ``codes`` only."""
    rule = rule or settings.rescue_rule()
    district_of = network.district_codes(session)
    rows = session.execute(
        select(Appointment.person_id, Appointment.starts_at, Appointment.status,
               Service.category, Person.code, Person.birth_date, Person.home_region_id)
        .join(Service, Appointment.service_id == Service.id)
        .join(Person, Appointment.person_id == Person.id)
        .where(Service.kind == "training",
               Appointment.status.in_((*ATTENDED_APPOINTMENT_STATUSES, "booked")),
               Appointment.starts_at >= _utc(start),
               Appointment.starts_at < _utc(date(start.year + 1, 1, 1)),
               Person.birth_date > child_birth_cutoff(start))
        .order_by(Appointment.starts_at, Service.category))
    attended: dict[int, list[tuple[date, str]]] = defaultdict(list)
    booked: dict[int, list[tuple[date, str]]] = defaultdict(list)
    children: dict[int, ChildLedger] = {}
    for r in rows:
        day = day_of(r.starts_at)
        if not is_child(r.birth_date, day):
            continue  # the programme ends on the 7th birthday
        district = district_of.get(r.home_region_id) or UNKNOWN_DISTRICT
        if codes is not None and district not in codes:
            continue
        if r.status in ATTENDED_APPOINTMENT_STATUSES and day < end:
            attended[r.person_id].append((day, r.category))
        elif r.status == "booked" and r.starts_at >= now:
            booked[r.person_id].append((day, r.category))
        else:
            continue
        children.setdefault(r.person_id, ChildLedger(r.person_id, r.code, district))
    out = []
    for person_id, child in children.items():
        visits = attended.get(person_id, [])
        if not visits:
            continue  # only booked: nothing used yet, nothing to warn about
        _fill(child, visits, booked.get(person_id, []), rule)
        out.append(child)
    return sorted(out, key=lambda c: c.person_code)


def _fill(child: ChildLedger, visits, ahead, rule: settings.RescueRule) -> None:
    child.category = visits[0][1]  # the first attended training of the year
    funded_cats = {child.category} if rule.one_category else {c for _d, c in visits}
    months: dict[Month, set[str]] = defaultdict(set)
    for day, category in visits:
        months[day.year, day.month].add(category)
    spent = 0
    for month in sorted(months):
        if not months[month] & funded_cats:
            child.other_months += 1
            continue
        child.trained.append(month)
        if len(child.funded) < rule.months_cap and spent < rule.amount_cap:
            amount = min(rule.monthly_price, rule.amount_cap - spent)
            child.funded[month] = amount
            spent += amount
        else:
            child.unfunded += 1
    months_left = rule.months_cap - len(child.funded)
    if rule.monthly_price:
        left_by_amount = -(-(rule.amount_cap - spent) // rule.monthly_price)  # ceiling
        months_left = min(months_left, left_by_amount)
    child.months_left = max(0, months_left)
    child.booked_ahead = len({(d.year, d.month) for d, c in ahead
                              if c in funded_cats and (d.year, d.month) not in months})
    if child.unfunded:
        child.status = "over"
    elif child.booked_ahead > child.months_left:
        child.status = "will_exceed"
    elif child.months_left == 0:
        child.status = "at_cap"
    elif child.months_left <= rule.warn_months:
        child.status = "near"


def needs_attention(child: ChildLedger) -> bool:
    """On the worklist: near or over a cap, or training in a category not funded."""
    return child.status != "ok" or child.other_months > 0


def district_totals(children: list[ChildLedger], start: date, end: date, *,
                    small: int) -> dict[str, dict]:
    """Per district, for the quarterly return: the children with a funded month in the local
    days [start, end), those funded months and their amount, and the children over a cap. A
    small number of children hides its months and amount with it."""
    last_day = end - timedelta(days=1)
    first, last = (start.year, start.month), (last_day.year, last_day.month)
    cells: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for child in children:
        months = {m: a for m, a in child.funded.items() if first <= m <= last}
        if months:
            cell = cells[child.district]
            cell["children"] += 1
            cell["funded_months"] += len(months)
            cell["amount"] += sum(months.values())
        if child.status == "over":
            cells[child.district]["over_cap"] += 1
    out = {}
    for district in sorted(cells):
        cell = cells[district]
        hidden = 0 < cell["children"] < small
        out[district] = {
            "children": suppressed(cell["children"], small),
            "funded_months": f"<{small}" if hidden else cell["funded_months"],
            "amount": f"<{small}" if hidden else cell["amount"],
            "over_cap": suppressed(cell["over_cap"], small)}
    return out
