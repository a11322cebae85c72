"""People and permissions: users, roles scoped to places, API tokens, sessions, CSRF, the audit
log, and the keys that protect personal data."""
from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from rehab_net import errors, protection, scheduler
from rehab_net.config import DEFAULT_SQLITE_PATH

if TYPE_CHECKING:
    from rehab_net.openapi import RehabApi

csrf = CSRFProtect()
SECRET_SETTINGS = ("SECRET_KEY", "DATA_KEYS", "INDEX_KEY")


def load_secrets(config: dict, instance_path: str) -> None:
    """Fill empty secrets. In demo mode they are generated once into instance/secrets.json (mode
    0600) so `make run` needs no set-up and data stays readable across restarts; outside demo mode
    a missing secret stops the app (REHAB_SECRET_KEY, REHAB_DATA_KEYS, REHAB_INDEX_KEY)."""
    missing = [k for k in SECRET_SETTINGS if not config.get(k)]
    if not missing:
        return
    if not config.get("DEMO_MODE"):
        raise RuntimeError("missing secret settings: "
                           + ", ".join(f"REHAB_{k}" for k in missing)
                           + " (see docs/security.md)")
    path = Path(instance_path) / "secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    generated = {"SECRET_KEY": secrets.token_urlsafe(32),
                 "DATA_KEYS": f"demo1:{protection.new_key()}",
                 "INDEX_KEY": protection.new_key()}
    if any(k not in stored for k in SECRET_SETTINGS):
        stored = {**generated, **stored}
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(stored, f)
    for key in missing:
        config[key] = stored[key]


def init_app(app: Flask, api: RehabApi) -> None:
    """Secrets, sessions, CSRF, the audit log and the guard; the accounts' API and pages, the
    `rehab-net users|keys` commands, and the permissions of their endpoints."""
    from rehab_net import access
    from rehab_net.auth import audit, guard, labels, pages, views
    from rehab_net.auth.cli import keys, users

    load_secrets(app.config, str(DEFAULT_SQLITE_PATH.parent))
    protection.configure(protection.Keyring.parse(app.config["DATA_KEYS"],
                                                  app.config["INDEX_KEY"]))
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["SESSION_MAX_HOURS"])
    secure = str(app.config.get("SESSION_COOKIE_SECURE", "")).lower()
    app.config["SESSION_COOKIE_SECURE"] = (secure in ("1", "true", "yes") if secure
                                           else not app.config.get("DEMO_MODE"))
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the session's own expiry bounds it
    csrf.init_app(app)
    audit.install(app.extensions["rehab_sessionmaker"])
    errors.on_refusal(app, audit.record_refusal)  # refusals leave their audit events
    scheduler.run_jobs_within(app, lambda job: audit.acting_as(f"system:scheduler:{job.id}"))
    guard.init_app(app)
    labels.register(app)
    access.declare(app, views.PERMISSIONS)
    access.declare(app, pages.PERMISSIONS)
    api.register_blueprint(views.blp)
    app.register_blueprint(pages.bp)
    app.cli.add_command(users)
    app.cli.add_command(keys)
