"""Does a response match what /api/v1/openapi.json says of it? schemathesis's own checks (status
code, content type, headers, body schema), collected as text instead of raised, so a fuzz run
reports every violation it met rather than the first."""
from __future__ import annotations

from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


def violations(case, response) -> list[str]:
    """Each way `response` breaks the description of `case`'s operation, one line each."""
    try:
        case.validate_response(response, checks=CHECKS)
    except FailureGroup as group:
        return [_line(f) for f in group.exceptions]
    except Failure as failure:
        return [_line(failure)]
    return []


def _line(failure: Failure) -> str:
    return f"{failure.title}: {' '.join(failure.message.split())[:300]}"
