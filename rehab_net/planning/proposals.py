"""From a plan's proposals to bookings (issue 14, "plans to work"): per case the plan proposes
at a facility, its referral there (the one `POST /plans/{id}/apply` made, or any open referral of
the case to that facility and service) and the earliest free slots at that facility, for that
service, in the proposed start week; when that week has none, the earliest after it (saying
so). The coordinator accepts the referral (receiving it first when it is only sent) and books
one of the slots: two steps, each through the referral and booking operations, which check who
may take them. Only a plain plan (Plan.kind "plan") has proposals. Operations flush; the caller
commits."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rehab_net.auth.principal import Principal
from rehab_net.booking import availability
from rehab_net.booking.models import Appointment, Slot
from rehab_net.booking.states import ACTIVE_APPOINTMENT_STATUSES
from rehab_net.clock import local_midnight
from rehab_net.errors import NotFound
from rehab_net.people.models import Case
from rehab_net.planning import operations as ops
from rehab_net.planning.adapters import week_start
from rehab_net.planning.models import Plan, PlanAssignment
from rehab_net.referrals.models import Referral
from rehab_net.referrals.operations.visibility import visible
from rehab_net.referrals.operations.workflow import transition
from rehab_net.referrals.states import BOOKABLE_REFERRAL_STATES, OPEN_REFERRAL_STATES

EARLIEST_SLOTS = 3  # slots offered per proposal
LOOK_AHEAD_WEEKS = 8  # how far after the proposed week the next earliest slots are looked for
WORKLIST_ROWS = 100


@dataclass
class Proposal:
    """One proposal ready to work: the plan's row, its referral (None: not applied yet), the
    earliest free slots as (slot, free places), whether they fall in the proposed week, and the
    referral's active appointment once booked."""

    assignment: PlanAssignment
    week_start: date
    referral: Referral | None = None
    slots: list[tuple[Slot, int]] = field(default_factory=list)
    in_week: bool = True
    appointment: Appointment | None = None

    @property
    def acceptable(self) -> bool:
        return self.referral is not None and self.referral.state in ("sent", "received")

    @property
    def bookable(self) -> bool:
        return (self.referral is not None and self.referral.state in BOOKABLE_REFERRAL_STATES
                and self.appointment is None)


def week_window(plan: Plan, week: int) -> tuple[datetime, datetime]:
    """Local midnight of the proposed week's Monday and of the Monday after."""
    monday = week_start(plan.start_date, week)
    first = local_midnight(monday)
    return first, first + timedelta(days=7)


def earliest_slots(session: Session, plan: Plan, assignment: PlanAssignment, now: datetime,
                   limit: int = EARLIEST_SLOTS) -> tuple[list[tuple[Slot, int]], bool]:
    """The first ``limit`` free slots of the proposal's service at its facility in its week
    (in_week True), else the first after that week, within LOOK_AHEAD_WEEKS (False)."""
    facility = assignment.facility
    first, last = week_window(plan, assignment.week)
    for starts, ends, in_week in ((first, last, True),
                                  (last, max(last, now) + timedelta(weeks=LOOK_AHEAD_WEEKS),
                                   False)):
        stmt, _km = availability.search(session, service=assignment.service, starts=starts,
                                        ends=ends, now=now, tiers=[facility.tier],
                                        facility_ids={facility.id})
        rows = [(slot, free) for slot, free in session.execute(stmt.limit(limit))]
        if rows:
            return rows, in_week
    return [], False


def referral_for(session: Session, assignment: PlanAssignment) -> Referral | None:
    """The case's newest open referral to the proposed facility for the proposed service."""
    return session.scalar(select(Referral).where(
        Referral.case_id == assignment.case_id, Referral.receiver_id == assignment.facility_id,
        Referral.service_id == assignment.service_id, Referral.state.in_(OPEN_REFERRAL_STATES))
        .order_by(Referral.id.desc()).limit(1))


def _active_appointment(session: Session, referral: Referral) -> Appointment | None:
    return session.scalar(select(Appointment).where(
        Appointment.referral_id == referral.id,
        Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES))
        .order_by(Appointment.starts_at).limit(1))


def require_proposals(plan: Plan) -> None:
    """Only a plain plan has proposals (a scenario's run and a sweep keep figures only)."""
    if plan.kind != "plan":
        raise NotFound("plan.no_proposals", id=plan.id, kind=plan.kind)


def get_assignment(session: Session, plan: Plan, case_code: str) -> PlanAssignment:
    """The plan's placed proposal for a case (404 when it has none)."""
    require_proposals(plan)
    found = session.scalar(ops.list_assignments(plan, placed=True).where(
        PlanAssignment.case.has(Case.code == case_code)))
    if found is None:
        raise NotFound("plan.proposal_not_found", id=plan.id, code=case_code)
    return found


def work_on(session: Session, plan: Plan, assignment: PlanAssignment, now: datetime,
            viewer: Principal | None, *, with_slots: bool = True) -> Proposal:
    """A proposal with what its facility's coordinator needs: its referral (if ``viewer`` may
    see it), the active appointment once booked, else (``with_slots``) the earliest free
    slots."""
    found = Proposal(assignment, week_start(plan.start_date, assignment.week))
    referral = referral_for(session, assignment)
    if referral is not None and viewer is not None and session.scalar(select(Referral.id).where(
            Referral.id == referral.id, visible(viewer))) is None:
        referral = None
    found.referral = referral
    if referral is not None:
        found.appointment = _active_appointment(session, referral)
    if found.appointment is None and with_slots:
        found.slots, found.in_week = earliest_slots(session, plan, assignment, now)
    return found


def worklist(session: Session, plan: Plan, facility_ids: set[int] | None, now: datetime,
             viewer: Principal | None, limit: int = WORKLIST_ROWS) -> tuple[list[Proposal], int]:
    """The plan's proposals at ``facility_ids`` (None: all) that have a referral there, soonest
    week first, with their slots; and how many more proposals there have no referral yet (only
    counted: the case is not the facility's to see until it is referred there)."""
    require_proposals(plan)
    stmt = ops.list_assignments(plan, placed=True)
    if facility_ids is not None:
        stmt = stmt.where(PlanAssignment.facility_id.in_(facility_ids))
    conditions = [Referral.case_id == PlanAssignment.case_id,
                  Referral.receiver_id == PlanAssignment.facility_id,
                  Referral.service_id == PlanAssignment.service_id,
                  Referral.state.in_(OPEN_REFERRAL_STATES)]
    if viewer is not None:
        conditions.append(visible(viewer))
    referred = select(Referral.id).where(*conditions).exists()
    unreferred = session.scalar(select(func.count()).select_from(
        stmt.where(~referred).order_by(None).subquery())) or 0
    rows = session.scalars(stmt.where(referred).join(Case, PlanAssignment.case_id == Case.id)
                           .order_by(PlanAssignment.week, Case.code)
                           .limit(limit)).unique().all()
    return [work_on(session, plan, a, now, viewer) for a in rows], unreferred


def accept(session: Session, referral: Referral, *, principal: Principal | None,
           now: datetime, expected_version: int | None = None) -> Referral:
    """The first step: a sent referral is received and accepted, a received one accepted (each
    a step of the referral table, checked for the receiving side)."""
    if referral.state == "sent":
        transition(session, referral, "receive", principal=principal, now=now,
                   expected_version=expected_version)
        expected_version = referral.version
    return transition(session, referral, "accept", principal=principal, now=now,
                      expected_version=expected_version)
