"""The `rehab-net` command: serve, db, load-sample, import, summary, worker (runs the plans) and
scheduler. The modules add their own commands to the app (their init_app): users and keys (auth),
slots and holidays (booking), plan, export-instance and solve (planning).

Each command that writes commits once, at the end; an error rolls everything back."""
from __future__ import annotations

import importlib
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
from rehab_net.db import get_engine, get_session, transactional

SAMPLE_DIR = PROJECT_ROOT / "sample_network" / "data"


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_default_commands=False,
             add_version_option=False)
def main():
    """rehab-net: rehabilitation referral and service-network scheduler."""
    from rehab_net.auth.audit import set_system_actor

    set_system_actor("system:cli")  # what a command changes is attributed to the CLI


# The modules' own commands (users, keys, slots, holidays, plan, export-instance, solve) are added
# to the app's `cli` by their init_app; FlaskGroup lists those beside the commands here.


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-worker", is_flag=True,
              help="Do not start a plan worker beside the server (run `rehab-net worker`).")
@click.option("--no-scheduler", is_flag=True,
              help="Do not start the scheduler beside the server (run `rehab-net scheduler`).")
@with_appcontext
def serve(host: str, port: int, no_worker: bool, no_scheduler: bool):
    """Serve the app with one plan worker and the scheduler (development server; see
    docs/deployment.md)."""
    import signal

    app = current_app._get_current_object()
    base = f"http://{host}:{port}"
    click.echo(f"rehab-net on {base}/  (network page)\n"
               f"  plans:   {base}/plans\n"
               f"  API:     {base}/api/v1/facilities\n"
               f"  OpenAPI: {base}/api/v1/openapi.json\n"
               f"  database: {_safe_url(app.config['DATABASE_URL'])}")
    worker = None if no_worker else _start_worker()
    scheduler = None if no_scheduler else _start_scheduler()
    # SIGTERM ends the server like Ctrl-C does, so the worker below is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        # run_simple, not app.run: under a FlaskGroup command app.run() silently does nothing
        # (Flask sets FLASK_RUN_FROM_CLI so an unguarded app.run cannot block a command).
        from werkzeug.serving import run_simple

        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        for child in (worker, scheduler):
            if child is not None:
                _stop_worker(child)


def _start_scheduler():
    """`rehab-net scheduler` beside the development server (the referral deadline checks)."""
    import subprocess

    click.echo("  scheduler: started (referral deadlines every 5 minutes)")
    return subprocess.Popen([sys.executable, "-m", "rehab_net.cli", "scheduler"])


def _start_worker():
    """One `rehab-net worker` beside the development server. It gets Ctrl-C with the server (same
    process group), is stopped by the server on exit, and exits by itself if the server dies."""
    import os
    import subprocess

    click.echo("  plan worker: started (stop both with Ctrl-C)")
    return subprocess.Popen([sys.executable, "-m", "rehab_net.cli", "worker",
                             "--parent-pid", str(os.getpid())])


def _stop_worker(worker) -> None:
    import subprocess

    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port
                                                               else "")
    return parts._replace(netloc=netloc).geturl()


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
    counts: dict[str, int] = {}
    try:
        with transactional() as session:
            for validate, write in steps:
                counts.update(write(session, validate(session)))
            from rehab_net.auth import audit

            audit.record(session, "import", "files", None, detail={"counts": counts})
    except ImportProblems as exc:  # rolled back
        for p in exc.problems:
            click.echo(str(p), err=True)
        click.echo(f"{len(exc.problems)} problem(s); nothing was imported.", err=True)
        sys.exit(2)
    return counts


def _step(module: str, paths, *, dated: bool = False):
    """(validate, write) of rehab_net.<module>.importer for _run_import (imported when a command
    runs, not at start); a dated importer validates against today."""
    importer = importlib.import_module(f"rehab_net.{module}.importer")
    if dated:
        return (lambda s: importer.validate(s, paths, today=today())), importer.write
    return (lambda s: importer.validate(s, paths)), importer.write


def _network_step(paths):
    return _step("network", paths)


def _people_step(paths):
    return _step("people", paths, dated=True)


def _certificates_step(paths):
    return _step("certificates", paths, dated=True)


def _catalogue_step(paths):
    return _step("catalogue", paths)


def _import_command(name: str, step, help_text: str):
    """`rehab-net import <name> PATHS...`: that one step in one transaction."""
    @import_.command(name=name, help=help_text)
    @click.argument("paths", nargs=-1, required=True,
                    type=click.Path(exists=True, path_type=Path))
    @with_appcontext
    def command(paths):
        _report(_run_import([step(paths)]))

    return command


@main.group(name="import")
def import_():
    """Import files in the documented format (docs/import-format.md); all-or-nothing."""


import_network = _import_command(
    "network", _network_step,
    "regions.csv, facilities.csv, services.csv, capacities.csv (files or a directory).")
import_people = _import_command("people", _people_step,
                                "persons.csv, cases.csv (files or a directory).")
import_certificates = _import_command(
    "certificates", _certificates_step,
    "certificates.csv (a file or a directory); states follow from the dates.")
import_catalogue = _import_command(
    "catalogue", _catalogue_step,
    "catalogue.csv (versions of the service catalogue), catalogue_services.csv (which services "
    "deliver its items); files or a directory, after the network.")


