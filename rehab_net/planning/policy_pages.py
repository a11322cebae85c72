"""The policy page: the weights new plans use, and the form a planner changes them with (the
API's PUT /api/v1/policy: the same schema, the same operation, the same version check).
templates/planning/policy.html."""
from __future__ import annotations

import math

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError, fields, validate

from rehab_net import access
from rehab_net.db import get_session, transactional
from rehab_net.messages import message
from rehab_net.planning import operations as ops
from rehab_net.planning.exports import POLICY_KEYS, flat_policy, policy_label
from rehab_net.planning.schemas import UpdatePolicySchema
from rehab_net.policy import current_policy

bp = Blueprint("policy_pages", __name__)

# endpoint -> permission (rehab_net/access.py; the guard refuses an endpoint not declared).
# Declared by init_app.
PERMISSIONS: dict[str, access.Rule] = {
    "policy_pages.policy_page": "plan.read",
    "policy_pages.save_policy": "policy.write",
}


def form_name(key: str) -> str:
    """A weight's form field: "priority_weights.child" -> "priority_weights-child"."""
    return key.replace(".", "-")


def _field_of(key: str) -> fields.Field:
    group, _dot, member = key.partition(".")
    field = UpdatePolicySchema().fields[group]
    return field.schema.fields[member] if member else field


def allowed_range(key: str) -> tuple[float, float, bool]:
    """(low, high, low included) of a weight, read from the API's schema (one definition)."""
    rule = next(v for v in _field_of(key).validators if isinstance(v, validate.Range))
    return rule.min, rule.max, rule.min_inclusive


def _range_hint(key: str) -> str:
    low, high, included = allowed_range(key)
    shown = {"lo": f"{low:g}", "hi": f"{high:g}"}
    if included:
        return _("From %(lo)s to %(hi)s.", **shown)
    return _("More than %(lo)s, up to %(hi)s.", **shown)


def _nested(flat: dict[str, float]) -> dict:
    out: dict = {}
    for key, value in flat.items():
        group, _dot, member = key.partition(".")
        if member:
            out.setdefault(group, {})[member] = value
        else:
            out[group] = value
    return out


def _render(policy, form: dict[str, str], errors: dict[str, str], status: int = 200):
    weights = [{"key": key, "name": form_name(key), "label": policy_label(key),
                "hint": _range_hint(key), "value": form.get(key, "")} for key in POLICY_KEYS]
    return render_template("planning/policy.html", policy=policy, weights=weights,
                           errors=errors, version=policy.version), status


@bp.get("/policy")
def policy_page():
    policy = current_policy(get_session())
    shown = {k: f"{v:g}" for k, v in flat_policy(policy.values)}
    return _render(policy, shown, {})


@bp.post("/policy")
def save_policy():
    """Replace the weights (every one, as the API's PUT). A form opened before someone else saved
    is refused (409) with the weights now in force, so nobody overwrites a change unseen."""
    session = get_session()
    policy = current_policy(session)
    form = {key: request.form.get(form_name(key), "").strip() for key in POLICY_KEYS}
    errors: dict[str, str] = {}
    if request.form.get("version", "") != str(policy.version):
        flash(str(message("request.changed_meanwhile").translated()), "error")
        return policy_page()[0], 409
    numbers = {}
    for key, text in form.items():
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            errors[form_name(key)] = _("Enter a number.")
            continue
        if not math.isfinite(number):
            errors[form_name(key)] = _("Enter a number.")
            continue
        numbers[key] = number
    if not errors:
        try:
            values = UpdatePolicySchema().load(_nested(numbers))
        except ValidationError as err:
            for group, problem in err.messages.items():
                inner = problem if isinstance(problem, dict) else {None: problem}
                for member in inner:
                    key = f"{group}.{member}" if member else group
                    errors[form_name(key)] = _("This value is outside the weight's allowed "
                                               "range.") + " " + _range_hint(key)
    if errors:
        return _render(policy, form, errors, 422)
    with transactional(session):
        ops.update_policy(session, policy, values)
    flash(_("The weights are saved; plans started from now on use them."), "success")
    return redirect(url_for("policy_pages.policy_page"), code=303)
