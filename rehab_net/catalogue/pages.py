"""Pages of the catalogue: its items (the version in force, or an older one for history), a
facility's worklist (filter by status, category, item; names masked; the list audited) and the
section of the case page."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from markupsafe import Markup

from rehab_net import access
from rehab_net.auth import audit
from rehab_net.auth.guard import current_principal, scope
from rehab_net.booking.access import (
    FACILITY_LIST_BOX_LIMIT,
    find_my_facilities,
)
from rehab_net.catalogue import operations as ops
from rehab_net.clock import today
from rehab_net.db import get_session
from rehab_net.errors import DomainError
from rehab_net.masking import mask_name
from rehab_net.schemas import query_page
from rehab_net.vocab import CATALOGUE_CATEGORIES, CATALOGUE_PARTS, CATEGORIES, DOSE_STATUSES

bp = Blueprint("catalogue_pages", __name__)

# endpoint -> permission (rehab_net/access.py). Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "catalogue_pages.catalogue": "network.read",
    "catalogue_pages.worklist": "case.read",
}

PAGE_ROWS = 50
OPEN_STATUSES = tuple(s for s in DOSE_STATUSES if s != "met")


@bp.get("/catalogue")
def catalogue():
    """?version=CODE shows an older (or later) version; ?part= and ?category= filter."""
    session = get_session()
    versions = ops.versions(session)
    code = request.args.get("version", "")
    part = request.args.get("part", "")
    category = request.args.get("category", "")
    if (part and part not in CATALOGUE_PARTS) or (category and category
                                                  not in CATALOGUE_CATEGORIES):
        abort(400)
    in_force = ops.version_on(session, today())
    version = next((v for v in versions if v.code == code), None) if code else in_force
    if code and version is None:
        abort(404)
    items = ops.items_of(session, version, part=part, category=category) if version else []
    return render_template("catalogue/items.html", versions=versions, version=version,
                           in_force=in_force, items=items, part=part, category=category,
                           parts=CATALOGUE_PARTS, categories=CATALOGUE_CATEGORIES,
                           services=ops.services_of_items(session))


@bp.get("/catalogue/worklist")
def worklist():
    session = get_session()
    principal = current_principal()
    filters = {k: request.args.get(k, "").strip() for k in ("facility", "status", "category",
                                                             "item")}
    if ((filters["status"] and filters["status"] not in OPEN_STATUSES)
            or (filters["category"] and filters["category"] not in CATEGORIES)):
        abort(400)
    page = query_page(request.args)
    facilities, count, _pages = find_my_facilities(session, principal, "", 1)
    list_box = count <= FACILITY_LIST_BOX_LIMIT  # else the facility is typed: a code or a name
    found = None  # the facilities matching a typed name, to choose from
    try:
        facility = ops.worklist_facility(session, principal, filters["facility"] or None)
    except DomainError as exc:
        if exc.status == 404 and list_box:
            abort(404)
        facility = None  # a network-wide facility role chooses one first
        if filters["facility"] and not list_box:
            found, found_total, found_pages = find_my_facilities(
                session, principal, filters["facility"][:64], page)
    rows = []
    if facility is not None:
        rows = ops.worklist(session, facility.id, today(), scope=scope("case.read"),
                            status=filters["status"] or None,
                            category=filters["category"] or None,
                            item=filters["item"] or None)
    total = len(rows) if found is None else found_total
    shown = rows[(page - 1) * PAGE_ROWS:page * PAGE_ROWS]
    if facility is not None:
        audit.record_list(session, "case", sorted({d.case.code for d in shown}),
                          {k: v for k, v in filters.items() if v} | {"facility": facility.code})
    pages = max(1, -(-total // PAGE_ROWS)) if found is None else found_pages
    return render_template("catalogue/worklist.html", rows=shown, total=total, page=page,
                           pages=pages, facility=facility,
                           facilities=facilities if list_box else None, found=found,
                           filters=filters, statuses=OPEN_STATUSES,
                           categories=CATEGORIES, mask_name=mask_name, today=today())


def case_section(session, case) -> Markup:
    """The case page's catalogue items with what was delivered and when the next is due
    (people/pages.py add_case_section; the case's read is audited there)."""
    return Markup(render_template("catalogue/_case.html", doses=ops.doses(session, [case],
                                                                          today()),
                                  version=ops.version_on(session, today())))


@bp.app_template_global()
def dose_rule_text(item) -> str:
    """An item's rule in the user's language."""
    from flask_babel import gettext as _
    from flask_babel import ngettext

    n = item.amount
    text = {
        "once": lambda: _("at least once"),
        "times_per_year": lambda: ngettext("at least %(num)d time a year",
                                           "at least %(num)d times a year", n),
        "months_per_year": lambda: ngettext("in at least %(num)d month a year",
                                            "in at least %(num)d months a year", n),
        "weekly_for_weeks": lambda: ngettext("weekly for at least %(num)d week",
                                             "weekly for at least %(num)d weeks", n),
    }[item.rule]()
    if item.cycle_months:
        text += "; " + ngettext("renewed every %(num)d month", "renewed every %(num)d months",
                                item.cycle_months)
    return text
