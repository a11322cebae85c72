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

# A fixed "today" keeps ages and priorities stable whatever day the suite runs.
TODAY = date(2026, 11, 16)
DIALECTS = ("sqlite", "postgresql")


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
    application = _apps[dialect]
    saved = dict(application.config)
    with application.app_context():
        yield application
    application.config.clear()
    application.config.update(saved)
    _empty(application.extensions["rehab_engine"])


def _empty(engine) -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(t.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def session(app):
    from rehab_net.db import get_session

    return get_session()
