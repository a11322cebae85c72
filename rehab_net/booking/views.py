"""Booking over the JSON API: practitioners, schedules, slots, availability, appointments (with
an Idempotency-Key), the waitlist, the holiday calendar. Thin: parse, call an operation, commit
once, dump. Statuses are FHIR's (Slot, Appointment)."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, g
from flask.views import MethodView
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from rehab_net import workdays
from rehab_net.access import Rule
from rehab_net.api import Blueprint
from rehab_net.auth import audit
from rehab_net.booking import access, generation, places, schedules
from rehab_net.booking import operations as ops
from rehab_net.booking import schemas as s
from rehab_net.booking import waitlist as wl
from rehab_net.booking.availability import Near, search
from rehab_net.booking.constraints import conflict_for
from rehab_net.booking.models import (
    Appointment,
    Practitioner,
    PractitionerFacility,
    ScheduleException,
    ScheduleRule,
    Slot,
    appointment_code,
    appointment_id_of,
)
from rehab_net.booking.states import API_ACTIONS, route_pattern
from rehab_net.clock import local_days, today
from rehab_net.db import get_session, transactional, utcnow
from rehab_net.errors import Conflict, NotFound, field_error
from rehab_net.listing import apply_sort, get_or_404, page_of, query_ref
from rehab_net.network import operations as network
from rehab_net.openapi import TEXT_BODY
from rehab_net.people.rules import priority_class
from rehab_net.referrals.operations.visibility import get_referral

blp = Blueprint("booking", __name__, url_prefix="/api/v1",
                description="Slot booking: practitioners at several sites, schedules, slots, "
                            "appointments that never collide, and the waitlist")

# endpoint -> permission, or {method: permission} (rehab_net/access.py; the guard refuses
# an endpoint not declared). Declared by init_app.
PERMISSIONS: dict[str, Rule] = {
    "booking.Practitioners": {"GET": "booking.read", "POST": "booking.write"},
    "booking.PractitionerItem": {"GET": "booking.read", "PATCH": "booking.write"},
    "booking.PractitionerSites": "booking.write",
    "booking.PractitionerCalendar": "booking.read",
    "booking.ScheduleRules": {"GET": "booking.read", "POST": "booking.write"},
    "booking.ScheduleRuleItem": {"GET": "booking.read", "PATCH": "booking.write"},
    "booking.ScheduleExceptions": {"GET": "booking.read", "POST": "booking.write"},
    "booking.ScheduleExceptionItem": {"GET": "booking.read", "DELETE": "booking.write"},
    "booking.Holidays": "booking.read",
    "booking.SlotGeneration": "booking.write",
    "booking.Slots": "booking.read",
    "booking.SlotItem": "booking.read",
    "booking.Availability": "booking.read",
    "booking.Appointments": {"GET": "booking.read", "POST": "booking.write"},
    "booking.AppointmentItem": "booking.read",
    "booking.AppointmentAction": "booking.write",
    "booking.Waitlist": {"GET": "booking.read", "POST": "booking.write"},
    "booking.WaitlistItem": "booking.read",
    "booking.WaitlistRemove": "booking.write",
}



def _conflict(err: Exception) -> Conflict:
    """Commit-time and lock-time refusals of the database as 409 (never a 500): the rule the
    database enforced, or another transaction that got in the way (PostgreSQL)."""
    if isinstance(err, IntegrityError):
        return conflict_for(err)
    return Conflict("Another booking got in the way at the same moment; try again.")


# A booking view's transaction: committed when the view returns (before its response is dumped),
# its database conflicts as booking's 409s.
atomic = transactional(conflict=_conflict)


# --- helpers ------------------------------------------------------------------------------------
def local_range(start, end, default_days: int):
    first = start or today()
    last = end or first + timedelta(days=default_days - 1)
    if last < first:
        raise field_error("to", "booking.to_before_from", location="query")
    return local_days(first, last)


def decorate_slots(session, slots, now, km=None, free=None):
    """Attach the FHIR status and free places (and road km) the schemas show."""
    taken = places.taken_places(session, [sl.id for sl in slots], now)
    for slot in slots:
        n, held = taken.get(slot.id, (0, 0))
        slot.fhir_status = ops.fhir_slot_status(slot, n, held)
        slot.free_places = max(0, slot.places - n) if slot.status == "open" else 0
        slot.road_km = (km or {}).get(slot.facility_id)
    return slots


def decorate_entries(session, entries):
    on = today()
    offers = dict(session.execute(select(Appointment.waitlist_entry_id, Appointment.id).where(
        Appointment.waitlist_entry_id.in_([e.id for e in entries]),
        Appointment.status == "proposed")).all()) if entries else {}
    for entry in entries:
        person = entry.case.person
        entry.priority = priority_class(birth_date=person.birth_date, grade=entry.case.grade,
                                        poverty_status=person.poverty_status, on=on)
        entry.offer_code = appointment_code(offers[entry.id]) if entry.id in offers else None
    return entries


def _referral(session, code: str, field: str = "referral_code"):
    try:
        return ops.get_referral(session, code, viewer=g.user)
    except NotFound:
        raise field_error(field, "booking.code_unknown", code=code) from None


def _appointment(session, code: str) -> Appointment:
    return ops.get_appointment(session, appointment_id_of(code), viewer=g.user)


# --- practitioners ------------------------------------------------------------------------------
@blp.route("/practitioners")
class Practitioners(MethodView):
    @blp.arguments(s.PractitionerListArgs, location="query")
    @blp.response(200, s.PractitionerSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Practitioners and the facilities where they practise."""
        session = get_session()
        stmt = select(Practitioner).options(selectinload(Practitioner.sites))
        if args.get("facility"):
            facility = query_ref(session, network.get_facility, args["facility"], "facility")
            stmt = stmt.where(Practitioner.sites.any(PractitionerFacility.facility_id
                                                     == facility.id))
        stmt = apply_sort(stmt, args.get("sort"), {"code": Practitioner.code,
                                                   "name": Practitioner.name},
                          (Practitioner.code,))
        return page_of(session, stmt, pagination_parameters)

    @blp.arguments(s.CreatePractitionerSchema)
    @blp.response(201, s.PractitionerSchema)
    @atomic
    def post(self, data):
        """A practitioner with the facilities where they practise (yours)."""
        session = get_session()
        practitioner = schedules.create_practitioner(session, data, principal=g.user,
                                                     today=today())
        return practitioner


