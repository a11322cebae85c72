"""The catalogue against what was delivered: for a case, each catalogue item that applies to it
(mapped from its service or from the services it attended, for its age and category, in the
version in force on the day) with its dose (rules.py); for a facility, the worklist of the
open cases it took on or served whose items are not met.

Deliveries are the case's attended appointments (booking's ATTENDED_APPOINTMENT_STATUSES:
arrived, fulfilled), on their local day. Flush only, never commit (nothing here writes)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from rehab_net.auth.permissions import Scope
from rehab_net.booking.models import Appointment
from rehab_net.booking.states import ATTENDED_APPOINTMENT_STATUSES
from rehab_net.catalogue import rules
from rehab_net.catalogue.models import CatalogueItem, CatalogueService, CatalogueVersion
from rehab_net.clock import day_of
from rehab_net.errors import NotFound
from rehab_net.people.models import Case, Person
from rehab_net.people.states import OPEN_CASE_STATUSES
from rehab_net.referrals.models import Referral
from rehab_net.referrals.states import BOOKABLE_REFERRAL_STATES
from rehab_net.vocab import DOSE_STATUSES

# the worklist's order: what is late first, then what can no longer be met, then what is due
STATUS_ORDER = {"overdue": 0, "missed": 1, "due": 2, "met": 3}
assert set(STATUS_ORDER) == set(DOSE_STATUSES)


@dataclass(frozen=True)
class ItemDose:
    case: Case
    item: CatalogueItem
    dose: rules.Dose

    @property
    def sort_key(self):
        return (STATUS_ORDER[self.dose.status], self.dose.due_on or date.max, self.case.code,
                self.item.code)


def versions(session: Session) -> list[CatalogueVersion]:
    return list(session.scalars(select(CatalogueVersion).order_by(
        CatalogueVersion.effective_from.desc())))


def version_on(session: Session, on: date) -> CatalogueVersion | None:
    """The version in force on the day: the latest to start on or before it."""
    return session.scalar(select(CatalogueVersion).where(CatalogueVersion.effective_from <= on)
                          .order_by(CatalogueVersion.effective_from.desc()).limit(1))


def get_version(session: Session, code: str) -> CatalogueVersion:
    found = session.scalar(select(CatalogueVersion).where(CatalogueVersion.code == code))
    if found is None:
        raise NotFound("catalogue.version_not_found", code=code)
    return found


def items_of(session: Session, version: CatalogueVersion, *, part=None, category=None,
             kind=None) -> list[CatalogueItem]:
    stmt = select(CatalogueItem).where(CatalogueItem.version_id == version.id)
    for column, value in ((CatalogueItem.part, part), (CatalogueItem.category, category),
                          (CatalogueItem.kind, kind)):
        if value:
            stmt = stmt.where(column == value)
    return list(session.scalars(stmt.order_by(CatalogueItem.part, CatalogueItem.category,
                                              CatalogueItem.code)))


def services_of_items(session: Session) -> dict[str, list[str]]:
    """item code -> the codes of the services delivering it."""
    from rehab_net.network.models import Service

    found: dict[str, list[str]] = defaultdict(list)
    for item_code, service_code in session.execute(
            select(CatalogueService.item_code, Service.code)
            .join(Service, Service.id == CatalogueService.service_id).order_by(Service.code)):
        found[item_code].append(service_code)
    return found


def _deliveries(session: Session, case_ids: list[int]) -> dict[int, list[tuple[int, date]]]:
    """case id -> (service id, local day) of each attended appointment."""
    found: dict[int, list[tuple[int, date]]] = defaultdict(list)
    for i in range(0, len(case_ids), 500):
        for case_id, service_id, starts_at in session.execute(
                select(Appointment.case_id, Appointment.service_id, Appointment.starts_at)
                .where(Appointment.case_id.in_(case_ids[i:i + 500]),
                       Appointment.status.in_(ATTENDED_APPOINTMENT_STATUSES))):
            found[case_id].append((service_id, day_of(starts_at)))
    return found


def _mapping(session: Session, version: CatalogueVersion):
    """service id -> the items of the version its appointments deliver."""
    items = {i.code: i for i in items_of(session, version)}
    found: dict[int, list[CatalogueItem]] = defaultdict(list)
    for service_id, item_code in session.execute(select(CatalogueService.service_id,
                                                        CatalogueService.item_code)):
        if item_code in items:  # an item the version in force left out no longer applies
            found[service_id].append(items[item_code])
    return found


def doses(session: Session, cases: list[Case], today: date) -> list[ItemDose]:
    """Every catalogue item that applies to each case on ``today``, with its dose."""
    version = version_on(session, today)
    if version is None or not cases:
        return []
    mapping = _mapping(session, version)
    delivered = _deliveries(session, [c.id for c in cases])
    found = []
    for case in cases:
        person = case.person
        days_by_service: dict[int, list[date]] = defaultdict(list)
        for service_id, day in delivered.get(case.id, ()):
            days_by_service[service_id].append(day)
        items: dict[str, CatalogueItem] = {}
        for service_id in {case.service_id, *days_by_service}:
            for item in mapping.get(service_id, ()):
                if rules.eligible(min_age=item.min_age, max_age=item.max_age,
                                  categories=item.category_list, birth_date=person.birth_date,
                                  category=case.category, on=today):
                    items[item.code] = item
        item_days: dict[str, list[date]] = defaultdict(list)
        for service_id, days in days_by_service.items():
            for item in mapping.get(service_id, ()):
                if item.code in items:
                    item_days[item.code].extend(days)
        for code in sorted(items):
            item = items[code]
            since, until = rules.window(year=today.year, birth_date=person.birth_date,
                                        min_age=item.min_age, max_age=item.max_age,
                                        registered_on=case.registered_on)
            found.append(ItemDose(case, item, rules.evaluate(
                item.rule, item.amount, item.cycle_months, item_days[code], today=today,
                since=since, until=until)))
    return found


def facility_cases(session: Session, facility_id: int, scope: Scope) -> list[Case]:
    """The open cases a facility took on (a referral to it accepted or in rehabilitation) or
    served (an attended appointment there), within the reader's scope of cases."""
    accepted = select(Referral.case_id).where(Referral.receiver_id == facility_id,
                                              Referral.state.in_(BOOKABLE_REFERRAL_STATES))
    served = select(Appointment.case_id).where(
        Appointment.facility_id == facility_id,
        Appointment.status.in_(ATTENDED_APPOINTMENT_STATUSES))
    stmt = (select(Case).join(Person, Person.id == Case.person_id)
            .where(Case.status.in_(OPEN_CASE_STATUSES),
                   or_(Case.id.in_(accepted), Case.id.in_(served)),
                   scope.person_filter(Person.id, Person.home_region_id))
            .options(joinedload(Case.person)).order_by(Case.code))
    return list(session.scalars(stmt))


