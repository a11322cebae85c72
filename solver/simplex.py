"""A primal network simplex that keeps its basis between pricing rounds (compiled with numba).

OR-Tools' min cost flow solves every network from scratch and returns no potentials, so each
pricing round paid a full solve plus a Bellman-Ford for the duals. Here the spanning-tree basis,
the flow and the node potentials stay in memory: appending candidate arcs keeps the basis
feasible (a new arc enters at flow 0), so the next `run` starts from the last optimum and needs
a few pivots, and the potentials are optimal duals for free. The extreme duals the pricing needs
(largest for the bound, smallest for the shadow prices) are shortest paths in the residual
graph, whose reduced costs are >= 0 at an optimum: a Dijkstra, not a Bellman-Ford.

The algorithm is the textbook one as in LEMON's NetworkSimplex (and networkx's port of it):
a strongly feasible spanning tree stored as parent / parent arc / subtree size / preorder thread
(next and previous) / last descendant per node, block search pricing, the last blocking arc of
the cycle leaves (which keeps the tree strongly feasible, so degenerate pivots cannot cycle).
Potentials follow `reduced cost = cost - pi[tail] + pi[head]`, pi[root] = 0: pi of a node is
the cost of its tree path to the root. No artificial arcs or big-M costs: the caller gives an
initial feasible tree (model.WarmNetwork: every group's whole supply on its unassigned arc).

Arcs are only ever appended; the caller keeps what each arc means."""
from __future__ import annotations

import numpy as np
from numba import njit

UNREACHABLE = np.iinfo(np.int64).max // 4
LOWER, TREE, UPPER_STATE = 1, 0, -1  # arc states: at flow 0, in the tree, at capacity
# Block search prices BLOCK_FACTOR x sqrt(arcs) arcs a block: 2.5 since candidate arcs are as wide
# as any flow (city-100k 3.2 -> 2.9 s, the sample within the noise; 1.0 was best with narrow arcs).
BLOCK_FACTOR = 2.5


@njit(cache=True)
def _init_tree(n, root, parent, parent_arc, tail, head, cost, pi, size, succ, pred, last):
    """Thread, sizes, last descendants and potentials of the tree given by parent/parent_arc."""
    count = np.zeros(n + 1, np.int64)
    for v in range(n):
        if v != root:
            count[parent[v] + 1] += 1
    for v in range(n):
        count[v + 1] += count[v]
    fill = count[:n].copy()
    children = np.empty(max(n - 1, 1), np.int64)
    for v in range(n - 1, -1, -1):  # reversed so that each node's children end up in order
        if v != root:
            p = parent[v]
            children[fill[p]] = v
            fill[p] += 1
    order = np.empty(n, np.int64)
    stack = np.empty(n, np.int64)
    stack[0] = root
    top = 1
    k = 0
    while top > 0:
        top -= 1
        v = stack[top]
        order[k] = v
        k += 1
        for j in range(count[v], count[v + 1]):
            stack[top] = children[j]
            top += 1
    if k != n:
        return False
    position = np.empty(n, np.int64)
    for i in range(n):
        a = order[i]
        b = order[(i + 1) % n]
        succ[a] = b
        pred[b] = a
        position[a] = i
        size[a] = 1
    pi[root] = 0
    for i in range(1, n):
        v = order[i]
        e = parent_arc[v]
        if tail[e] == v:
            pi[v] = cost[e] + pi[parent[v]]
        else:
            pi[v] = pi[parent[v]] - cost[e]
    for i in range(n - 1, 0, -1):
        v = order[i]
        size[parent[v]] += size[v]
    for v in range(n):
        last[v] = order[position[v] + size[v] - 1]
    return True


