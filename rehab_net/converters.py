"""URL converters of the whole app (API and pages)."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter

from rehab_net.schemas import MAX_ID


class IdConverter(IntegerConverter):
    """`<int:...>` everywhere: ASCII digits from 1 (or `min`) to MAX_ID, the same bound as the
    PositiveInt field. A larger number matches no route, so it is a 404 like any id that names
    no row, and never reaches the database (an INTEGER column on PostgreSQL; past 2**63 even
    SQLite fails). flask-smorest documents the bounds in the OpenAPI path parameter."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
