"""The scale-up sweep on the sample region (docs/performance.md, "Scenarios and scale-up").

    python -m benchmarks.bench_scaleup [--service CODE] [--places N] [--workers W]

Loads the sample into a temporary SQLite database, builds today's instance (12 weeks), then ranks
"open a station with N places of SERVICE" at every township and "N more places" at every facility
offering the service, each candidate solved exactly; prints the times and the top candidates."""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--service", default="physical_training")
    parser.add_argument("--places", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    os.environ.update(REHAB_DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite3'}",
                      REHAB_TODAY="2026-11-16")
    from click.testing import CliRunner

    from rehab_net.cli import main as cli

    runner = CliRunner()
    for command in (["db", "upgrade"], ["load-sample"]):
        assert runner.invoke(cli, command).exit_code == 0
    from sqlalchemy import select

    from rehab_net import create_app
    from rehab_net.db import get_session
    from rehab_net.network.models import Region
    from rehab_net.planning import adapters, scaleup
    from rehab_net.planning.operations import next_monday
    from rehab_net.policy import current_policy

    app = create_app()
    with app.app_context():
        session = get_session()
        built = adapters.build_instance(session, start_date=next_monday(
            __import__("datetime").date(2026, 11, 16)), horizon_weeks=12,
            policy=current_policy(session).values)
        townships = [{"code": r.code, "lat": r.lat, "lon": r.lon} for r in session.scalars(
            select(Region).where(Region.level == "township").order_by(Region.code))]
    data = built.data
    services = sorted({c["service"] for c in data["cases"]})
    if args.service not in services:  # a typo must not measure another service silently
        raise SystemExit(f"--service {args.service}: no case needs it; services: "
                         + ", ".join(services))
    service = args.service
    sub = scaleup.sub_instance(data, service)
    print(f"machine: {platform.node()} {os.cpu_count()} cores, python "
          f"{platform.python_version()}; service {service}: {len(sub['cases'])} cases, "
          f"{len(sub['facilities'])} facilities offering it; workers {args.workers}")
    for label, candidates in (
            ("open a station at each township", scaleup.candidates_open_station(
                service, args.places, townships)),
            ("more places at each facility offering it", scaleup.candidates_add_places(
                sub, service, args.places))):
        started = time.perf_counter()
        result = scaleup.rank(data, service, candidates, workers=args.workers)
        seconds = time.perf_counter() - started
        top = result["ranking"][:3]
        print(f"{label}: {len(candidates)} candidates in {seconds:.1f} s; top: " + "; ".join(
            f"{r['candidate']} gain {r['objective_gain']:.0f}, +{r['more_children_placed']} "
            f"children" for r in top))


if __name__ == "__main__":
    main()
