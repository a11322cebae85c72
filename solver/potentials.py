"""Shortest-path distances in a min cost flow's residual graph, which has negative arcs (the reverse
of every arc carrying flow) but, at an optimum, no negative cycle.

The solver itself now reads its duals from the network simplex's potentials (solver/simplex.py, a
Dijkstra on reduced costs); this Bellman-Ford, which needs no potentials, is the independent
reference the tests compare it with. A generic Bellman-Ford (e.g. scipy's) sweeps every arc N
times. This is the queue-based variant (SPFA) done in bulk with numpy:
each round relaxes only the arcs leaving the nodes whose distance fell in the round before, so the
work follows the number of improvements, not N x arcs."""
from __future__ import annotations

import numpy as np

UNREACHABLE = np.iinfo(np.int64).max // 4
FIRST_CYCLE_CHECK = 64  # rounds of relaxation before the first look for a negative cycle


class NegativeCycle(RuntimeError):
    """The residual graph has a negative cycle: the flow given was not optimal."""


def residual_arcs(tail, head, capacity, cost, flow):
    """The residual graph as (src, dst, cost) arrays: each arc with spare capacity forwards at its
    cost, and each arc carrying flow backwards at minus its cost."""
    forward = flow < capacity
    backward = flow > 0
    src = np.concatenate([tail[forward], head[backward]])
    dst = np.concatenate([head[forward], tail[backward]])
    weight = np.concatenate([cost[forward], -cost[backward]])
    return src, dst, weight


def distances_from(root: int, num_nodes: int, src, dst, weight) -> np.ndarray:
    """Shortest distances from `root` (int64; UNREACHABLE where no path exists)."""
    order = np.argsort(src, kind="stable")
    src, dst, weight = src[order], dst[order], weight[order]
    indptr = np.zeros(num_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=num_nodes), out=indptr[1:])

    dist = np.full(num_nodes, UNREACHABLE, dtype=np.int64)
    dist[root] = 0
    parent = np.full(num_nodes, -1, dtype=np.int64)  # the node each distance was reached from
    active = np.array([root], dtype=np.int64)
    rounds, next_check = 0, FIRST_CYCLE_CHECK
    seen = np.zeros(num_nodes, dtype=bool)
    while active.size:
        rounds += 1
        if rounds > num_nodes + 1:
            raise NegativeCycle("the residual graph has a negative cycle")
        if rounds == next_check:
            # Without a negative cycle a shortest path rarely needs this many rounds: look for
            # one (cheaply) rather than wait for num_nodes rounds.
            next_check *= 2
            if parents_have_cycle(parent, root):
                raise NegativeCycle("the residual graph has a negative cycle")
        starts = indptr[active]
        counts = indptr[active + 1] - starts
        total = int(counts.sum())
        if total == 0:
            break
        # The indices of every arc leaving an active node, without a Python loop.
        offsets = np.repeat(starts - np.cumsum(counts) + counts, counts)
        arcs = offsets + np.arange(total, dtype=np.int64)
        candidate = dist[src[arcs]] + weight[arcs]
        heads = dst[arcs]
        better = candidate < dist[heads]
        if not better.any():
            break
        heads, candidate, tails = heads[better], candidate[better], src[arcs][better]
        np.minimum.at(dist, heads, candidate)
        won = candidate == dist[heads]
        parent[heads[won]] = tails[won]
        seen[heads] = True  # the distinct heads, in node order, without sorting
        active = np.flatnonzero(seen)
        seen[active] = False
    return dist


def parents_have_cycle(parent: np.ndarray, root: int) -> bool:
    """Whether the nodes' parent pointers (-1: not reached) contain a cycle, which during
    Bellman-Ford means a negative cycle (every parent was set by a strict improvement). Pointer
    doubling: after 2^k >= n steps every node not on or behind a cycle has reached the root."""
    up = np.where(parent < 0, root, parent)
    up[root] = root
    for _ in range(max(1, int(up.size).bit_length())):
        up = up[up]
    return bool(np.any(up != root))
