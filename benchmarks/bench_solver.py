"""The optimiser's figures: for each preset instance (generated once into benchmarks/out/) and each
`--instance FILE` (e.g. the sample region from `rehab-net export-instance`), run `python -m solver`
as a separate process (wall and CPU time, peak memory), check its plan independently, run the
first-come-first-served baseline, and print one Markdown table row per instance.

    python -m benchmarks.bench_solver [--presets city-20k,city-100k] [--instance FILE]
                                      [--repeat N] [--skip-greedy-above N]

Every time is the median of `--repeat` runs, each a process of its own, and is also printed as a
ratio to two references measured in the same run on the same file, so that figures from different
machines (or from a busy machine) can be compared:
- "floor": `python -m benchmarks.bench_solver floor INSTANCE OUT`, a process that reads the
  instance into its arrays and writes a solution of the same cases (all unassigned): what any
  solver must at least spend;
- "greedy": `python -m solver --baseline greedy`, the first-come-first-served baseline.
"cpu s" is user + system time of the solver process and the pool workers it waited for.

"children < 4 w" counts children placed within 4 weeks of their release (week - release < 4).
"peak MB" is the largest resident set of the solver process or any process it started and waited
for (the kernel's ru_maxrss of the child: a maximum, not a sum over processes). "same twice"
compares the files of two solves without their stats block (byte for byte)."""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.generate_instances import GENERATOR_VERSION, PRESETS
from solver.check import check_solution
from solver.costs import total_cost
from solver.instance import CAPACITY, NO_FACILITY, Instance, Solution
from solver.io import read_instance, read_solution, write_solution

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent / "out"
CHILD = 0  # PRIORITIES index
COLUMNS = ("instance", "cases", "groups", "arcs", "flow solves", "status", "wall s", "cpu s",
           "floor s", "x floor", "greedy s", "x greedy", "peak MB", "objective", "check",
           "greedy objective", "greedy gap %", "children < 4 w", "greedy children < 4 w",
           "same twice")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["floor"]:
        floor(Path(argv[1]), Path(argv[2]))
        return 0
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_solver",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", default=",".join(PRESETS),
                        help=f"comma-separated, among {', '.join(PRESETS)} (default: all)")
    parser.add_argument("--instance", action="append", default=[], metavar="FILE",
                        help="also an instance file of its own (repeatable)")
    parser.add_argument("--repeat", type=int, default=3, metavar="N",
                        help="runs of each process; the medians are printed (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, help="passed to the solver")
    parser.add_argument("--skip-greedy-above", type=int, default=200_000, metavar="N",
                        help="skip the baseline above N cases (it takes ~2.5 min at 1M)")
    parser.add_argument("--skip-determinism-above", type=int, default=200_000, metavar="N",
                        help="above N cases run each process once (no repeats, no comparison)")
    args = parser.parse_args(argv)
    presets = [p.strip() for p in args.presets.split(",") if p.strip()] if args.presets else []
    unknown = [p for p in presets if p not in PRESETS]
    if unknown:
        parser.error(f"unknown presets: {', '.join(unknown)}")

    OUT.mkdir(exist_ok=True)
    print(f"load average before: {load_average()}", file=sys.stderr, flush=True)
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS), flush=True)
    files = [(preset, preset_file(preset, args.seed)) for preset in presets]
    files += [(Path(f).stem, Path(f).resolve()) for f in args.instance]
    for name, path in files:
        row, notes = bench(name, path, args)
        print("| " + " | ".join(str(v) for v in row) + " |", flush=True)
        for note in notes:
            print(f"  {name}: {note}", file=sys.stderr, flush=True)
    print(f"load average after: {load_average()}", file=sys.stderr, flush=True)
    return 0


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def preset_file(preset: str, seed: int) -> Path:
    instance_path = OUT / f"{preset}-seed{seed}-v{GENERATOR_VERSION}.json"
    if not instance_path.exists():
        subprocess.run([sys.executable, "-m", "benchmarks.generate_instances", "--preset", preset,
                        "--seed", str(seed), "-o", str(instance_path)], cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL)
    return instance_path


def floor(instance_path: Path, solution_path: Path) -> None:
    """What any solver of this file spends at least: read it into arrays, write a solution of
    every case (here all unassigned, the cost recomputed)."""
    instance = read_instance(instance_path)
    n = len(instance.cases)
    facility = np.full(n, NO_FACILITY, dtype=np.int32)
    week = np.full(n, -1, dtype=np.int32)
    objective = total_cost(instance, facility, week)
    write_solution(Solution(instance=instance.name, status="feasible", objective=objective,
                            bound=0.0, facility=facility, week=week, road_km=np.full(n, np.nan),
                            reason=np.full(n, CAPACITY, dtype=np.int8)), instance, solution_path)


