"""`rehab-net plan`, `rehab-net export-instance` and `rehab-net solve` (added to the app's
commands by rehab_net.planning.init_app, so the `rehab-net` command finds them; `rehab-net
worker`, which runs the plans, is the app edge's, rehab_net/cli.py).

Each command that writes commits once, at the end; an error rolls everything back."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from rehab_net.clock import today
from rehab_net.db import get_session, transactional


# --- the optimiser ------------------------------------------------------------------------------
@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def solve(args):
    """Solve an instance file: rehab-net solve INSTANCE.json -o SOLUTION.json [--time-limit S]."""
    from solver.cli import main as solver_main

    sys.exit(solver_main(list(args)))


# --- plans --------------------------------------------------------------------------------------
def _plan_options(f):
    f = click.option("--horizon-weeks", type=click.IntRange(1, 52), default=12, show_default=True,
                     help="Weeks 0..N-1 the plan covers.")(f)
    return click.option("--start-date", type=click.DateTime(formats=["%Y-%m-%d"]),
                        help="The Monday of week 0 (default: the first Monday after today).")(f)


def _invalid_exit(exc) -> None:
    for e in exc.errors or [{"field": "", "rule": exc.detail}]:
        click.echo(f"--{e['field'].replace('_', '-')}: {e['rule']}", err=True)
    sys.exit(2)


@click.command()
@_plan_options
@click.option("--time-limit", type=click.FloatRange(1, 3600),
              help="Seconds the optimiser may take (default REHAB_PLAN_TIME_LIMIT).")
@click.option("--wait", is_flag=True, help="Wait until a worker has finished it; print a summary.")
@click.option("--inline", is_flag=True,
              help="Run it here (the optimiser in a child process), without a worker.")
@with_appcontext
def plan(horizon_weeks, start_date, time_limit, wait, inline):
    """Start a plan: one optimiser run over the live data (queued for `rehab-net worker`)."""
    from rehab_net.errors import Invalid
    from rehab_net.planning import operations as planning
    from rehab_net.planning import queue
    from rehab_net.planning.worker import run_claimed_plan

    app = current_app._get_current_object()
    session = get_session()
    data = {"horizon_weeks": horizon_weeks, "time_limit": time_limit,
            "start_date": start_date.date() if start_date else None}
    try:
        with transactional(session):
            new = planning.create_plan(session, data, today=today(),
                                       default_time_limit=float(app.config["PLAN_TIME_LIMIT"]))
    except Invalid as exc:  # rolled back
        _invalid_exit(exc)
    plan_id = new.id
    if inline:
        with transactional(session):
            planning.claim(session, plan_id)
        click.echo(f"plan {plan_id}: running here (week 0 = {new.start_date}, "
                   f"{new.horizon_weeks} weeks)")
        run_claimed_plan(app, plan_id)
    else:
        try:
            queue.submit(session, new)
        except queue.QueueUnavailable as exc:
            click.echo(exc.detail, err=True)
            sys.exit(1)
        click.echo(f"plan {plan_id}: queued (week 0 = {new.start_date}, {new.horizon_weeks} "
                   f"weeks); follow it at /api/v1/plans/{plan_id}")
        if not wait:
            return
        _wait_for(session, plan_id)
    _print_plan(session, plan_id)


def _wait_for(session, plan_id: int) -> None:
    from rehab_net.planning import operations as planning

    shown = None
    try:
        while True:
            status = planning.reload(session, plan_id).status
            session.rollback()  # end the read: on SQLite it would hold the worker's write lock
            if status != shown:
                click.echo(f"plan {plan_id}: {status}")
                shown = status
            if status not in ("queued", "running"):
                return
            time.sleep(1)
    except KeyboardInterrupt:
        click.echo(f"\nstopped waiting; the plan goes on (/api/v1/plans/{plan_id})", err=True)
        sys.exit(130)


def _print_plan(session, plan_id: int) -> None:
    from rehab_net.planning import operations as planning

    p = planning.reload(session, plan_id)
    click.echo(f"plan {p.id}: {p.status}")
    if p.message:
        click.echo(f"  {p.message}")
    if p.status not in ("optimal", "feasible"):
        return
    click.echo(f"  {p.case_count} cases, {p.facility_count} facilities, {p.assigned_count} "
               f"placed; objective {p.objective:,.2f} (bound {p.bound or 0:,.2f}), "
               f"optimiser {p.wall_seconds or 0:.1f} s")
    click.echo(f"  {'district':<10} {'cases':>7} {'placed':>7} {'waitlist':>8} "
               f"{'children<4w':>11} {'median km':>9}")
    for d in planning.district_summary(session, p):
        km = f"{d['median_road_km']:.1f}" if d["median_road_km"] is not None else "-"
        click.echo(f"  {d['district_code'] or '?':<10} {d['cases']:>7} {d['placed']:>7} "
                   f"{d['waitlist']:>8} {d['children_placed_within_4_weeks']:>11} {km:>9}")


@click.command(name="export-instance")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the instance (JSON, SOLVER_FORMAT version 1).")
@_plan_options
@click.option("--plan", "plan_id", type=int,
              help="Use this plan's week 0, horizon and policy (to reproduce its run).")
@with_appcontext
def export_instance(output: Path, horizon_weeks, start_date, plan_id):
    """Write the optimiser's instance for the live data; `rehab-net solve` reproduces a run."""
    from rehab_net.errors import Invalid, NotFound
    from rehab_net.planning import adapters
    from rehab_net.planning import operations as planning
    from rehab_net.policy import current_policy

    session = get_session()
    policy = current_policy(session).values
    start = start_date.date() if start_date else planning.next_monday(today())
    source = None
    if plan_id is not None:
        try:
            source = planning.get_plan(session, plan_id)
        except NotFound as exc:
            click.echo(exc.detail, err=True)
            sys.exit(2)
        start, horizon_weeks = source.start_date, source.horizon_weeks
        policy = source.parameters["policy"]
    try:
        planning.check_start_date(start, today(), allow_past=True)
    except Invalid as exc:
        _invalid_exit(exc)
    started = time.perf_counter()
    built = adapters.build_instance(session, start_date=start, horizon_weeks=horizon_weeks,
                                    policy=policy)
    took = time.perf_counter() - started
    output.write_text(adapters.instance_json(built.data), encoding="utf-8")
    click.echo(f"wrote {output}: {len(built.data['cases'])} cases, "
               f"{len(built.data['facilities'])} facilities, week 0 = {start}, {horizon_weeks} "
               f"weeks (built in {took:.2f} s)\nfingerprint {built.fingerprint}")
    if source is not None and source.fingerprint:
        same = source.fingerprint == built.fingerprint
        click.echo(f"plan {source.id} ran on {'the same' if same else 'a different'} instance"
                   + ("" if same else " (the data changed since)"))


