"""Alembic environment. The app passes an open connection (rehab_net.migrate); the `alembic`
command line works too, with REHAB_DATABASE_URL or the default SQLite file."""
from __future__ import annotations

from alembic import context

from rehab_net import policy as _policy  # noqa: F401  (registers the tables)
from rehab_net.auth import models as _auth  # noqa: F401
from rehab_net.booking import models as _booking  # noqa: F401
from rehab_net.catalogue import models as _catalogue  # noqa: F401
from rehab_net.certificates import models as _certificates  # noqa: F401
from rehab_net.config import Config
from rehab_net.db import Base, make_engine
from rehab_net.network import models as _network  # noqa: F401
from rehab_net.people import models as _people  # noqa: F401
from rehab_net.planning import models as _planning  # noqa: F401
from rehab_net.referrals import models as _referrals  # noqa: F401
from rehab_net.reports import models as _reports  # noqa: F401
from rehab_net.scheduler import models as _scheduler  # noqa: F401

target_metadata = Base.metadata
config = context.config


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(Config.from_env()["DATABASE_URL"])
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
