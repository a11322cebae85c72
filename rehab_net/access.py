"""Which permission each endpoint needs, and who is asking: the registry below every module.

Each module declares the permissions of its endpoints beside its routes (a ``PERMISSIONS`` dict
in the module that defines them) and its ``init_app`` hands them to ``declare``. auth's guard
(rehab_net/auth/guard.py) reads the table before every request and refuses an endpoint nobody
declared (fail closed); tests/test_permissions.py checks every route of the app is declared.

This module sits with the infrastructure so that modules below auth (network) can declare
permissions and read the current principal without importing auth; auth's guard puts the
principal on ``flask.g``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from flask import Flask, current_app, g

from rehab_net.errors import Forbidden

PUBLIC = "public"  # anyone, logged in or not (the login page, the stylesheet)
SELF_SERVICE = "self"  # any logged-in user: their own account

# An endpoint's rule: a permission (or PUBLIC / SELF_SERVICE), or {method: permission}.
# HEAD and OPTIONS count as GET.
Rule = str | Mapping[str, str]

_EXTENSION = "rehab_permissions"


class Principal(Protocol):
    """Who is asking (auth.principal.Principal): what they may do, and where."""

    def can(self, permission: str) -> bool: ...

    def scope(self, permission: str) -> Any: ...


def declare(app: Flask, permissions: Mapping[str, Rule]) -> None:
    """Add endpoint -> rule entries to the app's table. Declaring an endpoint again with the same
    rule is harmless; with another rule it is a mistake."""
    table = app.extensions.setdefault(_EXTENSION, {})
    for endpoint, rule in permissions.items():
        if table.get(endpoint, rule) != rule:
            raise ValueError(f"endpoint {endpoint!r} is already declared as {table[endpoint]!r}")
        table[endpoint] = rule


def table(app: Flask | None = None) -> Mapping[str, Rule]:
    """Every declared endpoint and its rule."""
    return (app or current_app).extensions.get(_EXTENSION, {})


def is_public(endpoint: str) -> bool:
    return table().get(endpoint) == PUBLIC


def required_permission(endpoint: str, method: str) -> str | None:
    """The permission a request needs; None when the endpoint (or method) was never declared."""
    rule = table().get(endpoint)
    if isinstance(rule, Mapping):
        return rule.get("GET" if method in ("HEAD", "OPTIONS") else method)
    return rule


def current_principal() -> Principal | None:
    """The user behind the current request, as auth's guard found them (None: nobody)."""
    return g.get("user")


def scope(permission: str) -> Any:
    """The current principal's scope of a permission (auth.permissions.Scope). Only for views the
    guard let through; without a principal it refuses rather than guess."""
    user = current_principal()
    if user is None:
        raise Forbidden("request.log_in_first")
    return user.scope(permission)
