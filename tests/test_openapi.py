"""/api/v1/openapi.json tells the truth about what the API sends: a null only where the spec
allows one, errors as problem+json, X-Pagination as the JSON text it is. A client generated
from the spec must not break on a real response (issue 11, defect 9)."""
from __future__ import annotations

import importlib
import inspect

import pytest
from marshmallow import Schema, fields
from sqlalchemy import inspect as sa_inspect

from rehab_net import policy as policy_m
from rehab_net.auth import models as auth_m
from rehab_net.auth import schemas as auth_s
from rehab_net.booking import models as booking_m
from rehab_net.booking import schemas as booking_s
from rehab_net.network import models as network_m
from rehab_net.network import schemas as network_s
from rehab_net.people import models as people_m
from rehab_net.people import schemas as people_s
from rehab_net.planning import models as planning_m
from rehab_net.planning import schemas as planning_s
from rehab_net.referrals import models as referrals_m
from rehab_net.referrals import schemas as referrals_s
from rehab_net.reports import models as reports_m
from rehab_net.reports import schemas as reports_s
from rehab_net.schemas import Input

SCHEMA_MODULES = ("rehab_net.auth.schemas", "rehab_net.booking.schemas",
                  "rehab_net.network.schemas", "rehab_net.people.schemas",
                  "rehab_net.planning.schemas", "rehab_net.referrals.schemas",
                  "rehab_net.reports.schemas", "rehab_net.openapi")

# Output schema -> the model whose rows it dumps.
ROWS = {
    auth_s.GrantSchema: auth_m.RoleGrant, auth_s.UserSchema: auth_m.User,
    auth_s.TokenSchema: auth_m.ApiToken, auth_s.NewTokenSchema: auth_m.ApiToken,
    auth_s.AuditEventSchema: auth_m.AuditEvent,
    booking_s.SiteSchema: booking_m.PractitionerFacility,
    booking_s.PractitionerSchema: booking_m.Practitioner,
    booking_s.RuleSchema: booking_m.ScheduleRule,
    booking_s.RuleResultSchema: booking_m.ScheduleRule,
    booking_s.ExceptionSchema: booking_m.ScheduleException,
    booking_s.ExceptionResultSchema: booking_m.ScheduleException,
    booking_s.SlotSchema: booking_m.Slot, booking_s.AppointmentSchema: booking_m.Appointment,
    booking_s.WaitlistEntrySchema: booking_m.WaitlistEntry,
    booking_s.CourseSchema: booking_m.Course,
    network_s.RegionSchema: network_m.Region, network_s.FacilitySchema: network_m.Facility,
    network_s.ServiceSchema: network_m.Service, network_s.CapacitySchema: network_m.Capacity,
    people_s.PersonSchema: people_m.Person, people_s.PersonListItemSchema: people_m.Person,
    people_s.RevealedSchema: people_m.Person,
    people_s.CaseSchema: people_m.Case,
    planning_s.PolicySchema: policy_m.PolicySetting, planning_s.PlanSchema: planning_m.Plan,
    planning_s.PlanDetailSchema: planning_m.Plan,
    planning_s.ProposalReferralSchema: referrals_m.Referral,
    planning_s.AssignmentSchema: planning_m.PlanAssignment,
    planning_s.LoadSchema: planning_m.PlanLoad,
    planning_s.ShadowPriceSchema: planning_m.PlanShadowPrice,
    planning_s.ScenarioSchema: planning_m.Scenario,
    referrals_s.EventSchema: referrals_m.ReferralEvent,
    referrals_s.AttachmentSchema: referrals_m.ReferralAttachment,
    referrals_s.ReferralSchema: referrals_m.Referral,
    referrals_s.ReferralDetailSchema: referrals_m.Referral,
    referrals_s.NotificationSchema: referrals_m.Notification,
    reports_s.ReportSchema: reports_m.QuarterlyReport,
}
# Output schemas of computed dicts, not rows: their None-able keys are declared by hand.
NOT_ROWS = {"MeSchema", "SummarySchema", "HolidaySchema", "GenerateResultSchema",
            "IdempotencyHeaders", "DistrictSchema", "AppliedPlanSchema", "ComparisonSchema",
            "BoxCountsSchema", "SuggestionSchema", "ProblemSchema", "ProblemItemSchema",
            "StalenessSchema", "ProposalSchema", "ProposalSlotSchema",
            # courses: a preview's computed sessions and misses, a course's numbered session
            "CandidateSchema", "SessionCandidateSchema", "MissSchema", "CoursePreviewSchema",
            "CourseSessionSchema"}


