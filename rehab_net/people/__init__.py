"""Persons and their cases: registration, resident identifiers, priorities."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """A region's auditors read the events about its persons and cases."""
    from rehab_net.auth.operations import add_audit_subject
    from rehab_net.people.operations import case_codes_in, person_codes_in

    add_audit_subject("person", person_codes_in)
    add_audit_subject("case", case_codes_in)
