"""The audit log: who read which person's record, who revealed an ID number and why, and every
change anywhere. Rows are only ever added (the database refuses UPDATE and DELETE on them).

Reads are recorded by the views that show personal records (``record_read``); changes made through
the ORM are recorded by one flush listener, so no operation can forget them; bulk writes (imports,
plan results) record one event each through ``record``.
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager

from flask import g, has_request_context, request
from sqlalchemy import event, inspect
from sqlalchemy.orm import MANYTOONE, Session

from rehab_net.auth.models import ApiToken, AuditEvent, LoginAttempt

# Who acts outside a request: the CLI, the worker, the scheduler ("system:<what>").
_system_actor: contextvars.ContextVar[str | None] = contextvars.ContextVar("actor", default=None)
# Tables whose rows are not "changes" worth an event: the log itself, throttle bookkeeping, and
# tokens (their creation and revocation are recorded as token_create / token_revoke).
UNAUDITED = {AuditEvent.__tablename__, LoginAttempt.__tablename__, ApiToken.__tablename__}
# Columns never named in a change (bookkeeping, not facts).
QUIET_COLUMNS = {"version", "updated_at", "last_used_at", "last_login_at", "heartbeat_at",
                 "resident_id_index", "session_epoch"}


def set_system_actor(actor: str) -> None:
    """Attribute this process's work to a system actor (the CLI, a worker)."""
    _system_actor.set(actor)


@contextmanager
def acting_as(actor: str):
    """Attribute what happens inside to a system actor, e.g. ``system:load-sample``."""
    token = _system_actor.set(actor)
    try:
        yield
    finally:
        _system_actor.reset(token)


def current_actor() -> tuple[str, int | None, str | None]:
    """(actor name, user id, remote address) of whoever is acting now."""
    if has_request_context():
        user = g.get("user")
        addr = request.remote_addr
        if user is not None:
            return user.username, user.id, addr
        return "anonymous", None, addr
    return _system_actor.get() or "system", None, None


def record(session: Session, action: str, object_type: str, object_code: str | None = None, *,
           reason: str | None = None, detail: dict | None = None, actor: str | None = None,
           user_id: int | None = None) -> AuditEvent:
    name, uid, addr = current_actor()
    ev = AuditEvent(actor=actor or name, user_id=user_id if actor else uid, remote_addr=addr,
                    action=action, object_type=object_type, object_code=object_code,
                    reason=reason, detail=detail)
    session.add(ev)
    return ev


def record_read(session: Session, object_type: str, object_code: str) -> None:
    """A personal record shown. The request's transaction commits it when the view returns,
    also when nothing else is written (or a 304 ends it); a request that fails shows nothing."""
    record(session, "read", object_type, object_code)


def record_list(session: Session, object_type: str, codes: list[str], filters: dict) -> None:
    """A list of personal records shown: which ones, with which filters (never the values)."""
    record(session, "list", object_type, None,
           detail={"count": len(codes), "codes": codes[:200], "filters": filters})


def record_refusal(session: Session, err) -> None:
    """The audit events a refused request leaves (a DomainError's ``audit``: keyword arguments
    of ``record``); errors' handler calls it after the rollback (see auth.init_app)."""
    for kwargs in err.audit:
        record(session, **kwargs)


def _code_of(obj) -> str | None:
    """What names the row in the log: its ``audit_label`` (rows without a code of their own),
    its code, or its primary key."""
    code = getattr(obj, "audit_label", None) or getattr(obj, "code", None)
    if code is not None:
        return str(code)
    ident = inspect(obj).identity
    return "/".join(str(i) for i in ident) if ident else None


def _changed_fields(obj) -> list[str]:
    """The columns changed, and the many-to-one relationships set (a person's ``home_region``
    given as an object: its foreign key column changes only later, inside the flush)."""
    state = inspect(obj)
    columns = {a.key for a in state.mapper.column_attrs
               if a.key not in QUIET_COLUMNS and state.attrs[a.key].history.has_changes()}
    related = {r.key for r in state.mapper.relationships
               if r.direction is MANYTOONE and state.attrs[r.key].history.has_changes()}
    return sorted(columns | related)


# A row inserted under a provisional code (a referral's code comes from its id, known only after
# the insert) is logged when its real code is set, under that code, once.
PROVISIONAL_PREFIX = "tmp-"


def _is_provisional(obj) -> bool:
    return str(_code_of(obj) or "").startswith(PROVISIONAL_PREFIX)


def _on_before_flush(session: Session, _ctx, _instances) -> None:
    events = []
    waiting = session.info.setdefault("audit_provisional", [])
    named = [obj for obj in waiting if not _is_provisional(obj)]
    waiting[:] = [obj for obj in waiting if _is_provisional(obj)]
    events.extend(("create", obj, None) for obj in named)
    for obj in session.new:
        if obj.__tablename__ in UNAUDITED:
            continue
        if _is_provisional(obj):
            waiting.append(obj)
        else:
            events.append(("create", obj, None))
    for obj in session.dirty:
        if obj.__tablename__ in UNAUDITED or not session.is_modified(obj):
            continue
        if any(obj is n for n in named) and _changed_fields(obj) == ["code"]:
            continue  # the real code of a row just created: its create event says it
        fields = _changed_fields(obj)
        if fields:
            events.append(("update", obj, fields))
    for obj in session.deleted:
        if obj.__tablename__ not in UNAUDITED:
            events.append(("delete", obj, None))
    for action, obj, fields in events:
        record(session, action, obj.__tablename__, _code_of(obj),
               detail={"fields": fields} if fields else None)


def install(session_class) -> None:
    """Listen on a session class (the app's sessionmaker) for ORM changes."""
    if not event.contains(session_class, "before_flush", _on_before_flush):
        event.listen(session_class, "before_flush", _on_before_flush)


# The database's own guard (migration 0003 creates the same triggers; the test suite re-creates
# them after emptying the SQLite tables between tests).
APPEND_ONLY_SQL = {
    "sqlite": [
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
        "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$",
        "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    ],
}
DROP_APPEND_ONLY_SQL = {
    "sqlite": ["DROP TRIGGER IF EXISTS audit_event_no_update",
               "DROP TRIGGER IF EXISTS audit_event_no_delete"],
    "postgresql": ["DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
                   "DROP FUNCTION IF EXISTS audit_event_append_only()"],
}
