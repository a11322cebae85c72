"""Schema building blocks shared by every module: strict numbers, codes, and the mask."""
from __future__ import annotations

from collections.abc import Mapping

from marshmallow import Schema, ValidationError, fields, pre_load, validate

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


class Input(Schema):
    """Base of every input schema: text with NUL characters is refused up front (PostgreSQL
    cannot store it, and no real name or code contains one)."""

    @pre_load
    def _refuse_nul(self, data, **_kw):
        if isinstance(data, Mapping):  # a dict, or webargs' proxy of the query string
            bad = {k: ["must not contain NUL characters"] for k in data
                   if _has_nul(data.getlist(k) if hasattr(data, "getlist") else data[k])}
            if bad:
                raise ValidationError(bad)
        return data


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    if isinstance(value, Mapping):
        return any(_has_nul(v) for v in value.values())
    return False


class ListArgs(Input):
    sort = fields.String(metadata={"description": "comma list of fields, '-' for descending"})
