"""API schemas of the catalogue. Names of persons are masked (surname only) on the worklist."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from rehab_net.masking import mask_name
from rehab_net.schemas import Code, PageArgs, QueryArgs
from rehab_net.vocab import (
    CATALOGUE_CATEGORIES,
    CATALOGUE_KINDS,
    CATALOGUE_PARTS,
    CATEGORIES,
    DOSE_STATUSES,
)


class VersionSchema(Schema):
    code = fields.String()
    effective_from = fields.Date(metadata={"description": "in force from this day until the "
                                                          "next version's"})


class ItemSchema(Schema):
    code = fields.String(metadata={"description": "stable across versions"})
    version = fields.Function(lambda i: i.version.code)
    part = fields.String(metadata={"description": "0-6 or 7+"})
    category = fields.String()
    kind = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    min_age = fields.Integer()
    max_age = fields.Integer(allow_none=True, metadata={"description": "none: no upper bound"})
    categories = fields.Function(lambda i: list(i.category_list),
                                 metadata={"description": "the case categories it is for"})
    rule = fields.String(metadata={"description": "once, times_per_year, months_per_year, "
                                                  "weekly_for_weeks (docs/catalogue.md)"})
    amount = fields.Integer()
    cycle_months = fields.Integer(allow_none=True, metadata={
        "description": "replacement or re-assessment cycle"})


class DoseSchema(Schema):
    """One catalogue item of one case against what was delivered (ItemDose)."""
    case_code = fields.Function(lambda d: d.case.code)
    person_code = fields.Function(lambda d: d.case.person.code)
    person_name = fields.Function(lambda d: mask_name(d.case.person.name),
                                  metadata={"description": "masked: the surname only"})
    category = fields.Function(lambda d: d.case.category)
    item_code = fields.Function(lambda d: d.item.code)
    item_name_zh = fields.Function(lambda d: d.item.name_zh)
    item_name_en = fields.Function(lambda d: d.item.name_en)
    rule = fields.Function(lambda d: d.item.rule)
    amount = fields.Function(lambda d: d.item.amount)
    status = fields.Function(lambda d: d.dose.status,
                             metadata={"description": "met, due, overdue, missed"})
    delivered = fields.Function(lambda d: d.dose.delivered)
    needed = fields.Function(lambda d: d.dose.needed)
    shortfall = fields.Function(lambda d: d.dose.shortfall)
    due_on = fields.Function(lambda d: d.dose.due_on.isoformat() if d.dose.due_on else None,
                             metadata={"description": "the next delivery is due by this day"})
    last_on = fields.Function(lambda d: d.dose.last_on.isoformat() if d.dose.last_on else None)
    replace_on = fields.Function(
        lambda d: d.dose.replace_on.isoformat() if d.dose.replace_on else None,
        metadata={"description": "next replacement or re-assessment"})


class ItemListArgs(QueryArgs):
    on = fields.Date(metadata={"description": "the version in force on this day (default "
                                              "today)"})
    version = Code(metadata={"description": "a version by its code instead"})
    part = fields.String(validate=validate.OneOf(CATALOGUE_PARTS))
    category = fields.String(validate=validate.OneOf(CATALOGUE_CATEGORIES))
    kind = fields.String(validate=validate.OneOf(CATALOGUE_KINDS))


class WorklistArgs(PageArgs):
    facility = Code(metadata={"description": "one of the caller's facilities (default: the "
                                             "first of them)"})
    status = fields.String(validate=validate.OneOf([s for s in DOSE_STATUSES if s != "met"]))
    category = fields.String(validate=validate.OneOf(CATEGORIES),
                             metadata={"description": "the case's category"})
    item = Code(metadata={"description": "an item code"})
