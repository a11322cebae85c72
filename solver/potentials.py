"""Shortest-path distances in a min cost flow's residual graph, which has negative arcs (the reverse
of every arc carrying flow) but, at an optimum, no negative cycle.

OR-Tools' SimpleMinCostFlow returns flows but not node potentials, and a generic Bellman-Ford (e.g.
scipy's) sweeps every arc N times. This is the queue-based variant (SPFA) done in bulk with numpy:
each round relaxes only the arcs leaving the nodes whose distance fell in the round before, so the
work follows the number of improvements, not N x arcs."""
from __future__ import annotations

import numpy as np

UNREACHABLE = np.iinfo(np.int64).max // 4


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
    active = np.array([root], dtype=np.int64)
    rounds = 0
    while active.size:
        rounds += 1
        if rounds > num_nodes + 1:
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
        heads, candidate = heads[better], candidate[better]
        np.minimum.at(dist, heads, candidate)
        active = np.unique(heads)
    return dist
