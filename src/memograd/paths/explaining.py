"""∂output/∂wrt both ways, explained: :func:`explain` for one weight, :func:`explain_all` (or a
:class:`PathIndex`) for many.

What does not depend on ``wrt`` (the node names, the view's edges, backprop's adjoints, the cost,
every node's distance from the output and its number of paths to the parameters) is computed
once per graph by :class:`PathIndex`, which then explains each weight in time proportional to its
own paths and memo-table terms. ``explain --all`` over P parameters was O(P²) (every parameter
rebuilt the whole graph's tables, and every term on its paths walked the graph again); it is now
near-linear in what it prints.
"""

from __future__ import annotations

import bisect
import math
from typing import Any

from memograd import graph
from memograd.paths.counting import _enumerate, adjoints, cost, default_params
from memograd.paths.records import (
    MAX_PATHS,
    Explanation,
    Path,
    ReusedTerm,
    _factored_form,
    _sum_of,
    display,
)
from memograd.paths.views import _check_view, _names, _resolve, _view_edges
from memograd.scalar.value import Value


def _common_prefix(seqs: list[tuple[Any, ...]]) -> int:
    if not seqs:
        return 0
    k = 0
    while all(len(s) > k for s in seqs) and all(s[k] == seqs[0][k] for s in seqs):
        k += 1
    return k


def _shared_ends(path_list: list[Path]) -> tuple[int, int]:
    """(head, tail): how many leading factors every path shares, pulled out in front of the
    bracket as the notes do (∂L/∂ŷ [...]); only when there is no such head, how many trailing
    factors they share, pulled out behind it ([∂L/∂ŷ1·∂ŷ1/∂o11 + ...] · ∂o11/∂w31^1: the bracket
    is then the adjoint ∂L/∂o11 that backprop stores). (0, 0) for one path, or identical ones."""
    if len(path_list) < 2:
        return 0, 0
    names = [tuple(f.name for f in p.factors) for p in path_list]
    if len(set(names)) == 1:  # x + x: nothing to factor
        return 0, 0
    head = _common_prefix(names)
    if head:
        return head, 0
    return 0, _common_prefix([n[::-1] for n in names])


def _prefix_formula(path_list: list[Path], node_name: str, total: int) -> str:
    """The adjoint ∂L/∂n as a sum over the distinct path prefixes that end at n (``total`` of
    them: the paths from L to n), written out up to SHOWN terms."""
    from memograd.paths.records import SHOWN

    seen: dict[str, None] = {}
    for p in path_list:
        if node_name in p.nodes:
            i = p.nodes.index(node_name)
            seen.setdefault(" · ".join(f.name for f in p.factors[:i]))
            if len(seen) >= min(SHOWN, total):
                break
    return _sum_of(seen, total=max(total, len(seen)))


