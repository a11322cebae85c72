"""The quarterly report over the API (marshmallow): the stored row and its figures."""
from __future__ import annotations

from marshmallow import Schema, fields


class ReportSchema(Schema):
    quarter = fields.String()
    generated_at = fields.AwareDateTime()
    generated_by = fields.String()
    data = fields.Dict()