@blp.route("/practitioners/<code>")
class PractitionerItem(MethodView):
    @blp.response(200, s.PractitionerSchema)
    def get(self, code):
        return schedules.get_practitioner(get_session(), code)

    @blp.arguments(s.UpdatePractitionerSchema)
    @blp.response(200, s.PractitionerSchema)
    @atomic
    def patch(self, data, code):
        """Rename, or retire (active: false): every rule of theirs ends; booked slots stay."""
        session = get_session()
        practitioner = schedules.update_practitioner(
            session, schedules.get_practitioner(session, code), data, principal=g.user,
            today=today(), now=utcnow())
        return practitioner


@blp.route("/practitioners/<code>/facilities")
class PractitionerSites(MethodView):
    @blp.arguments(s.AddSiteSchema)
    @blp.response(201, s.PractitionerSchema)
    @atomic
    def post(self, data, code):
        """Record one more facility where the practitioner practises."""
        session = get_session()
        practitioner = schedules.get_practitioner(session, code)
        schedules.add_site(session, practitioner, data["facility_code"], principal=g.user,
                           today=today())
        session.refresh(practitioner)
        return practitioner


# --- schedules ----------------------------------------------------------------------------------
def _of_place(session, stmt, model, args):
    """Narrow a list of rules or exceptions to the `facility` and `practitioner` asked for."""
    if args.get("facility"):
        facility = query_ref(session, network.get_facility, args["facility"], "facility")
        stmt = stmt.where(model.facility_id == facility.id)
    if args.get("practitioner"):
        practitioner = query_ref(session, schedules.get_practitioner, args["practitioner"],
                                 "practitioner")
        stmt = stmt.where(model.practitioner_id == practitioner.id)
    return stmt