class PathIndex:
    """The per-graph quantities every explanation of ``output`` shares, computed once:

    ``order`` (topological), ``names``, the view's ``edges`` (and their reverse), backprop's
    adjoint ``table``, the ``cost``, ``dist`` (fewest view steps from the output),
    ``paths_to`` (number of view paths output -> node), ``param_paths`` (number of view paths
    node -> any parameter, with multiplicity), and, memoized per node on first use, the
    parameters below it sorted by distance (the memo hits of :class:`ReusedTerm`).

    ``keep`` (neuron view) holds the named nodes, the output and ``also`` (give the nodes you will
    explain that may be unnamed)."""

    def __init__(
        self, output: Value, view: str = "neuron", params: Any = None, also: Any = ()
    ) -> None:
        _check_view(view)
        if not isinstance(output, Value):
            _resolve(output, None)  # the usual TypeError
        self.output, self.view = output, view
        order = graph.topological_order(output)
        self.order = order
        self.names = _names(order)
        if view == "op":
            self.keep = {id(n) for n in order}
        else:
            self.keep = {id(n) for n in order if n.name is not None} | {id(output)}
            self.keep |= {id(n) for n in also}
        self.edges = _view_edges(output, order, self.names, view, self.keep)
        self.params = default_params(order) if params is None else list(params)
        self.table = adjoints(output)
        self.cost = cost(output, self.params)
        self.by_name = {self.names[id(n)]: n for n in order}
        self.children: dict[int, list[int]] = {}
        for n in order:
            for e in self.edges.get(id(n), ()):
                self.children.setdefault(id(e.parent), []).append(id(n))
        # fewest view steps from the output, and the number of view paths output -> node
        dist, count = {id(output): 0}, {id(output): 1}
        for n in reversed(order):
            k = id(n)
            if k not in dist or k not in self.keep:
                continue
            for e in self.edges.get(k, ()):
                p = id(e.parent)
                if p not in dist or dist[p] > dist[k] + 1:
                    dist[p] = dist[k] + 1
                count[p] = count.get(p, 0) + count[k]
        self.dist, self.paths_to = dist, count
        # view paths from each node to the parameters (counted with multiplicity), parents first
        self.param_index: dict[int, list[int]] = {}
        for i, q in enumerate(self.params):
            self.param_index.setdefault(id(q), []).append(i)
        below: dict[int, int] = {}
        for n in order:
            k = id(n)
            total = len(self.param_index.get(k, ()))
            if k in self.keep:
                total += sum(below.get(id(e.parent), 0) for e in self.edges.get(k, ()))
            below[k] = total
        self.param_paths = below
        self._near: dict[int, tuple[list[int], list[str]]] = {}

    def count(self, wrt: Any) -> int:
        """Number of view paths from the output to ``wrt`` (no enumeration)."""
        wrt = _resolve(self.output, wrt)
        return self.paths_to.get(id(wrt), 0)

    def _leading_to(self, wrt: Any) -> set[int]:
        """The nodes with a view path to ``wrt`` (wrt included)."""
        reach = {id(wrt)}
        stack = [id(wrt)]
        while stack:
            for c in self.children.get(stack.pop(), ()):
                if c not in reach:
                    reach.add(c)
                    stack.append(c)
        return reach

    def _parameters_below(self, k: int) -> tuple[list[int], list[str]]:
        """(distances, names) of the parameters reachable from node ``k`` in the view, sorted by
        (distance from the output, position in ``params``); memoized per node."""
        if k not in self._near:
            seen, stack = {k}, [k]
            while stack:
                m = stack.pop()
                if m not in self.keep:
                    continue
                for e in self.edges.get(m, ()):
                    p = id(e.parent)
                    if p not in seen:
                        seen.add(p)
                        stack.append(p)
            found = sorted(
                (self.dist.get(m, 1 << 30), i, self.names[m])
                for m in seen
                for i in self.param_index.get(m, ())
            )
            self._near[k] = ([d for d, _, _ in found], [name for _, _, name in found])
        return self._near[k]

    def explain(self, wrt: Any, max_paths: int = MAX_PATHS) -> Explanation:
        """The :class:`Explanation` of ∂output/∂wrt (as :func:`explain` gives it)."""
        wrt = _resolve(self.output, wrt)
        if self.view == "neuron" and id(wrt) not in self.keep:
            return PathIndex(self.output, self.view, self.params, also=(wrt,)).explain(wrt)
        output, names = self.output, self.names
        reach = self._leading_to(wrt)
        n_paths = self.paths_to.get(id(wrt), 0)
        path_list = _enumerate(
            output, wrt, self.order, names, reach, self.keep, self.edges, max_paths, n_paths
        )
        path_sum = math.fsum(p.product for p in path_list)
        bp = self.table.get(id(wrt), 0.0)
        shared = _shared_ends(path_list)
        return Explanation(
            output=names[id(output)],
            wrt=names.get(id(wrt), wrt.display),
            view=self.view,
            paths=path_list,
            count=len(path_list),
            path_sum=path_sum,
            backprop=bp,
            difference=abs(path_sum - bp),
            factored=_factored_form(path_list, shared, lambda f: f.name, " · "),
            factored_values=_factored_form(path_list, shared, lambda f: f"({f.value:.6g})", " · "),
            shared=shared,
            reused=self._reused(wrt, path_list),
            cost=self.cost,
        )

    def _reused(self, wrt: Any, path_list: list[Path]) -> list[ReusedTerm]:
        """The adjoints met on the paths of ``wrt``, nearest the output first: ``users`` (the
        parameters nearer the output whose gradients read them first), ``uses`` (paths from the
        term to any parameter: how often enumeration recomputes it), ``reads``."""
        on_paths: list[int] = []
        seen: set[int] = set()
        for p in path_list:
            for nm in p.nodes[1:-1]:
                k = id(self.by_name[nm])
                if k not in seen:
                    seen.add(k)
                    on_paths.append(k)
        if not on_paths:
            return []
        dist = self.dist
        on_paths.sort(key=lambda k: dist[k])  # from the output down (stable: then path order)
        wrt_dist = dist.get(id(wrt), 0)
        out = []
        out_name = display(self.names[id(self.output)])
        for k in on_paths:
            dists, below = self._parameters_below(k)
            # wrt itself sits at wrt_dist, so "nearer than wrt" leaves it out
            users = tuple(below[: bisect.bisect_left(dists, wrt_dist)])
            prefix = _prefix_formula(path_list, self.names[k], self.paths_to.get(k, 0))
            out.append(
                ReusedTerm(
                    name=f"∂{out_name}/∂{display(self.names[k])}",
                    value=self.table.get(k, 0.0),
                    formula=prefix,
                    users=users,
                    uses=self.param_paths.get(k, 0),
                    reads=len(self.edges.get(k, ())),
                )
            )
        return out


def explain(output: Value, wrt: Any, view: str = "neuron", params: Any = None) -> Explanation:
    """∂output/∂wrt both ways: every path with its factors and product, their sum, the backprop
    value and the difference, the factored form, and the memo-table terms it reuses.

    ``params`` (default: every named leaf) are the parameters for the memo-hit and cost
    accounting."""
    _check_view(view)
    wrt = _resolve(output, wrt)
    return PathIndex(output, view, params, also=(wrt,)).explain(wrt)


def explain_all(
    output: Value, wrts: Any, view: str = "neuron", params: Any = None
) -> list[Explanation]:
    """``[explain(output, w, view, params) for w in wrts]``, with the graph's quantities
    computed once (:class:`PathIndex`): near-linear in the size of the explanations."""
    _check_view(view)
    wrts = [_resolve(output, w) for w in wrts]
    index = PathIndex(output, view, params)
    # an unnamed node is its own step in the neuron view only when it is the one explained
    return [index.explain(w) for w in wrts]
