"""Responses a browser saves as a file: the one Content-Disposition of the app."""
from __future__ import annotations

import unicodedata
from urllib.parse import quote


def safe_filename(name: str, fallback: str) -> str:
    """`name` without control characters (they cannot go into a header), else `fallback`."""
    cleaned = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return cleaned or fallback


def attachment(filename: str) -> dict[str, str]:
    """The header that makes a response a download named `filename` (RFC 6266): an ASCII name
    for old clients and, when the name is not plain ASCII (a Chinese report title), the name
    itself as UTF-8 in ``filename*``."""
    name = safe_filename(filename, "download")
    ascii_name = name.encode("ascii", "ignore").decode().replace('"', "").replace("\\", "")
    value = f'attachment; filename="{ascii_name or "download"}"'
    if ascii_name != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return {"Content-Disposition": value}
