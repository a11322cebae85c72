"""Who sees and changes what in booking.

Facility staff (coordinators, clinic staff) see and book the appointments, waitlists and
schedules of their own facilities (``acting_facilities``); a facility role granted over the whole
network, and the CLI or a job (no user), act everywhere. Planners read the appointments of the
facilities in their region (no names: codes only). Slots are not personal data: whoever may read
booking sees every facility's slots (availability is searched network-wide). Anything outside
the scope answers 404, as if it did not exist."""
from __future__ import annotations

from sqlalchemy import false, or_, select, true

from rehab_net.auth.permissions import scope_of
from rehab_net.auth.principal import Principal
from rehab_net.booking import messages as _messages  # noqa: F401 - registers the codes
from rehab_net.errors import NotFound
from rehab_net.listing import one_page
from rehab_net.network.models import Facility
from rehab_net.network.operations import text_match
from rehab_net.referrals.operations.visibility import acting_facilities
from rehab_net.vocab import FACILITY_ROLES


def writable_facilities(principal: Principal | None) -> set[int] | None:
    """The facilities a user books and schedules for; None = every facility."""
    return acting_facilities(principal)


def facility_filter(principal: Principal | None, column):
    """SQL: ``column`` (a facility id) is one whose appointments the user may read."""
    mine = acting_facilities(principal)
    if mine is None:
        return true()
    conditions = [column.in_(mine)] if mine else []
    others = [g for g in principal.grants if g.role not in FACILITY_ROLES]
    region_scope = scope_of(others, "booking.read")
    if region_scope.everywhere:
        return true()
    if region_scope.region_ids:
        conditions.append(column.in_(select(Facility.id).where(
            region_scope.region_filter(Facility.region_id))))
    return or_(*conditions) if conditions else false()


def appointment_filter(principal: Principal | None):
    """SQL on Appointment: the appointments the user may read: those of their facilities (and,
    for planners, their region's), and those of the referrals their facilities sent, so the
    sending clinic follows its patient (read only: changing one needs the receiving side)."""
    from rehab_net.booking.models import Appointment
    from rehab_net.referrals.models import Referral

    mine = acting_facilities(principal)
    own = facility_filter(principal, Appointment.facility_id)
    if not mine:
        return own  # everywhere (None), or no facility of their own to have sent it
    return or_(own, Appointment.referral_id.in_(
        select(Referral.id).where(Referral.sender_id.in_(mine))))


def sent_by_mine(principal: Principal | None, referral) -> bool:
    """Whether the referral was sent by one of the user's facilities."""
    mine = acting_facilities(principal)
    return mine is None or referral.sender_id in mine


def require_writable(principal: Principal | None, facility_id: int, what: str = "facility"):
    """404 unless the user books for this facility (it does not exist for them)."""
    mine = writable_facilities(principal)
    if mine is not None and facility_id not in mine:
        raise NotFound("booking.not_yours", what=what)


# Up to this many facilities a page offers them in a list box; a user with more (a network-wide
# role: 1,474 in the sample) searches them by name or code instead, a page of them at a time.
FACILITY_LIST_BOX_LIMIT = 40
FACILITY_PAGE_ROWS = 50


def _my_facilities_stmt(principal: Principal | None, q: str = ""):
    """The user's own facilities, or every open one, by code; `q` narrows them by name or code
    (network's search)."""
    mine = acting_facilities(principal)
    stmt = select(Facility).order_by(Facility.code)
    if mine is not None:
        stmt = stmt.where(Facility.id.in_(mine))
    else:
        stmt = stmt.where(Facility.status == "open")
    if q:
        stmt = stmt.where(text_match(Facility, q))
    return stmt


def my_facilities(session, principal: Principal | None) -> list[Facility]:
    """The facilities to offer in a page's choice: the user's own, or every open one."""
    return list(session.scalars(_my_facilities_stmt(principal)))


def find_my_facilities(session, principal: Principal | None, q: str,
                       page: int) -> tuple[list[Facility], int, int]:
    """A page (FACILITY_PAGE_ROWS) of the user's facilities matching `q`: (rows, how many match,
    pages)."""
    return one_page(session, _my_facilities_stmt(principal, q), page, FACILITY_PAGE_ROWS)


def require_practitioner_writable(principal: Principal | None, practitioner) -> None:
    """404 unless the user books for a facility where the practitioner already practises: only
    such a user changes the practitioner or adds a site of theirs (one more site does not hand
    over another facility's practitioner)."""
    mine = writable_facilities(principal)
    if mine is not None and not ({s.facility_id for s in practitioner.sites} & mine):
        raise NotFound("practitioner.not_yours", code=practitioner.code)


def appointment_codes_of_person(person_code: str) -> list[str]:
    """The codes of a person's appointments (the audit log's person filter). A code is the id
    written out (A0000042), not a column, so they are listed: a person has a few hundred at most."""
    from rehab_net.booking.models import Appointment, appointment_code
    from rehab_net.db import get_session
    from rehab_net.people.models import Person

    ids = get_session().scalars(select(Appointment.id).join(
        Person, Appointment.person_id == Person.id).where(Person.code == person_code))
    return [appointment_code(i) for i in ids]
