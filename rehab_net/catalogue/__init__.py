"""The national basic rehabilitation service catalogue as data, and what each case received
against it: above booking (it reads attended appointments and accepted referrals), below
planning. docs/catalogue.md."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from rehab_net.openapi import RehabApi


def init_app(app: Flask, api: RehabApi) -> None:
    """The catalogue's API and pages, the permissions of their endpoints and the catalogue
    section of the case page (the import is `rehab-net import catalogue`, rehab_net/cli.py)."""
    from rehab_net import access
    from rehab_net.catalogue import messages as _messages  # noqa: F401 - registers the codes
    from rehab_net.catalogue import pages, views
    from rehab_net.people.pages import add_case_section

    access.declare(app, views.PERMISSIONS)
    access.declare(app, pages.PERMISSIONS)
    api.register_blueprint(views.blp)
    app.register_blueprint(pages.bp)
    add_case_section("catalogue", pages.case_section)
