"""The rules of the network: lookups other modules use, creation and updates of regions,
facilities, services and capacities, and the summary. Operations flush; the caller commits."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from rehab_net import access
from rehab_net.errors import Conflict, Forbidden, NotFound, field_error
from rehab_net.network import messages as _messages  # noqa: F401 - registers the codes
from rehab_net.network.models import Capacity, Facility, Region, Service, capacities_on
from rehab_net.vocab import REGION_KINDS, REGION_LEVELS, TIERS


# --- lookups other modules use ------------------------------------------------------------------
def region_codes(session: Session, level: str | None = None) -> set[str]:
    stmt = select(Region.code)
    if level:
        stmt = stmt.where(Region.level == level)
    return set(session.scalars(stmt))


def region_ids(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Region.code, Region.id)).all())


def service_ids(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Service.code, Service.id)).all())


def service_categories(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Service.code, Service.category)).all())


def get_region(session: Session, code: str) -> Region:
    region = session.scalar(select(Region).where(Region.code == code))
    if region is None:
        raise NotFound("region.not_found", code=code)
    return region


def get_facility(session: Session, code: str) -> Facility:
    facility = session.scalar(select(Facility).where(Facility.code == code))
    if facility is None:
        raise NotFound("facility.not_found", code=code)
    return facility


def get_service(session: Session, code: str) -> Service:
    service = session.scalar(select(Service).where(Service.code == code))
    if service is None:
        raise NotFound("service.not_found", code=code)
    return service


def subtree_ids(region_id: int | Iterable[int]):
    """A select of the ids of a region (or of several) and all regions below it (one recursive
    CTE, both dialects). The CTE is anonymous: one statement may hold several (a scope and a
    region filter, or a scope used twice), and named ones would clash."""
    seeds = [region_id] if isinstance(region_id, int) else sorted(region_id)
    tree = select(Region.id).where(Region.id.in_(seeds)).cte(recursive=True)
    child = aliased(Region)
    tree = tree.union_all(select(child.id).where(child.parent_id == tree.c.id))
    return select(tree.c.id)



DISTRICT_LEVELS = ("district", "city")


def district_of(region: Region) -> Region:
    """The district (banner, county-level city) a region lies in; the city for the city."""
    while region.level not in DISTRICT_LEVELS and region.parent is not None:
        region = region.parent
    return region


def district_ids(session: Session) -> dict[int, int | None]:
    """Every region's id -> the id of its district (as district_of), from one query of the region
    tree walked in memory (for bulk work)."""
    rows = session.execute(select(Region.id, Region.parent_id, Region.level)).all()
    parent = {r.id: r.parent_id for r in rows}
    level = {r.id: r.level for r in rows}
    out: dict[int, int | None] = {}
    for region_id in parent:
        current = region_id
        while current is not None and level[current] not in DISTRICT_LEVELS:
            current = parent[current]
        out[region_id] = current
    return out


def district_codes(session: Session) -> dict[int, str | None]:
    """Every region's id -> the code of its district, from two queries (for bulk work)."""
    code = dict(session.execute(select(Region.id, Region.code)).all())
    return {region_id: code.get(district) for region_id, district in
            district_ids(session).items()}


def _reference(session, getter, code: str, field: str):
    """Resolve a code given in a request body; a missing one is the client's error (422)."""
    try:
        return getter(session, code)
    except NotFound:
        raise field_error(field, "network.code_unknown", code=code) from None


def text_match(model, q: str):
    """The `q` search of regions and facilities: a part of the Chinese or (any case) English name,
    or the start of the code. `%` and `_` in `q` are letters, not wildcards (autoescape)."""
    return or_(model.name_zh.contains(q, autoescape=True),
               model.name_en.icontains(q, autoescape=True),
               model.code.startswith(q, autoescape=True))


# --- regions ------------------------------------------------------------------------------------
def list_regions(*, level=None, parent=None, q=None):
    stmt = select(Region)
    if level:
        stmt = stmt.where(Region.level == level)
    if parent is not None:
        stmt = stmt.where(Region.parent_id == parent.id)
    if q:
        stmt = stmt.where(text_match(Region, q))
    return stmt