@main.command(name="load-sample")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has facilities.")
@click.option("--dir", "directory", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=SAMPLE_DIR, show_default=True)
@with_appcontext
def load_sample(if_empty: bool, directory: Path):
    """Load the synthetic sample region (Hulunbuir) in one transaction: the network, the people,
    and (when the directory has them) the service catalogue, its practitioners, schedules,
    slots and activity, and certificates."""
    from sqlalchemy import func, select

    from rehab_net import sample_activity
    from rehab_net.auth import audit
    from rehab_net.network.models import Facility

    if if_empty and get_session().scalar(select(func.count()).select_from(Facility)):
        click.echo("sample region already loaded; nothing to do")
        return
    started = time.perf_counter()
    steps = [_network_step([directory]), _people_step([directory])]
    catalogue = [directory / n for n in ("catalogue.csv", "catalogue_services.csv")
                 if (directory / n).exists()]
    if catalogue:  # the service catalogue and the services' items (docs/catalogue.md)
        steps.append(_catalogue_step(catalogue))
    if sample_activity.present(directory):  # the sample's own files (sample_network/activity.py)
        steps.append(_activity_step(directory))
    if (directory / "certificates.csv").exists():  # a few certificates (docs/certificates.md)
        steps.append(_certificates_step([directory / "certificates.csv"]))
    with audit.acting_as("system:load-sample"):
        counts = _run_import(steps)
    _report(counts, time.perf_counter() - started)


def _activity_step(directory: Path):
    """Practitioners, schedules, slots, and the referrals, appointments and waitlist replayed
    through the operations (rehab_net/sample_activity.py), in the import's transaction."""
    from rehab_net import sample_activity
    from rehab_net.clock import zone
    from rehab_net.db import utcnow

    load_day = today()
    now = utcnow()
    if now.astimezone(zone()).date() != load_day:  # REHAB_TODAY pins another day
        from datetime import datetime
        from datetime import time as clock_time

        now = datetime.combine(load_day, clock_time(8, 0), zone())
    return ((lambda s: sample_activity.read(directory)),
            lambda s, tables: sample_activity.load(s, tables, today=load_day, now=now))


def _report(counts: dict[str, int], seconds: float | None = None) -> None:
    parts = ", ".join(f"{n} {name.removesuffix('.csv')}" for name, n in counts.items())
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    click.echo(f"imported {parts}{took}")


# --- summary ------------------------------------------------------------------------------------
@main.command()
@with_appcontext
def summary():
    """Print the network's size per tier and district, and open cases by priority."""
    from rehab_net.overview import summary as overview

    s = overview(get_session(), today())
    click.echo("regions:    " + ", ".join(f"{k} {v}" for k, v in s["regions"].items()))
    click.echo("facilities: " + ", ".join(f"{k} {v}" for k, v in s["facilities"].items()))
    click.echo(f"services:   {s['services']}")
    click.echo(f"persons:    {s['persons']}")
    click.echo("cases:      " + ", ".join(f"{k} {v}" for k, v in sorted(s["cases"].items())))
    click.echo(f"open cases by priority on {today()}: " + ", ".join(
        f"{p} {s['open_by_priority'].get(p, 0)}" for p in ("child", "severe", "poor", "standard")))
    click.echo("")
    click.echo(f"{'code':<8} {'district':<36} {'centre':>6} {'station':>7} {'clinic':>6}")
    for d in s["districts"]:
        click.echo(f"{d['code']:<8} {d['name_en'][:36]:<36} {d['centre']:>6} {d['station']:>7} "
                   f"{d['clinic']:>6}")


# --- plans: `rehab-net plan`, `solve` and `export-instance` are rehab_net/planning/cli.py's ------
@main.command(name="worker")
@click.option("--once", is_flag=True, help="Run at most one plan, then exit.")
@click.option("--burst", is_flag=True, help="Run the queued plans, then exit when none is left.")
@click.option("--parent-pid", type=int, hidden=True)  # set by `serve`: stop when it is gone
@with_appcontext
def worker_command(once: bool, burst: bool, parent_pid: int | None):
    """Run plans: polls the plan table, or with REHAB_REDIS_URL set runs an RQ worker."""
    import signal

    from rehab_net.planning import queue
    from rehab_net.planning.worker import work

    app = current_app._get_current_object()
    url = queue.redis_url()
    if url:  # RQ handles SIGTERM itself: it lets the running job finish (warm shutdown)
        from rq import Queue, SimpleWorker

        from rehab_net import rq_entry

        connection = queue.redis_connection(url, for_worker=True)
        click.echo(f"worker: RQ queue '{queue.QUEUE_NAME}' at {_safe_url(url)}")
        # Jobs in this process, one at a time, with this app and one resident optimiser.
        rq_entry.serve_jobs_here(app, warm=not (burst or once))
        SimpleWorker([Queue(queue.QUEUE_NAME, connection=connection)],
                     connection=connection).work(burst=burst or once,
                                                 max_jobs=1 if once else None)
        return
    # SIGTERM (a process manager, `serve` stopping) ends like Ctrl-C: the running plan is marked
    # and the optimiser's process ended, instead of the worker vanishing mid-plan.
    click.echo("worker: waiting for queued plans in the database"
               + (" (exits when none is left)" if burst or once else ""))
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        ran = work(app, once=once, burst=burst, parent_pid=parent_pid, report=click.echo,
                   poll_seconds=float(app.config["WORKER_POLL_SECONDS"]))
    finally:
        signal.signal(signal.SIGTERM, previous)
    if burst or once:
        click.echo(f"worker: ran {ran} plan(s)")


# --- periodic jobs (rehab_net/scheduler/) -------------------------------------------------------
@main.command(name="scheduler")
@click.option("--once", is_flag=True,
              help="Run every registered job once now (and what was missed), then exit.")
@with_appcontext
def scheduler_command(once: bool):
    """Run the periodic jobs: exactly ONE such process per deployment (exit 3 if one runs)."""
    from rehab_net.scheduler import run_scheduler

    sys.exit(run_scheduler(current_app._get_current_object(), once=once, report=click.echo))


if __name__ == "__main__":  # `python -m rehab_net.cli`: how `serve` starts its worker
    main()