@blp.route("/schedule-rules")
class ScheduleRules(MethodView):
    @blp.arguments(s.RuleListArgs, location="query")
    @blp.response(200, s.RuleSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Weekly rules and one-off sessions."""
        session = get_session()
        stmt = _of_place(session, select(ScheduleRule), ScheduleRule, args)
        if "active" in args:
            stmt = stmt.where(ScheduleRule.active == args["active"])
        stmt = apply_sort(stmt, args.get("sort"), {"id": ScheduleRule.id,
                                                   "valid_from": ScheduleRule.valid_from},
                          (ScheduleRule.id,))
        return page_of(session, stmt, pagination_parameters)

    @blp.arguments(s.CreateRuleSchema)
    @blp.response(201, s.RuleResultSchema)
    @atomic
    def post(self, data):
        """A weekly rule (weekdays, hours, slot length, places) or a one-off session (kind
        session, date `on`: an outreach day); its slots are generated at once. Weekly rules skip
        public holidays; one-off sessions do not."""
        session = get_session()
        rule, counts = schedules.create_rule(session, data, principal=g.user, today=today(),
                                             now=utcnow())
        rule.slots = counts
        return rule


@blp.route("/schedule-rules/<int:rule_id>")
class ScheduleRuleItem(MethodView):
    @blp.response(200, s.RuleSchema)
    def get(self, rule_id):
        return schedules.get_rule(get_session(), rule_id, g.user)

    @blp.arguments(s.UpdateRuleSchema)
    @blp.response(200, s.RuleResultSchema)
    @atomic
    def patch(self, data, rule_id):
        """Change a rule, or retire it (active: false). Its future free slots are regenerated;
        slots with bookings are never touched."""
        session = get_session()
        rule, counts = schedules.update_rule(
            session, schedules.get_rule(session, rule_id, g.user), data, principal=g.user,
            today=today(), now=utcnow())
        rule.slots = counts
        return rule


@blp.route("/schedule-exceptions")
class ScheduleExceptions(MethodView):
    @blp.arguments(s.ExceptionListArgs, location="query")
    @blp.response(200, s.ExceptionSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Leave of practitioners and closures of facilities."""
        session = get_session()
        stmt = _of_place(session, select(ScheduleException), ScheduleException, args)
        return page_of(session, stmt.order_by(ScheduleException.starts_at.desc(),
                                              ScheduleException.id), pagination_parameters)

    @blp.arguments(s.CreateExceptionSchema)
    @blp.response(201, s.ExceptionResultSchema)
    @atomic
    def post(self, data):
        """Leave (practitioner_code) or a closure (facility_code). Free slots inside it go;
        booked ones stay and are listed in slots.to_move."""
        session = get_session()
        exc, counts = schedules.create_exception(session, data, principal=g.user,
                                                 today=today(), now=utcnow())
        exc.slots = counts
        return exc


@blp.route("/schedule-exceptions/<int:exception_id>")
class ScheduleExceptionItem(MethodView):
    @blp.response(200, s.ExceptionSchema)
    def get(self, exception_id):
        return get_or_404(get_session(), ScheduleException, exception_id, "schedule exception")

    @blp.response(204)
    @atomic
    def delete(self, exception_id):
        """Withdraw a leave or closure: the slots come back."""
        session = get_session()
        found = get_or_404(session, ScheduleException, exception_id, "schedule exception")
        schedules.delete_exception(session, found, principal=g.user, today=today(),
                                   now=utcnow())


@blp.route("/holidays")
class Holidays(MethodView):
    @blp.arguments(s.HolidayArgs, location="query")
    @blp.response(200, s.HolidaySchema(many=True))
    def get(self, args):
        """Public holidays and make-up working days (调休) of a year (default: this year)."""
        return workdays.calendar().in_year(args.get("year") or today().year)


@blp.route("/slots/generate")
class SlotGeneration(MethodView):
    @blp.arguments(s.GenerateSchema)
    @blp.response(200, s.GenerateResultSchema)
    @atomic
    def post(self, data):
        """Regenerate the slots of your facilities (or one) for the rolling window; idempotent."""
        session = get_session()
        mine = access.writable_facilities(g.user)
        facility_ids = mine
        if data.get("facility_code"):
            facility = schedules._facility(session, data["facility_code"], "facility_code",
                                           g.user)
            facility_ids = {facility.id}
        counts = generation.generate(session, today=today(), now=utcnow(),
                                     weeks=data.get("weeks"), facility_ids=facility_ids)
        return counts


# --- slots --------------------------------------------------------------------------------------
@blp.route("/slots")
class Slots(MethodView):
    @blp.arguments(s.SlotListArgs, location="query")
    @blp.response(200, s.SlotSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Slots of a facility, practitioner or service in a date range (default: 7 days from
        today), with their FHIR status."""
        session = get_session()
        now = utcnow()
        first, last = local_range(args.get("start"), args.get("end"), 7)
        stmt = select(Slot).where(Slot.starts_at >= first, Slot.starts_at < last)
        for key, getter, column in (("facility", network.get_facility, Slot.facility_id),
                                    ("practitioner", schedules.get_practitioner,
                                     Slot.practitioner_id),
                                    ("service", network.get_service, Slot.service_id)):
            if args.get(key):
                stmt = stmt.where(column == query_ref(session, getter, args[key], key).id)
        if args.get("status"):
            stmt = _status_filter(stmt, args["status"], now)
        stmt = stmt.order_by(Slot.starts_at, Slot.id)
        return decorate_slots(session, page_of(session, stmt, pagination_parameters), now)


def _status_filter(stmt, status: str, now):
    from sqlalchemy import and_

    taken = (select(func.count()).where(Appointment.slot_id == Slot.id, places.live(now))
             .correlate(Slot).scalar_subquery())
    held = (select(func.count()).where(Appointment.slot_id == Slot.id, places.live(now),
                                       Appointment.status.in_(("pending", "proposed")))
            .correlate(Slot).scalar_subquery())
    if status == "busy-unavailable":
        return stmt.where(Slot.status != "open")
    stmt = stmt.where(Slot.status == "open")
    if status == "free":
        return stmt.where(taken < Slot.places)
    if status == "busy-tentative":
        return stmt.where(and_(taken >= Slot.places, held > 0))
    return stmt.where(and_(taken >= Slot.places, held == 0))


@blp.route("/slots/<int:slot_id>")
class SlotItem(MethodView):
    @blp.response(200, s.SlotSchema)
    def get(self, slot_id):
        session = get_session()
        slot = get_or_404(session, Slot, slot_id, "slot")
        return decorate_slots(session, [slot], utcnow())[0]


@blp.route("/availability")
class Availability(MethodView):
    @blp.arguments(s.AvailabilityArgs, location="query")
    @blp.response(200, s.SlotSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Free slots of a service, soonest first (then nearest), at the tiers allowed (default:
        those of the service), within max_km road km of a place (lat/lon, a facility or a
        region), over a date range (default: the booking window)."""
        session = get_session()
        now = utcnow()
        service = query_ref(session, network.get_service, args["service"], "service")
        first, last = local_range(args.get("start"), args.get("end"),
                                  7 * current_app.config["BOOKING_WINDOW_WEEKS"])
        near = None
        if "lat" in args:
            near = Near(args["lat"], args["lon"])
        elif args.get("near_facility"):
            f = query_ref(session, network.get_facility, args["near_facility"], "near_facility")
            near = Near(f.lat, f.lon)
        elif args.get("near_region"):
            r = query_ref(session, network.get_region, args["near_region"], "near_region")
            near = Near(r.lat, r.lon)
        if near is not None:
            near.max_km = args.get("max_km")
        tiers = args["tiers"].split(",") if args.get("tiers") else None
        stmt, km = search(session, service=service, starts=first, ends=last, now=now,
                          near=near, tiers=tiers)
        total = session.scalar(select(func.count()).select_from(
            stmt.order_by(None).subquery()))
        pagination_parameters.item_count = total
        offset = (pagination_parameters.page - 1) * pagination_parameters.page_size
        rows = session.execute(stmt.offset(offset).limit(pagination_parameters.page_size)).all()
        slots = [row[0] for row in rows]
        return decorate_slots(session, slots, now, km)


# --- appointments -------------------------------------------------------------------------------
@blp.route("/appointments")
class Appointments(MethodView):
    @blp.arguments(s.AppointmentListArgs, location="query")
    @blp.response(200, s.AppointmentSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Appointments of your facilities, and of the referrals they sent, soonest first."""
        session = get_session()
        stmt = select(Appointment).where(access.appointment_filter(g.user))
        if args.get("facility"):
            facility = query_ref(session, network.get_facility, args["facility"], "facility")
            stmt = stmt.where(Appointment.facility_id == facility.id)
        if args.get("practitioner"):
            practitioner = query_ref(session, schedules.get_practitioner, args["practitioner"],
                                     "practitioner")
            stmt = stmt.where(Appointment.practitioner_id == practitioner.id)
        if args.get("referral"):
            referral = query_ref(session, lambda se, c: get_referral(
                se, c, viewer=g.user), args["referral"], "referral")
            stmt = stmt.where(Appointment.referral_id == referral.id)
        if args.get("status"):
            stmt = stmt.where(Appointment.status == args["status"])
        if args.get("start") or args.get("end"):
            first, last = local_range(args.get("start"), args.get("end"), 7)
            stmt = stmt.where(Appointment.starts_at >= first, Appointment.starts_at < last)
        stmt = apply_sort(stmt, args.get("sort"), {"starts_at": Appointment.starts_at,
                                                   "created_at": Appointment.created_at},
                          (Appointment.starts_at, Appointment.id))
        rows = page_of(session, stmt, pagination_parameters)
        audit.record_list(session, "appointment", [a.code for a in rows],
                          {k: str(v) for k, v in args.items()})
        return rows

    @blp.arguments(s.CreateAppointmentSchema)
    @blp.arguments(s.IdempotencyHeaders, location="headers")
    @blp.response(201, s.AppointmentSchema)
    @blp.alt_response(200, schema=s.AppointmentSchema,
                      description="a repeat of an earlier request with the same Idempotency-Key: "
                                  "the appointment it made, unchanged")
    @atomic
    def post(self, data, headers):
        """Book a place of a slot for an accepted referral of your facility, or hold it
        (hold: true) while you talk to the family: confirm within the hold time, or it lapses by
        itself. Send an Idempotency-Key: a retry returns the same appointment and never books
        twice. 409 when the slot is full, the person is busy then, or the referral is not
        bookable; the referral may then go on the waitlist (POST /waitlist). 409
        booking.jumps_waitlist (field jump_reason) when waiting cases placed before the referral
        on the waitlist can come then and are free: send jump_reason to book it all the same
        (audited)."""
        session = get_session()
        referral = _referral(session, data["referral_code"])
        appointment, created = ops.book(session, referral=referral, slot_id=data["slot_id"],
                                        hold=data["hold"], principal=g.user, now=utcnow(),
                                        key=headers.get("key"),
                                        jump_reason=data.get("jump_reason"))
        return appointment, (201 if created else 200)


@blp.route("/appointments/<code>")
class AppointmentItem(MethodView):
    @blp.response(200, s.AppointmentSchema)
    def get(self, code):
        session = get_session()
        appointment = _appointment(session, code)
        audit.record_read(session, "appointment", appointment.code)
        return appointment


@blp.route(f"/appointments/<code>/{route_pattern(API_ACTIONS)}")
class AppointmentAction(MethodView):
    @blp.arguments(s.AppointmentActionSchema)
    @blp.arguments(s.IdempotencyHeaders, location="headers")
    @blp.response(200, s.AppointmentSchema)
    @atomic
    def post(self, data, headers, code, action):
        """confirm (a hold or a waitlist offer), decline (a waitlist offer), cancel (reason,
        note), reschedule (slot_id; atomic: the old place is released only when the new one is
        taken; answers the new appointment), arrive, fulfil (attended: an accepted referral
        starts), noshow."""
        session = get_session()
        appointment = _appointment(session, code)
        now = utcnow()
        if action == "confirm":
            result = ops.confirm(session, appointment, principal=g.user, now=now)
        elif action == "decline":
            result = ops.decline(session, appointment, note=data.get("note"), principal=g.user,
                                 now=now)
        elif action == "cancel":
            if not data.get("reason"):
                raise field_error("reason", "booking.cancel_reason")
            result = ops.cancel(session, appointment, reason=data["reason"],
                                note=data.get("note"), principal=g.user, now=now)
        elif action == "reschedule":
            if not data.get("slot_id"):
                raise field_error("slot_id", "booking.new_slot_needed")
            result, _created = ops.reschedule(session, appointment, slot_id=data["slot_id"],
                                              principal=g.user, now=now, key=headers.get("key"))
        else:
            step = {"arrive": ops.arrive, "fulfil": ops.fulfil, "noshow": ops.noshow}[action]
            result = step(session, appointment, principal=g.user, now=now)
        return result


# --- waitlist -----------------------------------------------------------------------------------
@blp.route("/waitlist")
class Waitlist(MethodView):
    @blp.arguments(s.WaitlistArgs, location="query")
    @blp.response(200, s.WaitlistEntrySchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """The waitlist of your facilities, best-placed first (children 0-6, severe, poor,
        standard; then the time waited since the case's first referral)."""
        session = get_session()
        facility_ids = None
        if args.get("facility"):
            facility_ids = [query_ref(session, network.get_facility, args["facility"],
                                      "facility").id]
        stmt = wl.entries(g.user, facility_ids=facility_ids, status=args.get("status"),
                          on=today())
        return decorate_entries(session, page_of(session, stmt, pagination_parameters))

    @blp.arguments(s.CreateWaitlistSchema)
    @blp.response(201, s.WaitlistEntrySchema)
    @blp.alt_response(200, schema=s.WaitlistEntrySchema,
                      description="the referral was on the list already: its entry")
    @atomic
    def post(self, data):
        """Put an accepted referral on its facility's waitlist (when no slot fits), with when
        the family can come (available_weekdays, available_parts; none = any time). A free
        place at such a time is then offered to it in its turn."""
        session = get_session()
        referral = _referral(session, data["referral_code"])
        entry, created = wl.add(session, referral, note=data.get("note"), principal=g.user,
                                now=utcnow(), weekdays=data["available_weekdays"],
                                parts=data["available_parts"])
        return decorate_entries(session, [entry])[0], (201 if created else 200)


@blp.route("/waitlist/<int:entry_id>")
class WaitlistItem(MethodView):
    @blp.response(200, s.WaitlistEntrySchema)
    def get(self, entry_id):
        session = get_session()
        return decorate_entries(session, [wl.get_entry(session, entry_id, viewer=g.user)])[0]


@blp.route("/waitlist/<int:entry_id>/remove")
class WaitlistRemove(MethodView):
    @blp.arguments(s.RemoveWaitlistSchema)
    @blp.response(200, s.WaitlistEntrySchema)
    @atomic
    def post(self, data, entry_id):
        """Take an entry off the list, with the reason (never silently)."""
        session = get_session()
        entry = wl.remove(session, wl.get_entry(session, entry_id, viewer=g.user),
                          reason=data["reason"], principal=g.user, now=utcnow())
        return decorate_entries(session, [entry])[0]


@blp.route("/practitioners/<code>/calendar.ics")
class PractitionerCalendar(MethodView):
    @blp.response(200, TEXT_BODY, content_type="text/calendar")
    def get(self, code):
        """The practitioner's slots of the booking window as iCalendar (RFC 5545); appointment
        details only for your facilities' appointments, and by code (no names)."""
        from rehab_net.booking.ical import practitioner_calendar

        session = get_session()
        return practitioner_calendar(session, schedules.get_practitioner(session, code),
                                     viewer=g.user, now=utcnow())

