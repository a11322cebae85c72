"""One error vocabulary for the whole app. Operations raise DomainError subclasses; the handlers
turn every failure into RFC 9457 problem+json under /api and a plain page elsewhere. The handlers
roll the session back, so a failed request leaves nothing half-written."""
from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager
from typing import NoReturn

from flask import Flask, Response, abort, current_app, g, json, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError, default_exceptions

from rehab_net.messages import code_of, coded, params_of, translate

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"

# The code of a problem whose detail has none of its own (an HTTP error, a rule not coded yet).
STATUS_CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 412: "precondition_failed",
    413: "too_large", 415: "unsupported_media_type", 422: "invalid",
    428: "precondition_required", 429: "too_many_requests", 500: "internal_error",
    503: "unavailable",
}
FIELD_CODE = "field.invalid"  # an errors[] item whose rule has no code (marshmallow's own)


def page_abort(status: int, text: str) -> NoReturn:
    """Stop a page's request with ``text``, already in the user's language, on the error page
    (a bare ``abort(400, description=...)`` is English the zh-CN page must hide)."""
    err = default_exceptions[status](description=text)
    err.translated = True
    raise err


@contextmanager
def missing_is_404():
    """``with missing_is_404(): ...``: a record named in a page's URL or form that is missing or
    out of the viewer's reach (NotFound) is the plain 404 page (abort), not the domain error's
    page."""
    try:
        yield
    except NotFound:
        abort(404)


class DomainError(Exception):
    """``DomainError("referral.wrong_tier_up", tier="centre")``: a code of the catalogue
    (rehab_net/messages.py) and its parameters; the detail is its English text. A plain English
    detail still works and gets the status's generic code."""

    status = 400
    title = "Bad request"
    type_ = "about:blank"

    def __init__(self, detail: str, errors: list[dict] | None = None, headers: dict | None = None,
                 audit: list[dict] | None = None, **params):
        detail = coded(detail, **params)
        super().__init__(detail)
        self.detail = detail
        self.code = code_of(detail) or STATUS_CODES.get(self.status, f"http_{self.status}")
        self.params = params_of(detail)
        self.errors = errors or []
        self.headers = headers or {}
        # Audit events the refusal itself must leave (keyword arguments of audit.record): the
        # handler writes them after the rollback, so the attempt is logged and nothing else is.
        self.audit = audit or []

    def translated(self) -> str:
        """The refusal in the page's language: the detail's code, else its field rules'."""
        if code_of(self.detail) is None and self.errors:
            rules = [translate(e.get("rule", "")) for e in self.errors]
            if any(code_of(e.get("rule")) for e in self.errors):
                return "; ".join(rules)
        return translate(self.detail)


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


def coded_items(errors) -> list[dict]:
    """errors[] items with the ``code`` and ``params`` of their rule."""
    return [{**e, "code": e.get("code") or code_of(e.get("rule")) or FIELD_CODE,
             "params": e.get("params") or params_of(e.get("rule"))} for e in errors]


def problem(status: int, title: str, detail: str = "", errors=None, headers=None,
            code: str | None = None, params: dict | None = None) -> Response:
    body = {"type": "about:blank", "title": title, "status": status,
            "code": code or code_of(detail) or STATUS_CODES.get(status, f"http_{status}"),
            "params": params if params is not None else params_of(detail)}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = coded_items(errors)
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
            return problem(err.status, err.title, err.detail, err.errors, err.headers,
                           err.code, err.params)
        detail = err.translated()
        return render_template("error.html", status=err.status, title=err.title, detail=detail,
                               detail_translated=detail != err.detail), err.status

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        _rollback()
        if not _wants_problem():
            if isinstance(err, CSRFError):  # a form from an old page, or from elsewhere
                from flask_babel import gettext

                return render_template("error.html", status=err.code, title=err.name,
                                       detail=gettext(
                                           "The form was too old or not sent from this site "
                                           "(CSRF check). Nothing was saved. Reload the page "
                                           "and send the form again."),
                                       detail_translated=True), err.code
            return render_template("error.html", status=err.code, title=err.name,
                                   detail=err.description,
                                   detail_translated=getattr(err, "translated", False)), err.code
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
        return _domain(Conflict("request.changed_meanwhile"))

    @app.errorhandler(IntegrityError)
    def _integrity(err):
        # Constraint names only: the database's message may quote personal data.
        _rollback()
        log.info("integrity error: %s", type(err.orig).__name__)
        return _domain(Conflict("request.db_conflict"))

    @app.errorhandler(DataError)
    def _data(err):
        # A value the database cannot store slipped past validation: the client's input, so 400.
        _rollback()
        log.warning("database refused a value: %s", type(err.orig).__name__)
        return _domain(DomainError("request.value_unstorable"))

    @app.before_request
    def _refuse_nul_in_path():
        if "\x00" in request.path:
            raise NotFound("request.no_such_resource")

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        if isinstance(err, HTTPException):
            return _http(err)
        _rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _http(InternalServerError())


def field_error(field: str, rule: str, location: str = "json", **params) -> Invalid:
    """A 422 naming one field of the request and the rule it broke: ``rule`` is a code of the
    catalogue (formatted with ``params``) or, not coded yet, English text."""
    rule = coded(rule, **params)
    err = Invalid(f"{field}: {rule}", [{"in": location, "field": field, "rule": rule}])
    if code_of(rule):
        err.code, err.params = rule.code, {"field": field, **rule.params}
    return err