def worklist(session: Session, facility_id: int, today: date, *, scope: Scope,
             status: str | None = None, category: str | None = None,
             item: str | None = None) -> list[ItemDose]:
    """The items not met of the facility's open cases, late first (STATUS_ORDER), then by the
    day they are due. Filters: a dose status, a case category, an item code."""
    rows = [d for d in doses(session, facility_cases(session, facility_id, scope), today)
            if d.dose.status != "met"
            and (status is None or d.dose.status == status)
            and (category is None or d.case.category == category)
            and (item is None or d.item.code == item)]
    return sorted(rows, key=lambda d: d.sort_key)


def worklist_facility(session: Session, principal, code: str | None):
    """The facility whose worklist the user reads: ``code`` if it is one of theirs (else a 404,
    as if it did not exist), or their first facility. A facility role over the whole network
    (or the CLI) reads any facility, and must name it."""
    from rehab_net.errors import field_error
    from rehab_net.network.models import Facility
    from rehab_net.referrals.operations.visibility import acting_facilities

    mine = acting_facilities(principal)
    if code:
        facility = session.scalar(select(Facility).where(Facility.code == code))
        if facility is None or (mine is not None and facility.id not in mine):
            raise NotFound("catalogue.facility_not_yours", code=code)
        return facility
    if mine is None:
        raise field_error("facility", "catalogue.facility_needed", location="query")
    facility = session.scalar(select(Facility).where(Facility.id.in_(mine))
                              .order_by(Facility.code).limit(1))
    if facility is None:
        raise field_error("facility", "catalogue.facility_needed", location="query")
    return facility
