"""Persons with disabilities and their rehabilitation cases."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from rehab_net.openapi import RehabApi


def init_app(app: Flask, api: RehabApi) -> None:
    """The persons' and cases' API and pages, the permissions of their endpoints, and the
    audit subjects a region's auditors read (the events about its persons and cases) and
    the records the audit log's person filter finds."""
    from rehab_net import access
    from rehab_net.auth.operations import add_audit_subject, add_person_records
    from rehab_net.people import pages, views
    from rehab_net.people.operations import (
        case_codes_in,
        case_codes_of_person,
        codes_of_person,
        person_codes_in,
    )

    access.declare(app, views.PERMISSIONS)
    access.declare(app, pages.PERMISSIONS)
    api.register_blueprint(views.blp)
    app.register_blueprint(pages.bp)
    add_audit_subject("person", person_codes_in)
    add_audit_subject("case", case_codes_in)
    add_person_records("person", codes_of_person)
    add_person_records("case", case_codes_of_person)