def _refuse_taken(session: Session, model, code: str, what: str) -> None:
    """A code names one region, facility or service: a second is a 409 "<what>.exists"."""
    if session.scalar(select(model.id).where(model.code == code)):
        raise Conflict(f"{what}.exists", code=code)


def _added(session: Session, row):
    session.add(row)
    session.flush()
    return row


def create_region(session: Session, data: dict) -> Region:
    _refuse_taken(session, Region, data["code"], "region")
    parent = None
    if data.get("parent_code"):
        parent = _reference(session, get_region, data["parent_code"], "parent_code")
    _check_region_shape(data["level"], data["kind"], parent)
    return _added(session, Region(**{k: v for k, v in data.items() if k != "parent_code"},
                                  parent=parent))


def update_region(session: Session, region: Region, data: dict) -> Region:
    for key, value in data.items():
        setattr(region, key, value)
    _check_region_shape(region.level, region.kind, region.parent)
    session.flush()
    return region


def _check_region_shape(level: str, kind: str, parent: Region | None) -> None:
    if kind not in REGION_KINDS[level]:
        raise field_error("kind", "region.kind_unknown", kinds=", ".join(REGION_KINDS[level]),
                          level=level)
    if level == "city":
        if parent is not None:
            raise field_error("parent_code", "region.city_parent")
        return
    want = REGION_LEVELS[REGION_LEVELS.index(level) - 1]
    if parent is None or parent.level != want:
        raise field_error("parent_code", "region.parent_level", want=want, level=level)


# --- facilities ---------------------------------------------------------------------------------
def list_facilities(session: Session, *, tier=None, region=None, status=None, designated=None,
                    service=None, q=None):
    stmt = select(Facility)
    if tier:
        stmt = stmt.where(Facility.tier == tier)
    if status:
        stmt = stmt.where(Facility.status == status)
    if designated is not None:
        stmt = stmt.where(Facility.designated == designated)
    if region is not None:
        stmt = stmt.where(Facility.region_id.in_(subtree_ids(region.id)))
    if service is not None:
        offering = select(Capacity.facility_id).where(Capacity.service_id == service.id)
        stmt = stmt.where(Facility.id.in_(offering))
    if q:
        stmt = stmt.where(text_match(Facility, q))
    return stmt


def create_facility(session: Session, data: dict) -> Facility:
    _refuse_taken(session, Facility, data["code"], "facility")
    region = _reference(session, get_region, data["region_code"], "region_code")
    return _added(session, Facility(**{k: v for k, v in data.items() if k != "region_code"},
                                    region=region))


def update_facility(session: Session, facility: Facility, data: dict) -> Facility:
    data = dict(data)
    if "region_code" in data:
        facility.region = _reference(session, get_region, data.pop("region_code"), "region_code")
    if "tier" in data and data["tier"] != facility.tier:
        # A capacity exists only for services the tier may deliver.
        offered = session.scalars(select(Service).join(Capacity).where(
            Capacity.facility_id == facility.id).distinct())
        refused = sorted(s.code for s in offered if data["tier"] not in s.tiers)
        if refused:
            raise field_error("tier", "facility.tier_capacity", tier=data["tier"],
                              services=", ".join(refused))
    for key, value in data.items():
        setattr(facility, key, value)
    session.flush()
    return facility


# --- services -----------------------------------------------------------------------------------
def create_service(session: Session, data: dict) -> Service:
    code = f"{data['category']}_{data['kind']}"
    _refuse_taken(session, Service, code, "service")
    return _added(session, Service(code=code, **data))


def update_service(session: Session, service: Service, data: dict) -> Service:
    if "tiers" in data:
        used = session.execute(select(Facility.tier).join(Capacity).where(
            Capacity.service_id == service.id).distinct()).scalars()
        dropped = sorted(set(used) - set(data["tiers"]))
        if dropped:
            raise field_error("tiers", "service.tiers_in_use", tiers=", ".join(dropped))
    for key, value in data.items():
        setattr(service, key, value)
    session.flush()
    return service


# --- capacities ---------------------------------------------------------------------------------
def capacity_history(session: Session, facility: Facility, service: Service | None = None):
    stmt = select(Capacity).where(Capacity.facility_id == facility.id)
    if service is not None:
        stmt = stmt.where(Capacity.service_id == service.id)
    return list(session.scalars(stmt.join(Service).order_by(Service.code,
                                                             Capacity.effective_from)))