@njit(cache=True)
def _pivots(m, tail, head, cap, cost, flow, state, pi, parent, parent_arc, size, succ, pred,
            last, ptr, limit, block):
    """Pivot until no arc has a negative reduced cost (returns the number of pivots), or -1 when
    `limit` pivots were not enough. ptr[0] is where the block search goes on next time."""
    n = parent.size
    cyc_arc = np.empty(n + 1, np.int64)
    cyc_from = np.empty(n + 1, np.int64)
    up_p = np.empty(n + 1, np.int64)
    pivots = 0
    e = ptr[0] % max(m, 1)
    while True:
        # Block search: the most negative reduced cost in the first block that has one.
        best = 0
        entering = -1
        seen = 0
        cnt = block
        while seen < m:
            c = state[e] * (cost[e] - pi[tail[e]] + pi[head[e]])
            if c < best:
                best = c
                entering = e
            e += 1
            if e == m:
                e = 0
            seen += 1
            cnt -= 1
            if cnt == 0:
                if entering >= 0:
                    break
                cnt = block
        if entering < 0:
            ptr[0] = e
            return pivots
        if pivots == limit:
            ptr[0] = e
            return -1
        pivots += 1
        i = entering
        if state[i] == LOWER:
            p, q = tail[i], head[i]
        else:
            p, q = head[i], tail[i]
        # The apex w: the first common ancestor of p and q (sizes grow towards the root).
        a, b = p, q
        while a != b:
            if size[a] < size[b]:
                a = parent[a]
            elif size[a] > size[b]:
                b = parent[b]
            else:
                a = parent[a]
                b = parent[b]
        w = a
        # The cycle in its orientation: w down to p, the entering arc p -> q, q up to w.
        k_up = 0
        v = p
        while v != w:
            up_p[k_up] = v
            k_up += 1
            v = parent[v]
        k = 0
        for j in range(k_up - 1, -1, -1):
            v = up_p[j]
            cyc_arc[k] = parent_arc[v]
            cyc_from[k] = parent[v]
            k += 1
        entering_at = k
        cyc_arc[k] = i
        cyc_from[k] = p
        k += 1
        v = q
        while v != w:
            cyc_arc[k] = parent_arc[v]
            cyc_from[k] = v
            k += 1
            v = parent[v]
        # The leaving arc: the last one of least residual capacity.
        delta = -1
        leave_at = -1
        for j in range(k):
            a_ = cyc_arc[j]
            r = cap[a_] - flow[a_] if tail[a_] == cyc_from[j] else flow[a_]
            if delta < 0 or r <= delta:
                delta = r
                leave_at = j
        if delta > 0:
            for j in range(k):
                a_ = cyc_arc[j]
                if tail[a_] == cyc_from[j]:
                    flow[a_] += delta
                else:
                    flow[a_] -= delta
        j_arc = cyc_arc[leave_at]
        if j_arc == i:
            state[i] = -state[i]  # the entering arc went from one bound to the other
            continue
        state[i] = TREE
        state[j_arc] = LOWER if flow[j_arc] == 0 else UPPER_STATE
        # The leaving arc joins s (parent) and t (child); q must be in t's subtree.
        s, t = tail[j_arc], head[j_arc]
        if parent[t] != s:
            s, t = t, s
        if leave_at < entering_at:
            p, q = q, p
        _remove(s, t, w, parent, parent_arc, size, succ, pred, last)
        _make_root(q, parent, parent_arc, size, succ, pred, last, up_p)
        _add(i, p, q, w, parent, parent_arc, size, succ, pred, last)
        # Potentials of q's subtree: the entering arc's reduced cost becomes 0.
        if q == head[i]:
            d = pi[p] - cost[i] - pi[q]
        else:
            d = pi[p] + cost[i] - pi[q]
        v = q
        stop = last[q]
        while True:
            pi[v] += d
            if v == stop:
                break
            v = succ[v]


@njit(cache=True)
def _remove(s, t, w, parent, parent_arc, size, succ, pred, last):
    """Cut t (child of s) from the tree. Sizes change only strictly below the apex w (the
    subtree is hung under w again by _add); above it only last descendants can change, and
    only along the chain of ancestors whose last descendant was t's."""
    size_t = size[t]
    prev_t = pred[t]
    last_t = last[t]
    next_last_t = succ[last_t]
    parent[t] = -1
    parent_arc[t] = -1
    succ[prev_t] = next_last_t
    pred[next_last_t] = prev_t
    succ[last_t] = t
    pred[t] = last_t
    while s != w:
        size[s] -= size_t
        if last[s] == last_t:
            last[s] = prev_t
        s = parent[s]
    while s != -1 and last[s] == last_t:
        last[s] = prev_t
        s = parent[s]


