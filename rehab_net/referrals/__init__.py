"""Two-way referrals."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from rehab_net.openapi import RehabApi


def init_app(app: Flask, api: RehabApi) -> None:
    """The referrals' API, pages, deadline job and endpoint permissions; and: staff of a facility
    also read the persons of the referrals it sent or received."""
    from rehab_net import access, scheduler
    from rehab_net.auth.operations import add_person_records
    from rehab_net.auth.principal import add_person_source
    from rehab_net.referrals import jobs as referral_jobs
    from rehab_net.referrals import pages, views
    from rehab_net.referrals.operations.visibility import (
        referral_codes_of_person,
        referred_person_ids,
    )

    add_person_source("referrals", referred_person_ids)
    add_person_records("referral", referral_codes_of_person)  # the audit log's person filter
    access.declare(app, views.PERMISSIONS)
    access.declare(app, pages.PERMISSIONS)
    api.register_blueprint(views.blp)
    app.register_blueprint(pages.bp)
    scheduler.register(referral_jobs.DEADLINES)
