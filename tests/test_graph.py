"""The shared backward on a tiny engine of its own (independent of Value and Tensor)."""

import math

import pytest

from memograd.graph import Trace, backward, topological_order


class N:
    """A scalar node: value, parents, local derivatives d(self)/d(parent)."""

    def __init__(self, value, parents=(), local=()):
        self.value, self._parents, self.local, self.grad = value, tuple(parents), tuple(local), 0.0

    def _pullback(self, a):
        return [a * d for d in self.local]

    def __add__(self, o):
        return N(self.value + o.value, (self, o), (1.0, 1.0))

    def __mul__(self, o):
        return N(self.value * o.value, (self, o), (o.value, self.value))


def sin(x):
    return N(math.sin(x.value), (x,), (math.cos(x.value),))


def collect(node, a):
    node.grad += a


def test_order_is_parents_first_and_deterministic():
    x, y = N(2.0), N(3.0)
    z = x * y + sin(x)
    order = topological_order(z)
    assert order[-1] is z
    position = {id(n): i for i, n in enumerate(order)}
    for n in order:
        for p in n._parents:
            assert position[id(p)] < position[id(n)]
    assert [id(n) for n in topological_order(z)] == [id(n) for n in order]
    assert order[0] is x  # the first recorded parent is explored first


def test_gradients_match_closed_form():
    x, y = N(0.7), N(-1.3)
    z = x * y + sin(x) * x  # dz/dx = y + cos(x) x + sin(x), dz/dy = x
    stats = backward(z, 1.0, collect)
    assert x.grad == pytest.approx(y.value + math.cos(0.7) * 0.7 + math.sin(0.7), abs=1e-15)
    assert y.grad == pytest.approx(0.7, abs=1e-15)
    assert stats.nodes == len(topological_order(z))
    assert stats.edges == sum(len(n._parents) for n in topological_order(z))


def test_repeated_use_sums_over_paths():
    a = N(1.0)
    b = a + a
    c = b + b
    backward(c, 1.0, collect)
    assert a.grad == 4.0
    assert b.grad == 2.0


def test_each_adjoint_computed_once_even_with_exponentially_many_paths():
    # x_{k+1} = x_k * x_k has 2^k paths from x_k to x_0; backprop visits each node once.
    x0 = N(1.0)
    x = x0
    depth = 60
    for _ in range(depth):
        x = x * x
    visits = []
    stats = backward(x, 1.0, lambda n, a: (visits.append(id(n)), collect(n, a)))
    assert len(visits) == len(set(visits)) == depth + 1
    assert stats.edges == 2 * depth
    # d/dx0 x0^(2^60) = 2^60 x0^(2^60 - 1) = 2^60 at x0 = 1: one unit per path, 2^60 paths
    assert x0.grad == 2.0**depth


def test_deep_chain_has_no_recursion_limit():
    x0 = N(0.5)
    x = x0
    for _ in range(200_000):
        x = x + N(0.0)
    stats = backward(x, 1.0, collect)
    assert x0.grad == 1.0
    assert stats.peak_entries <= 3  # memo table stays small: entries are evicted once read


def test_unreached_nodes_are_skipped_and_none_shares_ignored():
    class Stop(N):
        def _pullback(self, a):
            return [None]

    x = N(2.0)
    s = Stop(1.0, (x,), (1.0,))
    z = s * N(3.0)
    backward(z, 1.0, collect)
    assert x.grad == 0.0 and s.grad == 3.0


def test_trace_sees_store_push_evict_in_order():
    events = []

    class Log(Trace):
        def store(self, node, adjoint):
            events.append(("store", node.value, adjoint))

        def push(self, node, parent, share):
            events.append(("push", node.value, parent.value, share))

        def evict(self, node):
            events.append(("evict", node.value))

    x = N(2.0)
    y = x * x
    backward(y, 1.0, trace=Log())
    assert events[0] == ("store", 4.0, 1.0)
    assert [e[0] for e in events[:4]] == ["store", "push", "push", "evict"]
    assert ("store", 2.0, 4.0) in events  # both shares summed before x is read


# --- the fast path: creation order and the table in the nodes' slots (the scalar Value) --------


def _random_value_graph(seed: int, size: int = 60):
    import random

    from memograd.scalar.value import Value

    rng = random.Random(seed)
    leaves = [Value(rng.uniform(0.5, 1.5), f"x{i}") for i in range(4)]
    pool = list(leaves)
    for _ in range(size):
        a, b = rng.choice(pool), rng.choice(pool)
        kind = rng.randrange(4)
        v = a * b if kind == 0 else a + b if kind == 1 else a.tanh() if kind == 2 else a * 0.5
        pool.append(v)
    return sum(pool[-8:]), leaves


