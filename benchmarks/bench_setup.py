"""Set-up and loading figures (docs/performance.md, "Set-up and loading").

    python -m benchmarks.bench_setup [--repeat N] [--install]

Times, as subprocesses of this virtualenv: generating the sample, `rehab-net db upgrade` on a
fresh SQLite file, and `rehab-net load-sample` into it (what `make run` does on first start),
with each child's peak resident memory. `--install` also times what `make run` does before that
on a fresh machine: `python3 -m venv` and `pip install -e .[test]` into a temporary venv (needs
the package index; takes minutes). Prints figures; asserts nothing."""
from __future__ import annotations

import argparse
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the virtualenv running this script
SAMPLE = ROOT / "sample_network" / "data"


@dataclass
class Run:
    seconds: float
    peak_mib: float
    output: str


def timed(cmd: list[str], env: dict | None = None, cwd: Path = ROOT) -> Run:
    """Run a command, return wall time and the child's own peak RSS (os.wait4 gives the usage of
    that one child, where getrusage(RUSAGE_CHILDREN) would mix all children so far)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            cwd=cwd, text=True)
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keep Popen from waiting
    proc.stdout.close()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{output}")
    return Run(seconds, usage.ru_maxrss / 1024, output)  # ru_maxrss is in KiB on Linux


def with_database(path: Path) -> dict:
    return {**os.environ, "REHAB_DATABASE_URL": f"sqlite:///{path}"}


def setup_once(work: Path, i: int) -> dict[str, Run]:
    """One round: generate into a temporary directory, migrate a new SQLite file, load the
    committed sample into it."""
    runs = {"generate": timed([sys.executable, "-m", "sample_network.generate",
                               "--out", str(work / f"sample{i}")])}
    env = with_database(work / f"bench{i}.sqlite3")
    runs["db upgrade"] = timed([str(BIN / "rehab-net"), "db", "upgrade"], env)
    runs["load-sample"] = timed([str(BIN / "rehab-net"), "load-sample", "--dir", str(SAMPLE)],
                                env)
    return runs


def import_seconds(output: str) -> float | None:
    """The importer's own figure ('imported ... in 3.4 s'): loading without process start-up."""
    found = re.search(r" in ([\d.]+) s", output)
    return float(found.group(1)) if found else None


def install_once(work: Path) -> dict[str, Run]:
    """What `make run` does first on a fresh clone: a venv, pip upgraded, the project installed."""
    venv = work / "venv"
    runs = {"venv": timed(["python3", "-m", "venv", str(venv)])}
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
           "--disable-pip-version-check"]
    runs["pip upgrade"] = timed([*pip, "--upgrade", "pip"])
    runs["pip install -e .[test]"] = timed([*pip, "-e", f"{ROOT}[test]"])
    return runs


def machine() -> str:
    return (f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, {date.today()}")


def report(rounds: list[dict[str, Run]]) -> None:
    print(f"{'step':<24} {'median s':>9} {'min s':>7} {'max s':>7} {'peak MiB':>9}")
    for step in rounds[0]:
        seconds = [r[step].seconds for r in rounds]
        peak = max(r[step].peak_mib for r in rounds)
        print(f"{step:<24} {statistics.median(seconds):>9.2f} {min(seconds):>7.2f} "
              f"{max(seconds):>7.2f} {peak:>9.0f}")


def sample_size() -> str:
    lines = {p.name: sum(1 for _ in p.open(encoding="utf-8")) - 1
             for p in sorted(SAMPLE.glob("*.csv"))}
    return ", ".join(f"{n} {name.removesuffix('.csv')}" for name, n in lines.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_setup")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of generate/upgrade/load")
    parser.add_argument("--install", action="store_true",
                        help="also time venv creation and pip install into a temporary venv")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    print(f"sample:  {sample_size()}")
    with tempfile.TemporaryDirectory(prefix="rehab-bench-") as tmp:
        work = Path(tmp)
        rounds = [setup_once(work, i) for i in range(args.repeat)]
        report(rounds)
        inside = [import_seconds(r["load-sample"].output) for r in rounds]
        if all(s is not None for s in inside):
            print(f"load-sample as the importer reports it (no start-up): median "
                  f"{statistics.median(inside):.2f} s")
        if args.install:
            print()
            installs = [install_once(work)]
            report(installs)
            first_run = sum(r.seconds for r in installs[0].values()) + sum(
                statistics.median(r[s].seconds for r in rounds)
                for s in ("db upgrade", "load-sample"))
            print(f"first `make run` up to serving (install + upgrade + load): {first_run:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
