"""Where a user-supplied "go back to" value (the login's and the language switch's ``next``) may
send the browser: only a path on this site.

Browsers are lenient: they drop tabs and newlines inside a URL (``/\\t/evil.example`` becomes
``//evil.example``, another host), read ``\\`` as ``/``, and some servers and proxies decode
``%2F`` or fold full-width ``／`` into ``/``. So the rule is an allow-list, checked on the value as
given and on every percent-decoded form of it; anything doubtful goes to the default."""
from __future__ import annotations

import unicodedata
from typing import TypeVar
from urllib.parse import quote, unquote, urlsplit

MAX_LENGTH = 2000
_DECODE_ROUNDS = 3  # %25252F is still a slash to a careless decoder; deeper than that is refused
# Printable ASCII stays as it is; anything else (after the checks, only letters and digits of
# other scripts) is percent-encoded, so the Location header is plain ASCII.
_ASCII_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))

D = TypeVar("D")


def safe_redirect_target(value: object, default: D) -> str | D:
    """``value`` if it is a relative path on this site ("/...", query and fragment allowed),
    else ``default``."""
    if not isinstance(value, str) or not value or len(value) > MAX_LENGTH:
        return default
    if not value.startswith("/") or value.startswith("//"):
        return default
    if any(c.isspace() for c in value):  # raw whitespace is never part of a URL we make
        return default
    forms = [value]
    for _ in range(_DECODE_ROUNDS):
        decoded = unquote(forms[-1])
        if decoded == forms[-1]:
            break
        forms.append(decoded)
    else:
        if unquote(forms[-1]) != forms[-1]:
            return default  # encoded more deeply than anything this app makes
    if not all(_plain(form) for form in forms):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return quote(value, safe=_ASCII_SAFE)


def _plain(form: str) -> bool:
    """No character a browser or server could read as a separator, and a path without empty or
    dot segments (so nothing normalises to "//host")."""
    for c in form:
        if c == "\\" or (unicodedata.category(c)[0] in "CZ" and c != " "):
            return False  # backslash, controls (C0, DEL, C1), format characters, line breaks
        if ord(c) > 0x7F and unicodedata.normalize("NFKC", c) != c:
            return False  # full-width ／ ＼ ： and the like fold into ASCII
    path = form.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/") or " " in path:
        return False
    segments = path.split("/")[1:]
    return all(s not in ("", ".", "..") for s in segments[:-1]) and segments[-1] not in (".", "..")
