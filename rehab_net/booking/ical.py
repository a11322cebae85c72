"""A practitioner's calendar as iCalendar (RFC 5545), with the `icalendar` library: one VEVENT
per open slot of the booking window, at every facility where they practise. Who is booked is
given by appointment and case code only, and only for the viewer's own facilities. Summaries and
descriptions are in the request's language (zh-CN unless the calendar app asks for English)."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Response, current_app
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import select

from rehab_net.auth.principal import Principal
from rehab_net.booking import access
from rehab_net.booking.models import Appointment, Practitioner, Slot
from rehab_net.booking.places import live
from rehab_net.downloads import attachment
from rehab_net.i18n import local_name
from rehab_net.vocab import label

PRODID = "-//rehab-net//booking//ZH"


def practitioner_calendar(session, practitioner: Practitioner, *, viewer: Principal | None,
                          now: datetime, days_back: int = 7) -> Response:
    start = now - timedelta(days=days_back)
    end = now + timedelta(weeks=current_app.config["BOOKING_WINDOW_WEEKS"])
    slots = list(session.scalars(select(Slot).where(
        Slot.practitioner_id == practitioner.id, Slot.status == "open",
        Slot.starts_at >= start, Slot.starts_at < end).order_by(Slot.starts_at)))
    booked: dict[int, list[Appointment]] = {}
    for appt in session.scalars(select(Appointment).where(
            Appointment.slot_id.in_([s.id for s in slots]), live(now),
            access.facility_filter(viewer, Appointment.facility_id))):
        booked.setdefault(appt.slot_id, []).append(appt)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{practitioner.name} ({practitioner.code})")
    for slot in slots:
        mine = booked.get(slot.id, [])
        event = Event()
        event.add("uid", f"slot-{slot.id}@rehab-net")
        event.add("dtstamp", now)
        event.add("dtstart", slot.starts_at)
        event.add("dtend", slot.ends_at)
        service, facility = local_name(slot.service), local_name(slot.facility)
        event.add("summary", f"{service} · {facility}")
        event.add("location", facility)
        lines = [_("%(service)s at %(facility)s", service=service, facility=facility),
                 _("Places: %(places)s", places=slot.places)]
        lines += [_("%(appointment)s, %(status)s, case %(case)s", appointment=a.code,
                    status=label(a.status), case=a.case.code) for a in mine]
        event.add("description", "\n".join(lines))
        event.add("status", "CONFIRMED")
        cal.add_component(event)
    return Response(cal.to_ical(), mimetype="text/calendar",
                    headers=attachment(f"{practitioner.code}.ics"))
