"""Disability certificates (第二代残疾人证) with their life cycle: above people (a certificate
belongs to a person), below referrals. docs/certificates.md."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from rehab_net.openapi import RehabApi


def init_app(app: Flask, api: RehabApi) -> None:
    """The certificates' API and pages, their `rehab-net import certificates` command, the daily
    date-rules job, the permissions of their endpoints, the audit subjects (a region's auditors;
    the audit log's person filter) and the certificates section of the person page."""
    from rehab_net import access, scheduler
    from rehab_net.auth.operations import add_audit_subject, add_person_records
    from rehab_net.certificates import cli, jobs, pages, views
    from rehab_net.certificates.operations import (
        certificate_codes_in,
        certificate_codes_of_person,
    )
    from rehab_net.people.pages import add_person_section

    access.declare(app, views.PERMISSIONS)
    access.declare(app, pages.PERMISSIONS)
    api.register_blueprint(views.blp)
    app.register_blueprint(pages.bp)
    app.cli.add_command(cli.certificates_group)
    scheduler.register(jobs.DATE_RULES)
    add_audit_subject("certificate", certificate_codes_in)
    add_person_records("certificate", certificate_codes_of_person)
    add_person_section("certificates", pages.person_section)
