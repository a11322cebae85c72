"""API schemas of certificates. The number is masked on output (first 3 + last 4)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from rehab_net.certificates.rules import renewal_opens
from rehab_net.certificates.states import CERTIFICATE, CERTIFICATE_STATES
from rehab_net.masking import mask
from rehab_net.schemas import Code, Input, ListArgs, StrictInt
from rehab_net.vocab import CATEGORIES


class CertificateSchema(Schema):
    code = fields.String()
    person_code = fields.Function(lambda c: c.person.code)
    number = fields.Function(lambda c: mask(c.number),
                             metadata={"description": "masked: first 3 and last 4"})
    category_digit = fields.Integer()
    grade = fields.Integer()
    reissue = fields.Integer(metadata={"description": "0 = the original; n = suffix Bn"})
    issued_on = fields.Date()
    valid_until = fields.Date(metadata={"description": "the last day it is valid"})
    renewal_due_on = fields.Function(lambda c: renewal_opens(c.valid_until).isoformat(),
                                     metadata={"description": "renewal opens (90 days before)"})
    state = fields.String()
    moved_out_on = fields.Date(allow_none=True)
    transferred_on = fields.Date(allow_none=True)
    freeze_on = fields.Date(allow_none=True, metadata={
        "description": "frozen on this day unless transferred before"})
    frozen_on = fields.Date(allow_none=True)
    lapse_on = fields.Date(allow_none=True, metadata={
        "description": "cancelled on this day unless transferred before"})
    ended_on = fields.Date(allow_none=True)
    end_reason = fields.String(allow_none=True)
    replaces = fields.Function(lambda c: c.replaces.code if c.replaces else None)
    allowed_actions = fields.Function(lambda c: CERTIFICATE.actions_from(c.state))
    version = fields.Integer()


class IssueCertificateSchema(Input):
    code = Code(metadata={"description": "C000001 ... when left out"})
    person_code = fields.String(required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES), metadata={
        "description": "as a case's; autism is certified as mental (digit 6)"})
    grade = StrictInt(required=True, validate=validate.Range(1, 4))
    issued_on = fields.Date(metadata={"description": "defaults to today"})


class DatedStepSchema(Input):
    on = fields.Date(metadata={"description": "the day it happened; defaults to today"})


class ReissueSchema(DatedStepSchema):
    reason = fields.String(validate=validate.Length(0, 500))


class RenewSchema(DatedStepSchema):
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    grade = StrictInt(validate=validate.Range(1, 4))


class CancelSchema(DatedStepSchema):
    reason = fields.String(required=True, validate=validate.Length(1, 500))


class CertificateListArgs(ListArgs):
    state = fields.String(validate=validate.OneOf(CERTIFICATE_STATES))
    region = fields.String(metadata={"description": "region code: holders living in or below"})
    person = fields.String()
    renewal_due = fields.Boolean(metadata={
        "description": "only those in force whose renewal has opened (90 days before the end)"})