# --- the queue and retention ---------------------------------------------------------------------
@click.group(name="plans")
def plans_group():
    """Look after the plans: queue again those the job queue lost, delete old ones."""


@plans_group.command(name="requeue")
@with_appcontext
def requeue_command():
    """Queue again the queued plans whose RQ job is gone (a Redis restart), and mark error the
    running plans whose worker stopped; the scheduler does it every 5 minutes."""
    from rehab_net.db import utcnow
    from rehab_net.planning import queue

    with transactional(get_session()) as session:
        result = queue.sweep(session, utcnow())
    if result["queue"] == "database":
        click.echo("no REHAB_REDIS_URL: the plan table is the queue, no plan can be lost")
    elif result["queue"] == "unreachable":
        click.echo("the job queue (Redis) is not reachable", err=True)
    ids = ", ".join(str(i) for i in result["requeued"]) or "none"
    click.echo(f"queued again: {ids}; running plans of a lost worker marked error: "
               f"{result['stale_running']}")
    if result["queue"] == "unreachable":
        sys.exit(1)


@plans_group.command(name="prune")
@click.option("--keep", type=click.IntRange(1), default=None,
              help="Keep the newest N plans of each kind (default REHAB_PLAN_KEEP).")
@click.option("--dry-run", is_flag=True, help="Print what would be deleted; delete nothing.")
@with_appcontext
def prune_command(keep: int | None, dry_run: bool):
    """Delete old finished plans and their rows, keeping the newest N of each kind and every plan
    a report, a referral or the baseline needs; the scheduler does it every night."""
    from rehab_net.planning import retention

    keep = retention.keep_setting() if keep is None else keep
    if keep < 1:
        click.echo("REHAB_PLAN_KEEP is 0: plans are kept for ever (give --keep N to prune)")
        return
    started = time.perf_counter()
    session = get_session()
    with transactional(session):
        if dry_run:
            for p in retention.candidates(session, keep):
                click.echo(f"would delete plan {p['id']} ({p['kind']}, {p['status']}, created "
                           f"{p['created_at']:%Y-%m-%d %H:%M})")
        result = retention.prune(session, keep, dry_run=dry_run)
    rows = ", ".join(f"{n} {table}" for table, n in result["rows"].items())
    kinds = ", ".join(f"{n} {kind}" for kind, n in result["by_kind"].items())
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb} {len(result['plans'])} plan(s) ({kinds}): {rows} rows; kept the newest "
               f"{keep} of each kind and those in use ({time.perf_counter() - started:.2f} s)")


COMMANDS = (plan, plans_group, export_instance, solve)
