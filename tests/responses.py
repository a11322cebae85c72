"""Reading what the app answered: a problem+json body and its field errors, the hidden fields
of a form."""
from __future__ import annotations

import re


def problem(resp, status):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["status"] == status and body["title"]
    return body


def fields_of(body):
    return {e["field"]: e["rule"] for e in body.get("errors", [])}


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def idempotency_key(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
