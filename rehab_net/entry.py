"""The `rehab-net` command's entry point. `rehab-net solve ...` is the optimiser's own command
line and goes straight to it, without importing the app (a sample solve is ~0.7 s; importing
Flask, SQLAlchemy and the app's modules would add as much again); every other command is the
app's (rehab_net/cli.py)."""
from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["solve"]:
        from solver.cli import main as solver_main
        from solver.cli import quick_exit

        quick_exit(solver_main(sys.argv[2:]))
    from rehab_net.cli import main as app_main

    app_main()
