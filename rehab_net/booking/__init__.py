"""Slot booking: practitioners at several sites, schedules, slots, appointments, the waitlist
(docs/booking.md)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from rehab_net.openapi import RehabApi


def init_app(app: Flask, api: RehabApi) -> None:
    """Booking's API, pages, commands (`rehab-net slots|holidays`), scheduler jobs and endpoint
    permissions; and what it does for the modules below it (their hooks)."""
    from rehab_net import access, scheduler
    from rehab_net.auth.operations import add_person_records
    from rehab_net.booking import cli, course_pages, course_views, pages, schedule_pages, views
    from rehab_net.booking import jobs as booking_jobs
    from rehab_net.booking.access import appointment_codes_of_person
    from rehab_net.booking.capacity import week_places_of
    from rehab_net.booking.cascades import referral_ended
    from rehab_net.network.operations import set_schedule_source
    from rehab_net.referrals.operations.workflow import add_end_follower

    access.declare(app, views.PERMISSIONS)
    access.declare(app, pages.PERMISSIONS)
    access.declare(app, schedule_pages.PERMISSIONS)
    access.declare(app, course_views.PERMISSIONS)
    access.declare(app, course_pages.PERMISSIONS)
    api.register_blueprint(views.blp)
    api.register_blueprint(course_views.blp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(schedule_pages.bp)
    app.register_blueprint(course_pages.bp)
    app.cli.add_command(cli.slots_group)
    app.cli.add_command(cli.holidays_group)
    for job in booking_jobs.JOBS:
        scheduler.register(job)
    set_schedule_source(week_places_of)  # capacity views show what the schedules offer
    add_end_follower("booking", referral_ended)  # a referral's end cancels its bookings
    add_person_records("appointment", appointment_codes_of_person)  # the audit log's filter
