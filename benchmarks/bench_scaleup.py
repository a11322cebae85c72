"""The scale-up sweep on the sample region (docs/performance.md, "Scenarios and scale-up").

    python -m benchmarks.bench_scaleup [--service CODE[,CODE...]] [--places N] [--workers W]
                                       [--compare]

Loads the sample into a temporary SQLite database, builds today's instance (12 weeks), then ranks
"open a station with N places of SERVICE" at every township and "N more places" at every facility
offering the service, each candidate solved exactly (the optimiser's warm sweep); prints the times
and the top candidates. With --compare, also each candidate solved from scratch (the path any
other kind of change takes), its time, and the largest difference between the two gains."""
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
    parser.add_argument("--compare", action="store_true",
                        help="also solve each candidate from scratch and compare the gains")
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
    wanted = args.service.split(",")
    unknown = [s for s in wanted if s not in services]
    if unknown:  # a typo must not measure another service silently
        raise SystemExit(f"--service {','.join(unknown)}: no case needs it; services: "
                         + ", ".join(services))
    print(f"machine: {platform.node()} {os.cpu_count()} cores, python "
          f"{platform.python_version()}; load average {os.getloadavg()[0]:.1f}; workers "
          f"{args.workers}")
    for service in wanted:
        sub = scaleup.sub_instance(data, service)
        print(f"service {service}: {len(sub['cases'])} cases, {len(sub['facilities'])} "
              "facilities offering it")
        for label, candidates in (
                ("open a station at each township", scaleup.candidates_open_station(
                    service, args.places, townships)),
                ("more places at each facility offering it", scaleup.candidates_add_places(
                    sub, service, args.places))):
            started = time.perf_counter()
            result = scaleup.rank(data, service, candidates, workers=args.workers)
            seconds = time.perf_counter() - started
            top = result["ranking"][:3]
            print(f"  {label}: {len(candidates)} candidates in {seconds:.2f} s; top: "
                  + "; ".join(f"{r['candidate']} gain {r['objective_gain']:.0f}, "
                              f"+{r['more_children_placed']} children" for r in top),
                  flush=True)
            if args.compare:
                compare(scaleup, data, service, candidates, args.workers, result)


def compare(scaleup, data, service, candidates, workers, warm) -> None:
    """The same ranking with every candidate solved from scratch."""
    sweep = scaleup._warm_sweep
    scaleup._warm_sweep = lambda *args: None
    try:
        started = time.perf_counter()
        cold = scaleup.rank(data, service, candidates, workers=workers)
        seconds = time.perf_counter() - started
    finally:
        scaleup._warm_sweep = sweep
    gains = {r["candidate"]: r["objective_gain"] for r in cold["ranking"]}
    worst = max(abs(r["objective_gain"] - gains[r["candidate"]]) for r in warm["ranking"])
    print(f"    from scratch: {seconds:.2f} s; largest difference between the gains "
          f"{worst:.4f} (baseline objective {cold['baseline']['objective']:.2f}, warm "
          f"{warm['baseline']['objective']:.2f})", flush=True)


if __name__ == "__main__":
    main()
