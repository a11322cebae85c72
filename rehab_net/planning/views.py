"""Plans and the policy weights over the JSON API (the plan pages: plan_pages.py). Starting a plan
answers 202 at once: a worker runs it (see worker.py), and the client polls the plan's URL."""
from __future__ import annotations

from flask import current_app, url_for
from flask.views import MethodView
from sqlalchemy import select

from rehab_net import access
from rehab_net.api import Blueprint
from rehab_net.auth.guard import scope
from rehab_net.clock import today
from rehab_net.db import get_session, transactional
from rehab_net.errors import Conflict, NotFound, field_error
from rehab_net.listing import apply_sort, page_of, query_refs
from rehab_net.network import operations as network
from rehab_net.network.models import Facility
from rehab_net.people.models import Case
from rehab_net.planning import operations as ops
from rehab_net.planning import queue, scenarios
from rehab_net.planning import schemas as s
from rehab_net.planning.models import Plan, PlanAssignment, PlanLoad, PlanShadowPrice, Scenario
from rehab_net.policy import current_policy
from rehab_net.schemas import PageArgs

blp = Blueprint("planning", __name__, url_prefix="/api/v1",
                description="Plans: optimiser runs over the live data, and the policy weights")

# endpoint -> permission, or {method: permission} (rehab_net/access.py; the guard refuses
# an endpoint not declared). Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "planning.Policy": {"GET": "plan.read", "PUT": "policy.write"},
    "planning.Plans": {"GET": "plan.read", "POST": "plan.run"},
    "planning.PlanItem": "plan.read",
    "planning.PlanCancel": "plan.run",
    "planning.PlanApply": "plan.run",
    "planning.PlanCompare": "plan.read",
    "planning.Scenarios": {"GET": "plan.read", "POST": "plan.run"},
    "planning.ScenarioItem": {"GET": "plan.read", "PATCH": "plan.run"},
    "planning.ScenarioCopy": "plan.run",
    "planning.ScenarioRun": "plan.run",
    "planning.ScaleUps": "plan.run",
    "planning.PlanAssignments": "plan.read",
    "planning.PlanAssignmentSlots": "booking.read",
    "planning.PlanFacilities": "plan.read",
    "planning.PlanDistricts": "plan.read",
    "planning.PlanShadowPrices": "plan.read",
}


# --- policy -------------------------------------------------------------------------------------
@blp.route("/policy")
class Policy(MethodView):
    @blp.etag
    @blp.response(200, s.PolicySchema)
    def get(self):
        """The policy weights new plans use (the contract's defaults until saved)."""
        return current_policy(get_session())

    @blp.etag
    @blp.arguments(s.UpdatePolicySchema)
    @blp.response(200, s.PolicySchema)
    def put(self, data):
        """Replace the policy weights (every key; If-Match required)."""
        return blp.update_checked(current_policy(get_session()), s.PolicySchema,
                                  ops.update_policy, data)


