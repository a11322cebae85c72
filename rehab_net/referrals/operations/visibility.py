"""Who may see a referral and who may act on it: a user's facilities (their side), the SQL of the
referrals they see, the persons their referrals make readable. Every other operations module
asks here."""
from __future__ import annotations

from sqlalchemy import or_, select, true
from sqlalchemy.orm import Session, aliased

from rehab_net.auth.principal import Principal
from rehab_net.errors import Conflict, DomainError, NotFound
from rehab_net.network.models import Facility
from rehab_net.people.models import Case, Person
from rehab_net.referrals import messages as _messages  # noqa: F401 - registers the codes
from rehab_net.referrals.models import Referral
from rehab_net.vocab import FACILITY_ROLES


def acting_facilities(principal: Principal | None) -> set[int] | None:
    """The facilities a user works for (their referral side); None = every facility (a facility
    role granted over the whole network, or no user: the CLI and jobs)."""
    if principal is None:
        return None
    ids: set[int] = set()
    for grant in principal.grants:
        if grant.role in FACILITY_ROLES:
            if grant.facility_id is None:
                return None
            ids.add(grant.facility_id)
    return ids


def visible(principal: Principal | None):
    """SQL: the referrals a user may see: those of their facilities, and for planners those
    received in their region."""
    facilities = acting_facilities(principal)
    if facilities is None:
        return true()
    conditions = [Referral.sender_id.in_(facilities), Referral.receiver_id.in_(facilities)]
    plan_scope = principal.scope("plan.read")
    if not plan_scope.nowhere:
        receiver = aliased(Facility)
        conditions.append(Referral.receiver_id.in_(
            select(receiver.id).where(plan_scope.region_filter(receiver.region_id))))
    return or_(*conditions)


def referred_person_ids(facility_ids: set[int]):
    """A select of the persons with a referral sent or received by these facilities."""
    return (select(Case.person_id).join(Referral, Referral.case_id == Case.id)
            .where(or_(Referral.sender_id.in_(facility_ids),
                       Referral.receiver_id.in_(facility_ids))))


def referral_codes_of_person(person_code: str):
    """SQL: the codes of a person's referrals (the audit log's person filter)."""
    return (select(Referral.code).join(Case, Referral.case_id == Case.id)
            .join(Person, Case.person_id == Person.id).where(Person.code == person_code))


def get_referral(session: Session, code: str, *, viewer: Principal | None = None,
                 options=(), not_found: str = "referral.not_found") -> Referral:
    """The referral `code` if the viewer may see it (None: anyone), loaded with `options`; else
    a 404 with the `not_found` code (the caller's wording)."""
    stmt = select(Referral).where(Referral.code == code).options(*options)
    if viewer is not None:
        stmt = stmt.where(visible(viewer))
    referral = session.scalar(stmt)
    if referral is None:
        raise NotFound(not_found, code=code)
    return referral


def check_side(referral: Referral, side: str, principal: Principal | None) -> None:
    if side == "system":
        raise Conflict("referral.system_step")
    facilities = acting_facilities(principal)
    facility_id = referral.sender_id if side == "sender" else referral.receiver_id
    if facilities is not None and facility_id not in facilities:
        raise Forbidden("referral.sender_only" if side == "sender" else "referral.receiver_only")


class Forbidden(DomainError):
    status, title = 403, "Forbidden"
