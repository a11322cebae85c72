"""Lookup and listing helpers shared by the endpoints: one row by its integer id (else 404), a
whitelisted sort parameter, and paging of a select() with its total count."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rehab_net.errors import Invalid, NotFound, field_error
from rehab_net.messages import message
from rehab_net.schemas import MAX_ID


def get_or_404(session: Session, model, id_: int, what: str):
    """The row of `model` whose integer primary key is `id_`, else a 404 "There is no <what>
    <id_>.". An id outside 1..MAX_ID names no row and never reaches the database (a CLI argument
    or a stored reference is not bounded by the URL converter)."""
    found = session.get(model, id_) if 1 <= id_ <= MAX_ID else None
    if found is None:
        raise NotFound("request.not_found", what=what, id=id_)
    return found


def apply_sort(stmt, sort: str | None, columns: dict, default: tuple):
    """`sort` is a comma list of names, '-' for descending, e.g. 'tier,-name_en'. Unknown names are
    a 422 naming the allowed ones. The primary key always ends the order, so pages are stable."""
    order = []
    for part in (sort.split(",") if sort else []):
        name = part.strip()
        desc = name.startswith("-")
        name = name.lstrip("-+")
        if name not in columns:
            raise Invalid("request.sort_unknown", [{"in": "query", "field": "sort", "rule": message(
                "request.sort_unknown_rule", name=name, columns=", ".join(sorted(columns)))}])
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
        raise field_error(name, "request.code_unknown", location="query", code=code) from None


def query_refs(session: Session, args, **getters) -> dict:
    """The code filters present in ``args`` (name=getter), each resolved with query_ref; an
    absent one is left out, so the list operation's default (no filter) applies."""
    return {name: query_ref(session, getter, args[name], name)
            for name, getter in getters.items() if name in args}


def one_page(session: Session, stmt, page: int, size: int) -> tuple[list, int, int]:
    """A server-rendered list's page ``page`` of ``size`` rows of the ordered ``stmt``: (the
    rows, the total count, the number of pages, at least 1) for the page and pager.html."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = list(session.scalars(stmt.offset((page - 1) * size).limit(size)))
    return rows, total, max(1, -(-total // size))
