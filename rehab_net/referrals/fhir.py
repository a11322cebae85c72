"""A referral as a FHIR R4 Bundle: ServiceRequest (what is asked), Task (where the referral is in
our workflow), and the two Organizations; the child is only a reference ``Patient/<code>``.

Pure mapping, no database and no Flask: the caller gathers a :class:`ReferralFacts` and gets back
a plain ``dict`` ready for JSON. The output validates against the official R4 (4.0.1) JSON schema
vendored in ``fhir_r4/`` (tests/test_referrals_fhir.py checks every state, direction and urgency).

Personal data stays out: no name, resident ID number, birth date or guardian appears in the
Bundle, only the person's code inside the Patient reference.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from rehab_net.referrals.states import FHIR_STATUS

__all__ = [
    "PRIORITY",
    "SERVICE_REQUEST_STATUS",
    "SYSTEM",
    "TASK_STATUS",
    "OrgFacts",
    "ReferralFacts",
    "fhir_id",
    "referral_bundle",
]

# Our state -> ServiceRequest.status (value set request-status), from the state table.
SERVICE_REQUEST_STATUS: Mapping[str, str] = MappingProxyType(
    {state: codes[0] for state, codes in FHIR_STATUS.items()})

# Our state -> Task.status (value set task-status). Task.businessStatus always carries our exact
# state too, which tells "returned" from "declined" and "closed" from "completed".
TASK_STATUS: Mapping[str, str] = MappingProxyType(
    {state: codes[1] for state, codes in FHIR_STATUS.items()})

# Our urgency -> ServiceRequest.priority / Task.priority (value set request-priority).
PRIORITY: Mapping[str, str] = MappingProxyType({
    "routine": "routine",
    "urgent": "urgent",
    "emergency": "asap",
})

# The code systems and identifier systems of our own vocabularies.
SYSTEM: Mapping[str, str] = MappingProxyType({
    "referral": "urn:rehab-net:referral",
    "referral_state": "urn:rehab-net:referral-state",
    "direction": "urn:rehab-net:referral-direction",
    "category": "urn:rehab-net:disability-category",
    "service": "urn:rehab-net:service",
    "facility": "urn:rehab-net:facility",
    "tier": "urn:rehab-net:facility-tier",
    "case": "urn:rehab-net:case",
    "task_output": "urn:rehab-net:task-output",
})

DIRECTIONS = ("up", "down")
TIERS = ("centre", "station", "clinic")
_OUTPUT_STATES = ("completed", "closed")

# Our codes (csvimport.CODE): 1-32 of A-Z a-z 0-9 _ -. A FHIR id allows A-Z a-z 0-9 - . (1-64),
# so "_" becomes "." (never in our codes, so the mapping stays one-to-one). Identifier.value
# always keeps the code exactly as it is.
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# FHIR `string`: "^[ \r\n\t\S]+$". In a Unicode regex \S excludes U+3000 (the CJK full-width
# space), U+00A0, vertical tab and the like, which pasted Chinese text often contains; so any
# whitespace other than space, CR, LF and tab becomes a plain space.
_ODD_SPACE = re.compile(r"[^\S \r\n\t]")


@dataclass(frozen=True)
class OrgFacts:
    code: str
    name_zh: str
    name_en: str
    tier: str  # centre | station | clinic


@dataclass(frozen=True)
class ReferralFacts:
    code: str
    state: str
    direction: str  # up | down
    urgency: str  # routine | urgent | emergency
    reason: str
    service_code: str
    service_name: str
    category: str
    case_code: str
    person_code: str
    sender: OrgFacts
    receiver: OrgFacts
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None = None
    answers_code: str | None = None  # a down-referral: the up-referral it answers
    home_programme: str | None = None
    state_reason: str | None = None  # why declined / returned / cancelled
    outcome: str | None = None  # recorded at completion
    replaces_code: str | None = None  # a re-referral: the declined/returned one it replaces


def fhir_id(code: str) -> str:
    """The FHIR logical id for one of our codes ("_" -> ".")."""
    if not isinstance(code, str) or not _CODE.match(code):
        raise ValueError(f"not a rehab-net code: {code!r}")
    return code.replace("_", ".")


def _instant(value: datetime) -> str:
    """RFC 3339 with an explicit offset, in UTC: FHIR `instant`/`dateTime` need the offset."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime: {value!r}")
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _text(value: str | None) -> str | None:
    """Free text fit for a FHIR `string`, or None when nothing is left of it."""
    if value is None:
        return None
    return _ODD_SPACE.sub(" ", value).strip() or None


def _ref(resource_type: str, code: str, display: str | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"reference": f"{resource_type}/{fhir_id(code)}"}
    if display:
        ref["display"] = display
    return ref


def _concept(system: str, code: str, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [{"system": system, "code": code}]}
    concept["text"] = text or code
    return concept


def _org_name(org: OrgFacts) -> str | None:
    return _text(org.name_zh) or _text(org.name_en)


def _check(facts: ReferralFacts) -> None:
    if facts.state not in TASK_STATUS:
        raise ValueError(f"unknown referral state: {facts.state!r}")
    if facts.direction not in DIRECTIONS:
        raise ValueError(f"unknown direction: {facts.direction!r}")
    if facts.urgency not in PRIORITY:
        raise ValueError(f"unknown urgency: {facts.urgency!r}")
    for org in (facts.sender, facts.receiver):
        if org.tier not in TIERS:
            raise ValueError(f"unknown facility tier: {org.tier!r}")


