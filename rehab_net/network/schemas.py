"""API schemas of the network: input schemas are <Verb><Thing>Schema, output schemas
<Thing>Schema."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates

from rehab_net.messages import message
from rehab_net.network import messages as _messages  # noqa: F401 - registers the codes
from rehab_net.schemas import Code, Input, Lat, ListArgs, Lon, QueryArgs, StrictInt
from rehab_net.vocab import (
    CATEGORIES,
    FACILITY_STATUSES,
    OWNERSHIPS,
    REGION_KINDS,
    REGION_LEVELS,
    SERVICE_KINDS,
    TIERS,
)

ALL_KINDS = sorted({k for ks in REGION_KINDS.values() for k in ks})


# --- regions ------------------------------------------------------------------------------------
class RegionSchema(Schema):
    code = fields.String()
    parent_code = fields.Function(lambda r: r.parent.code if r.parent else None)
    level = fields.String()
    kind = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    lat = fields.Float()
    lon = fields.Float()
    version = fields.Integer()


class CreateRegionSchema(Input):
    code = fields.String(required=True, validate=validate.Regexp(
        r"^\d{6}(\d{3}){0,2}$", error=message("region.code_format")))
    parent_code = fields.String(load_default=None)
    level = fields.String(required=True, validate=validate.OneOf(REGION_LEVELS))
    kind = fields.String(required=True, validate=validate.OneOf(ALL_KINDS))
    name_zh = fields.String(required=True, validate=validate.Length(1, 64))
    name_en = fields.String(required=True, validate=validate.Length(1, 128))
    lat = Lat(required=True)
    lon = Lon(required=True)


class UpdateRegionSchema(Input):
    kind = fields.String(validate=validate.OneOf(ALL_KINDS))
    name_zh = fields.String(validate=validate.Length(1, 64))
    name_en = fields.String(validate=validate.Length(1, 128))
    lat = Lat()
    lon = Lon()


class RegionListArgs(ListArgs):
    level = fields.String(validate=validate.OneOf(REGION_LEVELS))
    parent = fields.String(metadata={"description": "code of the parent region"})
    q = fields.String(validate=validate.Length(1, 64),
                      metadata={"description": "part of a name, or the start of a code"})


# --- facilities ---------------------------------------------------------------------------------
class FacilitySchema(Schema):
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    tier = fields.String()
    region_code = fields.Function(lambda f: f.region.code)
    lat = fields.Float()
    lon = fields.Float()
    ownership = fields.String()
    designated = fields.Boolean()
    status = fields.String()
    version = fields.Integer()


class CreateFacilitySchema(Input):
    code = Code(required=True)
    name_zh = fields.String(required=True, validate=validate.Length(1, 128))
    name_en = fields.String(required=True, validate=validate.Length(1, 200))
    tier = fields.String(required=True, validate=validate.OneOf(TIERS))
    region_code = fields.String(required=True)
    lat = Lat(required=True)
    lon = Lon(required=True)
    ownership = fields.String(required=True, validate=validate.OneOf(OWNERSHIPS))
    designated = fields.Boolean(load_default=False)
    status = fields.String(load_default="open", validate=validate.OneOf(FACILITY_STATUSES))


class UpdateFacilitySchema(Input):
    name_zh = fields.String(validate=validate.Length(1, 128))
    name_en = fields.String(validate=validate.Length(1, 200))
    tier = fields.String(validate=validate.OneOf(TIERS))
    region_code = fields.String()
    lat = Lat()
    lon = Lon()
    ownership = fields.String(validate=validate.OneOf(OWNERSHIPS))
    designated = fields.Boolean()
    status = fields.String(validate=validate.OneOf(FACILITY_STATUSES))


class FacilityListArgs(ListArgs):
    tier = fields.String(validate=validate.OneOf(TIERS))
    region = fields.String(metadata={"description": "region code: facilities in it or below it"})
    status = fields.String(validate=validate.OneOf(FACILITY_STATUSES))
    designated = fields.Boolean()
    service = fields.String(metadata={"description": "service code the facility has capacity for"})
    q = fields.String(validate=validate.Length(1, 64))


# --- services -----------------------------------------------------------------------------------
class ServiceSchema(Schema):
    code = fields.String()
    category = fields.String()
    kind = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    tiers = fields.List(fields.String())
    home_ok = fields.Boolean()
    duration_minutes = fields.Integer()
    version = fields.Integer()


def _tiers_field(**kw):
    return fields.List(fields.String(validate=validate.OneOf(TIERS)),
                       validate=validate.Length(min=1, error=message("service.tiers_needed")), **kw)


class _TiersRule:
    @validates("tiers")
    def _distinct(self, value, **_kw):
        if len(set(value)) != len(value):
            raise ValidationError(message("service.tier_twice"))


class CreateServiceSchema(_TiersRule, Input):
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    kind = fields.String(required=True, validate=validate.OneOf(SERVICE_KINDS))
    name_zh = fields.String(required=True, validate=validate.Length(1, 64))
    name_en = fields.String(required=True, validate=validate.Length(1, 128))
    tiers = _tiers_field(required=True)
    home_ok = fields.Boolean(load_default=False)
    duration_minutes = StrictInt(required=True, validate=validate.Range(1, 1440))


class UpdateServiceSchema(_TiersRule, Input):
    name_zh = fields.String(validate=validate.Length(1, 64))
    name_en = fields.String(validate=validate.Length(1, 128))
    tiers = _tiers_field()
    home_ok = fields.Boolean()
    duration_minutes = StrictInt(validate=validate.Range(1, 1440))


class ServiceListArgs(ListArgs):
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    kind = fields.String(validate=validate.OneOf(SERVICE_KINDS))
    tier = fields.String(validate=validate.OneOf(TIERS))


# --- capacities ---------------------------------------------------------------------------------
class CapacitySchema(Schema):
    facility_code = fields.Function(lambda c: c.facility.code)
    service_code = fields.Function(lambda c: c.service.code)
    effective_from = fields.Date()
    weekly_intake = fields.Integer()
    concurrent_places = fields.Integer()
    scheduled_weekly_places = fields.Integer(allow_none=True, dump_default=None, metadata={
        "description": "places the facility's schedule rules offer for the service in the week "
                       "of `on` (today without it): what plans use as that week's intake. null "
                       "where the service has no schedule rule, or for rows not in force then"})
    agrees_with_schedules = fields.Boolean(allow_none=True, dump_default=None, metadata={
        "description": "whether weekly_intake equals scheduled_weekly_places (null: nothing to "
                       "compare)"})


class CreateCapacitySchema(Input):
    service_code = fields.String(required=True)
    effective_from = fields.Date(required=True)
    weekly_intake = StrictInt(required=True, validate=validate.Range(0, 10000))
    concurrent_places = StrictInt(required=True, validate=validate.Range(0, 100000))


class CapacityArgs(QueryArgs):
    on = fields.Date(metadata={"description": "only the capacities in force on this date"})
    service = fields.String()


region_schema, regions_schema = RegionSchema(), RegionSchema(many=True)
facility_schema, facilities_schema = FacilitySchema(), FacilitySchema(many=True)
service_schema, services_schema = ServiceSchema(), ServiceSchema(many=True)
capacity_schema, capacities_schema = CapacitySchema(), CapacitySchema(many=True)
