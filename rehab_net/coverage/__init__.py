"""Coverage against targets and the children's rescue ledger (issue 16, part 4): beside the
reports, above booking and planning (it reads cases, attended appointments and the reports'
export). docs/coverage.md."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from rehab_net.openapi import RehabApi


def init_app(app: Flask, api: RehabApi) -> None:
    """The coverage API and pages and the permissions of their endpoints; a malformed target or
    rescue rule in the configuration stops the start."""
    from rehab_net import access
    from rehab_net.coverage import pages, settings, views

    settings.check(app)
    access.declare(app, views.PERMISSIONS)
    access.declare(app, pages.PERMISSIONS)
    api.register_blueprint(views.blp)
    app.register_blueprint(pages.bp)
