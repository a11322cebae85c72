"""rehab-net: the rehabilitation referral and service-network scheduler.

The app factory lives in rehab_net/app.py and is imported on first use
(`from rehab_net import create_app`, `gunicorn "rehab_net:create_app()"` keep working), so that
importing a light module of the package, such as the `rehab-net` entry point, does not import
Flask, SQLAlchemy and marshmallow (~0.7 s): `rehab-net solve` needs none of them."""
from __future__ import annotations

_FROM_APP = ("create_app", "RehabFlask", "CONTENT_SECURITY_POLICY")


def __getattr__(name: str):
    if name in _FROM_APP:
        from rehab_net import app

        return getattr(app, name)
    raise AttributeError(f"module 'rehab_net' has no attribute {name!r}")