@pytest.mark.parametrize("seed", range(8))
def test_creation_order_is_a_topological_order_of_the_same_nodes(seed):
    from memograd.graph import creation_order

    root, _ = _random_value_graph(seed)
    order = creation_order(root)
    assert {id(n) for n in order} == {id(n) for n in topological_order(root)}
    position = {id(n): k for k, n in enumerate(order)}
    assert order[-1] is root
    assert all(position[id(p)] < position[id(n)] for n in order for p in n._parents)


@pytest.mark.parametrize("seed", range(8))
def test_slot_table_gives_the_dict_tables_adjoints_bit_for_bit_and_its_counts(seed):
    root, _ = _random_value_graph(seed)
    order = topological_order(root)
    in_dict, in_slots = {}, {}
    stats_dict = backward(
        root, 1.0, lambda n, a: in_dict.__setitem__(id(n), a), order=order, trace=Trace()
    )
    stats_slots = backward(root, 1.0, lambda n, a: in_slots.__setitem__(id(n), a), order=order)
    assert in_slots == in_dict  # same order given: the same sums in the same order
    assert stats_slots == stats_dict
    assert all(n._adjoint is None for n in order)  # every entry evicted


def test_an_interrupted_pass_leaves_no_entries_behind():
    root, leaves = _random_value_graph(3)

    def stop(node, adjoint):
        if node is leaves[0]:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        backward(root, 1.0, stop)
    assert all(n._adjoint is None for n in topological_order(root))
    got = {}
    backward(root, 1.0, lambda n, a: got.__setitem__(id(n), a))
    want = {}
    backward(root, 1.0, lambda n, a: want.__setitem__(id(n), a), trace=Trace())
    assert got == pytest.approx(want, rel=1e-14)


class _SlotNode:
    """A node in graph.py's slot layout, independent of Value; ``boom`` interrupts the walk."""

    __slots__ = ("_p0", "_d0", "_p1", "_d1", "_ps", "_ds", "_index", "_adjoint", "grad", "boom")
    _count = 0

    def __init__(self, parents=(), local=(), boom=False):
        _SlotNode._count += 1
        self._index, self._adjoint, self.grad, self.boom = _SlotNode._count, None, 0.0, boom
        self._p0 = self._p1 = self._ps = None
        if 0 < len(parents) <= 2:
            self._p0, self._d0 = parents[0], local[0]
            if len(parents) == 2:
                self._p1, self._d1 = parents[1], local[1]
        elif parents:
            self._ps, self._ds = tuple(parents), tuple(local)

    def __getattribute__(self, name):
        if name == "_p1" and object.__getattribute__(self, "boom"):
            raise KeyboardInterrupt
        return object.__getattribute__(self, name)


def test_slot_layout_backward_on_a_node_class_of_its_own():
    from memograd.graph import INTO_GRAD

    x, y = _SlotNode(), _SlotNode()
    u = _SlotNode((x, y), (3.0, 2.0))  # u = x·y at x = 2, y = 3
    w = _SlotNode((u, x, y), (1.0, 1.0, 1.0))  # w = u + x + y (three parents: _ps)
    z = _SlotNode((w, w), (1.0, 1.0))  # z = 2w
    stats = backward(z, 1.0, INTO_GRAD)
    assert (x.grad, y.grad, u.grad, w.grad) == (2 * (3.0 + 1), 2 * (2.0 + 1), 2.0, 2.0)
    assert stats.nodes == 5 and stats.edges == 2 + 3 + 2
    assert all(n._adjoint is None for n in (x, y, u, w, z))
    backward(z, 1.0, INTO_GRAD)  # leaves accumulate, intermediates are set
    assert (x.grad, u.grad) == (16.0, 2.0)


def test_an_interrupted_walk_leaves_no_marks_and_unreached_nodes_of_a_given_order_are_skipped():
    x = _SlotNode()
    bad = _SlotNode((x,), (1.0,), boom=True)
    z = _SlotNode((bad, x), (1.0, 1.0))
    with pytest.raises(KeyboardInterrupt):
        backward(z, 1.0)
    assert all(object.__getattribute__(n, "_adjoint") is None for n in (x, bad, z))
    a, b = _SlotNode(), _SlotNode()
    c = _SlotNode((a,), (2.0,))
    got = {}
    stats = backward(c, 1.0, lambda n, g: got.__setitem__(id(n), g), order=[a, b, c])
    assert got == {id(c): 1.0, id(a): 2.0} and stats.nodes == 2  # b: nothing flowed back
    assert a._adjoint is None and b._adjoint is None and c._adjoint is None
