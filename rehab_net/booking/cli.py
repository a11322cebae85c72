"""`rehab-net slots generate|expire` and `rehab-net holidays show|check` (registered on the app
by rehab_net.booking.init_app, so the `rehab-net` command finds them)."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup

slots_group = AppGroup("slots", help="Slots from the schedules, and the holds that lapse.")
holidays_group = AppGroup("holidays", help="The holiday calendar (public holidays, 调休).")


@slots_group.command("generate")
@click.option("--weeks", type=click.IntRange(1, 26), default=None,
              help="How far ahead (default BOOKING_WINDOW_WEEKS, 8).")
@click.option("--facility", "facility_code", default=None, help="Only this facility's rules.")
def generate_command(weeks, facility_code):
    """Bring the slots of the rolling window in line with the schedules (idempotent: run it as
    often as you like; booked slots are never touched)."""
    from rehab_net.booking import generation
    from rehab_net.clock import today
    from rehab_net.db import transactional, utcnow
    from rehab_net.network import operations as network

    with transactional() as session:
        facility_ids = None
        if facility_code:
            facility_ids = [network.get_facility(session, facility_code).id]
        counts = generation.generate(session, today=today(), now=utcnow(), weeks=weeks,
                                     facility_ids=facility_ids)
    moved = counts.pop("booked_outside")
    click.echo(json.dumps(counts))
    if moved:
        click.echo(f"{len(moved)} booked appointment(s) in slots no rule wants any more "
                   f"(kept): {', '.join(moved[:20])}")


@slots_group.command("expire")
def expire_command():
    """Cancel holds and waitlist offers past their time; offer the places on (what the
    scheduler's job does every five minutes)."""
    from rehab_net.booking.operations import expire_and_offer
    from rehab_net.db import transactional, utcnow

    with transactional() as session:
        counts = expire_and_offer(session, utcnow())
    click.echo(json.dumps(counts))


@holidays_group.command("show")
@click.option("--year", type=click.IntRange(2000, 2100), default=None)
def show_command(year):
    """The public holidays and make-up working days of a year."""
    from rehab_net import workdays
    from rehab_net.clock import today

    calendar = workdays.calendar()
    for day in calendar.in_year(year or today().year):
        click.echo(f"{day.date.isoformat()}  {day.kind:<8} {day.name}")
    click.echo(f"files: {', '.join(str(p) for p in workdays.configured_files())}")


@holidays_group.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check_command(path):
    """Validate a holiday CSV (date,kind,name[,source]) before listing it in
    REHAB_BOOKING_HOLIDAY_FILES."""
    from rehab_net import workdays

    try:
        days = workdays.read_file(path)
    except workdays.HolidayFileError as err:
        for problem in err.problems:
            click.echo(f"{path}: {problem}", err=True)
        raise SystemExit(1) from None
    click.echo(f"{path}: {len(days)} day(s), "
               f"{sum(d.kind == 'holiday' for d in days)} holiday(s), "
               f"{sum(d.kind == 'workday' for d in days)} make-up working day(s)")
