"""The warm network simplex (solver/simplex.py) against OR-Tools' min cost flow on random
networks: the same optimal cost from the first basis, again after arcs are appended to a solved
network (re-optimised from its basis), potentials that are optimal duals, and residual shortest
distances equal to a Bellman-Ford's."""
from __future__ import annotations

import numpy as np
import pytest
from ortools.graph.python import min_cost_flow

from solver.potentials import distances_from, residual_arcs
from solver.simplex import UNREACHABLE, WarmSimplex


def random_network(rng: np.random.Generator, nodes: int, arcs: int):
    """Root 0 (the sink); every other node has an arc to it (a costly one from the supply
    nodes, a capacitated free one from the others) that forms the first basis, plus random arcs
    between any two distinct nodes, costs of either sign."""
    supply = np.where(rng.random(nodes) < 0.4, rng.integers(1, 6, nodes), 0)
    supply[0] = 0
    v = np.arange(1, nodes)
    base_cap = np.where(supply[1:] > 0, supply[1:].sum() + 1, rng.integers(1, 8, nodes - 1))
    base_cost = np.where(supply[1:] > 0, rng.integers(500, 1000, nodes - 1), 0)
    tail = rng.integers(1, nodes, arcs)
    head = rng.integers(0, nodes, arcs)
    keep = tail != head
    extra = (tail[keep], head[keep], rng.integers(1, 10, keep.sum()),
             rng.integers(-20, 100, keep.sum()))
    first = (v, np.zeros(nodes - 1, dtype=np.int64), base_cap, base_cost)
    flow = np.zeros(nodes - 1, dtype=np.int64)
    flow[:] = supply[1:]
    return supply, first, extra, flow


def ortools_cost(nodes: int, supply: np.ndarray, tail, head, cap, cost) -> int:
    mcf = min_cost_flow.SimpleMinCostFlow()
    mcf.add_arcs_with_capacity_and_unit_cost(tail, head, cap, cost)
    supplies = supply.copy()
    supplies[0] = -supply.sum()
    mcf.set_nodes_supplies(np.arange(nodes), supplies)
    assert mcf.solve() == mcf.OPTIMAL
    return mcf.optimal_cost()


def check_optimal(sim: WarmSimplex, nodes: int, supply: np.ndarray) -> None:
    tail, head, cap, cost, flow = sim.tail, sim.head, sim.cap, sim.cost, sim.flow
    assert sim.objective() == ortools_cost(nodes, supply, tail, head, cap, cost)
    # Feasible: bounds and conservation.
    assert np.all((flow >= 0) & (flow <= cap))
    net = np.zeros(nodes, dtype=np.int64)
    np.add.at(net, tail, flow)
    np.add.at(net, head, -flow)
    expected = supply.copy()
    expected[0] = -supply.sum()
    assert np.array_equal(net, expected)
    # The potentials are optimal duals: no residual arc has a negative reduced cost.
    reduced = cost - sim.pi[tail] + sim.pi[head]
    assert np.all(reduced[flow < cap] >= 0)
    assert np.all(reduced[flow > 0] <= 0)
    # Residual distances from and to the root, as a Bellman-Ford finds them.
    src, dst, weight = residual_arcs(tail.astype(np.int64), head.astype(np.int64), cap, cost, flow)
    for to_root, (a, b) in ((False, (src, dst)), (True, (dst, src))):
        expected = distances_from(0, nodes, a, b, weight)
        got = sim.distances(to_root=to_root)
        assert np.array_equal(got == UNREACHABLE, expected == UNREACHABLE)
        assert np.array_equal(got[got != UNREACHABLE], expected[expected != UNREACHABLE])


@pytest.mark.parametrize("seed", range(40))
def test_cold_and_warm_solves_match_ortools(seed):
    rng = np.random.default_rng(seed)
    nodes = int(rng.integers(3, 60))
    supply, first, extra, flow = random_network(rng, nodes, int(rng.integers(0, 6 * nodes)))
    parent = np.zeros(nodes, dtype=np.int64)
    parent[0] = -1
    parent_arc = np.r_[-1, np.arange(nodes - 1)]
    half = extra[0].size // 2
    tail, head, cap, cost = (np.concatenate([a, b[:half]])
                             for a, b in zip(first, extra, strict=True))
    flow = np.r_[flow, np.zeros(half, dtype=np.int64)]
    sim = WarmSimplex(nodes, 0, tail, head, cap, cost, flow, parent, parent_arc)
    sim.run()
    check_optimal(sim, nodes, supply)
    # Arcs appended in two more batches, each re-optimised from the basis before.
    for lo, hi in ((half, half + (extra[0].size - half) // 2),
                   (half + (extra[0].size - half) // 2, extra[0].size)):
        sim.append(*(x[lo:hi] for x in extra))
        sim.run()
        check_optimal(sim, nodes, supply)
