"""The coverage API's query and output (marshmallow)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from rehab_net.schemas import MAX_YEAR, MIN_YEAR


class CoverageQuerySchema(Schema):
    year = fields.Integer(validate=validate.Range(MIN_YEAR, MAX_YEAR),
                          metadata={"description": "default: this year"})
    category = fields.String(validate=validate.Length(max=16),
                             metadata={"description": "a disability category; default: all"})


class LedgerQuerySchema(Schema):
    year = fields.Integer(validate=validate.Range(MIN_YEAR, MAX_YEAR),
                          metadata={"description": "default: this year"})
    worklist = fields.Boolean(load_default=False,
                              metadata={"description": "only the children near or over a cap"})


class CoverageSchema(Schema):
    """The figures, small cells already suppressed: a count is a number or "<N"."""

    year = fields.Integer()
    base_year = fields.Integer()
    from_ = fields.String(data_key="from", attribute="from")
    to = fields.String()
    to_date = fields.Boolean()
    districts_only = fields.Boolean()
    small_cell = fields.Integer()
    targets = fields.Dict(keys=fields.String(), values=fields.Float())
    rows = fields.List(fields.Dict())


class ChildLedgerSchema(Schema):
    person_code = fields.String()
    district = fields.String()
    category = fields.String()
    trained_months = fields.Integer()
    funded_months = fields.Integer()
    months_left = fields.Integer()
    amount = fields.Integer()
    other_months = fields.Integer()
    booked_ahead = fields.Integer()
    status = fields.String()


class LedgerSchema(Schema):
    year = fields.Integer()
    rule = fields.Dict()
    children = fields.List(fields.Nested(ChildLedgerSchema))
    totals_by_district = fields.Dict()
