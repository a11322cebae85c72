"""API schemas of practitioners, schedules, slots, availability, appointments and the waitlist.
Statuses are FHIR R4 codes (Slot.status, Appointment.status)."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from rehab_net.booking import messages as _messages  # noqa: F401 - registers the codes
from rehab_net.booking.states import APPOINTMENT_STATUSES, WAITLIST_STATUSES
from rehab_net.booking.waitlist import parts_of, weekdays_of
from rehab_net.messages import message
from rehab_net.schemas import (
    MAX_YEAR,
    MIN_YEAR,
    Code,
    Input,
    Lat,
    ListArgs,
    Lon,
    PageArgs,
    PositiveInt,
    QueryArgs,
    StrictInt,
)
from rehab_net.vocab import (
    DAY_PARTS,
    EXCEPTION_KINDS,
    PROFESSIONS,
    SCHEDULE_KINDS,
    SLOT_FHIR_STATUSES,
    TIERS,
)

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
DAY_RANGE = validate.Range(min=FIRST_DAY, max=LAST_DAY, error=message("booking.year_range"))
MOMENT_RANGE = validate.Range(min=datetime(2000, 1, 1, tzinfo=UTC),
                              max=datetime(2100, 12, 31, tzinfo=UTC),
                              error=message("booking.year_range"))
USER_CANCEL_REASONS = ("family_request", "facility_request", "practitioner_unavailable", "other")
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,80}$")


def Day(**kw):  # noqa: N802
    return fields.Date(validate=DAY_RANGE, **kw)


def Moment(**kw):  # noqa: N802
    return fields.AwareDateTime(validate=MOMENT_RANGE, **kw)


class LocalTime(fields.String):
    """A local time of day as "HH:MM" (Asia/Shanghai)."""

    def __init__(self, **kw):
        super().__init__(validate=validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$",
                                                  error=message("schedule.time_format")),
                         metadata={"example": "08:30", **kw.pop("metadata", {})}, **kw)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.strftime("%H:%M")


def _to_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


# --- practitioners ------------------------------------------------------------------------------
class SiteSchema(Schema):
    facility_code = fields.Function(lambda s: s.facility.code)
    since = fields.Date(allow_none=True)


class PractitionerSchema(Schema):
    code = fields.String()
    name = fields.String()
    profession = fields.String()
    active = fields.Boolean()
    facility_codes = fields.Function(lambda p: [s.facility.code for s in p.sites])
    version = fields.Integer()


class CreatePractitionerSchema(Input):
    code = Code(required=True)
    name = fields.String(required=True, validate=validate.Length(1, 64))
    profession = fields.String(required=True, validate=validate.OneOf(PROFESSIONS))
    facility_codes = fields.List(Code(), required=True, validate=validate.Length(1, 20),
                                 metadata={"description": "where they practise (多点执业)"})


class UpdatePractitionerSchema(Input):
    name = fields.String(validate=validate.Length(1, 64))
    profession = fields.String(validate=validate.OneOf(PROFESSIONS))
    active = fields.Boolean(metadata={"description": "false retires every rule of theirs; "
                                                     "booked slots stay"})


class AddSiteSchema(Input):
    facility_code = Code(required=True)


class PractitionerListArgs(ListArgs):
    facility = Code()


# --- schedules ----------------------------------------------------------------------------------
class RuleSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    practitioner_code = fields.Function(lambda r: r.practitioner.code)
    facility_code = fields.Function(lambda r: r.facility.code)
    service_code = fields.Function(lambda r: r.service.code)
    weekdays = fields.Function(lambda r: [d + 1 for d in range(7) if r.weekdays & (1 << d)])
    start_time = LocalTime()
    end_time = LocalTime()
    slot_minutes = fields.Integer()
    places = fields.Integer()
    valid_from = fields.Date()
    valid_until = fields.Date(allow_none=True)
    makeup_days = fields.Boolean()
    active = fields.Boolean()
    note = fields.String(allow_none=True)
    version = fields.Integer()


class RuleResultSchema(RuleSchema):
    slots = fields.Dict(keys=fields.String(), values=fields.Raw(),
                        metadata={"description": "what the slot generation did"})


class _RuleFields(Input):
    weekdays = fields.List(StrictInt(validate=validate.Range(1, 7)),
                           validate=validate.Length(1, 7),
                           metadata={"description": "ISO weekdays: 1 = Monday ... 7 = Sunday"})
    start_time = LocalTime()
    end_time = LocalTime()
    slot_minutes = StrictInt(validate=validate.Range(5, 480))
    places = StrictInt(validate=validate.Range(1, 100),
                       metadata={"description": "1 for individual therapy, more for a group"})
    valid_from = Day()
    valid_until = Day(allow_none=True)
    on = Day(metadata={"description": "the date of a one-off session"})
    makeup_days = fields.Boolean(metadata={
        "description": "also on make-up working days (调休上班)"})
    note = fields.String(validate=validate.Length(1, 2000), allow_none=True)

    def _times(self, data):
        for key in ("start_time", "end_time"):
            if key in data:
                data[key] = _to_time(data[key])
        return data


class CreateRuleSchema(_RuleFields):
    kind = fields.String(load_default="weekly", validate=validate.OneOf(SCHEDULE_KINDS))
    practitioner_code = Code(required=True)
    facility_code = Code(required=True)
    service_code = Code(required=True)
    start_time = LocalTime(required=True)
    end_time = LocalTime(required=True)
    slot_minutes = StrictInt(required=True, validate=validate.Range(5, 480))

    @validates_schema(skip_on_field_errors=True)
    def _kind(self, data, **_kw):
        if data["kind"] == "session" and "on" not in data:
            raise ValidationError({"on": [message("schedule.session_date_schema")]})
        if data["kind"] == "weekly" and not data.get("weekdays"):
            raise ValidationError({"weekdays": [message("schedule.weekday_schema")]})

    @post_load
    def _convert(self, data, **_kw):
        return self._times(data)


class UpdateRuleSchema(_RuleFields):
    facility_code = Code()
    service_code = Code()
    active = fields.Boolean(metadata={"description": "false retires the rule"})

    @post_load
    def _convert(self, data, **_kw):
        return self._times(data)


class RuleListArgs(ListArgs):
    facility = Code()
    practitioner = Code()
    active = fields.Boolean()


class ExceptionSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    practitioner_code = fields.Function(lambda e: e.practitioner.code if e.practitioner
                                        else None)
    facility_code = fields.Function(lambda e: e.facility.code if e.facility else None)
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    reason = fields.String(allow_none=True)
    created_by = fields.String()


class ExceptionResultSchema(ExceptionSchema):
    slots = fields.Dict(keys=fields.String(), values=fields.Raw())


class CreateExceptionSchema(Input):
    kind = fields.String(required=True, validate=validate.OneOf(EXCEPTION_KINDS))
    practitioner_code = Code(metadata={"description": "leave: whose"})
    facility_code = Code(metadata={"description": "closure: which facility"})
    starts_at = Moment(required=True)
    ends_at = Moment(required=True)
    reason = fields.String(validate=validate.Length(1, 2000))


class ExceptionListArgs(PageArgs):  # a fixed order (newest first): no sort
    facility = Code()
    practitioner = Code()


class HolidaySchema(Schema):
    date = fields.Date()
    kind = fields.String(metadata={"description": "holiday, or workday (a make-up working day)"})
    name = fields.String()
    source = fields.String()


class HolidayArgs(QueryArgs):
    year = StrictInt(validate=validate.Range(MIN_YEAR, MAX_YEAR))


class GenerateSchema(Input):
    facility_code = Code()
    weeks = StrictInt(validate=validate.Range(1, 26))


class GenerateResultSchema(Schema):
    rules = fields.Integer()
    created = fields.Integer()
    deleted = fields.Integer()
    withdrawn = fields.Integer()
    kept_booked = fields.Integer(metadata={
        "description": "slots no longer wanted that hold bookings: withdrawn (no new booking), "
                       "their appointments kept and listed in booked_outside"})
    reopened = fields.Integer(metadata={
        "description": "such slots wanted again (a leave or closure deleted): open again"})
    skipped_overlap = fields.Integer()
    booked_outside = fields.List(fields.String())


# --- slots and availability ---------------------------------------------------------------------
class SlotSchema(Schema):
    id = fields.Integer()
    status = fields.Function(lambda s: s.fhir_status, metadata={
        "description": "FHIR Slot.status: free, busy-tentative (full with holds), busy, "
                       "busy-unavailable (withdrawn)"})
    practitioner_code = fields.Function(lambda s: s.practitioner.code)
    practitioner_name = fields.Function(lambda s: s.practitioner.name)
    facility_code = fields.Function(lambda s: s.facility.code)
    service_code = fields.Function(lambda s: s.service.code)
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    places = fields.Integer()
    free_places = fields.Integer()
    road_km = fields.Float(allow_none=True)


class SlotListArgs(PageArgs):  # a fixed order (by start): no sort
    facility = Code()
    practitioner = Code()
    service = Code()
    start = Day(data_key="from", metadata={"description": "first local date (default today)"})
    end = Day(data_key="to", metadata={"description": "last local date (default: a week on)"})
    status = fields.String(validate=validate.OneOf(SLOT_FHIR_STATUSES))


class AvailabilityArgs(PageArgs):
    service = Code(required=True)
    start = Day(data_key="from", metadata={"description": "first local date (default today)"})
    end = Day(data_key="to", metadata={"description": "last local date (default: the window)"})
    lat = Lat()
    lon = Lon()
    near_facility = Code(metadata={"description": "measure from this facility"})
    near_region = Code(metadata={"description": "measure from this region (e.g. a village)"})
    max_km = fields.Float(allow_nan=False, validate=validate.Range(0, 5000))
    tiers = fields.String(validate=validate.Regexp(
        r"^(centre|station|clinic)(,(centre|station|clinic))*$",
        error=f"a comma list of {', '.join(TIERS)}"))

    @validates_schema(skip_on_field_errors=True)
    def _place(self, data, **_kw):
        if ("lat" in data) != ("lon" in data):
            raise ValidationError({"lon" if "lat" in data else "lat": [message("search.lat_lon")]})
        given = ("lat" in data) + ("near_facility" in data) + ("near_region" in data)
        if given > 1:
            raise ValidationError({"near_facility": [message("search.one_place")]})
        if "max_km" in data and not given:
            raise ValidationError({"max_km": [message("search.place_needed")]})


# --- appointments -------------------------------------------------------------------------------
class AppointmentSchema(Schema):
    code = fields.String()
    status = fields.String(metadata={"description": "FHIR Appointment.status"})
    referral_code = fields.Function(lambda a: a.referral.code)
    case_code = fields.Function(lambda a: a.case.code)
    person_code = fields.Function(lambda a: a.case.person.code)
    slot_id = fields.Integer()
    place = fields.Integer()
    practitioner_code = fields.Function(lambda a: a.practitioner.code)
    facility_code = fields.Function(lambda a: a.facility.code)
    service_code = fields.Function(lambda a: a.service.code)
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    hold_expires_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "a hold (pending) or waitlist offer (proposed) lapses then"})
    waitlist_entry_id = fields.Integer(allow_none=True)
    rescheduled_from = fields.Function(lambda a: a.rescheduled_from.code if a.rescheduled_from
                                       else None)
    created_by = fields.String()
    created_at = fields.AwareDateTime()
    booked_at = fields.AwareDateTime(allow_none=True)
    arrived_at = fields.AwareDateTime(allow_none=True)
    attended_at = fields.AwareDateTime(allow_none=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    cancel_note = fields.String(allow_none=True)
    jump_reason = fields.String(allow_none=True, metadata={
        "description": "why it was booked before waiting cases placed ahead of it"})
    version = fields.Integer()


class CreateAppointmentSchema(Input):
    referral_code = Code(required=True)
    slot_id = PositiveInt(required=True)
    hold = fields.Boolean(load_default=False, metadata={
        "description": "hold the place (pending) for BOOKING_HOLD_MINUTES, to be confirmed; "
                       "false books at once"})
    jump_reason = fields.String(validate=validate.Length(max=2000), metadata={
        "description": "needed when the slot would pass over waiting cases placed before this "
                       "referral on the waitlist who can come then and are free (409 "
                       "booking.jumps_waitlist otherwise); audited"})


class IdempotencyHeaders(Schema):
    key = fields.String(data_key="Idempotency-Key", validate=validate.Regexp(
        IDEMPOTENCY_KEY, error=message("booking.key_format")), metadata={
        "description": "a retried request with the same key returns the same appointment"})


class AppointmentActionSchema(Input):
    reason = fields.String(validate=validate.OneOf(USER_CANCEL_REASONS),
                           metadata={"description": "cancel: why"})
    note = fields.String(validate=validate.Length(1, 2000))
    slot_id = PositiveInt(metadata={"description": "reschedule: the new slot"})


class AppointmentListArgs(ListArgs):
    facility = Code()
    practitioner = Code()
    referral = Code()
    status = fields.String(validate=validate.OneOf(APPOINTMENT_STATUSES))
    start = Day(data_key="from")
    end = Day(data_key="to")


# --- waitlist -----------------------------------------------------------------------------------
class WaitlistEntrySchema(Schema):
    id = fields.Integer()
    status = fields.String()
    facility_code = fields.Function(lambda e: e.facility.code)
    service_code = fields.Function(lambda e: e.service.code)
    referral_code = fields.Function(lambda e: e.referral.code)
    case_code = fields.Function(lambda e: e.case.code)
    priority = fields.Function(lambda e: e.priority)
    waiting_since = fields.Function(lambda e: e.referral.waiting_since.isoformat()
                                    if e.referral.waiting_since else None)
    offers = fields.Integer()
    offer = fields.Function(lambda e: e.offer_code)
    note = fields.String(allow_none=True)
    available_weekdays = fields.Function(lambda e: weekdays_of(e.available_weekdays), metadata={
        "description": "ISO weekdays the family can come (1 = Monday); empty = any day"})
    available_parts = fields.Function(lambda e: parts_of(e.available_parts), metadata={
        "description": "parts of the day the family can come (morning before 12:00, afternoon "
                       "12:00-18:00, evening from 18:00, local time); empty = any time"})
    created_at = fields.AwareDateTime()
    created_by = fields.String()
    removed_reason = fields.String(allow_none=True)
    version = fields.Integer()


class CreateWaitlistSchema(Input):
    referral_code = Code(required=True)
    note = fields.String(validate=validate.Length(1, 2000))
    available_weekdays = fields.List(
        StrictInt(validate=validate.Range(1, 7, error=message("waitlist.weekday_unknown")),
                  error_messages={"invalid": message("waitlist.weekday_unknown")}),
        validate=validate.Length(max=7), load_default=list, metadata={
            "description": "ISO weekdays the family can come (1 = Monday ... 7 = Sunday); "
                           "empty = any day. Only slots on these days are offered"})
    available_parts = fields.List(
        fields.String(validate=validate.OneOf(DAY_PARTS, error=message(
            "waitlist.part_unknown", parts=", ".join(DAY_PARTS)))),
        validate=validate.Length(max=len(DAY_PARTS)), load_default=list, metadata={
            "description": "parts of the day the family can come, by the local time a slot "
                           "starts: morning (before 12:00), afternoon (12:00-18:00), evening "
                           "(from 18:00); empty = any time"})


class RemoveWaitlistSchema(Input):
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class WaitlistArgs(ListArgs):
    facility = Code()
    status = fields.String(validate=validate.OneOf(WAITLIST_STATUSES))


# --- courses of therapy (booking/courses.py) ----------------------------------------------------
class CoursePatternSchema(Input):
    """The pattern of a course: weekdays with a part of the day or a start time, sessions per
    week, for a number of weeks or sessions; optionally one practitioner; group sessions only."""
    referral_code = Code(required=True)
    weekdays = fields.List(
        StrictInt(validate=validate.Range(1, 7, error=message("course.weekday_unknown"))),
        required=True, validate=validate.Length(1, 7),
        metadata={"description": "ISO weekdays (1 = Monday)", "example": [2, 4]})
    part = fields.String(validate=validate.OneOf(DAY_PARTS), allow_none=True, metadata={
        "description": "morning (before 12:00), afternoon (12:00-18:00), evening"})
    start_time = LocalTime(allow_none=True, metadata={"description": "local start time"})
    sessions_per_week = StrictInt(validate=validate.Range(1, 7))
    weeks = StrictInt(validate=validate.Range(1, 104))
    sessions = StrictInt(validate=validate.Range(1, 400))
    first_day = Day(metadata={"description": "default: tomorrow"})
    practitioner_code = Code(allow_none=True)
    group_only = fields.Boolean(load_default=False)

    @post_load
    def _times(self, data, **kwargs):
        if data.get("start_time"):
            data["start_time"] = _to_time(data["start_time"])
        return data


class CoursePickSchema(Input):
    starts_at = Moment(required=True)
    practitioner_code = Code(required=True)


class BookCourseSchema(CoursePatternSchema):
    to_book = fields.List(fields.Nested(CoursePickSchema), required=True,
                          validate=validate.Length(1, 400), metadata={
                              "description": "the sessions to book: the preview's, and the "
                                             "alternatives chosen for its misses"})
    jump_reason = fields.String(validate=validate.Length(max=2000), metadata={
        "description": "why this course goes before waiting cases its sessions pass over "
                       "(409 booking.course_jumps_waitlist otherwise); kept on each such "
                       "session and audited"})


class CandidateSchema(Schema):
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    practitioner_code = fields.String()
    places = fields.Integer()
    free_places = fields.Integer(attribute="free")
    slot_id = fields.Integer(allow_none=True, metadata={
        "description": "null: a slot the schedule offers, made when the course is booked"})


class SessionCandidateSchema(CandidateSchema):
    waiting_ahead = fields.Integer(metadata={
        "description": "waiting cases booking this session passes over (better placed, able "
                       "to come then): booking the course then needs a jump_reason"})


class MissSchema(Schema):
    week = fields.Integer(metadata={"description": "1-based week of the course"})
    day = fields.Date()
    reason = fields.String(metadata={
        "description": "holiday, closure, leave, no_session, full or busy (the person)"})
    alternatives = fields.List(fields.Nested(CandidateSchema))


class CoursePreviewSchema(Schema):
    sessions = fields.List(fields.Nested(SessionCandidateSchema))
    misses = fields.List(fields.Nested(MissSchema))
    weeks = fields.Function(lambda p: p.pattern.weeks)
    planned = fields.Function(lambda p: p.pattern.sessions,
                              metadata={"description": "sessions the pattern asks for"})


class CourseSessionSchema(Schema):
    number = fields.Integer()
    code = fields.String(attribute="appointment.code")
    status = fields.String(attribute="appointment.status")
    starts_at = fields.AwareDateTime(attribute="appointment.starts_at")
    ends_at = fields.AwareDateTime(attribute="appointment.ends_at")
    practitioner_code = fields.Function(lambda s: s.appointment.practitioner.code)
    cancel_reason = fields.String(attribute="appointment.cancel_reason", allow_none=True)
    practitioner_on_leave = fields.Boolean(metadata={
        "description": "flagged: the practitioner is on leave then; move the session"})


class CourseSchema(Schema):
    code = fields.String()
    status = fields.String()
    referral_code = fields.Function(lambda c: c.referral.code)
    facility_code = fields.Function(lambda c: c.facility.code)
    sender_code = fields.Function(lambda c: c.sender.code)
    service_code = fields.Function(lambda c: c.service.code)
    practitioner_code = fields.Function(lambda c: c.practitioner.code if c.practitioner else None,
                                        allow_none=True)
    weekdays = fields.Function(lambda c: weekdays_of(c.weekdays))
    part = fields.String(allow_none=True)
    start_time = LocalTime(allow_none=True)
    sessions_per_week = fields.Integer()
    weeks = fields.Integer()
    sessions = fields.Integer(metadata={"description": "sessions booked at the start"})
    first_day = fields.Date()
    group_only = fields.Boolean()
    cancel_reason = fields.String(allow_none=True)
    missed_in_a_row = fields.Integer(dump_only=True)
    created_at = fields.AwareDateTime()
    session_list = fields.List(fields.Nested(CourseSessionSchema), dump_only=True)


class CourseChangeSchema(Input):
    scope = fields.String(required=True, validate=validate.OneOf(("this", "following", "all")),
                          metadata={"description": "this session, this and following, the "
                                                   "whole course (every session to come)"})
    reason = fields.String(validate=validate.OneOf(USER_CANCEL_REASONS))
    note = fields.String(validate=validate.Length(1, 2000))
    starts_at = Moment(metadata={"description": "move: the session's new start"})
    practitioner_code = Code(allow_none=True)


class CourseListArgs(ListArgs):
    referral = Code()
    status = fields.String(validate=validate.OneOf(("active", "completed", "cancelled")))


class DefaulterArgs(ListArgs):
    facility = Code(metadata={"description": "the sending clinic (default: yours)"})
