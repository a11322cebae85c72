"""The optimiser's command line (also `rehab-net solve ...`):

    python -m solver INSTANCE.json -o SOLUTION.json [--time-limit S] [--baseline greedy]
    python -m solver check INSTANCE.json SOLUTION.json

Exit status: 0 a plan was written; 1 the solver failed (a solution with status error is written) or
the checker found problems; 2 the input could not be used (nothing is written)."""
from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from solver import io
from solver.check import check_solution
from solver.greedy import greedy
from solver.instance import NO_FACILITY, Instance
from solver.solve import error_solution, solve

OK, FAILED, UNUSABLE = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv[:1] == ["check"]:
            return _check(_check_parser().parse_args(argv[1:]))
        return _solve(_solve_parser().parse_args(argv))
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else UNUSABLE


def quick_exit(code: int) -> None:
    """End the command with `code` once its output is written, skipping the interpreter's
    teardown: with numba's compiled functions loaded it takes ~0.1 s of a ~1 s sample solve,
    and the command holds nothing else to release (the files are closed, the pool is joined)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _solve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m solver",
        description="Assign cases to facilities and start weeks at least total cost "
                    "(../shared/SOLVER_FORMAT.md). `python -m solver check INSTANCE SOLUTION` "
                    "checks a solution.")
    parser.add_argument("instance", help="instance file (rehab-net.instance/1 JSON)")
    parser.add_argument("-o", "--output", required=True, help="solution file to write")
    parser.add_argument("--time-limit", type=_seconds, metavar="S",
                        help="stop after S seconds with the best plan found (status feasible)")
    parser.add_argument("--baseline", choices=("greedy",),
                        help="instead of optimising, run a baseline (greedy: first come, first "
                             "served)")
    return parser


def _check_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m solver check",
        description="Check a solution against its instance and the contract; exit 1 listing "
                    "every problem.")
    parser.add_argument("instance")
    parser.add_argument("solution")
    return parser


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be a number of seconds > 0")
    return value


def _read(path: str) -> Instance | None:
    """The instance, or None after telling stderr why not."""
    try:
        return io.read_instance(path)
    except OSError as exc:
        print(f"{path}: cannot read: {exc.strerror or exc}", file=sys.stderr)
    except io.InstanceError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
    return None


def _solve(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    output = Path(args.output)
    if not output.parent.is_dir() or output.is_dir():
        # Say so now rather than after a long solve.
        print(f"{output}: cannot write: no such directory, or it is a directory", file=sys.stderr)
        return UNUSABLE
    instance = _read(args.instance)
    if instance is None:
        return UNUSABLE
    read_done = time.perf_counter()

    if args.baseline == "greedy":
        solution = greedy(instance)
    else:
        try:
            solution = solve(instance, time_limit=args.time_limit)
        except Exception as exc:  # a failed solve still gets its (status error) file
            traceback.print_exc(file=sys.stderr)
            message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            solution = error_solution(instance, message)
    solve_done = time.perf_counter()

    written: dict = {}

    def finish(stats: dict) -> dict:
        """Called by the writer once everything but the stats is on disk."""
        now = time.perf_counter()
        timing = {"wall_seconds": now - start, "read_seconds": read_done - start,
                  "solve_seconds": solve_done - read_done, "write_seconds": now - solve_done}
        if solution.message and "message" not in stats:
            stats["message"] = solution.message  # the contract has no field for it
        # The command's own timings win over any a solver reported under the same names.
        written.update({k: round(v, 3) for k, v in timing.items()})
        written.update({k: v for k, v in stats.items() if k not in timing})
        return written

    try:
        io.write_solution(solution, instance, output, finish_stats=finish)
    except OSError as exc:
        print(f"{output}: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return UNUSABLE
    except ValueError as exc:  # a solution the contract cannot express: a solver bug
        print(f"{output}: not written: {exc}", file=sys.stderr)
        return FAILED
    assigned = int(np.count_nonzero(solution.facility != NO_FACILITY))
    objective = "none" if solution.objective is None else f"{solution.objective:.2f}"
    print(f"{solution.status}: objective {objective}, {assigned} assigned, "
          f"{len(instance.cases) - assigned} unassigned, {written['wall_seconds']:.2f} s -> "
          f"{output}")
    if solution.status == "error":
        print(f"solver error: {solution.message}", file=sys.stderr)
        return FAILED
    return OK


def _check(args: argparse.Namespace) -> int:
    instance = _read(args.instance)
    if instance is None:
        return UNUSABLE
    try:
        document = io.read_solution(args.solution)
    except OSError as exc:
        print(f"{args.solution}: cannot read: {exc.strerror or exc}", file=sys.stderr)
        return UNUSABLE
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return UNUSABLE
    problems = check_solution(instance, document)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{args.solution}: {len(problems)} problem(s)", file=sys.stderr)
        return FAILED
    print(f"{args.solution}: ok ({document.get('status')}, objective {document.get('objective')})")
    return OK
