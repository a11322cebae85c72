"""API schemas of referrals, their actions, inboxes and notifications."""
from __future__ import annotations

from marshmallow import Schema, fields, validate, validates_schema

from rehab_net.referrals import notices
from rehab_net.referrals.fhir import SERVICE_REQUEST_STATUS, TASK_STATUS
from rehab_net.referrals.states import REFERRAL_STATES, allowed_actions
from rehab_net.schemas import Code, Input, ListArgs, StrictInt
from rehab_net.vocab import DECLINE_REASONS, DIRECTIONS, URGENCIES


class EventSchema(Schema):
    at = fields.AwareDateTime()
    actor = fields.String()
    action = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    reason = fields.String(allow_none=True)


class AttachmentSchema(Schema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    created_at = fields.AwareDateTime()
    created_by = fields.String()


def _code(attr):
    return fields.Function(lambda r: getattr(r, attr).code if getattr(r, attr) else None)


class ReferralSchema(Schema):
    code = fields.String()
    state = fields.String()
    fhir_task_status = fields.Function(lambda r: TASK_STATUS[r.state])
    fhir_service_request_status = fields.Function(lambda r: SERVICE_REQUEST_STATUS[r.state])
    allowed_actions = fields.Function(lambda r: allowed_actions(r.state))
    direction = fields.String()
    urgency = fields.String()
    case_code = _code("case")
    person_code = fields.Function(lambda r: r.case.person.code)
    sender_code = _code("sender")
    receiver_code = _code("receiver")
    service_code = _code("service")
    reason = fields.String()
    answers_code = _code("answers")
    replaces_code = _code("replaces")
    home_programme = fields.String(allow_none=True)
    decline_reason = fields.String(allow_none=True)
    state_reason = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    waiting_since = fields.Date(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)
    received_at = fields.AwareDateTime(allow_none=True)
    answered_at = fields.AwareDateTime(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    due_at = fields.AwareDateTime(allow_none=True)
    overdue_at = fields.AwareDateTime(allow_none=True)
    escalated_at = fields.AwareDateTime(allow_none=True)
    version = fields.Integer()


class ReferralDetailSchema(ReferralSchema):
    events = fields.List(fields.Nested(EventSchema))
    attachments = fields.List(fields.Nested(AttachmentSchema))


class CreateReferralSchema(Input):
    case_code = fields.String(required=True, validate=validate.Length(1, 32))
    receiver_code = fields.String(required=True, validate=validate.Length(1, 32))
    sender_code = fields.String(validate=validate.Length(1, 32), metadata={
        "description": "your facility; may be left out when you work at only one"})
    service_code = fields.String(validate=validate.Length(1, 32),
                                 metadata={"description": "defaults to the case's service"})
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    urgency = fields.String(load_default="routine", validate=validate.OneOf(URGENCIES))
    reason = fields.String(required=True, validate=validate.Length(1, 2000))
    answers_code = fields.String(validate=validate.Length(1, 32))
    home_programme = fields.String(validate=validate.Length(1, 4000))
    send = fields.Boolean(load_default=False, metadata={"description": "send at once"})


class ActionSchema(Input):
    reason = fields.String(validate=validate.Length(1, 2000))
    reason_code = fields.String(validate=validate.OneOf(DECLINE_REASONS))
    outcome = fields.String(validate=validate.Length(1, 4000))
    version = StrictInt(metadata={"description": "the version you read: 409 if it moved on"})


class ReReferSchema(Input):
    receiver_code = Code(required=True)


class ReferralListArgs(ListArgs):
    facility = fields.String(validate=validate.Length(1, 32))
    side = fields.String(validate=validate.OneOf(("incoming", "outgoing")), metadata={
        "description": "incoming (to your facilities) or outgoing (from them)"})
    box = fields.String(validate=validate.OneOf(
        ("needs_action", "awaiting_others", "overdue", "recently_closed")))
    state = fields.String(validate=validate.OneOf(REFERRAL_STATES))
    case = fields.String(validate=validate.Length(1, 32))

    @validates_schema(skip_on_field_errors=True)
    def _box_needs_side(self, data, **_kw):
        from marshmallow import ValidationError

        from rehab_net.messages import message
        from rehab_net.referrals import messages as _messages  # noqa: F401 - registers the codes

        if "box" in data and "side" not in data:
            raise ValidationError({"side": [message("referral.box_side")]})


class BoxCountsSchema(Schema):
    incoming = fields.Dict(keys=fields.String(), values=fields.Integer())
    outgoing = fields.Dict(keys=fields.String(), values=fields.Integer())
    unread_notifications = fields.Integer()


class SuggestionSchema(Schema):
    facility_code = fields.Function(lambda s: s["facility"].code)
    name_zh = fields.Function(lambda s: s["facility"].name_zh)
    name_en = fields.Function(lambda s: s["facility"].name_en)
    tier = fields.Function(lambda s: s["facility"].tier)
    road_km = fields.Float()
    free_places = fields.Integer()


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    summary = fields.Function(lambda n: notices.summary(n), metadata={
        "description": "What happened, by whom and why, in the caller's language."})
    referral_code = fields.Function(lambda n: n.referral.code)
    facility_code = fields.Function(lambda n: n.facility.code if n.facility else None)
    region_code = fields.Function(lambda n: n.region.code if n.region else None)
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)
