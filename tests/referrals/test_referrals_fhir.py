"""The FHIR R4 mapping of a referral, checked against the official R4 (4.0.1) JSON schema vendored
in rehab_net/referrals/fhir_r4/. No database, no app.

Validating a whole Bundle against the schema's root is slow (~0.15 s with jsonschema: every
``Bundle.entry.resource`` goes through a ``oneOf`` of all 146 resource definitions), so the full
matrix (every state x direction x urgency) validates the same thing piecewise: the Bundle without
its resources against ``#/definitions/Bundle`` and each resource against the definition its
``resourceType`` names. That is equivalent, because each of those definitions pins
``resourceType`` with a ``const``, so at most one branch of the ``oneOf`` can match; a few
bundles also go through the root schema exactly as published, and so do the broken ones.
"""
from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from rehab_net.referrals.fhir import (
    PRIORITY,
    SERVICE_REQUEST_STATUS,
    TASK_STATUS,
    OrgFacts,
    ReferralFacts,
    fhir_id,
    referral_bundle,
)
from rehab_net.referrals.states import REFERRAL_STATES
from rehab_net.vocab import DIRECTIONS, TIERS, URGENCIES
from tests.fhir_schema import SCHEMA_GZ, SCHEMA_SHA256, piecewise_errors, root_errors, schema

# The FHIR value sets the schema leaves as a plain `code` (shared bindings are not enumerated).
REQUEST_STATUS = {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error",
                  "unknown"}
REQUEST_PRIORITY = {"routine", "urgent", "asap", "stat"}

CREATED = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
SENT = datetime(2026, 11, 21, 7, 30, tzinfo=UTC)
UPDATED = datetime(2026, 11, 23, 8, 15, tzinfo=UTC)

# What a person row holds (sample_network/data/persons.csv style): none of it may leak.
PERSON = {"code": "P000001", "name": "张晓丽", "resident_id": "150702198106051341",
          "guardian_name": "张博", "guardian_phone": "13551633290", "birth_date": "1981-06-05"}

CLINIC = OrgFacts("CL0042", "巴彦托海镇卫生院", "Bayantohai Township Health Centre", "clinic")
CENTRE = OrgFacts("CT001", "呼伦贝尔市残疾人康复中心", "Hulunbuir Disability Rehabilitation Centre",
                  "centre")


# ---------------------------------------------------------------------------------------------
# facts


def facts(state: str = "sent", direction: str = "up", urgency: str = "routine",
          **changes) -> ReferralFacts:
    up = direction == "up"
    base = ReferralFacts(
        code="R000123" if up else "R000124",
        state=state,
        direction=direction,
        urgency=urgency,
        reason="言语发育迟缓，需康复评估" if up else "评估完成，回社区继续训练",
        service_code="autism_assessment",
        service_name="孤独症儿童康复评估",
        category="autism",
        case_code="K000001",
        person_code=PERSON["code"],
        sender=CLINIC if up else CENTRE,
        receiver=CENTRE if up else CLINIC,
        created_at=CREATED,
        updated_at=UPDATED,
        sent_at=None if state == "draft" else SENT,
        answers_code=None if up else "R000123",
        home_programme=None if up else "每日家庭训练30分钟：共同注意、轮流游戏",
        state_reason={"declined": "本月无空位", "returned": "请补充评估报告",
                      "cancelled": "家长撤回"}.get(state),
        outcome="完成评估，建议社区训练" if state in ("completed", "closed") else None,
    )
    return dataclasses.replace(base, **changes)


