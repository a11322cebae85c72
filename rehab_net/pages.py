"""Server-rendered pages of the app edge: the start page (the network and its people at a
glance) and what every page shares (the tiers for the templates). The network's own pages are
rehab_net/network/pages.py. They follow the UI's rules: one language at a time (zh-CN by default,
English by choice; see i18n.py), landmarks, captions, no assets from the internet."""
from __future__ import annotations

from flask import Blueprint, Flask, render_template

from rehab_net import access
from rehab_net.clock import today
from rehab_net.db import get_session
from rehab_net.network import operations as network
from rehab_net.people import operations as people
from rehab_net.vocab import TIERS

bp = Blueprint("pages", __name__)

# endpoint -> permission, or {method: permission} (rehab_net/access.py; the guard refuses
# an endpoint not declared). Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "pages.index": "network.read",
}


@bp.app_context_processor
def _labels():
    # Labels in the page's language come from the `label` global (i18n.init_app).
    return {"tiers": TIERS}


@bp.get("/")
def index():
    session = get_session()
    return render_template("network/index.html", summary=network.summary(session),
                           counts=people.counts(session, today()), today=today())


def init_app(app: Flask, api: object = None) -> None:
    """The start page and the permissions of its endpoint (no API of its own)."""
    access.declare(app, PERMISSIONS)
    app.register_blueprint(bp)