def spread(runs: list[dict], key: str) -> str:
    return " ".join(f"{r[key]:.2f}" for r in runs)


def medians(runs: list[dict]) -> dict:
    return {key: statistics.median(r[key] for r in runs) for key in ("wall", "cpu", "peak_mb")}


def bench(name: str, instance_path: Path, args) -> tuple[list, list[str]]:
    notes: list[str] = []
    stem = instance_path.name.removesuffix(".json")
    solution_path = OUT / f"{stem}.solution.json"
    extra = ["--time-limit", str(args.time_limit)] if args.time_limit else []
    instance = read_instance(instance_path)
    n = len(instance.cases)
    repeat = max(1, args.repeat) if n <= args.skip_determinism_above else 1
    runs = []
    for i in range(repeat):
        path = solution_path if i == 0 else OUT / f"{stem}.solution-again.json"
        runs.append(run_solver(instance_path, path, extra))
        if i > 0:
            runs[-1]["same"] = without_stats(solution_path) == without_stats(path)
            path.unlink(missing_ok=True)
    run = runs[0]
    if run["returncode"] not in (0, 1):
        notes.append(f"solver exited {run['returncode']}: {run['stderr'][-500:]}")
    solver_time = medians(runs)
    floor_path = OUT / f"{stem}.floor.json"
    floor_time = medians([run_process([sys.executable, "-m", "benchmarks.bench_solver", "floor",
                                       str(instance_path), str(floor_path)])
                          for _ in range(repeat)])
    floor_path.unlink(missing_ok=True)
    notes.append(f"solver wall s: {spread(runs, 'wall')}; cpu s: {spread(runs, 'cpu')}; "
                 f"load average {load_average()}")

    document = read_solution(solution_path) if run["returncode"] in (0, 1) else None
    stats = (document or {}).get("stats", {})
    if stats.get("message"):
        notes.append(f"solver message: {stats['message']}")
    problems = check_solution(instance, document) if document else ["no solution"]
    notes += [f"check: {p}" for p in problems[:10]]

    status = document["status"] if document else f"exit {run['returncode']}"
    objective = document.get("objective") if document else None
    kids = children_within(instance, *plan_of(instance, document)) if document else None

    g_obj = g_kids = g_time = None
    if n <= args.skip_greedy_above:
        greedy_path = OUT / f"{stem}.greedy.json"
        g_time = medians([run_solver(instance_path, greedy_path, ["--baseline", "greedy"])
                          for _ in range(repeat)])
        baseline = read_solution(greedy_path)
        greedy_path.unlink(missing_ok=True)
        g_obj = baseline["objective"]
        g_kids = children_within(instance, *plan_of(instance, baseline))
    gap = (100.0 * (g_obj - objective) / objective
           if g_obj is not None and objective else None)

    same = "-"
    if document and repeat > 1:
        same = "yes" if all(r["same"] for r in runs[1:]) else "NO"

    wall = solver_time["wall"]
    row = [name, n, stats.get("groups", "-"), stats.get("arcs", "-"),
           stats.get("flow_solves", "-"), status, f"{wall:.2f}", f"{solver_time['cpu']:.2f}",
           f"{floor_time['wall']:.2f}", f"{wall / floor_time['wall']:.1f}",
           "-" if g_time is None else f"{g_time['wall']:.2f}",
           "-" if g_time is None else f"{wall / g_time['wall']:.2f}",
           f"{solver_time['peak_mb']:.0f}", fmt(objective),
           "ok" if not problems else f"{len(problems)} problems", fmt(g_obj),
           "-" if gap is None else f"{gap:.1f}",
           "-" if kids is None else f"{kids[0]} / {kids[1]}",
           "-" if g_kids is None else f"{g_kids[0]} / {g_kids[1]}", same]
    return row, notes


def run_solver(instance_path: Path, solution_path: Path, extra: list[str]) -> dict:
    solution_path.unlink(missing_ok=True)
    return run_process([sys.executable, "-m", "solver", str(instance_path), "-o",
                        str(solution_path), *extra])


def run_process(command: list[str]) -> dict:
    """Run a command in its own process; its wall time, its CPU time and the peak resident set
    that the kernel reports for it when it is reaped (os.wait4: this child and the children it
    waited for, not earlier ones)."""
    with open(os.devnull, "wb") as devnull, \
            open(OUT / f"stderr-{os.getpid()}.txt", "w+b") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=devnull, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    (OUT / f"stderr-{os.getpid()}.txt").unlink()
    return {"returncode": process.returncode, "wall": wall,
            "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
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
