"""API schemas of persons and cases. Identifiers are masked on output (first 3 + last 4)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from rehab_net.clock import today
from rehab_net.masking import mask, mask_name
from rehab_net.messages import message
from rehab_net.people import messages as _messages  # noqa: F401 - registers the codes
from rehab_net.people.importer import PHONE
from rehab_net.people.rules import age_on, priority_class
from rehab_net.people.states import CASE_STATUSES
from rehab_net.schemas import Code, Input, ListArgs, StrictInt
from rehab_net.vocab import CATEGORIES, POVERTY_STATUSES, PRIORITY_CLASSES, SEXES

Phone = lambda **kw: fields.String(validate=validate.Regexp(  # noqa: E731
    PHONE, error=message("person.phone_format")), **kw)


class PersonSchema(Schema):
    code = fields.String()
    name = fields.String()
    resident_id = fields.Function(lambda p: mask(p.resident_id),
                                  metadata={"description": "masked: first 3 and last 4"})
    birth_date = fields.Date()
    age = fields.Function(lambda p: age_on(p.birth_date, today()))
    sex = fields.String()
    home_region_code = fields.Function(lambda p: p.home_region.code)
    guardian_name = fields.String(allow_none=True)
    guardian_phone = fields.Function(lambda p: mask(p.guardian_phone))
    poverty_status = fields.String()
    case_codes = fields.Function(lambda p: [c.code for c in p.cases])
    version = fields.Integer()


class PersonListItemSchema(PersonSchema):
    """A person in a list: names show the surname only (as on the pages); the full names are in
    ``GET /persons/{code}``, whose read is audited one by one."""
    name = fields.Function(lambda p: mask_name(p.name),
                           metadata={"description": "masked: surname only"})
    guardian_name = fields.Function(lambda p: mask_name(p.guardian_name), allow_none=True,
                                    metadata={"description": "masked: surname only"})


class RevealedSchema(Schema):
    code = fields.String()
    resident_id = fields.String()
    certificate_numbers = fields.Function(
        lambda p: {c.code: c.certificate_number for c in p.cases if c.certificate_number})


class CreatePersonSchema(Input):
    code = Code(required=True)
    name = fields.String(required=True, validate=validate.Length(1, 64))
    resident_id = fields.String(required=True, validate=validate.Length(18, 18))
    birth_date = fields.Date(metadata={"description": "derived from resident_id when left out"})
    sex = fields.String(validate=validate.OneOf(SEXES))
    home_region_code = fields.String(required=True)
    guardian_name = fields.String(load_default=None, allow_none=True,
                                  validate=validate.Length(1, 64))
    guardian_phone = Phone(load_default=None, allow_none=True)
    poverty_status = fields.String(load_default="none", validate=validate.OneOf(POVERTY_STATUSES))


class UpdatePersonSchema(Input):
    name = fields.String(validate=validate.Length(1, 64))
    resident_id = fields.String(validate=validate.Length(18, 18))
    birth_date = fields.Date()
    sex = fields.String(validate=validate.OneOf(SEXES))
    home_region_code = fields.String()
    guardian_name = fields.String(allow_none=True, validate=validate.Length(1, 64))
    guardian_phone = Phone(allow_none=True)
    poverty_status = fields.String(validate=validate.OneOf(POVERTY_STATUSES))


class PersonListArgs(ListArgs):
    region = fields.String(metadata={"description": "region code: persons living in or below it"})
    poverty_status = fields.String(validate=validate.OneOf(POVERTY_STATUSES))
    sex = fields.String(validate=validate.OneOf(SEXES))
    born_after = fields.Date()
    born_before = fields.Date()


class PersonLookupSchema(Input):
    """Exact lookup by resident ID number: sent in the body, never in a URL."""
    resident_id = fields.String(required=True, validate=validate.Length(18, 18))


class CaseSchema(Schema):
    code = fields.String()
    person_code = fields.Function(lambda c: c.person.code)
    category = fields.String()
    grade = fields.Integer()
    service_code = fields.Function(lambda c: c.service.code)
    registered_on = fields.Date()
    status = fields.String()
    certificate_number = fields.Function(lambda c: mask(c.certificate_number))
    priority = fields.Function(
        lambda c: priority_class(birth_date=c.person.birth_date, grade=c.grade,
                                 poverty_status=c.person.poverty_status, on=today()),
        metadata={"description": "derived today: child (under 7), severe (grade 1-2), poor, "
                                 "standard"})
    version = fields.Integer()


class CreateCaseSchema(Input):
    code = Code(required=True)
    person_code = fields.String(required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    grade = StrictInt(required=True, validate=validate.Range(1, 4))
    service_code = fields.String(required=True)
    registered_on = fields.Date(metadata={"description": "defaults to today"})
    certificate_number = fields.String(load_default=None, allow_none=True,
                                       validate=validate.Length(20, 20))


class UpdateCaseSchema(Input):
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    grade = StrictInt(validate=validate.Range(1, 4))
    service_code = fields.String()
    registered_on = fields.Date()
    status = fields.String(validate=validate.OneOf(CASE_STATUSES))
    certificate_number = fields.String(allow_none=True, validate=validate.Length(20, 20))


class CaseListArgs(ListArgs):
    status = fields.String(validate=validate.OneOf(CASE_STATUSES))
    open = fields.Boolean(metadata={"description": "only open cases (registered to in service)"})
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    grade = StrictInt(validate=validate.Range(1, 4))
    priority = fields.String(validate=validate.OneOf(PRIORITY_CLASSES))
    service = fields.String()
    region = fields.String()
    person = fields.String()
