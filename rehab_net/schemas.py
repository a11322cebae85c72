"""Schema building blocks shared by every module: strict numbers, bounded ids and page numbers,
codes and the base of query-string arguments."""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, pre_load, validate

from rehab_net.csvimport import CODE
from rehab_net.errors import Invalid, flatten_messages
from rehab_net.messages import message

Code = lambda **kw: fields.String(validate=validate.Regexp(  # noqa: E731
    CODE, error=message("field.code_format")), **kw)


# Every id column is an INTEGER: 32 bits on PostgreSQL. A larger number can name no row, and
# reaching the database with one is an error there (and an OverflowError past 2**63 on SQLite).
MAX_ID = 2**31 - 1
# Years a date-based resource (holidays, quarterly reports) can be asked for.
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_PAGE_SIZE = 100  # flask-smorest's default, which every list keeps


def StrictInt(**kw):  # noqa: N802  (reads like a field class)
    """An integer that refuses 2.5 and 1e3 (marshmallow accepts them unless strict). In a query
    string (QueryArgs) plain digit strings are integers too."""
    return fields.Integer(strict=True, **kw)


def PositiveInt(maximum: int = MAX_ID, **kw):  # noqa: N802
    """An id or a page number: 1 to MAX_ID, so no number the database cannot hold reaches it.
    The one field for every id and page in a request (paths use IdConverter, the same bound)."""
    return StrictInt(validate=validate.Range(1, maximum), **kw)


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
            bad = {k: [message("field.nul")] for k in data
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


# A whole number as a query string spells it: optional minus, ASCII digits (no " 1", "1.5", "1e3",
# "1_000" or "true", which int() or a lenient field would take).
_QUERY_INT = re.compile(r"-?[0-9]{1,30}")


class QueryArgs(Input):
    """Base of every query-string schema (location="query"). A parameter it does not declare is
    a 422 naming it (docs/api.md; the API blueprint's parser leaves `unknown` to this Meta), and
    integer parameters take digit strings, the only form a query string has."""

    class Meta:
        unknown = RAISE

    @pre_load
    def _query_integers(self, data, **_kw):
        if not isinstance(data, Mapping):
            return data
        out = {key: data[key] for key in data}  # webargs' proxy: lists only for list fields
        for name, field in self.load_fields.items():
            key = field.data_key or name
            value = out.get(key)
            if isinstance(field, fields.Integer) and isinstance(value, str) \
                    and _QUERY_INT.fullmatch(value):
                out[key] = int(value)
        return out


class PageArgs(QueryArgs):
    """page and page_size of a paged list, bounded here. flask-smorest's @paginate reads them
    again into `pagination_parameters`; they are left out of the view's arguments."""
    page = PositiveInt(metadata={"description": "from 1"})
    page_size = PositiveInt(MAX_PAGE_SIZE, metadata={"description": "1-100, default 10"})

    @post_load
    def _drop_paging(self, data, **_kw):
        data.pop("page", None)
        data.pop("page_size", None)
        return data


class _PageOnly(QueryArgs):
    page = PositiveInt()


_PAGE = _PageOnly()


def query_page(args) -> int:
    """The page number of a server-rendered list (request.args), bounded like the API's: a page
    out of range is a 422 naming `page`, as on the API."""
    try:
        loaded = _PAGE.load({"page": args["page"]} if "page" in args else {})
    except ValidationError as err:
        raise Invalid("request.page_out_of_range",
                      [{"in": "query", **e} for e in flatten_messages(err.messages)]) from None
    return loaded.get("page", 1)


def form_id(value: str | None) -> int | None:
    """An id posted by a page's form (a slot, a grant): the int, or None unless it is digits
    from 1 to MAX_ID, so a tampered form meets the same bound as the API, not the database."""
    if value is None or not re.fullmatch(r"[0-9]{1,10}", value) or not 1 <= int(value) <= MAX_ID:
        return None
    return int(value)


# The days a page accepts (a typo of the year is an error, not a plan for 20260).
FIRST_FORM_DAY, LAST_FORM_DAY = date(2000, 1, 1), date(2100, 12, 31)


def form_date(value: str) -> date:
    """A date typed in a page's form or query (YYYY-MM-DD, 2000 to 2100). ValueError carries
    what the user reads, in their language: the format, that the day does not exist
    (2023-02-29 looks right and is not), or the range."""
    from flask_babel import gettext as _

    value = (value or "").strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(_("Enter a date as YYYY-MM-DD."))
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError(_("%(value)s is not a day of the calendar: check the month and the day.",
                           value=value)) from None
    if not FIRST_FORM_DAY <= day <= LAST_FORM_DAY:
        raise ValueError(_("Enter a date between 2000 and 2100."))
    return day


class SortArgs(QueryArgs):
    sort = fields.String(metadata={"description": "comma list of fields, '-' for descending"})


class ListArgs(SortArgs, PageArgs):
    """The query string of a paged, sortable list."""