def _organization(org: OrgFacts) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": fhir_id(org.code),
        "identifier": [{"system": SYSTEM["facility"], "value": org.code}],
        "active": True,
        "type": [_concept(SYSTEM["tier"], org.tier)],
    }
    name = _org_name(org)
    if name:
        resource["name"] = name
    alias = _text(org.name_en)
    if alias and alias != name:
        resource["alias"] = [alias]
    return resource


def _service_request(facts: ReferralFacts) -> dict[str, Any]:
    sr: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": fhir_id(facts.code),
        "identifier": [{"system": SYSTEM["referral"], "value": facts.code}],
        "status": SERVICE_REQUEST_STATUS[facts.state],
        "intent": "order",
        "category": [
            _concept(SYSTEM["direction"], facts.direction,
                     "up-referral" if facts.direction == "up" else "down-referral"),
            _concept(SYSTEM["category"], facts.category),
        ],
        "priority": PRIORITY[facts.urgency],
        "code": {
            "coding": [{"system": SYSTEM["service"], "code": facts.service_code}],
            "text": _text(facts.service_name) or facts.service_code,
        },
        "subject": _ref("Patient", facts.person_code),
        "authoredOn": _instant(facts.sent_at or facts.created_at),
        "requester": _ref("Organization", facts.sender.code, _org_name(facts.sender)),
        "performer": [_ref("Organization", facts.receiver.code, _org_name(facts.receiver))],
        # the case (our episode of care) by identifier only: it is not served as a resource
        "supportingInfo": [{
            "type": "EpisodeOfCare",
            "identifier": {"system": SYSTEM["case"], "value": facts.case_code},
        }],
    }
    display = _text(facts.service_name)
    if display:
        sr["code"]["coding"][0]["display"] = display
    if facts.answers_code:
        sr["basedOn"] = [_ref("ServiceRequest", facts.answers_code)]
    if facts.replaces_code:
        sr["replaces"] = [_ref("ServiceRequest", facts.replaces_code)]
    reason = _text(facts.reason)
    if reason:
        sr["reasonCode"] = [{"text": reason}]
    programme = _text(facts.home_programme)
    if programme:
        sr["note"] = [{"text": programme}]
    return sr


def _task(facts: ReferralFacts) -> dict[str, Any]:
    task: dict[str, Any] = {
        "resourceType": "Task",
        "id": f"{fhir_id(facts.code)}-task",
        "identifier": [{"system": SYSTEM["referral"], "value": facts.code}],
        "status": TASK_STATUS[facts.state],
        "businessStatus": _concept(SYSTEM["referral_state"], facts.state),
        "intent": "order",
        "priority": PRIORITY[facts.urgency],
        "focus": _ref("ServiceRequest", facts.code),
        "for": _ref("Patient", facts.person_code),
        "authoredOn": _instant(facts.sent_at or facts.created_at),
        "lastModified": _instant(facts.updated_at),
        "requester": _ref("Organization", facts.sender.code, _org_name(facts.sender)),
        "owner": _ref("Organization", facts.receiver.code, _org_name(facts.receiver)),
    }
    state_reason = _text(facts.state_reason)
    if state_reason:
        task["statusReason"] = {"text": state_reason}
    outcome = _text(facts.outcome)
    if outcome and facts.state in _OUTPUT_STATES:
        task["output"] = [{
            "type": _concept(SYSTEM["task_output"], "outcome"),
            "valueString": outcome,
        }]
    return task


def _full_url(base_url: str, resource_type: str, resource_id: str) -> str:
    """``https://host/fhir`` -> ``https://host/fhir/Task/R1-task`` (a RESTful URL);
    ``urn:rehab-net`` -> ``urn:rehab-net:Task:R1-task`` (a URN: no "/" after its namespace)."""
    base = base_url.rstrip("/:")
    if base.lower().startswith("urn:"):
        return f"{base}:{resource_type}:{resource_id}"
    return f"{base}/{resource_type}/{resource_id}"


def referral_bundle(facts: ReferralFacts, base_url: str = "urn:rehab-net") -> dict[str, Any]:
    """The referral as a FHIR R4 ``collection`` Bundle (a plain dict, ready for JSON).

    Raises ValueError for a state, direction, urgency or tier outside our vocabularies, for a
    code that is not one of ours, and for a naive datetime."""
    _check(facts)
    resources = [_service_request(facts), _task(facts),
                 _organization(facts.sender), _organization(facts.receiver)]
    if facts.sender.code == facts.receiver.code:
        resources.pop()  # never for a stored referral (CHECK sender <> receiver); fullUrl unique
    return {
        "resourceType": "Bundle",
        "id": f"{fhir_id(facts.code)}-bundle",
        "meta": {"lastUpdated": _instant(facts.updated_at)},
        "type": "collection",
        "timestamp": _instant(facts.updated_at),
        "entry": [
            {"fullUrl": _full_url(base_url, r["resourceType"], r["id"]), "resource": r}
            for r in resources
        ],
    }
