"""Alembic, driven from the app: `rehab-net db upgrade|downgrade|current`."""
from __future__ import annotations

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import Engine

from rehab_net.config import PROJECT_ROOT

MIGRATIONS = PROJECT_ROOT / "migrations"


def _config(connection) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    _run(engine, command.downgrade, revision)


def _run(engine: Engine, step, revision: str) -> None:
    """One transaction per run. On SQLite, batch migrations rebuild tables (copy, drop, rename):
    with foreign keys enforced, dropping a table that other rows point at fails. Alembic's
    documented recipe: switch enforcement off outside the transaction, check every key after."""
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:  # the driver runs it at once: isolation_level None, no transaction yet
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                step(_config(conn), revision)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")


def current(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new revision (read and edit it by hand before committing)."""
    with engine.begin() as conn:
        command.revision(_config(conn), message=message, autogenerate=True)
