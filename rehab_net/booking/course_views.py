"""Courses of therapy over the JSON API (booking/courses.py, docs/courses.md): preview a pattern,
book the confirmed sessions all at once, read, cancel or move this session / this and following
/ the whole course, and the sending clinics' defaulter list."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from sqlalchemy import select

from rehab_net.access import Rule
from rehab_net.api import Blueprint
from rehab_net.auth import audit
from rehab_net.booking import courses
from rehab_net.booking import schemas as s
from rehab_net.booking.access import require_writable
from rehab_net.booking.models import Course
from rehab_net.booking.views import _referral, atomic
from rehab_net.clock import today
from rehab_net.db import get_session, utcnow
from rehab_net.errors import field_error
from rehab_net.listing import apply_sort, page_of, query_ref
from rehab_net.network import operations as network
from rehab_net.referrals.operations.visibility import acting_facilities

blp = Blueprint("courses", __name__, url_prefix="/api/v1",
                description="Courses of therapy: a series of sessions booked all at once")

PERMISSIONS: dict[str, Rule] = {
    "courses.CoursePreview": "booking.write",
    "courses.Courses": {"GET": "booking.read", "POST": "booking.write"},
    "courses.CourseItem": "booking.read",
    "courses.CourseSessionChange": "booking.write",
    "courses.Defaulters": "booking.read",
}


def decorate(session, course: Course) -> Course:
    """The sessions (the current appointment of each number), the flags and the missed run the
    schema shows."""
    current = courses.current_sessions(session, course)
    flagged = courses.on_leave(session, list(current.values()))
    course.session_list = [
        type("S", (), {"number": n, "appointment": a,
                       "practitioner_on_leave": a.id in flagged})()
        for n, a in sorted(current.items(), key=lambda r: r[1].starts_at)]
    course.missed_in_a_row = courses.missed_in_a_row(list(current.values()))
    return course


@blp.route("/courses/preview")
class CoursePreview(MethodView):
    @blp.arguments(s.CoursePatternSchema)
    @blp.response(200, s.CoursePreviewSchema)
    def post(self, data):
        """The sessions a pattern would book for an accepted referral of your facility, and the
        ones it could not place (holiday, closure, leave, no session, full, the person busy)
        with the nearest alternatives. Books nothing: confirm with POST /courses."""
        session = get_session()
        referral = _referral(session, data["referral_code"])
        require_writable(g.user, referral.receiver_id, "referral")
        pattern = courses.read_pattern(session, referral, data, today())
        result = courses.preview(session, referral, pattern, utcnow())
        for miss in result.misses:
            miss.week += 1
        return result


@blp.route("/courses")
class Courses(MethodView):
    @blp.arguments(s.CourseListArgs, location="query")
    @blp.response(200, s.CourseSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Courses at your facilities and those your facilities sent."""
        session = get_session()
        stmt = select(Course).where(courses.course_filter(g.user))
        if args.get("referral"):
            stmt = stmt.where(Course.referral.has(code=args["referral"]))
        if args.get("status"):
            stmt = stmt.where(Course.status == args["status"])
        stmt = apply_sort(stmt, args.get("sort"), {"created_at": Course.created_at},
                          (Course.id,))
        rows = page_of(session, stmt, pagination_parameters)
        audit.record_list(session, "course", [c.code for c in rows],
                          {k: str(v) for k, v in args.items()})
        return rows

    @blp.arguments(s.BookCourseSchema)
    @blp.response(201, s.CourseSchema)
    @atomic
    def post(self, data):
        """Book a course: the pattern, and the sessions to book (the preview's, and alternatives
        chosen for its misses), all or nothing in one transaction. 409 naming the session
        (to_book.<i>) when one was taken meanwhile or the person is busy then: nothing booked."""
        session = get_session()
        referral = _referral(session, data["referral_code"])
        pattern = courses.read_pattern(session, referral, data, today())
        course = courses.book(session, referral, pattern, data["to_book"], principal=g.user,
                              now=utcnow(), today=today(), jump_reason=data.get("jump_reason"))
        return decorate(session, course)


@blp.route("/courses/<code>")
class CourseItem(MethodView):
    @blp.response(200, s.CourseSchema)
    def get(self, code):
        session = get_session()
        course = courses.get_course(session, code, viewer=g.user)
        audit.record_read(session, "course", course.code)
        return decorate(session, course)


@blp.route("/courses/<code>/sessions/<int:number>/<any(cancel, move):action>")
class CourseSessionChange(MethodView):
    @blp.arguments(s.CourseChangeSchema)
    @blp.response(200, s.CourseSchema)
    @atomic
    def post(self, data, code, number, action):
        """cancel (reason, note) or move (starts_at, optionally practitioner_code) this session,
        this and the following ones (moved by the same shift), or the whole course (every
        session to come; cancelling it cancels the course). All or nothing."""
        session = get_session()
        course = courses.get_course(session, code, viewer=g.user)
        now = utcnow()
        if action == "cancel":
            if not data.get("reason"):
                raise field_error("reason", "booking.cancel_reason")
            courses.cancel(session, course, number=number, scope=data["scope"],
                           reason=data["reason"], note=data.get("note"), principal=g.user,
                           now=now)
        else:
            if not data.get("starts_at"):
                raise field_error("starts_at", "course.starts_at_needed")
            courses.move(session, course, number=number, scope=data["scope"],
                         starts_at=data["starts_at"],
                         practitioner_code=data.get("practitioner_code"), principal=g.user,
                         now=now, today=today())
        session.refresh(course)
        return decorate(session, course)


@blp.route("/courses/defaulters")
class Defaulters(MethodView):
    @blp.arguments(s.DefaulterArgs, location="query")
    @blp.response(200, s.CourseSchema(many=True))
    def get(self, args):
        """Running courses your clinic sent whose last 3 recorded sessions were all missed
        (no-show): the families to trace."""
        session = get_session()
        senders = None
        if args.get("facility"):
            facility = query_ref(session, network.get_facility, args["facility"], "facility")
            senders = {facility.id}
        else:
            senders = acting_facilities(g.user)
        rows = courses.defaulters(session, g.user, senders)
        audit.record_list(session, "course", [c.code for c in rows],
                          {"defaulters": "true", **{k: str(v) for k, v in args.items()}})
        return [decorate(session, c) for c in rows]
