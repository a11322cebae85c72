"""The network's JSON API: thin views that parse, call an operation, commit once and dump."""
from __future__ import annotations

from flask.views import MethodView

from rehab_net import access
from rehab_net.api import Blueprint
from rehab_net.clock import today
from rehab_net.db import get_session
from rehab_net.listing import apply_sort, page_of, query_ref, query_refs
from rehab_net.network import operations as ops
from rehab_net.network import schemas as s
from rehab_net.network.models import Facility, Region, Service

blp = Blueprint("network", __name__, url_prefix="/api/v1", description="The rehab network")

# endpoint -> permission, or {method: permission} (rehab_net/access.py; the guard refuses
# an endpoint not declared). Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "network.Regions": {"GET": "network.read", "POST": "network.write"},
    "network.RegionItem": {"GET": "network.read", "PATCH": "network.write"},
    "network.Facilities": {"GET": "network.read", "POST": "network.write"},
    "network.FacilityItem": {"GET": "network.read", "PATCH": "network.write"},
    "network.FacilityCapacities": {"GET": "network.read", "POST": "network.write"},
    "network.Services": {"GET": "network.read", "POST": "network.write"},
    "network.ServiceItem": {"GET": "network.read", "PATCH": "network.write"},
}


# --- regions ------------------------------------------------------------------------------------
def _create(create, data: dict, region_id: int | None = None):
    """Add a row the caller may write (see _may_write) and flush, so the answer has its id."""
    session = get_session()
    ops.may_write(session, region_id)
    row = create(session, data)
    session.flush()
    return row


def _change_shared(row, schema, update, data: dict):
    """Change a region or a service (shared by the whole network: see _may_write)."""
    ops.may_write(get_session())
    return blp.update_checked(row, schema, update, data)