# --- plans --------------------------------------------------------------------------------------
@blp.route("/plans")
class Plans(MethodView):
    @blp.arguments(s.PlanListArgs, location="query")
    @blp.response(200, s.PlanSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List plans (newest first by default)."""
        stmt = apply_sort(ops.list_plans(status=args.get("status")), args.get("sort"), {
            "id": Plan.id, "created_at": Plan.created_at, "status": Plan.status,
            "start_date": Plan.start_date}, (Plan.id.desc(),))
        session = get_session()
        return [ops.scoped_plan(session, p, scope("plan.read"))
                for p in page_of(session, stmt, pagination_parameters)]

    @blp.arguments(s.CreatePlanSchema, required=False)
    @blp.response(202, s.PlanSchema, headers={"Location": {
        "description": "the plan's URL, to poll until its status is final",
        "schema": {"type": "string"}}})
    def post(self, data):
        """Start a plan: queued now, run by a worker; poll the Location until it has finished."""
        return _queued(lambda session, **kw: ops.create_plan(session, data or {}, **kw))


def _queued(create):
    """Create a plan with ``create(session, today=, default_time_limit=)`` and queue it for a
    worker: the answer is 202 with the plan's URL to poll."""
    session = get_session()
    with transactional(session):  # committed first: the worker must see the plan
        plan = create(session, today=today(),
                      default_time_limit=float(current_app.config["PLAN_TIME_LIMIT"]))
    queue.submit(session, plan)
    return plan, {"Location": url_for("planning.PlanItem", plan_id=plan.id)}


class _WithStaleness:
    """A plan (or a ScopedPlan) with its staleness, for PlanDetailSchema."""

    def __init__(self, plan, staleness: dict):
        self._plan, self.staleness = plan, staleness

    def __getattr__(self, name):
        return getattr(self._plan, name)


@blp.route("/plans/<int:plan_id>")
class PlanItem(MethodView):
    @blp.etag
    @blp.response(200, s.PlanDetailSchema)
    def get(self, plan_id):
        """One plan: its status, and once finished its objective and figures (a district
        planner's: those of its districts only), and whether it is stale: bookings made or
        cancelled since it read the network."""
        session = get_session()
        plan = ops.get_plan(session, plan_id)
        return _WithStaleness(ops.scoped_plan(session, plan, scope("plan.read")),
                              ops.staleness(session, plan))


@blp.route("/plans/<int:plan_id>/cancel")
class PlanCancel(MethodView):
    @blp.response(200, s.PlanSchema)
    def post(self, plan_id):
        """Cancel a queued plan, or ask the worker to stop a running one (409 when finished)."""
        session = get_session()
        plan = ops.cancel(session, ops.get_plan(session, plan_id))
        session.flush()
        return plan


@blp.route("/scenarios")
class Scenarios(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, s.ScenarioSchema(many=True))
    @blp.paginate()
    def get(self, _args, pagination_parameters):
        """What-if scenarios (changes on top of the live network), newest first."""
        return page_of(get_session(), select(Scenario).order_by(Scenario.id.desc()),
                       pagination_parameters)

    @blp.arguments(s.CreateScenarioSchema)
    @blp.response(201, s.ScenarioSchema)
    def post(self, data):
        """Create a scenario; every change is checked against the live network."""
        from flask import g

        session = get_session()
        scenario = scenarios.create_scenario(session, data, actor=g.user.username)
        session.flush()
        return scenario


@blp.route("/scenarios/<int:scenario_id>")
class ScenarioItem(MethodView):
    @blp.etag
    @blp.response(200, s.ScenarioSchema)
    def get(self, scenario_id):
        """One scenario."""
        return scenarios.get_scenario(get_session(), scenario_id)

    @blp.etag
    @blp.arguments(s.UpdateScenarioSchema)
    @blp.response(200, s.ScenarioSchema)
    def patch(self, data, scenario_id):
        """Edit a scenario (If-Match required); runs already queued keep their changes."""
        return blp.update_checked(scenarios.get_scenario(get_session(), scenario_id),
                                  s.ScenarioSchema, scenarios.update_scenario, data)


@blp.route("/scenarios/<int:scenario_id>/copy")
class ScenarioCopy(MethodView):
    @blp.arguments(s.CopyScenarioSchema)
    @blp.response(201, s.ScenarioSchema)
    def post(self, data, scenario_id):
        """Copy a scenario under a new name, to edit the copy."""
        from flask import g

        session = get_session()
        copy_ = scenarios.copy_scenario(session, scenarios.get_scenario(session, scenario_id),
                                        data["name"], actor=g.user.username)
        session.flush()
        return copy_


@blp.route("/scenarios/<int:scenario_id>/run")
class ScenarioRun(MethodView):
    @blp.arguments(s.CreatePlanSchema, required=False)
    @blp.response(202, s.PlanSchema)
    def post(self, data, scenario_id):
        """Solve the live network with the scenario's changes, in a worker (a plan whose figures
        are compared; the live data is never touched)."""
        return _queued(lambda session, **kw: scenarios.run_scenario(
            session, scenarios.get_scenario(session, scenario_id), data or {}, **kw))


@blp.route("/scaleups")
class ScaleUps(MethodView):
    @blp.arguments(s.StartScaleUpSchema)
    @blp.response(202, s.PlanSchema)
    def post(self, data):
        """Where one more place helps most: a worker tries `places` more intakes at every
        facility offering `service` (add_places), or a new station at every township
        (open_station), solving each exactly; the plan's kpis.scaleup holds the ranking and
        stats.progress shows how far it is."""
        return _queued(lambda session, **kw: scenarios.start_scaleup(session, data, **kw))


@blp.route("/plans/compare")
class PlanCompare(MethodView):
    @blp.arguments(s.CompareArgs, location="query")
    @blp.response(200, s.ComparisonSchema)
    def get(self, args):
        """KPIs of 2-8 finished plans side by side, with deltas against the first."""
        session = get_session()
        ids = [int(i) for i in args["plans"].split(",")]
        return scenarios.compare(session, ops.scoped_plans(session, ids, scope("plan.read")))


@blp.route("/plans/<int:plan_id>/apply")
class PlanApply(MethodView):
    @blp.arguments(s.ApplyPlanSchema)
    @blp.response(200, s.AppliedPlanSchema)
    def post(self, data, plan_id):
        """Turn the plan's proposals into referrals from each case's home clinic: drafts for the
        clinic to send, or sent at once with `send: true`. Limit it to `case_codes`, or all
        placed proposals in your region."""
        from flask import g

        from rehab_net.clock import today as today_
        from rehab_net.db import utcnow
        from rehab_net.referrals.operations.from_plan import referrals_from_plan

        session = get_session()
        plan = ops.get_plan(session, plan_id)
        if plan.status not in ("optimal", "feasible"):
            raise Conflict("plan.apply_unfinished", id=plan.id, status=plan.status)
        stmt = ops.list_assignments(plan, scope=scope("plan.read"), placed=True)
        if data.get("case_codes"):
            stmt = stmt.where(PlanAssignment.case.has(Case.code.in_(data["case_codes"])))
        result = referrals_from_plan(session, session.scalars(stmt).unique(),
                                     principal=g.user, now=utcnow(), today=today_(),
                                     send=data["send"])
        session.flush()
        return result


@blp.route("/plans/<int:plan_id>/assignments")
class PlanAssignments(MethodView):
    @blp.arguments(s.AssignmentListArgs, location="query")
    @blp.response(200, s.AssignmentSchema(many=True))
    @blp.paginate()
    def get(self, args, plan_id, pagination_parameters):
        """The plan's proposal for every case: a facility and start week, or why none."""
        def rows(plan, refs):
            return ops.list_assignments(
                plan, scope=scope("plan.read"), priority=args.get("priority"),
                reason=args.get("reason"), placed=args.get("placed"), **refs,
            ).join(Case, PlanAssignment.case_id == Case.id)

        return _plan_rows(plan_id, args, pagination_parameters, rows, {
            "case": Case.code, "week": PlanAssignment.week, "road_km": PlanAssignment.road_km,
            "priority": PlanAssignment.priority}, (Case.code,), district=network.get_region)


@blp.route("/plans/<int:plan_id>/assignments/<case_code>/slots")
class PlanAssignmentSlots(MethodView):
    @blp.response(200, s.ProposalSchema)
    def get(self, plan_id, case_code):
        """A proposal to work: the case's referral to the proposed facility and the earliest
        free slots there for its service in the proposed week (or, with `in_week: false`, the
        earliest after it). For the facility's staff, and planners of the case's district; a
        plain plan's only (a scenario's run or a sweep proposes nothing: 404)."""
        from flask import g

        from rehab_net.db import utcnow
        from rehab_net.planning import proposals
        from rehab_net.referrals.operations.visibility import acting_facilities

        session = get_session()
        plan = ops.get_plan(session, plan_id)
        assignment = proposals.get_assignment(session, plan, case_code)
        mine = acting_facilities(g.user)
        if not (mine is None or assignment.facility_id in mine
                or scope("plan.read").covers(session, assignment.district_id)):
            raise NotFound("plan.proposal_not_found", id=plan.id, code=case_code)
        found = proposals.work_on(session, plan, assignment, utcnow(), g.user)
        found.staleness = ops.staleness(session, plan)
        return found


@blp.route("/plans/<int:plan_id>/facilities")
class PlanFacilities(MethodView):
    @blp.arguments(s.LoadListArgs, location="query")
    @blp.response(200, s.LoadSchema(many=True))
    @blp.paginate()
    def get(self, args, plan_id, pagination_parameters):
        """Per facility and service: intakes proposed per week against the capacity."""
        return _plan_rows(plan_id, args, pagination_parameters, lambda plan, refs: ops.list_loads(
            plan, tier=args.get("tier"), scope=scope("plan.read"), **refs), {
            "facility": Facility.code, "utilisation": PlanLoad.utilisation,
            "assigned": PlanLoad.assigned_total, "capacity": PlanLoad.capacity_total},
            (Facility.code, PlanLoad.service_id))


@blp.route("/plans/<int:plan_id>/districts")
class PlanDistricts(MethodView):
    @blp.response(200, s.DistrictSchema(many=True))
    def get(self, plan_id):
        """Per district of the cases' homes: placed, waitlist, children placed within 4 weeks,
        median road km (one row per district, not paged)."""
        session = get_session()
        return ops.district_summary(session, ops.get_plan(session, plan_id),
                                    scope=scope("plan.read"))


@blp.route("/plans/<int:plan_id>/shadow-prices")
class PlanShadowPrices(MethodView):
    @blp.arguments(s.ShadowPriceListArgs, location="query")
    @blp.response(200, s.ShadowPriceSchema(many=True))
    @blp.paginate()
    def get(self, args, plan_id, pagination_parameters):
        """Where one more intake place lowers the cost most: highest value first."""
        return _plan_rows(plan_id, args, pagination_parameters,
                          lambda plan, refs: ops.list_shadow_prices(
                              plan, scope=scope("plan.read"), **refs), {
            "value": PlanShadowPrice.value, "week": PlanShadowPrice.week,
            "facility": Facility.code}, (PlanShadowPrice.value.desc(),))


def _plan_rows(plan_id: int, args: dict, pagination, rows, sorts: dict, default: tuple,
               **getters):
    """One page of a plan's rows (assignments, loads, shadow prices): ``rows(plan, refs)`` is
    their select with the facility and service filters of the query (and any ``getters``)
    resolved, sorted by ``sort`` among ``sorts``."""
    session = get_session()
    plan = ops.get_plan(session, plan_id)
    refs = _refs(session, args, facility=network.get_facility, service=network.get_service,
                 **getters)
    return page_of(session, apply_sort(rows(plan, refs), args.get("sort"), sorts, default),
                   pagination)


def _refs(session, args: dict, **getters) -> dict:
    """Resolve the code filters present in the query (an unknown code is a 422); a district
    must be a district."""
    resolved = query_refs(session, args, **getters)
    district = resolved.get("district")
    if district is not None and district.level != "district":
        raise field_error("district", "plan.not_district", location="query",
                          code=district.code, level=district.level)
    return resolved
