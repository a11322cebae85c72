"""The referral rules a user meets on the pages, as English msgids (the domain and the API speak
English), so that extraction puts them in the catalogue and the pages show them in the user's
language. Rules that name a code are matched by pattern and re-filled in the translation."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from rehab_net.auth.pages import translate_rule

# Fixed rules of operations.create_referral and operations.transition (field_error rules).
RULES = (
    _l("say which of your facilities sends it"),
    _l("you do not work at that facility"),
    _l("must be another facility than the sender"),
    _l("an up-referral goes to a higher tier than the sender's"),
    _l("a down-referral goes to a lower tier than the sender's"),
    _l("a down-referral names the up-referral it answers"),
    _l("a down-referral carries the continued-rehab plan"),
    _l("must be an up-referral of the same case, received by the sending facility"),
    _l("only a down-referral answers another referral"),
    _l("choose why the referral is declined"),
    _l("give the reason"),
    _l("give your advice to the sender"),
    _l("record the outcome for the sender"),
)

# Rules with codes in them: (pattern of the English rule, the msgid with the same placeholders).
PATTERNS = (
    (re.compile(r"^facility (?P<code>\S*) does not exist$"),
     _l("facility %(code)s does not exist")),
    (re.compile(r"^facility (?P<code>\S*) is not open$"), _l("facility %(code)s is not open")),
    (re.compile(r"^(?P<code>\S+) does not offer (?P<service>\S+)$"),
     _l("%(code)s does not offer %(service)s")),
    (re.compile(r"^(?P<code>\S+) does not exist$"), _l("%(code)s does not exist")),
)


def translate(rule: str) -> str:
    """A domain rule in the page's language (as it is when the catalogue does not have it)."""
    for pattern, message in PATTERNS:
        match = pattern.match(rule or "")
        if match:
            return str(message) % match.groupdict()
    return translate_rule(rule)
