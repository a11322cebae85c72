"""Persons and cases over the JSON API."""
from __future__ import annotations

from flask.views import MethodView

from rehab_net import access
from rehab_net.api import Blueprint
from rehab_net.auth import audit
from rehab_net.auth.guard import scope
from rehab_net.auth.schemas import RevealSchema
from rehab_net.clock import today
from rehab_net.db import get_session
from rehab_net.errors import NotFound
from rehab_net.listing import apply_sort, page_of, query_refs
from rehab_net.network import operations as network
from rehab_net.people import operations as ops
from rehab_net.people import schemas as s
from rehab_net.people.models import Case, Person

blp = Blueprint("people", __name__, url_prefix="/api/v1", description="Persons and cases")

# endpoint -> permission, or {method: permission} (rehab_net/access.py; the guard refuses
# an endpoint not declared). Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "people.Persons": {"GET": "person.read", "POST": "person.write"},
    "people.PersonLookup": "person.read",
    "people.PersonItem": {"GET": "person.read", "PATCH": "person.write"},
    "people.PersonReveal": "person.read",
    "people.Cases": {"GET": "case.read", "POST": "case.write"},
    "people.CaseItem": {"GET": "case.read", "PATCH": "case.write"},
}


def _filters(args: dict) -> dict:
    """The filters of a list request, as the audit log stores them (strings, no values of
    personal fields: none of the list filters is one)."""
    return {k: str(v) for k, v in args.items() if v not in (None, "")}


def _read(getter, what: str, code: str):
    """One person or case the caller may read (404 outside their area); the read is audited."""
    session = get_session()
    row = getter(session, code, scope=scope(f"{what}.read"))
    audit.record_read(session, what, row.code)
    return row


@blp.route("/persons")
class Persons(MethodView):
    @blp.arguments(s.PersonListArgs, location="query")
    @blp.response(200, s.PersonListItemSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List persons (identifiers masked, names surname only)."""
        session = get_session()
        stmt = ops.list_persons(session, poverty_status=args.get("poverty_status"),
                                sex=args.get("sex"), born_after=args.get("born_after"),
                                born_before=args.get("born_before"), scope=scope("person.read"),
                                **query_refs(session, args, region=network.get_region))
        stmt = apply_sort(stmt, args.get("sort"), {"code": Person.code,
                          "birth_date": Person.birth_date}, (Person.code,))
        persons = page_of(session, stmt, pagination_parameters)
        audit.record_list(session, "person", [p.code for p in persons], _filters(args))
        return persons

    @blp.arguments(s.CreatePersonSchema)
    @blp.response(201, s.PersonSchema)
    def post(self, data):
        """Register a person; birth date and sex are read from the resident ID number."""
        session = get_session()
        person = ops.create_person(session, data, scope=scope("person.write"))
        session.flush()
        return person


@blp.route("/persons/lookup")
class PersonLookup(MethodView):
    @blp.arguments(s.PersonLookupSchema)
    @blp.response(200, s.PersonSchema)
    def post(self, data):
        """Find a person by exact resident ID number (POST, so the number is never in a URL)."""
        session = get_session()
        person = session.scalar(ops.list_persons(session, resident_id=data["resident_id"],
                                                 scope=scope("person.read")))
        if person is None:
            raise NotFound("person.id_not_found")
        audit.record(session, "read", "person", person.code, detail={"via": "lookup"})
        session.flush()
        return person


@blp.route("/persons/<code>")
class PersonItem(MethodView):
    @blp.etag
    @blp.response(200, s.PersonSchema)
    def get(self, code):
        """One person (the read is audited)."""
        return _read(ops.get_person, "person", code)

    @blp.etag
    @blp.arguments(s.UpdatePersonSchema)
    @blp.response(200, s.PersonSchema)
    def patch(self, data, code):
        """Change a person (If-Match required)."""
        session = get_session()
        person = ops.get_person(session, code, scope=scope("person.write"))
        return blp.update_checked(person, s.PersonSchema, ops.update_person, data,
                                  scope=scope("person.write"))


@blp.route("/cases")
class Cases(MethodView):
    @blp.arguments(s.CaseListArgs, location="query")
    @blp.response(200, s.CaseSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List cases; sort=priority puts children 0-6 first, then severe, poor, standard."""
        session = get_session()
        on = today()
        # The person filter resolves within the reader's scope: a code of another area is as
        # unknown as a code that does not exist (same 422), so codes cannot be probed.
        resolved = query_refs(session, args, service=network.get_service,
                              region=network.get_region, person=lambda se, c: ops.get_person(
                                  se, c, scope=scope("case.read")))
        stmt = ops.list_cases(session, on=on, status=args.get("status"),
                              open_only=args.get("open", False), category=args.get("category"),
                              grade=args.get("grade"), priority=args.get("priority"),
                              scope=scope("case.read"), **resolved)
        stmt = apply_sort(stmt, args.get("sort"), {
            "code": Case.code, "registered_on": Case.registered_on, "grade": Case.grade,
            "status": Case.status, "priority": ops.priority_rank(on)}, (Case.code,))
        cases = page_of(session, stmt, pagination_parameters)
        audit.record_list(session, "case", [c.code for c in cases], _filters(args))
        return cases

    @blp.arguments(s.CreateCaseSchema)
    @blp.response(201, s.CaseSchema)
    def post(self, data):
        """Register a case for a person."""
        session = get_session()
        case = ops.create_case(session, data, today=today(), scope=scope("case.write"))
        session.flush()
        return case


@blp.route("/cases/<code>")
class CaseItem(MethodView):
    @blp.etag
    @blp.response(200, s.CaseSchema)
    def get(self, code):
        """One case, with its derived priority class (the read is audited)."""
        return _read(ops.get_case, "case", code)

    @blp.etag
    @blp.arguments(s.UpdateCaseSchema)
    @blp.response(200, s.CaseSchema)
    def patch(self, data, code):
        """Change a case: grade, service, status along the allowed transitions (If-Match)."""
        session = get_session()
        case = ops.get_case(session, code, scope=scope("case.write"))
        return blp.update_checked(case, s.CaseSchema, ops.update_case, data, today=today())


@blp.route("/persons/<code>/reveal")
class PersonReveal(MethodView):
    @blp.arguments(RevealSchema)
    @blp.response(200, s.RevealedSchema)
    def post(self, data, code):
        """The full resident ID and certificate numbers of a person; the reason is required and
        recorded in the audit log with who asked and when."""
        session = get_session()
        person = ops.get_person(session, code, scope=scope("person.read"))
        audit.record(session, "reveal", "person", person.code, reason=data["reason"])
        session.flush()
        return person