@njit(cache=True)
def _make_root(q, parent, parent_arc, size, succ, pred, last, path):
    """Re-root the (detached) subtree that holds q at q; `path` is scratch space."""
    k = 0
    v = q
    while v != -1:
        path[k] = v
        k += 1
        v = parent[v]
    for j in range(k - 1, 0, -1):
        p = path[j]
        q = path[j - 1]
        size_p = size[p]
        last_p = last[p]
        prev_q = pred[q]
        last_q = last[q]
        next_last_q = succ[last_q]
        parent[p] = q
        parent[q] = -1
        parent_arc[p] = parent_arc[q]
        parent_arc[q] = -1
        size[p] = size_p - size[q]
        size[q] = size_p
        succ[prev_q] = next_last_q
        pred[next_last_q] = prev_q
        succ[last_q] = q
        pred[q] = last_q
        if last_p == last_q:
            last[p] = prev_q
            last_p = prev_q
        pred[p] = last_q
        succ[last_q] = p
        succ[last_p] = q
        pred[q] = last_p
        last[q] = last_p


@njit(cache=True)
def _add(i, p, q, w, parent, parent_arc, size, succ, pred, last):
    """Hang the subtree rooted at q under p by arc i (see _remove for the walk up)."""
    last_p = last[p]
    next_last_p = succ[last_p]
    size_q = size[q]
    last_q = last[q]
    parent[q] = p
    parent_arc[q] = i
    succ[last_p] = q
    pred[q] = last_p
    pred[next_last_p] = last_q
    succ[last_q] = next_last_p
    while p != w:
        size[p] += size_q
        if last[p] == last_p:
            last[p] = last_q
        p = parent[p]
    while p != -1 and last[p] == last_p:
        last[p] = last_q
        p = parent[p]


@njit(cache=True)
def _distances(n, m, tail, head, cap, cost, flow, pi, root, to_root):
    """Shortest distances in the residual graph from `root` (to_root False) or to it (True),
    by Dijkstra on the reduced costs (>= 0 at an optimum). UNREACHABLE where there is no path;
    returns (distances, ok) with ok False if a negative reduced cost was met (not optimal)."""
    count = np.zeros(n + 1, np.int64)
    for a in range(m):
        count[tail[a] + 1] += 1
        count[head[a] + 1] += 1
    for v in range(n):
        count[v + 1] += count[v]
    fill = count[:n].copy()
    incident = np.empty(2 * m, np.int64)
    for a in range(m):
        incident[fill[tail[a]]] = a
        fill[tail[a]] += 1
        incident[fill[head[a]]] = a
        fill[head[a]] += 1
    dist = np.full(n, UNREACHABLE, np.int64)
    done = np.zeros(n, np.bool_)
    heap_d = np.empty(2 * m + 1, np.int64)
    heap_v = np.empty(2 * m + 1, np.int64)
    size = 0
    dist[root] = 0
    heap_d[0] = 0
    heap_v[0] = root
    size = 1
    ok = True
    while size > 0:
        du = heap_d[0]
        u = heap_v[0]
        size -= 1
        if size > 0:  # sift the last entry down from the top
            x_d, x_v = heap_d[size], heap_v[size]
            j = 0
            while True:
                c = 2 * j + 1
                if c >= size:
                    break
                if c + 1 < size and heap_d[c + 1] < heap_d[c]:
                    c += 1
                if heap_d[c] >= x_d:
                    break
                heap_d[j], heap_v[j] = heap_d[c], heap_v[c]
                j = c
            heap_d[j], heap_v[j] = x_d, x_v
        if done[u] or du > dist[u]:
            continue
        done[u] = True
        for k in range(count[u], count[u + 1]):
            a = incident[k]
            rc = cost[a] - pi[tail[a]] + pi[head[a]]
            # Residual arcs leaving u (from the root) or entering u (to the root).
            if (tail[a] == u) != to_root:
                if flow[a] >= cap[a]:
                    continue
                v = head[a] if tail[a] == u else tail[a]
                w = rc
            else:
                if flow[a] <= 0:
                    continue
                v = tail[a] if head[a] == u else head[a]
                w = -rc
            if w < 0:
                ok = False
                w = 0
            nd = du + w
            if nd < dist[v]:
                dist[v] = nd
                j = size
                size += 1
                while j > 0:  # sift up
                    par = (j - 1) // 2
                    if heap_d[par] <= nd:
                        break
                    heap_d[j], heap_v[j] = heap_d[par], heap_v[par]
                    j = par
                heap_d[j], heap_v[j] = nd, v
    # Back from reduced to true costs.
    for v in range(n):
        if dist[v] != UNREACHABLE:
            if to_root:
                dist[v] += pi[v] - pi[root]
            else:
                dist[v] += pi[root] - pi[v]
    return dist, ok


