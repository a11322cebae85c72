"""The `rehab-net` command: serve, db, load-sample, import, summary, solve.

Each command that writes commits once, at the end; an error rolls everything back."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from rehab_net import create_app, migrate
from rehab_net.clock import today
from rehab_net.config import PROJECT_ROOT
from rehab_net.csvimport import ImportProblems
from rehab_net.db import get_engine, get_session

SAMPLE_DIR = PROJECT_ROOT / "sample_network" / "data"


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_default_commands=False,
             add_version_option=False)
def main():
    """rehab-net: rehabilitation referral and service-network scheduler."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int):
    """Serve the app (development server; see docs/deployment.md for production)."""
    app = current_app._get_current_object()
    base = f"http://{host}:{port}"
    click.echo(f"rehab-net on {base}/  (network page)\n"
               f"  API:     {base}/api/v1/facilities\n"
               f"  OpenAPI: {base}/api/v1/openapi.json\n"
               f"  database: {_safe_url(app.config['DATABASE_URL'])}")
    app.run(host=host, port=port, threaded=True, use_reloader=False)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- database -----------------------------------------------------------------------------------
@main.group()
def db():
    """Database schema (Alembic migrations)."""


@db.command()
@click.argument("revision", default="head")
@with_appcontext
def upgrade(revision: str):
    """Migrate the schema up (default: to the newest revision)."""
    _ensure_sqlite_dir()
    migrate.upgrade(get_engine(), revision)
    click.echo(f"database at revision {migrate.current(get_engine())}")


@db.command()
@click.argument("revision", default="-1")
@with_appcontext
def downgrade(revision: str):
    """Migrate the schema down (default: one revision; 'base' removes every table)."""
    migrate.downgrade(get_engine(), revision)
    click.echo(f"database at revision {migrate.current(get_engine()) or 'base'}")


@db.command()
@with_appcontext
def current():
    """Print the schema revision of the database."""
    click.echo(migrate.current(get_engine()) or "base (empty)")


def _ensure_sqlite_dir() -> None:
    url = current_app.config["DATABASE_URL"]
    if url.startswith("sqlite:///") and url != "sqlite://":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


# --- imports ------------------------------------------------------------------------------------
def _run_import(steps) -> dict[str, int]:
    """Validate and write each step inside one transaction; print every problem on failure."""
    session = get_session()
    counts: dict[str, int] = {}
    try:
        for validate, write in steps:
            counts.update(write(session, validate(session)))
        session.commit()
    except ImportProblems as exc:
        session.rollback()
        for p in exc.problems:
            click.echo(str(p), err=True)
        click.echo(f"{len(exc.problems)} problem(s); nothing was imported.", err=True)
        sys.exit(2)
    except BaseException:
        session.rollback()
        raise
    return counts


def _network_step(paths):
    from rehab_net.network import importer

    return (lambda s: importer.validate(s, paths)), importer.write


def _people_step(paths):
    from rehab_net.people import importer

    return (lambda s: importer.validate(s, paths, today=today())), importer.write


@main.group(name="import")
def import_():
    """Import files in the documented format (docs/import-format.md); all-or-nothing."""


@import_.command(name="network")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@with_appcontext
def import_network(paths):
    """regions.csv, facilities.csv, services.csv, capacities.csv (files or a directory)."""
    _report(_run_import([_network_step(paths)]))


@import_.command(name="people")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@with_appcontext
def import_people(paths):
    """persons.csv, cases.csv (files or a directory)."""
    _report(_run_import([_people_step(paths)]))


@main.command(name="load-sample")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has facilities.")
@click.option("--dir", "directory", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=SAMPLE_DIR, show_default=True)
@with_appcontext
def load_sample(if_empty: bool, directory: Path):
    """Load the synthetic sample region (Hulunbuir) in one transaction."""
    from sqlalchemy import func, select

    from rehab_net.network.models import Facility

    if if_empty and get_session().scalar(select(func.count()).select_from(Facility)):
        click.echo("sample region already loaded; nothing to do")
        return
    started = time.perf_counter()
    counts = _run_import([_network_step([directory]), _people_step([directory])])
    _report(counts, time.perf_counter() - started)


def _report(counts: dict[str, int], seconds: float | None = None) -> None:
    parts = ", ".join(f"{n} {name.removesuffix('.csv')}" for name, n in counts.items())
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    click.echo(f"imported {parts}{took}")


# --- summary ------------------------------------------------------------------------------------
@main.command()
@with_appcontext
def summary():
    """Print the network's size per tier and district, and open cases by priority."""
    from rehab_net.network import operations as network
    from rehab_net.people import operations as people

    session = get_session()
    s = network.summary(session)
    c = people.counts(session, today())
    click.echo("regions:    " + ", ".join(f"{k} {v}" for k, v in s["regions"].items()))
    click.echo("facilities: " + ", ".join(f"{k} {v}" for k, v in s["facilities"].items()))
    click.echo(f"services:   {s['services']}")
    click.echo(f"persons:    {c['persons']}")
    click.echo("cases:      " + ", ".join(f"{k} {v}" for k, v in sorted(c["cases"].items())))
    click.echo(f"open cases by priority on {today()}: " + ", ".join(
        f"{p} {c['open_by_priority'].get(p, 0)}" for p in ("child", "severe", "poor", "standard")))
    click.echo("")
    click.echo(f"{'code':<8} {'district':<36} {'centre':>6} {'station':>7} {'clinic':>6}")
    for d in s["districts"]:
        click.echo(f"{d['code']:<8} {d['name_en'][:36]:<36} {d['centre']:>6} {d['station']:>7} "
                   f"{d['clinic']:>6}")


# --- the optimiser ------------------------------------------------------------------------------
@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def solve(args):
    """Solve an instance file: rehab-net solve INSTANCE.json -o SOLUTION.json [--time-limit S]."""
    from solver.cli import main as solver_main

    sys.exit(solver_main(list(args)))
