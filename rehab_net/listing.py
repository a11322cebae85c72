"""Listing helpers shared by every collection endpoint: a whitelisted sort parameter and
paging of a select() with its total count."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rehab_net.errors import Invalid, NotFound, field_error


def apply_sort(stmt, sort: str | None, columns: dict, default: tuple):
    """`sort` is a comma list of names, '-' for descending, e.g. 'tier,-name_en'. Unknown names are
    a 422 naming the allowed ones. The primary key always ends the order, so pages are stable."""
    order = []
    for part in (sort.split(",") if sort else []):
        name = part.strip()
        desc = name.startswith("-")
        name = name.lstrip("-+")
        if name not in columns:
            raise Invalid("Cannot sort by that.", [{"in": "query", "field": "sort", "rule":
                          f"'{name}' is not sortable; use {', '.join(sorted(columns))}"}])
        order.append(columns[name].desc() if desc else columns[name].asc())
    return stmt.order_by(*(order or default))


def page_of(session: Session, stmt, pagination) -> list:
    """Run `stmt` for one page; sets the total on flask-smorest's pagination parameters."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pagination.item_count = total
    offset = (pagination.page - 1) * pagination.page_size
    return list(session.scalars(stmt.offset(offset).limit(pagination.page_size)))


def query_ref(session: Session, getter, code: str, name: str):
    """Resolve a code given as a query filter; an unknown one is the client's error (422)."""
    try:
        return getter(session, code)
    except NotFound:
        raise field_error(name, f"{code} does not exist", location="query") from None
