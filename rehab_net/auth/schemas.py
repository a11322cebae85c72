"""API schemas of accounts, users, grants, tokens and the audit log."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from rehab_net.auth import messages as _messages  # noqa: F401 - registers the codes
from rehab_net.messages import message
from rehab_net.schemas import Input, PageArgs, SortArgs, StrictInt
from rehab_net.vocab import AUDIT_ACTIONS, ROLES

USERNAME = r"^[a-z0-9][a-z0-9._-]{1,63}$"


class GrantSchema(Schema):
    id = fields.Integer()
    role = fields.String()
    place_type = fields.Function(
        lambda g: "facility" if g.facility else "region" if g.region else "network")
    place_code = fields.Function(lambda g: (g.facility or g.region).code
                                 if (g.facility or g.region) else None)


class GrantInput(Input):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    place = fields.String(load_default=None, allow_none=True, metadata={
        "description": "facility code (coordinator, clinic) or region code (others); "
                       "none = the whole network"})


class MeSchema(Schema):
    username = fields.String()
    display_name = fields.String()
    grants = fields.List(fields.Nested(GrantSchema))
    permissions = fields.List(fields.String())


class UserSchema(Schema):
    username = fields.String()
    display_name = fields.String()
    active = fields.Boolean()
    created_at = fields.AwareDateTime()
    last_login_at = fields.AwareDateTime(allow_none=True)
    grants = fields.List(fields.Nested(GrantSchema))
    version = fields.Integer()


class CreateUserSchema(Input):
    username = fields.String(required=True, validate=validate.Regexp(
        USERNAME, error=message("auth.username_format")))
    display_name = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=256))
    grants = fields.List(fields.Nested(GrantInput), load_default=list)


class UpdateUserSchema(Input):
    display_name = fields.String(validate=validate.Length(1, 64))
    active = fields.Boolean()
    password = fields.String(load_only=True, validate=validate.Length(max=256))


class TokenSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime(allow_none=True)
    last_used_at = fields.AwareDateTime(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True)


class NewTokenSchema(TokenSchema):
    token = fields.String(metadata={"description": "shown once; only its hash is stored"})


class CreateTokenSchema(Input):
    name = fields.String(required=True, validate=validate.Length(1, 64))
    expires_in_days = StrictInt(load_default=90, allow_none=True,
                                validate=validate.Range(1, 366),
                                metadata={"description": "null = never expires"})


class AuditEventSchema(Schema):
    id = fields.Integer()
    at = fields.AwareDateTime()
    actor = fields.String()
    action = fields.String()
    object_type = fields.String()
    object_code = fields.String(allow_none=True)
    remote_addr = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    detail = fields.Dict(allow_none=True)


class AuditFilterArgs(SortArgs):
    actor = fields.String(validate=validate.Length(1, 80))
    action = fields.String(validate=validate.OneOf(AUDIT_ACTIONS))
    object_type = fields.String(validate=validate.Length(1, 32))
    object_code = fields.String(validate=validate.Length(1, 64))
    person = fields.String(validate=validate.Length(1, 32), metadata={
        "description": "A person's code: the events about the person and their cases, "
                       "referrals and appointments."})
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()


class AuditListArgs(AuditFilterArgs, PageArgs):
    pass


class RevealSchema(Input):
    reason = fields.String(required=True, validate=validate.Length(
        5, 500, error=message("auth.reveal_reason")))
