"""One error vocabulary for the whole app. Operations raise DomainError subclasses; the handlers
turn every failure into RFC 9457 problem+json under /api and a plain page elsewhere. The handlers
roll the session back, so a failed request leaves nothing half-written."""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, current_app, g, json, render_template, request
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    status = 400
    title = "Bad request"
    type_ = "about:blank"

    def __init__(self, detail: str, errors: list[dict] | None = None, headers: dict | None = None,
                 audit: list[dict] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}
        # Audit events the refusal itself must leave (keyword arguments of audit.record): the
        # handler writes them after the rollback, so the attempt is logged and nothing else is.
        self.audit = audit or []


class Forbidden(DomainError):
    status, title = 403, "Forbidden"


class NotFound(DomainError):
    status, title = 404, "Not found"


class Conflict(DomainError):
    status, title = 409, "Conflict"


class Invalid(DomainError):
    """Input broke a rule. `errors` names each field and rule: [{"field": ..., "rule": ...}]."""
    status, title = 422, "Unprocessable content"


class PreconditionFailed(DomainError):
    status, title = 412, "Precondition failed"


class PreconditionRequired(DomainError):
    status, title = 428, "Precondition required"


def flatten_messages(messages, prefix: str = "") -> list[dict]:
    """marshmallow's nested {"field": ["msg"]} into [{"field": "a.b", "rule": "msg"}]."""
    out: list[dict] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_messages(value, path))
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            out.extend({"field": prefix or "_schema", "rule": m} for m in messages)
        else:
            for i, m in enumerate(messages):
                out.extend(flatten_messages(m, f"{prefix}[{i}]"))
    else:
        out.append({"field": prefix or "_schema", "rule": str(messages)})
    return out


def _webargs_errors(data: dict) -> list[dict]:
    """webargs reports {"json": {...}, "query": {...}}; keep where the field was as `in`."""
    errors = []
    for location, messages in (data.get("messages") or {}).items():
        for e in flatten_messages(messages):
            errors.append({"in": location, **e})
    return errors


def problem(status: int, title: str, detail: str = "", errors=None, headers=None) -> Response:
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    resp = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _wants_problem() -> bool:
    return request.path.startswith("/api/")


def _rollback() -> None:
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def on_refusal(app: Flask, recorder: Callable[[Session, DomainError], None]) -> None:
    """Have ``recorder(session, err)`` write what a refusal carries in ``err.audit`` (the auth
    package registers the audit log's writer: infrastructure does not call up into auth)."""
    app.extensions.setdefault("rehab_refusal_recorders", []).append(recorder)


def _record_refusal(err: DomainError) -> None:
    recorders = current_app.extensions.get("rehab_refusal_recorders", ())
    if not err.audit or not recorders:
        return
    from rehab_net.db import transactional

    with transactional() as session:  # after the rollback: the attempt is logged, nothing else
        for recorder in recorders:
            recorder(session, err)


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(err: DomainError):
        _rollback()
        _record_refusal(err)
        if _wants_problem():
            return problem(err.status, err.title, err.detail, err.errors, err.headers)
        return render_template("error.html", status=err.status, title=err.title,
                               detail=err.detail), err.status

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        _rollback()
        if not _wants_problem():
            return render_template("error.html", status=err.code, title=err.name,
                                   detail=err.description), err.code
        data = getattr(err, "data", None) or {}
        errors = data.get("errors") or _webargs_errors(data)
        detail = data.get("message") or (
            "The request did not pass validation; see errors." if errors else err.description)
        headers = dict(data.get("headers") or {})
        if err.code == 405 and err.valid_methods:  # flask-smorest drops Allow; keep it
            headers["Allow"] = ", ".join(sorted(err.valid_methods))
        return problem(err.code or 500, err.name, detail, errors, headers)

    @app.errorhandler(StaleDataError)
    def _stale(_err):
        _rollback()
        return _domain(Conflict("Someone else changed this record at the same time; reload it."))

    @app.errorhandler(IntegrityError)
    def _integrity(err):
        # Constraint names only: the database's message may quote personal data.
        _rollback()
        log.info("integrity error: %s", type(err.orig).__name__)
        return _domain(Conflict("The change conflicts with existing data (a unique or "
                                "reference rule of the database)."))

    @app.errorhandler(DataError)
    def _data(err):
        # A value the database cannot store slipped past validation: the client's input, so 400.
        _rollback()
        log.warning("database refused a value: %s", type(err.orig).__name__)
        return _domain(DomainError("A value in the request cannot be stored."))

    @app.before_request
    def _refuse_nul_in_path():
        if "\x00" in request.path:
            raise NotFound("No such resource.")

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        if isinstance(err, HTTPException):
            return _http(err)
        _rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _http(InternalServerError())


def field_error(field: str, rule: str, location: str = "json") -> Invalid:
    """A 422 naming one field of the request and the rule it broke."""
    return Invalid(f"{field}: {rule}", [{"in": location, "field": field, "rule": rule}])