@blp.route("/regions")
class Regions(MethodView):
    @blp.arguments(s.RegionListArgs, location="query")
    @blp.response(200, s.RegionSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List regions (filter by level, parent, name)."""
        stmt = ops.list_regions(level=args.get("level"), q=args.get("q"),
                                **query_refs(get_session(), args, parent=ops.get_region))
        stmt = apply_sort(stmt, args.get("sort"), {
            "code": Region.code, "name_zh": Region.name_zh, "name_en": Region.name_en,
            "level": Region.level}, (Region.code,))
        return page_of(get_session(), stmt, pagination_parameters)

    @blp.arguments(s.CreateRegionSchema)
    @blp.response(201, s.RegionSchema)
    def post(self, data):
        """Add a region."""
        return _create(ops.create_region, data)


@blp.route("/regions/<code>")
class RegionItem(MethodView):
    @blp.etag
    @blp.response(200, s.RegionSchema)
    def get(self, code):
        """One region."""
        return ops.get_region(get_session(), code)

    @blp.etag
    @blp.arguments(s.UpdateRegionSchema)
    @blp.response(200, s.RegionSchema)
    def patch(self, data, code):
        """Change a region (If-Match required)."""
        return _change_shared(ops.get_region(get_session(), code), s.RegionSchema,
                              ops.update_region, data)


# --- facilities ---------------------------------------------------------------------------------
FACILITY_SORTS = {"code": Facility.code, "name_zh": Facility.name_zh,
                  "name_en": Facility.name_en, "tier": Facility.tier, "status": Facility.status}


@blp.route("/facilities")
class Facilities(MethodView):
    @blp.arguments(s.FacilityListArgs, location="query")
    @blp.response(200, s.FacilitySchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List facilities (filter by tier, region subtree, status, designation, service)."""
        session = get_session()
        stmt = ops.list_facilities(session, tier=args.get("tier"), status=args.get("status"),
                                   designated=args.get("designated"), q=args.get("q"),
                                   **query_refs(session, args, region=ops.get_region,
                                                service=ops.get_service))
        stmt = apply_sort(stmt, args.get("sort"), FACILITY_SORTS, (Facility.code,))
        return page_of(session, stmt, pagination_parameters)

    @blp.arguments(s.CreateFacilitySchema)
    @blp.response(201, s.FacilitySchema)
    def post(self, data):
        """Add a facility."""
        session = get_session()
        region = ops._reference(session, ops.get_region, data["region_code"], "region_code")
        return _create(ops.create_facility, data, region.id)


@blp.route("/facilities/<code>")
class FacilityItem(MethodView):
    @blp.etag
    @blp.response(200, s.FacilitySchema)
    def get(self, code):
        """One facility."""
        return ops.get_facility(get_session(), code)

    @blp.etag
    @blp.arguments(s.UpdateFacilitySchema)
    @blp.response(200, s.FacilitySchema)
    def patch(self, data, code):
        """Change a facility (If-Match required)."""
        session = get_session()
        facility = ops.get_facility(session, code)
        ops.may_write(session, facility.region_id)
        if "region_code" in data:
            moved_to = ops._reference(session, ops.get_region, data["region_code"], "region_code")
            ops.may_write(session, moved_to.id)
        return blp.update_checked(facility, s.FacilitySchema, ops.update_facility, data)


@blp.route("/facilities/<code>/capacities")
class FacilityCapacities(MethodView):
    @blp.arguments(s.CapacityArgs, location="query")
    @blp.response(200, s.CapacitySchema(many=True))
    def get(self, args, code):
        """A facility's capacities: the whole dated history, or those in force on a date."""
        session = get_session()
        facility = ops.get_facility(session, code)
        if "on" in args:
            rows = ops.capacities_in_force(session, facility, args["on"])
        else:
            service = (query_ref(get_session(), ops.get_service, args["service"], "service")
                       if "service" in args else None)
            rows = ops.capacity_history(session, facility, service)
        if "service" in args:
            rows = [c for c in rows if c.service.code == args["service"]]
        return ops.with_schedules(session, facility, rows, args.get("on") or today())

    @blp.arguments(s.CreateCapacitySchema)
    @blp.response(201, s.CapacitySchema)
    def post(self, data, code):
        """Set a capacity from a date on (a new dated row; history is kept)."""
        session = get_session()
        facility = ops.get_facility(session, code)
        ops.may_write(session, facility.region_id)
        capacity = ops.set_capacity(session, facility, data)
        session.flush()
        return capacity


# --- services -----------------------------------------------------------------------------------
@blp.route("/services")
class Services(MethodView):
    @blp.arguments(s.ServiceListArgs, location="query")
    @blp.response(200, s.ServiceSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """The service catalogue (category x kind)."""
        from sqlalchemy import select

        stmt = select(Service)
        if "category" in args:
            stmt = stmt.where(Service.category == args["category"])
        if "kind" in args:
            stmt = stmt.where(Service.kind == args["kind"])
        if "tier" in args:
            stmt = stmt.where(getattr(Service, f"at_{args['tier']}").is_(True))
        stmt = apply_sort(stmt, args.get("sort"), {"code": Service.code,
                          "category": Service.category, "kind": Service.kind}, (Service.code,))
        return page_of(get_session(), stmt, pagination_parameters)

    @blp.arguments(s.CreateServiceSchema)
    @blp.response(201, s.ServiceSchema)
    def post(self, data):
        """Add a service; its code is <category>_<kind>."""
        return _create(ops.create_service, data)


@blp.route("/services/<code>")
class ServiceItem(MethodView):
    @blp.etag
    @blp.response(200, s.ServiceSchema)
    def get(self, code):
        """One service."""
        return ops.get_service(get_session(), code)

    @blp.etag
    @blp.arguments(s.UpdateServiceSchema)
    @blp.response(200, s.ServiceSchema)
    def patch(self, data, code):
        """Change a service (If-Match required)."""
        return _change_shared(ops.get_service(get_session(), code), s.ServiceSchema,
                              ops.update_service, data)