def resources(bundle: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for entry in bundle["entry"]:
        out.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    return out


def one(bundle: dict, kind: str) -> dict:
    (resource,) = resources(bundle)[kind]
    return resource


def fhir_priority(urgency: str) -> str:
    return {"routine": "routine", "urgent": "urgent", "emergency": "asap"}[urgency]


MATRIX = [(s, d, u) for s in REFERRAL_STATES for d in DIRECTIONS for u in URGENCIES]


# ---------------------------------------------------------------------------------------------
# the vendored schema


def test_vendored_schema_is_fhir_r4_0_1_draft_06():
    s = schema()
    assert s["$schema"] == "http://json-schema.org/draft-06/schema#"
    assert s["id"] == "http://hl7.org/fhir/json-schema/4.0"
    versions = s["definitions"]["CapabilityStatement"]["properties"]["fhirVersion"]["enum"]
    assert versions[-1] == "4.0.1"  # 4.0.0's own file stops at "4.0.0"; R4B/R5 go on past it
    assert "Task" in s["definitions"] and "ServiceRequest" in s["definitions"]
    assert "CodeableReference" not in s["definitions"]  # an R5 (and R4B) data type
    # (Draft6Validator.check_schema(s) passes too, but takes a second: left out)


def test_vendored_schema_is_package_data():
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert '"referrals/fhir_r4/*"' in pyproject
    readme = SCHEMA_GZ.with_name("README.txt").read_text()
    assert SCHEMA_SHA256 in readme


# ---------------------------------------------------------------------------------------------
# the mapping tables


def test_service_request_status_table():
    assert dict(SERVICE_REQUEST_STATUS) == {
        "draft": "draft",
        "sent": "active", "received": "active", "accepted": "active", "in_progress": "active",
        "completed": "completed", "closed": "completed",
        "declined": "revoked", "returned": "revoked", "cancelled": "revoked",
        "expired": "revoked",
    }
    assert set(SERVICE_REQUEST_STATUS) == set(REFERRAL_STATES)
    assert set(SERVICE_REQUEST_STATUS.values()) <= REQUEST_STATUS


def test_task_status_table():
    assert dict(TASK_STATUS) == {
        "draft": "draft", "sent": "requested", "received": "received", "accepted": "accepted",
        "declined": "rejected", "returned": "rejected", "in_progress": "in-progress",
        "completed": "completed", "closed": "completed", "cancelled": "cancelled",
        "expired": "failed",
    }
    assert set(TASK_STATUS) == set(REFERRAL_STATES)
    allowed = schema()["definitions"]["Task"]["properties"]["status"]["enum"]
    assert set(TASK_STATUS.values()) <= set(allowed)


def test_priority_table():
    assert dict(PRIORITY) == {"routine": "routine", "urgent": "urgent", "emergency": "asap"}
    assert set(PRIORITY) == set(URGENCIES)
    assert set(PRIORITY.values()) <= REQUEST_PRIORITY


def test_tables_are_read_only():
    with pytest.raises(TypeError):
        TASK_STATUS["draft"] = "requested"  # type: ignore[index]


# ---------------------------------------------------------------------------------------------
# every state x direction x urgency


@pytest.fixture(scope="module")
def bundles() -> dict[tuple[str, str, str], dict]:
    return {key: referral_bundle(facts(*key)) for key in MATRIX}


def test_every_bundle_validates(bundles):
    assert len(bundles) == len(REFERRAL_STATES) * 2 * 3 == 66
    failures = {key: errors for key, b in bundles.items() if (errors := piecewise_errors(b))}
    assert failures == {}


@pytest.mark.parametrize("key", [("returned", "up", "urgent"), ("closed", "down", "emergency")])
def test_bundles_validate_against_the_schema_root_as_published(bundles, key):
    assert root_errors(bundles[key]) == []
    assert piecewise_errors(bundles[key]) == []


@pytest.mark.parametrize("state,direction,urgency", MATRIX)
def test_key_fields(bundles, state, direction, urgency):
    b = bundles[(state, direction, urgency)]
    f = facts(state, direction, urgency)
    assert b["resourceType"] == "Bundle" and b["type"] == "collection"
    assert b["timestamp"] == "2026-11-23T08:15:00+00:00"
    assert [e["resource"]["resourceType"] for e in b["entry"]] == [
        "ServiceRequest", "Task", "Organization", "Organization"]
    assert all(e["fullUrl"] == f"urn:rehab-net:{e['resource']['resourceType']}:"
               f"{e['resource']['id']}" for e in b["entry"])
    assert len({e["fullUrl"] for e in b["entry"]}) == 4

    sr = one(b, "ServiceRequest")
    assert sr["id"] == f.code
    assert sr["identifier"] == [{"system": "urn:rehab-net:referral", "value": f.code}]
    assert sr["status"] == SERVICE_REQUEST_STATUS[state]
    assert sr["intent"] == "order"
    assert sr["priority"] == fhir_priority(urgency) == one(b, "Task")["priority"]
    assert {"system": "urn:rehab-net:referral-direction", "code": direction} in [
        c for cat in sr["category"] for c in cat["coding"]]
    assert sr["code"]["text"] == "孤独症儿童康复评估"
    assert sr["code"]["coding"][0]["system"] == "urn:rehab-net:service"
    assert sr["code"]["coding"][0]["code"] == "autism_assessment"
    assert sr["subject"] == {"reference": "Patient/P000001"}  # a bare reference: no display
    assert sr["requester"]["reference"] == f"Organization/{f.sender.code}"
    assert [p["reference"] for p in sr["performer"]] == [f"Organization/{f.receiver.code}"]
    assert sr["reasonCode"] == [{"text": f.reason}]
    assert sr["authoredOn"] == ("2026-11-20T06:00:00+00:00" if state == "draft"
                                else "2026-11-21T07:30:00+00:00")
    if direction == "down":
        assert sr["basedOn"] == [{"reference": "ServiceRequest/R000123"}]
        assert sr["note"] == [{"text": f.home_programme}]
    else:
        assert "basedOn" not in sr and "note" not in sr
    assert "replaces" not in sr

    task = one(b, "Task")
    assert task["id"] == f"{f.code}-task"
    assert task["status"] == TASK_STATUS[state]
    assert task["intent"] == "order"
    assert task["businessStatus"]["text"] == state
    assert task["businessStatus"]["coding"] == [
        {"system": "urn:rehab-net:referral-state", "code": state}]
    assert task["focus"] == {"reference": f"ServiceRequest/{f.code}"}
    assert task["for"] == {"reference": "Patient/P000001"}
    assert task["requester"]["reference"] == f"Organization/{f.sender.code}"
    assert task["owner"]["reference"] == f"Organization/{f.receiver.code}"
    assert task["authoredOn"] == sr["authoredOn"]
    assert task["lastModified"] == "2026-11-23T08:15:00+00:00"
    if f.state_reason:
        assert task["statusReason"] == {"text": f.state_reason}
    else:
        assert "statusReason" not in task
    if state in ("completed", "closed"):
        assert [o["valueString"] for o in task["output"]] == [f.outcome]
    else:
        assert "output" not in task

    orgs = {o["id"]: o for o in resources(b)["Organization"]}
    assert set(orgs) == {f.sender.code, f.receiver.code}
    for org in (f.sender, f.receiver):
        o = orgs[org.code]
        assert o["identifier"] == [{"system": "urn:rehab-net:facility", "value": org.code}]
        assert o["name"] == org.name_zh and o["alias"] == [org.name_en]
        assert o["type"][0]["text"] == org.tier

    # FHIR 1..1 elements the JSON schema does not enforce (see test_schema_misses_cardinality)
    assert all(sr.get(k) for k in ("status", "intent", "subject"))
    assert all(task.get(k) for k in ("status", "intent"))
    assert all(o.get("type") for o in task.get("output", []))


def test_returned_and_closed_keep_our_state_in_business_status(bundles):
    returned = one(bundles[("returned", "up", "routine")], "Task")
    declined = one(bundles[("declined", "up", "routine")], "Task")
    assert returned["status"] == declined["status"] == "rejected"
    assert returned["businessStatus"]["text"] == "returned"
    assert declined["businessStatus"]["text"] == "declined"
    closed = one(bundles[("closed", "down", "routine")], "Task")
    assert closed["status"] == "completed" and closed["businessStatus"]["text"] == "closed"


# ---------------------------------------------------------------------------------------------
# personal data stays out


def test_no_personal_data_anywhere(bundles):
    personal_fields = {"name", "resident_id", "birth_date", "sex", "guardian_name",
                       "guardian_phone", "phone", "address"}
    assert not personal_fields & {f.name for f in dataclasses.fields(ReferralFacts)}
    for b in bundles.values():
        text = json.dumps(b, ensure_ascii=False)
        for key, value in PERSON.items():
            if key != "code":
                assert value not in text
        assert not re.search(r"\d{17}[\dXx]", text)  # a resident ID number
        assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", text)  # a mobile number
        assert "Patient" not in resources(b)
        # the person's code appears exactly twice: ServiceRequest.subject and Task.for
        assert text.count(PERSON["code"]) == 2
        for r in (one(b, "ServiceRequest")["subject"], one(b, "Task")["for"]):
            assert r == {"reference": f"Patient/{PERSON['code']}"}


# ---------------------------------------------------------------------------------------------
# the validator does reject what is wrong


@pytest.fixture
def good() -> dict:
    return referral_bundle(facts("accepted", "down", "urgent"))


def _task_of(bundle: dict) -> dict:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task")


def _sr_of(bundle: dict) -> dict:
    return next(e["resource"] for e in bundle["entry"]
                if e["resource"]["resourceType"] == "ServiceRequest")


BREAKAGES = {
    "task status bogus": lambda b: _task_of(b).update(status="bogus"),
    "task intent bogus": lambda b: _task_of(b).update(intent="referral"),
    "timestamp without offset": lambda b: b.update(timestamp="2026-11-23T08:15:00"),
    "timestamp with a space": lambda b: b.update(timestamp="2026-11-23 08:15:00+00:00"),
    "authoredOn without seconds": lambda b: _sr_of(b).update(
        authoredOn="2026-11-21T07:30+00:00"),
    "unknown element": lambda b: _task_of(b).update(patient={"reference": "Patient/P000001"}),
    "id with underscore": lambda b: _sr_of(b).update(id="R_000124"),
    "empty reason text": lambda b: _sr_of(b).update(reasonCode=[{"text": ""}]),
    "full-width space in text": lambda b: _sr_of(b).update(reasonCode=[{"text": "康复\u3000评估"}]),
    "bundle type bogus": lambda b: b.update(type="referral"),
    "unknown resource type": lambda b: _task_of(b).update(resourceType="Referral"),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_broken_bundle_is_rejected(good, breakage):
    assert piecewise_errors(good) == []
    BREAKAGES[breakage](good)
    assert piecewise_errors(good), breakage


def test_broken_bundle_is_rejected_by_the_schema_root(good):
    BREAKAGES["task status bogus"](good)
    assert root_errors(good)


def test_schema_misses_cardinality(good):
    """The R4 JSON schema requires only resourceType (a 1..1 primitive may come as `_intent`),
    so a Task without intent passes it: test_key_fields checks those elements itself."""
    del _task_of(good)["intent"]
    assert piecewise_errors(good) == []


def test_schema_misses_object_types(good):
    """Its complex types say nothing of "type": "object", so a string where a Reference belongs
    passes too: test_key_fields compares the references with dicts."""
    _sr_of(good)["subject"] = "Patient/P000001"
    assert piecewise_errors(good) == []


# ---------------------------------------------------------------------------------------------
# details


def test_dates_are_rfc3339_with_offset_and_match_the_schema():
    patterns = {name: re.compile(schema()["definitions"][name]["pattern"])
                for name in ("instant", "dateTime")}
    cst = timezone(timedelta(hours=8))
    b = referral_bundle(facts(
        "sent",
        created_at=datetime(2026, 1, 1, 0, 0, tzinfo=cst),  # 2025-12-31T16:00Z
        sent_at=datetime(2026, 11, 21, 7, 30, 59, 999999, tzinfo=UTC),
        updated_at=datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
    ))
    task, sr = _task_of(b), _sr_of(b)
    assert sr["authoredOn"] == task["authoredOn"] == "2026-11-21T07:30:59+00:00"
    assert b["timestamp"] == task["lastModified"] == "2026-12-31T23:59:59+00:00"
    for value in (b["timestamp"], task["lastModified"], b["meta"]["lastUpdated"]):
        assert patterns["instant"].match(value)
    assert patterns["dateTime"].match(sr["authoredOn"])
    draft = referral_bundle(facts("draft", created_at=datetime(2026, 1, 1, 0, 0, tzinfo=cst)))
    assert _sr_of(draft)["authoredOn"] == "2025-12-31T16:00:00+00:00"
    assert piecewise_errors(b) == [] and piecewise_errors(draft) == []


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="naive"):
        referral_bundle(facts(updated_at=datetime(2026, 11, 23, 8, 15)))


@pytest.mark.parametrize("change", [{"state": "lost"}, {"direction": "sideways"},
                                    {"urgency": "stat"},
                                    {"sender": dataclasses.replace(CLINIC, tier="hospital")},
                                    {"code": "R 1"}, {"person_code": "张三"}])
def test_values_outside_our_vocabularies_are_refused(change):
    with pytest.raises(ValueError):
        referral_bundle(facts(**change))


def test_codes_with_underscores_become_valid_fhir_ids():
    assert fhir_id("CL_0042") == "CL.0042"
    b = referral_bundle(facts("sent", sender=dataclasses.replace(CLINIC, code="CL_0042"),
                              person_code="P_1", case_code="K_1"))
    org = next(o for o in resources(b)["Organization"] if o["id"] == "CL.0042")
    assert org["identifier"][0]["value"] == "CL_0042"  # the identifier keeps our code
    assert _sr_of(b)["requester"]["reference"] == "Organization/CL.0042"
    assert _sr_of(b)["subject"] == {"reference": "Patient/P.1"}
    assert piecewise_errors(b) == []


def test_free_text_is_made_fit_for_a_fhir_string():
    b = referral_bundle(facts("returned", reason="  康复\u3000评估\u00a0\n", state_reason="",
                              home_programme="   "))
    sr, task = _sr_of(b), _task_of(b)
    assert sr["reasonCode"] == [{"text": "康复 评估"}]
    assert "statusReason" not in task and "note" not in sr
    assert piecewise_errors(b) == []
    blank = referral_bundle(facts(reason=" "))
    assert "reasonCode" not in _sr_of(blank)


def test_down_referral_replacing_a_returned_one():
    b = referral_bundle(facts("sent", "down", replaces_code="R000120"))
    sr = _sr_of(b)
    assert sr["basedOn"] == [{"reference": "ServiceRequest/R000123"}]
    assert sr["replaces"] == [{"reference": "ServiceRequest/R000120"}]
    assert piecewise_errors(b) == []


def test_restful_base_url():
    b = referral_bundle(facts(), base_url="https://rehab.example/api/v1/fhir/")
    assert [e["fullUrl"] for e in b["entry"]] == [
        "https://rehab.example/api/v1/fhir/ServiceRequest/R000123",
        "https://rehab.example/api/v1/fhir/Task/R000123-task",
        "https://rehab.example/api/v1/fhir/Organization/CL0042",
        "https://rehab.example/api/v1/fhir/Organization/CT001",
    ]


def test_output_only_once_completed():
    in_progress = referral_bundle(facts("in_progress", outcome="half way"))
    assert "output" not in _task_of(in_progress)
    completed = referral_bundle(facts("completed", outcome=None))
    assert "output" not in _task_of(completed)


def test_org_without_english_name():
    b = referral_bundle(facts(sender=dataclasses.replace(CLINIC, name_en="")))
    org = next(o for o in resources(b)["Organization"] if o["id"] == CLINIC.code)
    assert org["name"] == CLINIC.name_zh and "alias" not in org
    assert piecewise_errors(b) == []


def test_bundle_is_json_ready():
    b = referral_bundle(facts("completed", "down", "emergency"))
    assert json.loads(json.dumps(b)) == b


@pytest.mark.parametrize("tier", TIERS)
def test_every_tier(tier):
    b = referral_bundle(facts(receiver=dataclasses.replace(CENTRE, tier=tier)))
    org = next(o for o in resources(b)["Organization"] if o["id"] == CENTRE.code)
    assert org["type"] == [{"coding": [{"system": "urn:rehab-net:facility-tier", "code": tier}],
                            "text": tier}]
