"""A re-plan after one booking (issue 12): the resident optimiser's memo (solve.ServiceMemo).

    python -m benchmarks.bench_replan [--preset city-100k] [--instance FILE] [--check S,S]

Solves the instance once with a memo, then the same instance again, then, for each service in
turn, the instance after one booking in it (a placed case gets its planned place as `current`,
as a booked course enters the next plan) and prints each re-plan's time, how many services it
took from the memo and its status. --check compares the re-plans of the named services with a
solve from scratch (the objective; the plan may be another one as cheap)."""
from __future__ import annotations

import argparse
import copy
import os
import time
from pathlib import Path

import numpy as np

from benchmarks.bench_solver import preset_file
from solver.io import read_instance
from solver.simplex import warm_up
from solver.solve import ServiceMemo, solve


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="city-100k")
    parser.add_argument("--instance", help="an instance file instead of the preset")
    parser.add_argument("--check", default="", help="comma-separated services to compare")
    args = parser.parse_args()
    path = Path(args.instance) if args.instance else preset_file(args.preset, 1)
    warm_up()
    inst = read_instance(path)
    print(f"{path.name}: {len(inst.cases)} cases; load average {os.getloadavg()[0]:.1f}")
    memo = ServiceMemo()
    started = time.perf_counter()
    first = solve(inst, memo=memo)
    print(f"first solve {time.perf_counter() - started:.3f} s ({first.status})")
    started = time.perf_counter()
    again = solve(inst, memo=memo)
    print(f"the same instance again {time.perf_counter() - started:.3f} s "
          f"({again.stats['services_reused']} services from the memo)")
    checked = set(filter(None, args.check.split(",")))
    c = inst.cases
    for s, service in enumerate(inst.services):
        booked = np.flatnonzero((c.service == s) & (first.facility >= 0)
                                & (c.current_facility < 0))
        if booked.size == 0:
            continue
        i = booked[0]
        changed = copy.deepcopy(inst)
        changed.cases.current_facility[i] = first.facility[i]
        changed.cases.current_week[i] = first.week[i]
        started = time.perf_counter()
        replan = solve(changed, memo=memo)
        line = (f"a booking in {service}: {time.perf_counter() - started:.3f} s, "
                f"{replan.stats['services_reused']} services from the memo, "
                f"{replan.stats['services_replanned']} re-planned from the kept network "
                f"({replan.stats['pivots']} pivots), {replan.status}")
        if service in checked:
            cold = solve(changed)
            line += (f"; objective {replan.objective:.2f}, from scratch {cold.objective:.2f}, "
                     f"same plan: {bool((cold.facility == replan.facility).all())}")
        print(line, flush=True)


if __name__ == "__main__":
    main()
