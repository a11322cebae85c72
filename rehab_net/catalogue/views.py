"""The catalogue over the JSON API: its versions and items, a case's items against what was
delivered, and a facility's worklist (paged; names masked; reads audited)."""
from __future__ import annotations

from flask.views import MethodView

from rehab_net import access
from rehab_net.api import Blueprint
from rehab_net.auth import audit
from rehab_net.auth.guard import current_principal, scope
from rehab_net.catalogue import operations as ops
from rehab_net.catalogue import schemas as s
from rehab_net.clock import today
from rehab_net.db import get_session
from rehab_net.errors import NotFound
from rehab_net.people import operations as people

blp = Blueprint("catalogue", __name__, url_prefix="/api/v1",
                description="The national basic rehabilitation service catalogue and what each "
                            "case received against it")

# endpoint -> permission (rehab_net/access.py). The catalogue is public policy (network.read);
# a case's doses and the worklist are case records (case.read, audited).
PERMISSIONS: dict[str, access.Rule] = {
    "catalogue.Versions": "network.read",
    "catalogue.Items": "network.read",
    "catalogue.CaseDoses": "case.read",
    "catalogue.Worklist": "case.read",
}


@blp.route("/catalogue/versions")
class Versions(MethodView):
    @blp.response(200, s.VersionSchema(many=True))
    def get(self):
        """The catalogue's versions, newest first (each in force until the next one starts)."""
        return ops.versions(get_session())


@blp.route("/catalogue/items")
class Items(MethodView):
    @blp.arguments(s.ItemListArgs, location="query")
    @blp.response(200, s.ItemSchema(many=True))
    def get(self, args):
        """The items of the version in force on a day (or of a version named by its code)."""
        session = get_session()
        if "version" in args:
            version = ops.get_version(session, args["version"])
        else:
            on = args.get("on") or today()
            version = ops.version_on(session, on)
            if version is None:
                raise NotFound("catalogue.no_version", on=on.isoformat())
        return ops.items_of(session, version, part=args.get("part"),
                            category=args.get("category"), kind=args.get("kind"))


@blp.route("/cases/<code>/catalogue")
class CaseDoses(MethodView):
    @blp.response(200, s.DoseSchema(many=True))
    def get(self, code):
        """The catalogue items that apply to a case today, each with what was delivered, the
        shortfall and the due dates (the read is audited)."""
        session = get_session()
        case = people.get_case(session, code, scope=scope("case.read"))
        audit.record_read(session, "case", case.code)
        return ops.doses(session, [case], today())


@blp.route("/catalogue/worklist")
class Worklist(MethodView):
    @blp.arguments(s.WorklistArgs, location="query")
    @blp.response(200, s.DoseSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """A facility's worklist: the catalogue items not met of the open cases it took on or
        served, late first; filter by status, case category or item."""
        session = get_session()
        facility = ops.worklist_facility(session, current_principal(), args.get("facility"))
        rows = ops.worklist(session, facility.id, today(), scope=scope("case.read"),
                            status=args.get("status"), category=args.get("category"),
                            item=args.get("item"))
        pagination_parameters.item_count = len(rows)
        start = (pagination_parameters.page - 1) * pagination_parameters.page_size
        page = rows[start:start + pagination_parameters.page_size]
        audit.record_list(session, "case", sorted({d.case.code for d in page}),
                          {"facility": facility.code, **{k: str(v) for k, v in args.items()
                                                         if k != "facility"}})
        return page
