"""Chain-rule paths: the naive twin of backprop, to show what memoization saves.

∂L/∂w is a sum over every path L -> ... -> w in the graph of the product of the local derivatives
along the path. Backprop (``memograd.graph.backward``) gets the same number by memoizing the
adjoints ∂L/∂n; this module enumerates the paths explicitly, counts them, factors them and counts
the work both ways.

Public API::

    paths(output, wrt, view="op", max_paths=100_000) -> list[Path]
    explain_all(output, wrts, view="neuron", params=None) -> list[Explanation]
        # every parameter at once: the graph's quantities are computed once (PathIndex)
    count_paths(output, wrt, view="op") -> int              # dynamic programming, no enumeration
    explain(output, wrt, view="neuron", params=None) -> Explanation
        # params: the parameters for memo hits and cost (default: named leaves except x1, x2..)
    cost(output, params=None) -> Cost                       # naive enumeration vs memoized backprop
    adjoints(output) -> dict[id(node), float]               # ∂output/∂node by the shared backward
    find(output, name) -> Value                             # a node of the graph by name

``wrt`` is a ``Value`` or the name of one in the graph (``"w11^1"``); an unknown name raises
``MemogradValueError`` listing the valid names.

Views. ``"op"``: every node of the graph is a path step, each factor a local derivative of one
op (``∂sigmoid/∂wsum``). ``"neuron"``: only *named* nodes are steps (inputs x1, parameters w11^1,
neuron outputs o11, ŷ, L, plus ``output`` and ``wrt``); the unnamed op nodes in between (weighted
sums, activations, loss arithmetic) are collapsed into one factor whose value is the product of
their local derivatives (a sum when several op paths join the same two named nodes), so a path
reads as in the notes: ∂L/∂ŷ · ∂ŷ/∂o21 · ∂o21/∂o11 · ∂o11/∂w11^1, with
``∂o21/∂o11 = σ'(z21)·w11^2``. Both views give the same path sum.

Data (dataclasses, each with ``to_dict()`` for JSON):

``Factor(name, value, formula, child, parent)``
    one local derivative: ``name`` "∂o21/∂o11", ``formula`` "σ'(z21)·w11^2".
``Path(factors, nodes)``
    ``.product``, ``.nodes`` ("L", "yhat", "o21", "o11", "w11^1"), ``.text()``.
``ReusedTerm(name, value, formula, users, uses, reads)``
    an adjoint ∂L/∂n on the paths of ``wrt`` that backprop stores once in its memo table:
    ``users`` the parameters nearer the output whose gradients already needed it (the memo hit:
    "used in ∂L/∂w11^2, we don't need to calculate again"), ``uses`` how many parameter paths
    (over all parameters) start with it, i.e. how often naive enumeration recomputes it, and
    ``reads`` how often backprop reads it (once per outgoing edge).
``Explanation``
    ``output, wrt, view, paths, count, path_sum, backprop, difference, factored,
    factored_values, reused, cost``; ``text()``, ``latex()``, ``to_dict()``.
``Cost``
    counted on the real op-level graph: ``naive_multiplications``/``naive_additions`` to get every
    parameter's gradient by enumerating its paths separately (a path of m factors costs m - 1
    multiplications; P paths cost P - 1 additions), versus ``backprop_multiplications`` (one per
    edge: adjoint × local derivative) and ``backprop_additions`` (one per extra contribution
    summed into an adjoint); ``ratio`` = naive / backprop operations.

One job per module: :mod:`~memograd.paths.records` (the data and its text), :mod:`~.tex` (LaTeX),
:mod:`~.views` (node names, local-derivative formulas, the op and neuron views),
:mod:`~.counting` (enumeration, counting, cost), :mod:`~.explaining` (:class:`PathIndex`, explain).
"""

from memograd.paths.counting import adjoints, cost, count_paths, default_params, paths
from memograd.paths.explaining import PathIndex, explain, explain_all
from memograd.paths.records import (
    MAX_PATHS,
    SHOWN,
    VIEWS,
    Cost,
    Explanation,
    Factor,
    Path,
    ReusedTerm,
    display,
)
from memograd.paths.views import find

__all__ = [
    "Factor",
    "Path",
    "ReusedTerm",
    "Cost",
    "Explanation",
    "PathIndex",
    "paths",
    "count_paths",
    "explain",
    "explain_all",
    "cost",
    "adjoints",
    "find",
    "display",
    "default_params",
    "MAX_PATHS",
    "SHOWN",
    "VIEWS",
]
