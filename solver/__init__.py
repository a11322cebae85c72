"""The optimiser: assigns waiting cases to a facility and a start week under weekly intake
capacities, minimising the cost defined in ../shared/SOLVER_FORMAT.md. Pure Python + OR-Tools; it
knows nothing of Flask, SQLAlchemy or rehab_net."""
