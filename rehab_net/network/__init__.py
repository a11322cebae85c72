"""The service network: regions, facilities, services and their capacities."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from rehab_net.openapi import RehabApi


def init_app(app: Flask, api: RehabApi) -> None:
    """The network's API and the permissions of its endpoints."""
    from rehab_net import access
    from rehab_net.network import views

    access.declare(app, views.PERMISSIONS)
    api.register_blueprint(views.blp)
