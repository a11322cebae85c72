"""Services solved in a process pool give the same plan as solved one after another, and a solve
inside a daemonic process (the app's plan worker runs solves in one) still works."""
import multiprocessing

import pytest

import solver.solve as solve_module
from solver.io import solution_to_dict
from tests.solver.builders import random_instance


def plan_of(inst, workers):
    result = solution_to_dict(solve_module.solve(inst, workers=workers), inst)
    result.pop("stats")
    return result


@pytest.fixture
def parallel_from_any_size(monkeypatch):
    monkeypatch.setattr(solve_module, "PARALLEL_FROM_CASES", 0)


def _solve_in_daemon(seed, queue):
    inst = random_instance(seed)
    queue.put(plan_of(inst, workers=2))


@pytest.mark.parametrize("seed", [4, 9, 17])  # several services each: the pool is used
def test_parallel_equals_sequential(parallel_from_any_size, seed):
    inst = random_instance(seed)
    assert plan_of(inst, workers=2) == plan_of(inst, workers=1)


def test_solve_inside_a_daemonic_process(parallel_from_any_size):
    context = multiprocessing.get_context("fork")  # keeps the monkeypatched threshold
    queue = context.Queue()
    child = context.Process(target=_solve_in_daemon, args=(9, queue), daemon=True)
    child.start()
    result = queue.get(timeout=30)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert result == plan_of(random_instance(9), workers=1)
    assert result["status"] == "optimal"
