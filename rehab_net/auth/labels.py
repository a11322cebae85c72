"""How roles, audit actions and the places of grants read in the UI, in the page's language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "coordinator": _l("Centre coordinator"),
    "clinic": _l("Station / clinic staff"),
    "planner": _l("Planner"),
    "admin": _l("Administrator"),
    "auditor": _l("Auditor"),
}
ACTION_LABELS = {
    "read": _l("read a record"), "list": _l("listed records"), "reveal": _l("revealed an ID"),
    "create": _l("created"), "update": _l("changed"), "delete": _l("deleted"),
    "import": _l("imported"), "export": _l("exported"), "login": _l("logged in"),
    "login_failed": _l("failed login"), "logout": _l("logged out"),
    "token_create": _l("created a token"), "token_revoke": _l("revoked a token"),
    "grant": _l("granted a role"), "revoke": _l("took a role away"),
    "duplicate_id": _l("tried to register an ID number twice"),
}


# What the audit log's records are (object_type), in words; an unknown type shows as stored.
OBJECT_LABELS = {
    "person": _l("person"), "case": _l("case"), "referral": _l("referral"),
    "referral_attachment": _l("referral attachment"), "notification": _l("notification"),
    "appointment": _l("appointment"), "slot": _l("slot"), "waitlist_entry": _l("waitlist entry"),
    "practitioner": _l("practitioner"), "schedule_rule": _l("schedule rule"),
    "schedule_exception": _l("leave or closure"), "facility": _l("facility"),
    "region": _l("region"), "service": _l("service"), "capacity": _l("capacity"),
    "user": _l("user account"), "api_token": _l("API token"), "grant": _l("role grant"),
    "plan": _l("plan"), "scenario": _l("scenario"), "quarterly_report": _l("quarterly report"),
    "audit_event": _l("audit log"), "files": _l("import files"),
    "encryption_keys": _l("encryption keys"),
    "certificate": _l("disability certificate"), "certificate_event": _l("certificate history"),
}


CLI = _l("command line")  # system:cli, what a `rehab-net` command did


def object_label(object_type: str | None) -> str:
    return str(OBJECT_LABELS.get(object_type, object_type or ""))


def actor_label(actor: str | None) -> str:
    """Who did it: a username as it is; the system (a job, a command, another module's step) in
    words: "system", "system:cli", "system:<job id>"."""
    if not actor or actor == "system":
        return str(_l("the system"))
    if actor.startswith("system:"):
        what = actor.removeprefix("system:")
        return str(_l("the system (%(what)s)", what=str(CLI) if what == "cli" else what))
    return actor


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def place_label(grant) -> str:
    from rehab_net.i18n import local_name

    thing = grant.facility or grant.region
    if thing is None:
        return str(_l("the whole network"))
    return f"{local_name(thing)} ({thing.code})"


def register(app) -> None:
    app.jinja_env.globals.update(role_label=role_label, action_label=action_label,
                                 place_label=place_label, object_label=object_label,
                                 actor_label=actor_label)
    app.jinja_env.filters["role_option"] = lambda r: (r, role_label(r))
    app.jinja_env.filters["action_option"] = lambda a: (a, action_label(a))

    from rehab_net.i18n import local_name
    from rehab_net.vocab import label

    app.jinja_env.filters["category_option"] = lambda c: (c, label(c))
    app.jinja_env.filters["service_option"] = lambda s: (s.code, f"{local_name(s)} ({s.code})")
