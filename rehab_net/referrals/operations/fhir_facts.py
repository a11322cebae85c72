"""A referral row read into the facts the FHIR mapping needs. The mapping itself
(referrals/fhir.py) stays pure, no rows and no database, so it is tested against the R4 schema
on plain facts; this is the one place that reads the rows for it."""
from __future__ import annotations

from rehab_net.network.models import Facility
from rehab_net.referrals.fhir import OrgFacts, ReferralFacts
from rehab_net.referrals.models import Referral


def fhir_facts(referral: Referral):
    """What the FHIR mapping needs, read off the rows (no personal data: the person by code)."""

    def org(f: Facility) -> OrgFacts:
        return OrgFacts(code=f.code, name_zh=f.name_zh, name_en=f.name_en, tier=f.tier)

    return ReferralFacts(
        code=referral.code, state=referral.state, direction=referral.direction,
        urgency=referral.urgency, reason=referral.reason, service_code=referral.service.code,
        service_name=referral.service.name_zh, category=referral.service.category,
        case_code=referral.case.code, person_code=referral.case.person.code,
        sender=org(referral.sender), receiver=org(referral.receiver),
        created_at=referral.created_at, updated_at=referral.updated_at, sent_at=referral.sent_at,
        answers_code=referral.answers.code if referral.answers else None,
        home_programme=referral.home_programme, state_reason=referral.state_reason,
        outcome=referral.outcome,
        replaces_code=referral.replaces.code if referral.replaces else None)
