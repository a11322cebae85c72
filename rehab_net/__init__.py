"""rehab-net: the rehabilitation referral and service-network scheduler."""
from __future__ import annotations

import logging

from flask import Flask, request
from flask_smorest import Api

from rehab_net import db, errors
from rehab_net.config import Config

PERSONAL_PATHS = ("/api/v1/persons", "/api/v1/cases", "/persons", "/cases")


def create_app(config: type[Config] | dict | None = None) -> Flask:
    app = Flask(__name__)
    if config is None:
        app.config.update(Config.from_env())
    elif isinstance(config, dict):
        app.config.update(Config.from_env())
        app.config.update(config)
    else:
        app.config.from_object(config)
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "WARNING"))

    db.init_app(app)
    api = Api(app)
    from rehab_net.network.views import blp as network_api
    from rehab_net.pages import bp as pages
    from rehab_net.people.views import blp as people_api
    from rehab_net.planning.views import blp as planning_api
    from rehab_net.planning.views import pages as planning_pages

    api.register_blueprint(network_api)
    api.register_blueprint(people_api)
    api.register_blueprint(planning_api)
    app.register_blueprint(pages)
    app.register_blueprint(planning_pages)
    errors.register(app)  # after Api: our problem+json handlers replace flask-smorest's

    @app.after_request
    def _security_headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        resp.headers.setdefault("Content-Security-Policy",
                                "default-src 'self'; frame-ancestors 'none'; object-src 'none'")
        if request.path.startswith(PERSONAL_PATHS):  # personal data is never cached
            resp.headers["Cache-Control"] = "no-store"
        return resp

    return app
