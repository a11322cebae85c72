"""API schemas of plans and the policy weights: input schemas are <Verb><Thing>Schema, output
schemas <Thing>Schema."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from rehab_net.messages import message
from rehab_net.planning import messages as _messages  # noqa: F401 - registers the codes
from rehab_net.planning.adapters import week_start
from rehab_net.planning.models import MAX_HORIZON_WEEKS, UNASSIGNED_REASONS
from rehab_net.planning.states import PLAN_STATUSES
from rehab_net.schemas import Input, ListArgs, QueryArgs, StrictInt
from rehab_net.vocab import PRIORITY_CLASSES, TIERS

# Bounds that keep the optimiser's integer costs far from overflow and the weights meaningful.
MAX_COST = 1e7
MAX_TIME_LIMIT = 3600


def _number(low: float, high: float, *, low_inclusive: bool = True, **kw):
    return fields.Float(allow_nan=False, validate=validate.Range(
        low, high, min_inclusive=low_inclusive), **kw)


def _policy_schema(name: str, required: bool) -> type[Schema]:
    """The contract's `policy` object; with required=False every key (nested ones too) may be
    left out, for the overrides a plan request may carry."""
    weight = lambda: _number(0, 1000, low_inclusive=False, required=required)  # noqa: E731
    cost = lambda: _number(0, MAX_COST, required=required)  # noqa: E731
    weights = type(f"{name}PriorityWeights", (Input,), {p: weight() for p in PRIORITY_CLASSES})
    tiers = type(f"{name}TierCost", (Input,), {t: cost() for t in TIERS})
    return type(name, (Input,), {
        "__doc__": "Policy weights of the optimiser's cost (see ../shared/SOLVER_FORMAT.md).",
        "priority_weights": fields.Nested(weights, required=required, metadata={
            "description": "w(c) per priority class; multiplies waiting and unassigned costs"}),
        "wait_cost_per_week": cost(),
        "travel_cost_per_km": cost(),
        "road_factor": _number(1, 5, required=required, metadata={
            "description": "road km per great-circle km"}),
        "unassigned_cost": _number(0, MAX_COST, low_inclusive=False, required=required),
        "tier_cost": fields.Nested(tiers, required=required),
        "reassign_cost": cost(),
    })


UpdatePolicySchema = _policy_schema("UpdatePolicySchema", required=True)
PolicyOverridesSchema = _policy_schema("PolicyOverridesSchema", required=False)


class PolicySchema(Schema):
    priority_weights = fields.Dict(attribute="values.priority_weights")
    wait_cost_per_week = fields.Float(attribute="values.wait_cost_per_week")
    travel_cost_per_km = fields.Float(attribute="values.travel_cost_per_km")
    road_factor = fields.Float(attribute="values.road_factor")
    unassigned_cost = fields.Float(attribute="values.unassigned_cost")
    tier_cost = fields.Dict(attribute="values.tier_cost")
    reassign_cost = fields.Float(attribute="values.reassign_cost")
    updated_at = fields.DateTime(allow_none=True,
                                 metadata={"description": "null while the defaults apply"})
    version = fields.Integer(metadata={"description": "0 while the defaults apply"})


# --- plans --------------------------------------------------------------------------------------
class CreatePlanSchema(Input):
    horizon_weeks = StrictInt(load_default=12, validate=validate.Range(1, MAX_HORIZON_WEEKS))
    start_date = fields.Date(metadata={
        "description": "the Monday of week 0; default: the first Monday after today"})
    time_limit = _number(1, MAX_TIME_LIMIT, metadata={
        "description": "seconds the optimiser may take; default REHAB_PLAN_TIME_LIMIT"})
    policy = fields.Nested(PolicyOverridesSchema, metadata={
        "description": "overrides of the saved policy weights for this plan only"})


class PlanSchema(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"description": ", ".join(PLAN_STATUSES)})
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    cancel_requested = fields.Boolean()
    start_date = fields.Date()
    horizon_weeks = fields.Integer()
    time_limit = fields.Function(lambda p: p.parameters.get("time_limit"))
    policy = fields.Function(lambda p: p.parameters.get("policy"))
    fingerprint = fields.String(allow_none=True, metadata={
        "description": "sha256 of the instance's canonical JSON (rehab-net export-instance)"})
    cases = fields.Integer(allow_none=True, attribute="case_count")
    facilities = fields.Integer(allow_none=True, attribute="facility_count")
    assigned = fields.Integer(allow_none=True, attribute="assigned_count")
    objective = fields.Float(allow_none=True)
    bound = fields.Float(allow_none=True)
    wall_seconds = fields.Float(allow_none=True)
    stats = fields.Dict(allow_none=True)
    message = fields.String(allow_none=True,
                            metadata={"description": "why, when error or cancelled"})
    message_code = fields.String(allow_none=True, metadata={
        "description": "the message's stable code (docs/planning.md), the same in every language"})
    scenario_id = fields.Integer(allow_none=True,
                                 metadata={"description": "set for a scenario's run"})
    scenario = fields.Function(lambda p: p.parameters.get("scenario"))
    kpis = fields.Dict(allow_none=True, metadata={
        "description": "the planners' figures, once finished (docs/scenarios.md); a sweep's: "
                       "{scaleup: {service, baseline, ranking}}"})
    kind = fields.String(metadata={
        "description": "plan (a plain plan of the live network: a baseline, with proposals), "
                       "scenario (a what-if run: figures only) or sweep (a scale-up sweep: its "
                       "kpis are a ranking)"})


class StalenessSchema(Schema):
    stale = fields.Boolean(metadata={
        "description": "bookings were made or cancelled since the plan read its instance: "
                       "run it again"})
    bookings_since = fields.Integer(metadata={
        "description": "appointments booked, held, confirmed or cancelled since then"})
    since = fields.DateTime(allow_none=True, metadata={
        "description": "when the plan read its instance (started_at); null: not yet"})


class PlanDetailSchema(PlanSchema):
    staleness = fields.Nested(StalenessSchema, metadata={
        "description": "one plan only (GET /plans/{id}); docs/api.md, 'Stale plans'"})


class PlanListArgs(ListArgs):
    status = fields.String(validate=validate.OneOf(PLAN_STATUSES))


class AssignmentSchema(Schema):
    case_code = fields.Function(lambda a: a.case.code)
    service_code = fields.Function(lambda a: a.service.code)
    district_code = fields.Function(lambda a: a.district.code if a.district else None)
    priority = fields.String(metadata={"description": "on the plan's start date"})
    facility_code = fields.Function(lambda a: a.facility.code if a.facility else None)
    week = fields.Integer(allow_none=True)
    start_date = fields.Date(allow_none=True,
                             metadata={"description": "the Monday of the proposed week"})
    road_km = fields.Float(allow_none=True)
    reason = fields.String(allow_none=True, metadata={
        "description": "why there is no place: " + ", ".join(UNASSIGNED_REASONS)})


class AssignmentListArgs(ListArgs):
    facility = fields.String(metadata={"description": "facility code"})
    district = fields.String(metadata={"description": "district code of the case's home"})
    service = fields.String(metadata={"description": "service code"})
    priority = fields.String(validate=validate.OneOf(PRIORITY_CLASSES))
    reason = fields.String(validate=validate.OneOf(UNASSIGNED_REASONS))
    placed = fields.Boolean(metadata={"description": "true: with a place; false: without"})


class LoadSchema(Schema):
    facility_code = fields.Function(lambda r: r.facility.code)
    facility_name_zh = fields.Function(lambda r: r.facility.name_zh)
    facility_name_en = fields.Function(lambda r: r.facility.name_en)
    tier = fields.Function(lambda r: r.facility.tier)
    service_code = fields.Function(lambda r: r.service.code)
    capacity = fields.List(fields.Integer(), metadata={"description": "intake places per week"})
    assigned = fields.List(fields.Integer(), metadata={"description": "proposed intakes per week"})
    capacity_total = fields.Integer()
    assigned_total = fields.Integer()
    utilisation = fields.Float(allow_none=True, metadata={
        "description": "assigned / capacity over the horizon; null without capacity"})


class LoadListArgs(ListArgs):
    facility = fields.String(metadata={"description": "facility code"})
    service = fields.String(metadata={"description": "service code"})
    tier = fields.String(validate=validate.OneOf(TIERS))


class ShadowPriceSchema(Schema):
    facility_code = fields.Function(lambda r: r.facility.code)
    facility_name_zh = fields.Function(lambda r: r.facility.name_zh)
    service_code = fields.Function(lambda r: r.service.code)
    week = fields.Integer()
    start_date = fields.Function(lambda r: week_start(r.plan.start_date, r.week).isoformat())
    value = fields.Float(metadata={"description": "fall of the optimal cost with one more "
                                                  "intake place there"})


class ShadowPriceListArgs(ListArgs):
    facility = fields.String(metadata={"description": "facility code"})
    service = fields.String(metadata={"description": "service code"})


class DistrictSchema(Schema):
    district_code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    cases = fields.Integer()
    placed = fields.Integer()
    waitlist = fields.Integer(metadata={"description": "cases left without a place"})
    no_eligible_facility = fields.Integer()
    children = fields.Integer()
    children_placed_within_4_weeks = fields.Integer()
    median_road_km = fields.Float(allow_none=True, metadata={"description": "null: none placed"})


class ApplyPlanSchema(Input):
    case_codes = fields.List(fields.String(validate=validate.Length(1, 32)),
                             validate=validate.Length(1, 10000))
    send = fields.Boolean(load_default=False, metadata={
        "description": "send the referrals at once instead of leaving drafts for the clinics"})


class AppliedPlanSchema(Schema):
    created = fields.List(fields.String())
    skipped = fields.List(fields.Dict())


class ScenarioSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    description = fields.String(allow_none=True)
    changes = fields.List(fields.Dict())
    copied_from_id = fields.Integer(allow_none=True)
    created_by = fields.String()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    version = fields.Integer()


class CreateScenarioSchema(Input):
    name = fields.String(required=True, validate=validate.Length(1, 120))
    description = fields.String(allow_none=True, validate=validate.Length(max=4000))
    changes = fields.List(fields.Dict(), load_default=list, metadata={
        "description": "see docs/scenarios.md: capacity, open_facility, close_facility, "
                       "outreach, demand, policy"})


class UpdateScenarioSchema(Input):
    name = fields.String(validate=validate.Length(1, 120))
    description = fields.String(allow_none=True, validate=validate.Length(max=4000))
    changes = fields.List(fields.Dict())


class CopyScenarioSchema(Input):
    name = fields.String(required=True, validate=validate.Length(1, 120))


class CompareArgs(QueryArgs):
    plans = fields.String(required=True, validate=validate.Regexp(
        r"^\d{1,9}(,\d{1,9}){1,7}$", error=message("plan.compare_ids")))


class ComparisonSchema(Schema):
    plans = fields.List(fields.Dict())


class StartScaleUpSchema(Input):
    service = fields.String(required=True, validate=validate.Length(1, 32))
    kind = fields.String(required=True, validate=validate.OneOf(("add_places", "open_station")))
    places = StrictInt(load_default=2, validate=validate.Range(1, 50))
    horizon_weeks = StrictInt(validate=validate.Range(1, MAX_HORIZON_WEEKS))
    start_date = fields.Date()


class ProposalSlotSchema(Schema):
    slot_id = fields.Function(lambda row: row[0].id)
    starts_at = fields.Function(lambda row: row[0].starts_at.isoformat())
    ends_at = fields.Function(lambda row: row[0].ends_at.isoformat())
    practitioner_code = fields.Function(lambda row: row[0].practitioner.code)
    free_places = fields.Function(lambda row: row[1])


class ProposalReferralSchema(Schema):
    code = fields.String()
    state = fields.String()


class ProposalSchema(Schema):
    """A proposal to work (planning/proposals.py): the referral and the earliest free slots."""

    plan_id = fields.Function(lambda p: p.assignment.plan_id)
    case_code = fields.Function(lambda p: p.assignment.case.code)
    facility_code = fields.Function(lambda p: p.assignment.facility.code)
    service_code = fields.Function(lambda p: p.assignment.service.code)
    week = fields.Function(lambda p: p.assignment.week)
    start_date = fields.Date(attribute="week_start",
                             metadata={"description": "the Monday of the proposed week"})
    referral = fields.Nested(ProposalReferralSchema, allow_none=True, metadata={
        "description": "the case's open referral to that facility and service (null: none "
                       "yet, or not yours to see); accepted or in_progress: bookable"})
    appointment_code = fields.Function(
        lambda p: p.appointment.code if p.appointment is not None else None, metadata={
            "description": "the referral's active appointment, once booked (then no slots)"})
    in_week = fields.Boolean(metadata={
        "description": "true: the slots are in the proposed week; false: that week has none "
                       "and these are the earliest after it"})
    earliest_slots = fields.List(fields.Nested(ProposalSlotSchema), attribute="slots", metadata={
        "description": "free slots at the facility for the service, soonest first (book one "
                       "with POST /appointments once the referral is accepted)"})
    staleness = fields.Nested(StalenessSchema)
