"""Fixtures: the app on SQLite and on a real PostgreSQL server, migrated with Alembic once per run,
emptied after every test; the test's own database session; clients acting as users.

No app context is pushed around a test (docs/architecture.md, "Test fixtures"). The test body
and the factories use `session`, a session of the test's own; each request of a test client,
command of a CLI runner and ``with app.app_context():`` block runs in an app context, a `g` and
a database session (rehab_net.db.get_session) of its own, as in production. So the test commits
what it wrote before the app is to see it, and reads again (``session.expire_all()``,
``session.refresh(obj)``) what the app wrote before it looks at it."""
from __future__ import annotations

from datetime import date

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text

from rehab_net import create_app, migrate
from rehab_net.config import TestConfig
from rehab_net.db import Base, make_engine
from tests import pg

# A fixed "today" keeps ages and priorities stable whatever day the suite runs.
TODAY = date(2026, 11, 16)
DIALECTS = ("sqlite", "postgresql")

# The worlds several test modules share, each a fixture of its own module (a test module never
# imports another): `w` (booking), `world` (permissions), `net` (referrals; a module's own `net`
# overrides it).
pytest_plugins = ("tests.booking_world", "tests.permission_world", "tests.referral_world")


@pytest.fixture(scope="session")
def pg_admin_url():
    with pg.cluster() as url:
        yield url


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory, request):
    """Lazily created, migrated databases per dialect, shared by the whole run."""
    urls: dict[str, str] = {}

    def get(dialect: str) -> str:
        if dialect not in urls:
            if dialect == "sqlite":
                path = tmp_path_factory.mktemp("sqlite") / "test.sqlite3"
                url = f"sqlite:///{path}"
            else:
                url = pg.create_database(request.getfixturevalue("pg_admin_url"), "rehab_test")
            engine = make_engine(url)
            migrate.upgrade(engine)
            engine.dispose()
            urls[dialect] = url
        return urls[dialect]

    return get


class OwnContextClient(FlaskClient):
    """Flask's test client, refusing a request made inside an app context (``with
    app.app_context():`` in a test): Flask would run the request in that context and `g`, so
    one user's cached CSRF token, principal or locale would pass to the next request."""

    def open(self, *args, **kwargs):
        if has_app_context() and not self.preserve_context:
            raise RuntimeError("a request made inside an app context would share its `g`: "
                               "make it outside `with app.app_context():`")
        return super().open(*args, **kwargs)


_apps: dict[str, object] = {}


@pytest.fixture(params=DIALECTS)
def app(request, database_urls):
    """The app of the dialect, with no app context pushed: see the module's docstring."""
    dialect = request.param
    if dialect not in _apps:
        _apps[dialect] = create_app(type("Cfg", (TestConfig,), {
            "DATABASE_URL": database_urls(dialect), "TODAY": TODAY.isoformat()}))
        _apps[dialect].test_client_class = OwnContextClient
    application = _apps[dialect]
    saved = dict(application.config)
    yield application
    application.config.clear()
    application.config.update(saved)
    _empty(application.extensions["rehab_engine"])


def _empty(engine) -> None:
    """TRUNCATE on PostgreSQL (the audit log's row triggers do not fire on it); on SQLite the
    append-only triggers are dropped for the DELETE and re-created."""
    from rehab_net.auth.audit import APPEND_ONLY_SQL, DROP_APPEND_ONLY_SQL

    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for statement in DROP_APPEND_ONLY_SQL["sqlite"]:
                conn.exec_driver_sql(statement)
            for t in tables:
                conn.execute(t.delete())
            for statement in APPEND_ONLY_SQL["sqlite"]:
                conn.exec_driver_sql(statement)


_binds: dict[object, object] = {}


@pytest.fixture
def session(app):
    """The test's own database session, from the app's sessionmaker (so the audit log's
    listener sees its changes), not the session of any request, command or app context (each
    has its own); closed after the test, before the tables are emptied. Its engine is the app's
    on PostgreSQL; on SQLite see _reads_take_no_lock."""
    if app not in _binds:
        engine = app.extensions["rehab_engine"]
        _binds[app] = _reads_take_no_lock(engine.url) if engine.dialect.name == "sqlite" \
            else engine
    # info["app"]: for tests.factories.app_context_of
    s = app.extensions["rehab_sessionmaker"](bind=_binds[app], info={"app": app})
    yield s
    s.close()


def _reads_take_no_lock(url):
    """An engine on the app's SQLite file for the test's session. The app begins every
    transaction with BEGIN IMMEDIATE (rehab_net/db.py), which takes the write lock: a test that
    had only read (a lazy load is enough) would hold it, and the next request would wait for it.
    Here a transaction, BEGIN IMMEDIATE as in the app, begins at the first statement that
    writes; a read outside one sees what is committed, as on PostgreSQL. So a test commits
    what it wrote before the app is to see it, and nothing else."""
    engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # the driver begins nothing by itself
        for pragma in ("foreign_keys=ON", "busy_timeout=30000", "journal_mode=WAL"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "before_cursor_execute")
    def _begin_at_the_first_write(_conn, cursor, statement, *_args):
        if (not cursor.connection.in_transaction
                and statement.lstrip()[:6].upper() not in ("SELECT", "PRAGMA")):
            cursor.connection.execute("BEGIN IMMEDIATE")

    return engine


ALL_ROLES = ("coordinator", "clinic", "planner", "admin", "auditor")


@pytest.fixture
def operator(session):
    """A user holding every role over the whole network: what the feature tests act as (the
    permission tests in test_permissions.py use narrowly scoped users instead)."""
    from tests.factories import create_user

    user = create_user(session, "operator", grants=[(r, None) for r in ALL_ROLES])
    session.commit()
    return user


@pytest.fixture
def client(app, session, operator):
    """A test client acting as the operator: API calls carry its token, pages its session."""
    from tests.factories import log_in, token_for

    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token_for(session, operator)}"
    log_in(c, operator)
    return c


@pytest.fixture
def anonymous(app):
    return app.test_client()
