"""`rehab-net certificates apply-dates` (registered on the app by rehab_net.certificates.init_app);
the import is `rehab-net import certificates FILE` (rehab_net/cli.py, beside the other imports)."""
from __future__ import annotations

import json

import click
from flask.cli import AppGroup

certificates_group = AppGroup("certificates", help="Disability certificates.")


@certificates_group.command("apply-dates")
def apply_dates_command():
    """Apply the date rules now (freeze, cancel after a frozen year, expire), as the nightly job
    does; idempotent."""
    from rehab_net.certificates.operations import apply_dates
    from rehab_net.clock import today
    from rehab_net.db import transactional, utcnow

    with transactional() as session:
        counts = apply_dates(session, today(), utcnow())
    click.echo(json.dumps(counts))