def output_schemas() -> list[type[Schema]]:
    found = []
    for name in SCHEMA_MODULES:
        module = importlib.import_module(name)
        found += [c for c in vars(module).values() if inspect.isclass(c) and issubclass(c, Schema)
                  and c.__module__ == name and not issubclass(c, Input)]
    return found


def test_every_output_schema_is_checked_against_its_model():
    """A new output schema must say which model it dumps (or that it dumps none)."""
    unknown = [c.__name__ for c in output_schemas() if c not in ROWS and c.__name__ not in NOT_ROWS]
    assert not unknown, f"add these to ROWS or NOT_ROWS in {__file__}: {unknown}"


@pytest.mark.parametrize("schema", list(ROWS), ids=lambda s: s.__name__)
def test_nullable_columns_are_nullable_in_the_description(schema):
    """A field dumped straight from a nullable column is declared allow_none, so the spec says
    null (type [..., "null"]) where the API can send it."""
    columns = sa_inspect(ROWS[schema]).columns
    missing = []
    for name, field in schema._declared_fields.items():
        attribute = field.attribute or name
        if isinstance(field, fields.Function) or "." in attribute or attribute not in columns:
            continue  # computed: declared by hand
        if columns[attribute].nullable and not field.allow_none:
            missing.append(name)
    assert not missing, f"{schema.__name__}: declare allow_none=True on {missing}"


@pytest.fixture(scope="module")
def spec():
    from rehab_net import create_app
    from rehab_net.config import TestConfig

    return create_app(TestConfig).test_client().get("/api/v1/openapi.json").get_json()


def resolve(spec, obj):
    while "$ref" in obj:
        *_, kind, name = obj["$ref"].split("/")
        obj = spec["components"][kind][name]
    return obj


def test_errors_are_described_as_problem_json(spec):
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["properties"]) == {"type", "title", "status", "code", "params", "detail",
                                          "errors"}
    assert set(problem["required"]) == {"type", "title", "status", "code", "params"}
    checked = 0
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                if status == "default" or int(status) >= 400:
                    content = resolve(spec, response)["content"]
                    assert list(content) == ["application/problem+json"], (method, path, status)
                    assert content["application/problem+json"]["schema"] == {
                        "$ref": "#/components/schemas/Problem"}
                    checked += 1
    assert checked > 100


def test_pagination_header_is_described_as_json_text(spec):
    header = spec["components"]["headers"]["PAGINATION"]
    assert header["schema"]["type"] == "string"
    assert "total_pages" in header["description"]
    listing = spec["paths"]["/api/v1/facilities"]["get"]["responses"]["200"]
    assert resolve(spec, listing["headers"]["X-Pagination"]) == header


def test_files_and_non_json_bodies_name_their_content_type(spec):
    paths = spec["paths"]

    def content(path):
        return set(paths[path]["get"]["responses"]["200"]["content"])

    assert content("/api/v1/audit-events/export") == {"text/csv"}
    assert content("/api/v1/practitioners/{code}/calendar.ics") == {"text/calendar"}
    assert content("/api/v1/referrals/{code}/fhir") == {"application/fhir+json"}
    assert content("/api/v1/referrals/{code}/attachments/{attachment_id}") == {
        "application/pdf", "image/png", "image/jpeg"}
    summary = paths["/api/v1/summary"]["get"]["responses"]["200"]["content"]["application/json"]
    assert summary["schema"] == {"$ref": "#/components/schemas/Summary"}


def test_a_nullable_column_is_nullable_in_the_spec(spec):
    schemas = spec["components"]["schemas"]
    assert schemas["Referral"]["properties"]["sent_at"]["type"] == ["string", "null"]
    assert schemas["Token"]["properties"]["revoked_at"]["type"] == ["string", "null"]
    assert schemas["Plan"]["properties"]["objective"]["type"] == ["number", "null"]
    assert schemas["Person"]["properties"]["guardian_name"]["type"] == ["string", "null"]
    assert schemas["Referral"]["properties"]["created_at"]["type"] == "string"  # never null
