"""Schema building blocks shared by every module: strict numbers, codes, and the mask."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from rehab_net.csvimport import CODE
from rehab_net.people.identifiers import mask  # noqa: F401  (re-exported for schemas)

Code = lambda **kw: fields.String(validate=validate.Regexp(  # noqa: E731
    CODE, error="must be 1-32 characters of A-Z a-z 0-9 _ -"), **kw)


def StrictInt(**kw):  # noqa: N802  (reads like a field class)
    """An integer that refuses 2.5 and 1e3 (marshmallow accepts them unless strict)."""
    return fields.Integer(strict=True, **kw)


def Lat(**kw):  # noqa: N802
    return fields.Float(allow_nan=False, validate=validate.Range(-90, 90), **kw)


def Lon(**kw):  # noqa: N802
    return fields.Float(allow_nan=False, validate=validate.Range(-180, 180), **kw)


class ListArgs(Schema):
    sort = fields.String(metadata={"description": "comma list of fields, '-' for descending"})