def capacities_in_force(session: Session, facility: Facility, on: date) -> list[Capacity]:
    stmt = capacities_on(on).where(Capacity.facility_id == facility.id)
    return list(session.scalars(stmt.join(Service).order_by(Service.code)))


def may_write(session: Session, region_id: int | None = None) -> None:
    """Admins change what lies in their region; regions and services (shared by the whole
    network) need an admin of the whole network. The network is readable by all, so a refusal
    is 403, not 404. The one check of the API and the pages."""
    where = access.scope("network.write")
    if where.everywhere or (region_id is not None and where.covers(session, region_id)):
        return
    raise Forbidden("network.outside_region" if region_id is not None
                    else "network.whole_network_only")


def set_capacity(session: Session, facility: Facility, data: dict) -> Capacity:
    """A capacity from a date on: a new row, so the history stays. The same date twice is a 409."""
    service = _reference(session, get_service, data["service_code"], "service_code")
    if facility.tier not in service.tiers:
        raise field_error("service_code", "capacity.tier", service=service.code,
                          tier=facility.tier, tiers=";".join(service.tiers))
    exists = session.scalar(select(Capacity.id).where(
        Capacity.facility_id == facility.id, Capacity.service_id == service.id,
        Capacity.effective_from == data["effective_from"]))
    if exists:
        raise Conflict("capacity.exists", service=service.code,
                       date=data["effective_from"].isoformat())
    capacity = Capacity(facility=facility, service=service, effective_from=data["effective_from"],
                        weekly_intake=data["weekly_intake"],
                        concurrent_places=data["concurrent_places"])
    session.add(capacity)
    session.flush()
    return capacity


# --- what the schedules offer ------------------------------------------------------------------
# function(session, facility id, day) -> {service id: places the facility's schedules offer in
# that day's week}. Booking registers it at app init (network sits below booking): the capacity
# views show it beside the capacity row, because where schedules exist the plan uses them.
_SCHEDULE_SOURCE: dict[str, Callable[[Session, int, date], dict[int, int]]] = {}


def set_schedule_source(source: Callable[[Session, int, date], dict[int, int]]) -> None:
    _SCHEDULE_SOURCE["schedules"] = source


def scheduled_week_places(session: Session, facility: Facility, on: date) -> dict[int, int]:
    """service id -> places the facility's schedule rules offer in the week of ``on`` (empty
    without schedules, or without booking in the app)."""
    source = _SCHEDULE_SOURCE.get("schedules")
    return source(session, facility.id, on) if source else {}


def with_schedules(session: Session, facility: Facility, rows: list, on: date) -> list:
    """Capacity rows with ``scheduled_weekly_places`` (places the schedules offer in the week
    of ``on``, None where the service has no rule) and ``agrees_with_schedules`` (None where
    there is nothing to compare, or the row is not in force on ``on``)."""
    scheduled = scheduled_week_places(session, facility, on)
    in_force = {c.id for c in capacities_in_force(session, facility, on)}
    for c in rows:
        places = scheduled.get(c.service_id) if c.id in in_force else None
        c.scheduled_weekly_places = places
        c.agrees_with_schedules = None if places is None else places == c.weekly_intake
    return rows


# --- summary ------------------------------------------------------------------------------------
def summary(session: Session) -> dict:
    """The network's size: facilities per tier per district, and region counts per level."""
    district = aliased(Region)
    levels = dict(session.execute(select(Region.level, func.count()).group_by(Region.level)).all())
    districts = session.scalars(select(district).where(district.level == "district")
                                .order_by(district.code)).all()
    rows = []
    for d in districts:
        counts = dict(session.execute(
            select(Facility.tier, func.count()).where(Facility.region_id.in_(subtree_ids(d.id)))
            .group_by(Facility.tier)).all())
        rows.append({"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en,
                     **{t: counts.get(t, 0) for t in TIERS}})
    by_tier = select(Facility.tier, func.count()).group_by(Facility.tier)
    totals = dict(session.execute(by_tier).all())
    return {"regions": {lv: levels.get(lv, 0) for lv in REGION_LEVELS},
            "facilities": {t: totals.get(t, 0) for t in TIERS},
            "services": session.scalar(select(func.count()).select_from(Service)),
            "districts": rows}
