"""Fixtures: the app on SQLite and on a real PostgreSQL server, migrated with Alembic once per run,
emptied after every test; a client; factories with overrides."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from rehab_net import create_app, migrate
from rehab_net.config import TestConfig
from rehab_net.db import Base, make_engine
from tests import pg
from tests.isolated_client import IsolatedClient

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


_apps: dict[str, object] = {}


@pytest.fixture(params=DIALECTS)
def app(request, database_urls):
    dialect = request.param
    if dialect not in _apps:
        _apps[dialect] = create_app(type("Cfg", (TestConfig,), {
            "DATABASE_URL": database_urls(dialect), "TODAY": TODAY.isoformat()}))
        # Every request gets a `g` of its own (tests/isolated_client.py), as in production.
        _apps[dialect].test_client_class = IsolatedClient
    application = _apps[dialect]
    saved = dict(application.config)
    with application.app_context():
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


ALL_ROLES = ("coordinator", "clinic", "planner", "admin", "auditor")


@pytest.fixture
def operator(app):
    """A user holding every role over the whole network: what the feature tests act as (the
    permission tests in test_permissions.py use narrowly scoped users instead)."""
    from rehab_net.db import get_session
    from tests.factories import create_user

    session = get_session()
    user = create_user(session, "operator", grants=[(r, None) for r in ALL_ROLES])
    session.commit()
    return user


@pytest.fixture
def client(app, operator):
    """A test client acting as the operator: API calls carry its token, pages its session."""
    from rehab_net.db import get_session
    from tests.factories import log_in, token_for

    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token_for(get_session(), operator)}"
    log_in(c, operator)
    return c


@pytest.fixture
def anonymous(app):
    return app.test_client()


@pytest.fixture
def session(app):
    from rehab_net.db import get_session

    return get_session()
