"""`python -m solver ...`: the same command line as `rehab-net solve ...` (see cli.py)."""
from solver.cli import main, quick_exit

quick_exit(main())