class NotOptimal(RuntimeError):
    """The simplex did not reach an optimum (a pivot limit, or a broken basis)."""


class WarmSimplex:
    """A network whose arcs only grow, with its optimal basis kept between solves.

    Built from the nodes' initial tree: parent[v] and parent_arc[v] for every node but the root
    (parent -1), with a flow that is feasible and leaves every tree arc able to carry more flow
    towards the root (strongly feasible), and every other arc at flow 0."""

    def __init__(self, num_nodes: int, root: int, tail, head, cap, cost, flow, parent,
                 parent_arc):
        self.n, self.root = num_nodes, root
        self.m = 0
        self._tail = self._head = self._cap = self._cost = self._flow = None
        self._state = None
        self._grow(len(tail) * 2 + 1024)
        self.append(tail, head, cap, cost)
        self._flow[:self.m] = flow
        self.parent = np.asarray(parent, dtype=np.int64).copy()
        self.parent_arc = np.asarray(parent_arc, dtype=np.int64).copy()
        self.pi = np.zeros(num_nodes, dtype=np.int64)
        self.size = np.zeros(num_nodes, dtype=np.int64)
        self.succ = np.zeros(num_nodes, dtype=np.int64)
        self.pred = np.zeros(num_nodes, dtype=np.int64)
        self.last = np.zeros(num_nodes, dtype=np.int64)
        in_tree = self.parent_arc[self.parent_arc >= 0]
        self._state[in_tree] = TREE
        if not _init_tree(num_nodes, root, self.parent, self.parent_arc, self._tail, self._head,
                          self._cost, self.pi, self.size, self.succ, self.pred, self.last):
            raise NotOptimal("the initial tree does not span the network")
        self.ptr = np.zeros(1, dtype=np.int64)
        self.pivots = 0

    def _grow(self, capacity: int) -> None:
        def bigger(old, fill, dtype):
            new = np.full(capacity, fill, dtype=dtype)
            if old is not None:
                new[:self.m] = old[:self.m]
            return new
        self._tail = bigger(self._tail, 0, np.int32)  # 4 bytes less to stream per arc scanned
        self._head = bigger(self._head, 0, np.int32)
        self._cap = bigger(self._cap, 0, np.int64)
        self._cost = bigger(self._cost, 0, np.int64)
        self._flow = bigger(self._flow, 0, np.int64)
        self._state = bigger(self._state, LOWER, np.int8)

    def append(self, tail, head, cap, cost) -> np.ndarray:
        """Add arcs at flow 0 (the basis stays feasible); returns their indices."""
        k = len(tail)
        if self.m + k > self._tail.size:
            self._grow(max(2 * self._tail.size, self.m + k + 1024))
        idx = np.arange(self.m, self.m + k)
        self._tail[idx], self._head[idx] = tail, head
        self._cap[idx], self._cost[idx] = cap, cost
        self._flow[idx] = 0
        self._state[idx] = LOWER
        self.m += k
        if k and hasattr(self, "ptr"):
            # The old arcs all price >= 0 at the last optimum: the search starts at the new ones.
            self.ptr[0] = idx[0]
        return idx

    _BASIS = ("parent", "parent_arc", "pi", "size", "succ", "pred", "last", "ptr")

    def trim(self) -> None:
        """Drop the room kept for arcs to come (up to as many again as there are): for a
        network that is kept or pickled; the next append makes room again."""
        m = self.m
        self._tail, self._head = self._tail[:m].copy(), self._head[:m].copy()
        self._cap, self._cost = self._cap[:m].copy(), self._cost[:m].copy()
        self._flow, self._state = self._flow[:m].copy(), self._state[:m].copy()

    def add_leaf(self, cap: int, cost: int) -> int:
        """A new node hung under the root by a new arc node -> root (in the tree, flow 0:
        it can carry flow towards the root, so the tree stays strongly feasible); its
        potential makes that arc's reduced cost 0. Returns the node."""
        v = self.n
        (arc,) = self.append(np.array([v]), np.array([self.root]), np.array([cap]),
                             np.array([cost]))
        self._state[arc] = TREE
        root = self.root
        after = self.succ[root]
        self.parent = np.append(self.parent, root)
        self.parent_arc = np.append(self.parent_arc, arc)
        self.pi = np.append(self.pi, cost + self.pi[root])
        self.size = np.append(self.size, 1)
        self.succ = np.append(self.succ, after)
        self.pred = np.append(self.pred, root)
        self.last = np.append(self.last, v)
        # Right after the root in the preorder thread: the root's last descendant stays.
        self.succ[root] = v
        self.pred[after] = v
        self.size[root] += 1
        self.n += 1
        return v

    def snapshot(self) -> tuple:
        """A copy of the basis, the flow and the arcs' states, to come back to (restore)."""
        return (self.m, self.pivots, self._flow[:self.m].copy(), self._state[:self.m].copy(),
                {name: getattr(self, name).copy() for name in self._BASIS})

    def restore(self, saved: tuple) -> None:
        """Back to a snapshot: the arcs appended since are dropped."""
        m, pivots, flow, state, basis = saved
        self.m, self.pivots = m, pivots
        self._flow[:m], self._state[:m] = flow, state
        for name, values in basis.items():
            getattr(self, name)[:] = values

    def run(self, limit: int = -1) -> int:
        """Re-optimise from the current basis; the number of pivots it took."""
        done = _pivots(self.m, self._tail, self._head, self._cap, self._cost, self._flow,
                       self._state, self.pi, self.parent, self.parent_arc, self.size, self.succ,
                       self.pred, self.last, self.ptr, limit,
                       max(10, int(BLOCK_FACTOR * np.sqrt(self.m))))
        if done < 0:
            raise NotOptimal(f"no optimum within {limit} pivots")
        self.pivots += done
        return done

    @property
    def tail(self) -> np.ndarray:
        return self._tail[:self.m]

    @property
    def head(self) -> np.ndarray:
        return self._head[:self.m]

    @property
    def cap(self) -> np.ndarray:
        return self._cap[:self.m]

    @property
    def cost(self) -> np.ndarray:
        return self._cost[:self.m]

    @property
    def flow(self) -> np.ndarray:
        return self._flow[:self.m]

    def objective(self) -> int:
        return int(np.dot(self.flow, self.cost))

    def distances(self, to_root: bool) -> np.ndarray:
        """Shortest residual distances from the root (or to it) at the current optimum."""
        dist, ok = _distances(self.n, self.m, self._tail, self._head, self._cap, self._cost,
                              self._flow, self.pi, self.root, to_root)
        if not ok:
            raise NotOptimal("a residual arc has a negative reduced cost")
        return dist


def warm_up() -> None:
    """Compile (or load from numba's on-disk cache) every compiled function of the solver on
    tiny inputs: `make` runs it once after installing, so that the first plan does not pay the
    compilation (~10 s)."""
    sim = WarmSimplex(3, 0, np.array([1, 2, 1]), np.array([0, 0, 2]), np.array([3, 1, 1]),
                      np.array([100, 0, 5]), np.array([2, 0, 0]), np.array([-1, 0, 0]),
                      np.array([-1, 0, 1]))
    sim.run()
    sim.distances(to_root=True)
    sim.distances(to_root=False)
    from solver.pricing import _scan_chunk  # the pricing's compiled pass (imports this module)

    for need in (np.zeros((1, 2), np.int8), np.zeros((1, 2), np.int64)):
        _scan_chunk(np.zeros((1, 2), np.int64), need, np.zeros(1, np.int64),
                    np.zeros(1, np.int64), np.zeros((1, 2), np.int64), np.zeros(1, np.int64),
                    np.ones(1, np.int64), 1)
