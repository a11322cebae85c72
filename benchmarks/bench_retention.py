"""Plan retention on sample-size plans (docs/performance.md, "Plan retention").

    python -m benchmarks.bench_retention [--database sqlite|postgresql] [--plans 20]

A fresh database (a temporary SQLite file, or a throwaway PostgreSQL cluster as tests/pg.py
starts one), migrated, the sample region loaded (`rehab-net load-sample`), one real plan of it
run (`rehab-net plan --inline`), then its rows copied into `--plans` more plans (INSERT ...
SELECT), so `--plans` + 1 sample-size plans exist. `rehab-net plans prune --keep 1 --dry-run`
and then `rehab-net plans prune --keep 1` delete all but the newest: `--plans` plans and their
rows, in one transaction. Prints the rows per plan and the command's own time of each (without
process start-up) and the wall time of the command."""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@contextmanager
def database(kind: str):
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="rehab-net-bench-") as work:
            yield f"sqlite:///{work}/bench.sqlite3"
        return
    from tests import pg

    with pg.cluster() as admin_url:
        yield pg.create_database(admin_url, "rehab_bench_retention")


def command(env: dict, *args: str) -> tuple[str, float]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "rehab_net.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=3600)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"rehab-net {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout, took


def copy_plans(url: str, n: int) -> dict[str, int]:
    """n copies of the one plan, rows and all; the rows of one plan per table."""
    from sqlalchemy import func, insert, literal, select

    from rehab_net.db import make_engine
    from rehab_net.planning.models import Plan, PlanAssignment, PlanLoad, PlanShadowPrice

    engine = make_engine(url)
    with engine.begin() as conn:
        source = conn.execute(select(Plan.__table__)).one()._asdict()
        counts = {m.__tablename__: conn.scalar(select(func.count()).select_from(m))
                  for m in (PlanAssignment, PlanLoad, PlanShadowPrice)}
        for _ in range(n):
            values = {k: v for k, v in source.items() if k != "id"}
            new_id = conn.execute(insert(Plan.__table__).values(**values)
                                  .returning(Plan.__table__.c.id)).scalar_one()
            for model in (PlanAssignment, PlanLoad, PlanShadowPrice):
                table = model.__table__
                columns = [c.name for c in table.columns if c.name not in ("id", "plan_id")]
                conn.execute(insert(table).from_select(
                    ["plan_id", *columns],
                    select(literal(new_id), *[table.c[c] for c in columns])
                    .where(table.c.plan_id == source["id"])))
    engine.dispose()
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--plans", type=int, default=20)
    args = parser.parse_args(argv)
    from tests.factories import secrets_env

    with database(args.database) as url:
        env = {**os.environ, **secrets_env(), "REHAB_DATABASE_URL": url,
               "REHAB_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
        command(env, "db", "upgrade")
        _out, took = command(env, "load-sample")
        print(f"load-sample: {took:.1f} s")
        out, took = command(env, "plan", "--inline", "--time-limit", "300")
        print(f"one sample plan inline: {took:.1f} s ({out.splitlines()[1][:80]})")
        counts = copy_plans(url, args.plans)
        per_plan = sum(counts.values())
        print(f"rows per plan: {per_plan} ({', '.join(f'{n} {t}' for t, n in counts.items())});"
              f" {args.plans + 1} plans")
        for dry in (True, False):
            out, took = command(env, "plans", "prune", "--keep", "1",
                                *(["--dry-run"] if dry else []))
            last = out.strip().splitlines()[-1]
            inside = re.search(r"\(([0-9.]+) s\)$", last)
            print(f"{'dry run' if dry else 'prune'}: {last}\n  wall {took:.1f} s"
                  + (f", in the command {inside[1]} s" if inside else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
