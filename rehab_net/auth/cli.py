"""`rehab-net users ...`: manage accounts from the command line (the first admin, scripts), and
the demo accounts `make run` creates on the sample region."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from rehab_net.db import get_session, transactional
from rehab_net.errors import DomainError

# Demo accounts on the sample region: (username, name, role, place code or None).
DEMO_USERS = (
    ("coordinator", "王协调 (demo)", "coordinator", "CT001"),
    ("station", "李站长 (demo)", "clinic", "ST0001"),
    ("clinic", "赵医生 (demo)", "clinic", "CL00001"),
    ("planner", "张规划 (demo)", "planner", None),
    ("district-planner", "刘规划 (demo)", "planner", "150781"),
    ("admin", "陈管理 (demo)", "admin", None),
    ("auditor", "周审计 (demo)", "auditor", None),
)
DEMO_PASSWORD_SUFFIX = "-demo-2026"


def _fail(exc: DomainError) -> None:
    for e in exc.errors or [{"field": "", "rule": exc.detail}]:
        prefix = f"{e['field']}: " if e.get("field") else ""
        click.echo(f"error: {prefix}{e['rule']}", err=True)
    sys.exit(2)


@click.group()
def users():
    """Accounts and role grants."""


@users.command(name="create")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="The person's name.")
@click.option("--role", "roles", multiple=True, metavar="ROLE[@PLACE]",
              help="e.g. admin, planner@150702, clinic@ST150702001 (repeatable).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Prompted for when not given (use REHAB_... secrets, never shell history).")
@with_appcontext
def create(username, display_name, roles, password):
    """Create a user with roles."""
    from rehab_net.auth import audit
    from rehab_net.auth import operations as ops

    session = get_session()
    try:
        with audit.acting_as("system:cli"), transactional(session):
            user = ops.create_user(session, username=username, display_name=display_name,
                                   password=password)
            for spec in roles:
                role, _, place = spec.partition("@")
                ops.grant(session, user, role, place or None)
    except DomainError as exc:  # rolled back
        _fail(exc)
    click.echo(f"created {user.username} with {', '.join(roles) or 'no roles'}")


@users.command(name="grant")
@click.argument("username")
@click.argument("role_at_place", metavar="ROLE[@PLACE]")
@with_appcontext
def grant(username, role_at_place):
    """Grant a role at a place."""
    from rehab_net.auth import audit
    from rehab_net.auth import operations as ops

    session = get_session()
    role, _, place = role_at_place.partition("@")
    try:
        with audit.acting_as("system:cli"), transactional(session):
            ops.grant(session, ops.get_user(session, username), role, place or None)
    except DomainError as exc:  # rolled back
        _fail(exc)
    click.echo(f"granted {role_at_place} to {username}")


@users.command(name="list")
@with_appcontext
def list_():
    """Users and their roles."""
    from rehab_net.auth import operations as ops

    for user in get_session().scalars(ops.list_users()):
        places = ", ".join(f"{g.role}@{(g.facility or g.region).code}" if (g.facility or g.region)
                           else g.role for g in user.grants)
        state = "" if user.active else " (deactivated)"
        click.echo(f"{user.username:<20} {places}{state}")


@users.command(name="demo")
@with_appcontext
def demo():
    """Create the demo accounts on the sample region (demo mode only) and print their logins."""
    from flask import current_app
    from sqlalchemy import select

    from rehab_net.auth import audit
    from rehab_net.auth import operations as ops
    from rehab_net.auth.models import User

    if not current_app.config["DEMO_MODE"]:
        click.echo("error: demo accounts exist only in demo mode (REHAB_DEMO_MODE=true)", err=True)
        sys.exit(2)
    session = get_session()
    click.echo("demo logins (synthetic data; demo mode only):")
    with audit.acting_as("system:demo"), transactional(session):
        for username, name, role, place in DEMO_USERS:
            password = username + DEMO_PASSWORD_SUFFIX
            if session.scalar(select(User.id).where(User.username == username)) is None:
                try:
                    user = ops.create_user(session, username=username, display_name=name,
                                           password=password)
                    ops.grant(session, user, role, place)
                except DomainError as exc:  # the sample region is not loaded (rolled back)
                    _fail(exc)
            click.echo(f"  {username:<17} / {password:<28} {role}@{place or 'whole network'}")


@users.command(name="token")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
@click.option("--days", type=click.IntRange(1, 366), default=90, show_default=True)
@with_appcontext
def token(username, name, days):
    """Create an API token for a user and print it (once; only its hash is kept)."""
    from datetime import timedelta

    from rehab_net.auth import audit
    from rehab_net.auth import operations as ops
    from rehab_net.db import utcnow

    session = get_session()
    try:
        with audit.acting_as("system:cli"), transactional(session):
            _t, plain = ops.create_token(session, ops.get_user(session, username), name,
                                         utcnow() + timedelta(days=days))
    except DomainError as exc:  # rolled back
        _fail(exc)
    click.echo(plain)


@click.group()
def keys():
    """The personal-data encryption keys (REHAB_DATA_KEYS)."""


@keys.command(name="status")
@with_appcontext
def keys_status():
    """How many stored identifiers each key id encrypts."""
    from rehab_net import protection

    usage = protection.key_usage(get_session().connection())
    click.echo(f"current key: {protection.keyring().current}")
    for kid, n in sorted(usage.items()):
        click.echo(f"  {kid}: {n} value(s)")


@keys.command(name="rotate")
@with_appcontext
def keys_rotate():
    """Re-encrypt every identifier under the current (first) key, in one transaction."""
    from rehab_net import protection
    from rehab_net.auth import audit

    session = get_session()
    try:
        with transactional(session):
            changed = protection.reencrypt(session.connection())
            audit.record(session, "update", "encryption_keys", protection.keyring().current,
                         detail={"reencrypted": changed}, actor="system:cli")
    except protection.KeyError_ as exc:  # rolled back
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"re-encrypted {changed} value(s) under key {protection.keyring().current}")
