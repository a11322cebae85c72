"""The optimiser's figures: for each preset instance (generated once into benchmarks/out/), run
`python -m solver` as a separate process (wall time, peak memory), check its plan independently,
run the first-come-first-served baseline, and print one Markdown table row per instance.

    python -m benchmarks.bench_solver [--presets city-20k,city-100k] [--skip-greedy-above N]

"children < 4 w" counts children placed within 4 weeks of their release (week - release < 4).
"peak MB" is the largest resident set of the solver process or any process it started and waited
for (the kernel's ru_maxrss of the child: a maximum, not a sum over processes). "same twice" solves
again and compares the files without their stats block (byte for byte)."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.generate_instances import GENERATOR_VERSION, PRESETS
from solver.check import check_solution
from solver.greedy import greedy
from solver.instance import NO_FACILITY, Instance
from solver.io import read_instance, read_solution

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent / "out"
CHILD = 0  # PRIORITIES index
COLUMNS = ("instance", "cases", "groups", "arcs", "status", "wall s", "peak MB", "objective",
           "check", "greedy objective", "greedy gap %", "greedy s", "children < 4 w",
           "greedy children < 4 w", "same twice")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_solver",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", default=",".join(PRESETS),
                        help=f"comma-separated, among {', '.join(PRESETS)} (default: all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, help="passed to the solver")
    parser.add_argument("--skip-greedy-above", type=int, default=200_000, metavar="N",
                        help="skip the baseline above N cases (it takes ~2.5 min at 1M)")
    parser.add_argument("--skip-determinism-above", type=int, default=200_000, metavar="N",
                        help="skip solving twice above N cases")
    args = parser.parse_args(argv)
    presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    unknown = [p for p in presets if p not in PRESETS]
    if unknown:
        parser.error(f"unknown presets: {', '.join(unknown)}")

    OUT.mkdir(exist_ok=True)
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS), flush=True)
    for preset in presets:
        row, notes = bench(preset, args)
        print("| " + " | ".join(str(v) for v in row) + " |", flush=True)
        for note in notes:
            print(f"  {preset}: {note}", file=sys.stderr, flush=True)
    return 0


def bench(preset: str, args) -> tuple[list, list[str]]:
    notes: list[str] = []
    stem = f"{preset}-seed{args.seed}-v{GENERATOR_VERSION}"
    instance_path = OUT / f"{stem}.json"
    if not instance_path.exists():
        subprocess.run([sys.executable, "-m", "benchmarks.generate_instances", "--preset", preset,
                        "--seed", str(args.seed), "-o", str(instance_path)], cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL)
    solution_path = OUT / f"{stem}.solution.json"
    extra = ["--time-limit", str(args.time_limit)] if args.time_limit else []
    run = run_solver(instance_path, solution_path, extra)
    if run["returncode"] not in (0, 1):
        notes.append(f"solver exited {run['returncode']}: {run['stderr'][-500:]}")

    instance = read_instance(instance_path)
    n = len(instance.cases)
    document = read_solution(solution_path) if run["returncode"] in (0, 1) else None
    stats = (document or {}).get("stats", {})
    if stats.get("message"):
        notes.append(f"solver message: {stats['message']}")
    problems = check_solution(instance, document) if document else ["no solution"]
    notes += [f"check: {p}" for p in problems[:10]]

    status = document["status"] if document else f"exit {run['returncode']}"
    objective = document.get("objective") if document else None
    kids = children_within(instance, *plan_of(instance, document)) if document else None

    g_obj = g_kids = g_seconds = None
    if n <= args.skip_greedy_above:
        start = time.perf_counter()
        baseline = greedy(instance)
        g_seconds = time.perf_counter() - start
        g_obj = baseline.objective
        g_kids = children_within(instance, baseline.facility, baseline.week)
    gap = (100.0 * (g_obj - objective) / objective
           if g_obj is not None and objective else None)

    same = "-"
    if document and n <= args.skip_determinism_above:
        again = OUT / f"{stem}.solution-again.json"
        run_solver(instance_path, again, extra)
        same = "yes" if without_stats(solution_path) == without_stats(again) else "NO"
        again.unlink(missing_ok=True)

    row = [preset, n, stats.get("groups", "-"), stats.get("arcs", "-"), status,
           f"{run['wall']:.1f}", f"{run['peak_mb']:.0f}", fmt(objective),
           "ok" if not problems else f"{len(problems)} problems", fmt(g_obj),
           "-" if gap is None else f"{gap:.1f}", "-" if g_seconds is None else f"{g_seconds:.1f}",
           "-" if kids is None else f"{kids[0]} / {kids[1]}",
           "-" if g_kids is None else f"{g_kids[0]} / {g_kids[1]}", same]
    return row, notes


def run_solver(instance_path: Path, solution_path: Path, extra: list[str]) -> dict:
    """Run `python -m solver` in its own process; its wall time and the peak resident set that the
    kernel reports for it when it is reaped (os.wait4: this child only, not earlier ones)."""
    solution_path.unlink(missing_ok=True)
    with open(os.devnull, "wb") as devnull, \
            open(solution_path.with_suffix(".stderr"), "w+b") as err:
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "solver", str(instance_path), "-o",
                                    str(solution_path), *extra], cwd=ROOT, stdout=devnull,
                                   stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    solution_path.with_suffix(".stderr").unlink()
    return {"returncode": process.returncode, "wall": wall, "peak_mb": usage.ru_maxrss / 1024,
            "stderr": stderr}


def plan_of(instance: Instance, document: dict) -> tuple[np.ndarray, np.ndarray]:
    index = {cid: i for i, cid in enumerate(instance.cases.ids)}
    facility = np.full(len(instance.cases), NO_FACILITY, dtype=np.int64)
    week = np.full(len(instance.cases), -1, dtype=np.int64)
    for row in document.get("assignments", []):
        i = index.get(row.get("case"))
        if i is not None:
            facility[i], week[i] = 0, row.get("week", -1)  # any facility: only placement counts
    return facility, week


def children_within(instance: Instance, facility: np.ndarray, week: np.ndarray,
                    weeks: int = 4) -> tuple[int, int]:
    """(children placed with week - release < `weeks`, children in all)."""
    child = instance.cases.priority == CHILD
    soon = child & (facility != NO_FACILITY) & (week - instance.cases.release < weeks)
    return int(soon.sum()), int(child.sum())


def without_stats(path: Path) -> bytes:
    text = path.read_bytes()
    cut = text.rfind(b'\n"stats":')
    return text if cut < 0 else text[:cut]


def fmt(value) -> str:
    return "-" if value is None else f"{value:,.0f}"


if __name__ == "__main__":
    sys.exit(main())
