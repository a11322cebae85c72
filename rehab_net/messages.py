"""Coded messages: a refusal is a stable code plus parameters, not a sentence to re-match.

Each package lists its codes in its own ``messages.py`` (``define({code: N_("English msgid")})``).
The API speaks English: ``message(code, **params)`` is a ``str`` holding the English text, so
problem bodies, logs and the command line read as before. It also keeps its code and parameters,
so the problem body names them and a page shows ``translate(text)``, the same message from the
catalogue in the user's language.

``N_`` only marks a msgid for extraction (tools/translations.sh passes ``-k N_``); it translates
nothing, because the English text is the API's and the page translates at render time.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import has_request_context
from flask_babel import gettext

from rehab_net.vocab import label

CATALOGUE: dict[str, str] = {}

# Parameters that are vocabulary values (a category, a tier, a state): pages show their label.
LABELLED_PARAMS = frozenset({"category", "tier", "state", "status", "level", "priority"})
# Labels of parameters from packages above this one (auth's roles): name -> value -> label.
PARAM_LABELS: dict[str, Callable[[str], str]] = {}


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention for "extract, do not translate"
    return msgid


def define(entries: dict[str, str]) -> None:
    """Register codes; a code keeps one msgid (two packages choosing the same code is a bug)."""
    for code, msgid in entries.items():
        if CATALOGUE.get(code, msgid) != msgid:
            raise ValueError(f"message code {code} is defined twice")
        CATALOGUE[code] = msgid


class Message(str):
    """English text (what ``str`` and JSON see) that knows its code and parameters."""

    code: str
    params: dict

    def __new__(cls, code: str, /, **params):
        msgid = CATALOGUE[code]
        self = super().__new__(cls, msgid % params if params else msgid)
        self.code, self.params = code, params
        return self

    def translated(self) -> str:
        """The message in the request's language (English outside a request)."""
        if not has_request_context():
            return str(self)
        return gettext(CATALOGUE[self.code],
                       **{k: _shown(k, v) for k, v in self.params.items()})

    def format(self, *args, **kwargs):
        """marshmallow's validators ``.format()`` their error (``validate.Regexp(...,
        error=message(code))``); a coded message has %-placeholders only, so it stays itself."""
        return self if "{" not in self else str.format(self, *args, **kwargs)

    def __reduce__(self):  # pickles (RQ jobs) keep the code
        return (_rebuild, (self.code, self.params))


def _shown(name: str, value):
    """A parameter as a page shows it: a vocabulary value by its label, a message translated."""
    if name in PARAM_LABELS:
        return PARAM_LABELS[name](value)
    if name in LABELLED_PARAMS:
        return label(value)
    return translate(value)


def _rebuild(code: str, params: dict) -> Message:
    return Message(code, **params)


def message(code: str, /, **params) -> Message:
    return Message(code, **params)


def coded(text, /, **params):
    """``text`` as a Message when it is a code of the catalogue, else unchanged (a rule that has
    no code yet, e.g. marshmallow's own)."""
    if isinstance(text, str) and not isinstance(text, Message) and text in CATALOGUE:
        return Message(text, **params)
    if params:  # parameters for a text that is no code: a mistyped code
        raise KeyError(f"no message code {text!r}")
    return text


def code_of(text) -> str | None:
    return getattr(text, "code", None)


def params_of(text) -> dict:
    return dict(getattr(text, "params", None) or {})


def translate(text):
    """A coded message in the user's language; anything else as it is."""
    return text.translated() if isinstance(text, Message) else text


# The app-wide codes (errors, listing, paging): the modules below every package raise them.
define({
    "request.changed_meanwhile": N_("Someone else changed this record at the same time; reload "
                                    "it."),
    "request.db_conflict": N_("The change conflicts with existing data (a unique or reference "
                              "rule of the database)."),
    "request.value_unstorable": N_("A value in the request cannot be stored."),
    "request.no_such_resource": N_("No such resource."),
    "request.log_in_first": N_("Log in first."),
    # rehab_net/states.py: a workflow step the state does not allow, or a race lost
    "state.refused": N_("%(article)s %(noun)s that is %(state)s cannot be %(done)s."),
    "state.is": N_("is %(state)s"),
    "state.raced": N_("Someone else changed this %(noun)s first: it is now %(state)s."),
    "state.is_now": N_("is now %(state)s"),
    "request.not_found": N_("There is no %(what)s %(id)s."),
    "request.sort_unknown": N_("Cannot sort by that."),
    "request.sort_unknown_rule": N_("'%(name)s' is not sortable; use %(columns)s"),
    "request.code_unknown": N_("%(code)s does not exist"),
    "request.page_out_of_range": N_("The page number is out of range."),
    "field.code_format": N_("must be 1-32 characters of A-Z a-z 0-9 _ -"),
    "field.nul": N_("must not contain NUL characters"),
})
