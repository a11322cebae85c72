"""The codes of the auth refusals (users, grants, tokens, the guard) and their English msgids
(rehab_net/messages.py)."""
from __future__ import annotations

from rehab_net.auth.labels import role_label
from rehab_net.messages import N_, PARAM_LABELS, define

PARAM_LABELS["role"] = role_label

define({
    "auth.password_short": N_("must be at least %(min)s characters"),
    "auth.password_spaces": N_("must not begin or end with spaces"),
    "auth.user_not_found": N_("There is no user %(username)s."),
    "auth.user_exists": N_("User %(username)s exists already."),
    "auth.role_unknown": N_("must be one of %(roles)s"),
    "auth.facility_role_place": N_("a %(role)s is granted at a facility: give its code"),
    "auth.facility_unknown": N_("facility %(code)s does not exist"),
    "auth.coordinator_place": N_("a coordinator works at a centre or designated institution"),
    "auth.clinic_place": N_("clinic staff work at a station or a clinic"),
    "auth.region_unknown": N_("region %(code)s does not exist"),
    "auth.grant_self": N_("Nobody grants a role to themselves: ask another administrator."),
    "auth.grant_outside_region": N_("is outside the region you administer"),
    "auth.grant_network_admin_only": N_("only an administrator of the whole network grants this "
                                        "role"),
    "auth.grant_exists": N_("%(username)s holds that role there already."),
    "auth.grant_not_found": N_("%(username)s has no grant %(id)s."),
    "auth.revoke_own_admin": N_("You cannot take away your own administrator role."),
    "auth.take_over_personal_data": N_("Only an administrator of the whole network sets the "
                                       "password of a user who reads personal data."),
    "auth.token_not_found": N_("You have no token %(id)s."),
    "auth.token_needed": N_("Send a personal API token: Authorization: Bearer <token>."),
    "auth.no_permission_declared": N_("This endpoint declares no permission."),
    "auth.permission_missing": N_("Your roles do not include %(permission)s."),
    "auth.action_unknown": N_("unknown action"),
    "auth.too_many_logins": N_("Too many failed logins. Try again later."),
    "auth.login_failed": N_("Wrong username or password."),
    "auth.username_format": N_("2-64 characters: lower-case letters, digits, . _ -, starting "
                               "with a letter or digit"),
    "auth.reveal_reason": N_("give the reason for seeing the full number (5-500 characters)"),
})
