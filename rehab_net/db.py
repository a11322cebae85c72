"""Database plumbing: the declarative base, session handling per request, UTC timestamps, and the
SQLite settings that make concurrent writers safe (see PITFALLS: BEGIN IMMEDIATE, WAL).

Commit once, at the edge: ``transactional`` is the only place that commits (tests/
test_commit_places.py checks it). The app runs every view in one (``RehabFlask``); CLI
commands, jobs and the worker use it as a decorator or a ``with`` block. Operations below only
``flush``; a view flushes where its response shows what the database assigns (ids, versions)."""
from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import Flask, current_app, g
from sqlalchemy import DateTime, MetaData, bindparam, create_engine, event, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator
from werkzeug.exceptions import HTTPException

# Stable constraint names on SQLite and PostgreSQL alike, so migrations can name what they drop.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """Aware datetimes stored as UTC. SQLite drops offsets silently, so convert on the way in and
    re-attach UTC on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def overlaps(start_a, end_a, start_b, end_b):
    """Whether the half-open periods [start_a, end_a) and [start_b, end_b) share a moment: two
    periods that only touch (one ends when the other starts) do not overlap. Works on columns
    (an SQL condition) and on plain values (a bool) alike, so a query and the Python code beside
    it say the same thing; the database's exclusion constraints and triggers agree."""
    return (start_a < end_b) & (start_b < end_a)


def make_engine(url: str, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30},
                               hide_parameters=True)
        _make_sqlite_transactional(engine)
        return engine
    # hide_parameters: a failed statement's message must not carry personal data into a log.
    return create_engine(url, echo=echo, pool_pre_ping=True, hide_parameters=True)


def _make_sqlite_transactional(engine: Engine) -> None:
    """SQLAlchemy's documented recipe: let SQLAlchemy, not the driver, emit BEGIN, and make it
    BEGIN IMMEDIATE so a transaction that will write takes the write lock up front (a deferred
    transaction that later writes fails at once with 'database is locked')."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"], echo=app.config.get("SQL_ECHO", False))
    app.extensions["rehab_engine"] = engine
    app.extensions["rehab_sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)

    @app.teardown_appcontext
    def _close_session(_exc):
        session = g.pop("db_session", None)
        if session is not None:
            session.close()  # rolls back anything not committed


def get_session() -> Session:
    """The session of the current app context: one per request, CLI command or job."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["rehab_sessionmaker"]()
    return g.db_session


# PostgreSQL's serialization failure and deadlock: the other transaction won, this one may retry.
RETRYABLE_SQLSTATES = {"40001", "40P01"}


def _conflicting(err: BaseException) -> bool:
    """A refusal of the database because of other data or another transaction at the moment."""
    if isinstance(err, IntegrityError):
        return True
    return (isinstance(err, OperationalError)
            and getattr(err.orig, "sqlstate", None) in RETRYABLE_SQLSTATES)


def _keeps(err: BaseException) -> bool:
    """An exception that ends the block without failing it: a 3xx raised as an HTTPException
    (flask-smorest's 304 Not Modified), so a read audited before it stays audited."""
    return isinstance(err, HTTPException) and (err.code or 500) < 400


@contextmanager
def _transaction(session: Session | None, conflict: Callable[[Exception], Exception] | None):
    session = session if session is not None else get_session()
    try:
        yield session
    except Exception as err:
        if not _keeps(err):
            _fail(session, err, conflict)
        _commit(session, conflict)
        raise
    except BaseException:  # SystemExit from a CLI command, KeyboardInterrupt: nothing is kept
        session.rollback()
        raise
    _commit(session, conflict)


def _commit(session: Session, conflict) -> None:
    try:
        session.commit()
    except Exception as err:
        _fail(session, err, conflict)


def _fail(session: Session, err: Exception, conflict) -> None:
    """Roll back and raise err, or what ``conflict`` makes of a database conflict."""
    session.rollback()
    if conflict is not None and _conflicting(err):
        raise conflict(err) from None
    raise err


def transactional(target=None, *, conflict: Callable[[Exception], Exception] | None = None):
    """One transaction: commit when the block or function ends normally, roll back and re-raise
    when it raises. Three forms::

        @transactional                   # a CLI command or job function (the app's session)
        @transactional(conflict=fn)      # ... turning database conflicts into fn(err)
        with transactional(session):     # a block, e.g. one step of a loop that commits often

    ``conflict`` (booking's 409s) receives an IntegrityError or a PostgreSQL serialization
    failure/deadlock after the rollback and returns the exception to raise instead. A block
    inside another commits at its own end; the outer one then commits what follows."""
    if callable(target) and not isinstance(target, Session):
        return _decorate(target, conflict)
    if target is None:
        # transactional() or transactional(conflict=...): a decorator, or a block on the app's
        # session (the context manager is created per use, so one decorator serves threads).
        return _Either(conflict)
    return _transaction(target, conflict)


def _decorate(func, conflict):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with _transaction(None, conflict):
            return func(*args, **kwargs)

    return wrapper


class _Either:
    """What ``transactional()`` returns: a decorator when called with a function, a block on the
    app's session when entered."""

    def __init__(self, conflict):
        self.conflict = conflict
        self._blocks = []

    def __call__(self, func):
        return _decorate(func, self.conflict)

    def __enter__(self):
        block = _transaction(None, self.conflict)
        self._blocks.append(block)
        return block.__enter__()

    def __exit__(self, *exc):
        return self._blocks.pop().__exit__(*exc)


def get_engine() -> Engine:
    return current_app.extensions["rehab_engine"]


def upsert_by_code(session: Session, model, rows: list[dict], chunk: int = 5000) -> dict[str, int]:
    """Insert rows whose `code` is new and update those whose code exists, in bulk; return the
    code -> id map of all the given rows. Used by imports, which have validated every row first."""
    codes = [r["code"] for r in rows]
    existing: dict[str, tuple[int, int]] = {}
    for i in range(0, len(codes), chunk):
        part = codes[i:i + chunk]
        stmt = select(model.code, model.id, model.version).where(model.code.in_(part))
        existing.update({c: (id_, v) for c, id_, v in session.execute(stmt)})
    new = [r for r in rows if r["code"] not in existing]
    changed = [{**r, "id": existing[r["code"]][0], "version": existing[r["code"]][1] + 1}
               for r in rows if r["code"] in existing]
    for i in range(0, len(new), chunk):
        # render_nulls: rows with and without optional values stay one executemany batch
        session.execute(insert(model).execution_options(render_nulls=True), new[i:i + chunk])
    for i in range(0, len(changed), chunk):
        # Core UPDATE ... WHERE id = :id executemany (no ORM version check: the import is the
        # only writer in its transaction and bumps the version itself).
        session.connection().execute(
            update(model.__table__).where(model.__table__.c.id == bindparam("b_id")),
            [{("b_id" if k == "id" else k): v for k, v in r.items()} for r in changed[i:i + chunk]],
        )
    ids: dict[str, int] = {}
    for i in range(0, len(codes), chunk):
        part = codes[i:i + chunk]
        stmt = select(model.code, model.id).where(model.code.in_(part))
        ids.update(dict(session.execute(stmt).all()))
    return ids

