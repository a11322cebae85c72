"""`python -m solver ...`: the same command line as `rehab-net solve ...` (see cli.py)."""
import sys

from solver.cli import main

sys.exit(main())
