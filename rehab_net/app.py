"""The app factory: create_app() builds the Flask app (re-exported as rehab_net.create_app)."""
from __future__ import annotations

import logging

import flask_smorest
from flask import Flask, request

from rehab_net import db, errors
from rehab_net.config import Config

# Scripts and styles only from files the app serves: no inline script, no CDN.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data:; form-action 'self'; base-uri 'none'; "
                           "frame-ancestors 'none'; object-src 'none'")


class RehabFlask(Flask):
    def dispatch_request(self):
        """Commit once, at the edge: every view runs in one transaction, committed when it
        returns (a page that catches an error and renders it has rolled back itself) and rolled
        back when it raises (the error handlers then log a refusal in a transaction of their
        own). Before-request hooks run outside it (the token's last use: auth.guard)."""
        with db.transactional():
            return super().dispatch_request()


def create_app(config: type[Config] | dict | None = None) -> Flask:
    app = RehabFlask(__name__)
    if config is None:
        app.config.update(Config.from_env())
    elif isinstance(config, dict):
        app.config.update(Config.from_env())
        app.config.update(config)
    else:
        app.config.from_object(config)
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "WARNING"))
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)

    from rehab_net.converters import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route: ids bounded app-wide
    db.init_app(app)
    from rehab_net import access, i18n

    i18n.init_app(app)
    from rehab_net.openapi import RehabApi

    api = RehabApi(app)
    access.declare(app, {"static": access.PUBLIC, "api-docs.openapi_json": access.PUBLIC})
    from rehab_net import (
        auth,
        booking,
        catalogue,
        certificates,
        coverage,
        network,
        overview,
        pages,
        people,
        planning,
        referrals,
        reports,
    )

    # Each module registers its blueprints, commands, scheduler jobs and the permissions of its
    # endpoints; in the order of the layers (tests/test_import_order.py), which is also the order
    # of the API's tags and paths in the OpenAPI description.
    for module in (network, auth, people, certificates, referrals, booking, catalogue, planning,
                   reports, coverage, overview, pages):
        module.init_app(app, api)
    # The API takes bearer tokens only, never the session cookie: CSRF cannot apply.
    for blueprint in app.blueprints.values():
        if isinstance(blueprint, flask_smorest.Blueprint):
            auth.csrf.exempt(blueprint)
    errors.register(app)  # after Api: our problem+json handlers replace flask-smorest's

    @app.after_request
    def _security_headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        resp.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        resp.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.endpoint != "static":
            # Anything but the stylesheet may show personal data or a user's view: never cached.
            resp.headers["Cache-Control"] = "no-store"
        return resp

    return app
