"""rehab-net: the rehabilitation referral and service-network scheduler."""
from __future__ import annotations

import logging

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
    from rehab_net import i18n

    i18n.init_app(app)
    from rehab_net import auth

    auth.init_app(app)
    from rehab_net import referrals

    referrals.init_app(app)  # staff also read the persons of their referrals
    from rehab_net.openapi import RehabApi

    api = RehabApi(app)
    from rehab_net.auth.pages import bp as auth_pages
    from rehab_net.auth.views import blp as auth_api
    from rehab_net.booking.pages import bp as booking_pages
    from rehab_net.booking.views import blp as booking_api
    from rehab_net.network.views import blp as network_api
    from rehab_net.pages import bp as pages
    from rehab_net.people.pages import bp as people_pages
    from rehab_net.people.views import blp as people_api
    from rehab_net.planning.pages import bp as scenario_pages
    from rehab_net.planning.views import blp as planning_api
    from rehab_net.planning.views import pages as planning_pages
    from rehab_net.referrals.pages import bp as referral_pages
    from rehab_net.referrals.views import blp as referrals_api
    from rehab_net.reports.views import blp as reports_api
    from rehab_net.reports.views import pages as report_pages

    for blueprint in (reports_api, auth_api, network_api, people_api, planning_api, referrals_api,
                      booking_api):
        # The API takes bearer tokens only, never the session cookie: CSRF cannot apply.
        auth.csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    for blueprint in (report_pages, auth_pages, pages, people_pages, planning_pages, scenario_pages,
                      referral_pages, booking_pages):
        app.register_blueprint(blueprint)
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
