"""Value: every op against closed-form derivatives and central differences; semantics; errors."""

import gc
import math
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memograd import MemogradTypeError, MemogradValueError, NonFiniteError, Value
from memograd.graph import topological_order
from memograd.scalar.value import RULES, wsum


def numeric(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


UNARY = {
    "exp": (math.exp, 0.7),
    "log": (math.log, 1.7),
    "sqrt": (math.sqrt, 2.3),
    "tanh": (math.tanh, -0.4),
    "sigmoid": (lambda t: 1 / (1 + math.exp(-t)), 0.9),
    "relu": (lambda t: max(t, 0.0), 1.3),
    "sin": (math.sin, 0.5),
    "cos": (math.cos, 0.5),
    "abs": (abs, -2.5),
    "neg": (lambda t: -t, 3.0),
}


@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary_ops_value_and_derivative(op):
    f, x0 = UNARY[op]
    x = Value(x0, "x")
    y = -x if op == "neg" else getattr(x, op)()
    assert y.op == op and y.parents == (x,)
    assert y.data == pytest.approx(f(x0), rel=1e-15)
    y.backward()
    assert x.grad == pytest.approx(numeric(f, x0), rel=1e-7)


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
}


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("kind", ["VV", "Vn", "nV"])
def test_binary_ops_with_values_and_numbers(op, kind):
    f = BINARY[op]
    a0, b0 = 1.7, 0.6
    a, b = Value(a0, "a"), Value(b0, "b")
    left = a if kind[0] == "V" else a0
    right = b if kind[1] == "V" else b0
    z = f(left, right)
    assert isinstance(z, Value) and z.op == op
    assert z.data == pytest.approx(f(a0, b0), rel=1e-15)
    z.backward()
    if kind[0] == "V":
        assert a.grad == pytest.approx(numeric(lambda t: f(t, b0), a0), rel=1e-7)
    if kind[1] == "V":
        assert b.grad == pytest.approx(numeric(lambda t: f(a0, t), b0), rel=1e-7)
    # a constant operand is not a parent
    assert len(z.parents) == kind.count("V")


def test_rule_table_lists_every_op_with_its_formulas():
    for op in [*UNARY, *BINARY, "wsum"]:
        rule = RULES[op]
        assert rule.op == op and rule.formula and rule.derivatives
    assert RULES["mul"].derivatives == ("{y}", "{x}")
    assert RULES["sigmoid"].local(0.3, 0.25) == (0.25 * 0.75,)


def test_local_derivatives_are_recorded_at_forward_time():
    x, y = Value(2.0), Value(5.0)
    z = x * y
    assert z.local_grads == (5.0, 2.0)
    x.data = 100.0  # editing data later does not change the recorded derivative
    assert z.local_grads == (5.0, 2.0)


def test_repeated_use_a_plus_a():
    a = Value(1.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0 and b.grad == 2.0


def test_value_pow_value_and_reflected_pow():
    x, y = Value(1.5), Value(2.5)
    z = x**y
    z.backward()
    assert x.grad == pytest.approx(2.5 * 1.5**1.5)
    assert y.grad == pytest.approx(1.5**2.5 * math.log(1.5))
    w = Value(0.3)
    u = 2.0**w
    u.backward()
    assert u.data == pytest.approx(2**0.3) and w.grad == pytest.approx(2**0.3 * math.log(2))


def test_integer_power_of_negative_base_and_zero_base():
    x = Value(-2.0)
    y = x**3
    y.backward()
    assert y.data == -8.0 and x.grad == 12.0
    z = Value(0.0)
    (z**2).backward()
    assert z.grad == 0.0
    e = Value(0.0)
    q = Value(0.0) ** Value(2.0)
    assert q.data == 0.0
    (Value(0.0) ** e).backward()
    assert e.grad == 0.0  # limit of x^y ln x at x = 0


def test_subgradients_at_zero():
    for op in ("relu", "abs"):
        x = Value(0.0)
        getattr(x, op)().backward()
        assert x.grad == 0.0, op
    x = Value(0.0)
    x.sqrt().backward()
    assert x.grad == math.inf


def test_wsum_is_one_node_with_2n_plus_1_parents():
    ws = [Value(0.5, "w1"), Value(-1.5, "w2")]
    xs = [Value(2.0, "x1"), Value(3.0, "x2")]
    b = Value(0.25, "b")
    z = wsum(ws, xs, b)
    assert z.data == 0.5 * 2 - 1.5 * 3 + 0.25
    assert z.parents == (*ws, *xs, b)
    assert z.local_grads == (2.0, 3.0, 0.5, -1.5, 1.0)
    z.backward()
    assert [w.grad for w in ws] == [2.0, 3.0] and [x.grad for x in xs] == [0.5, -1.5]
    assert b.grad == 1.0
    consts = wsum(ws, [2.0, 3.0])  # number inputs are constants
    assert consts.parents == tuple(ws) and consts.data == -3.5
    with pytest.raises(MemogradValueError, match="2 weights but 1 inputs"):
        wsum(ws, [1.0])


class _Bias(Value):
    """A Value subclass: wsum takes its general loop for it (the C path is for plain Values)."""

    __slots__ = ()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)), min_size=1, max_size=20))
def test_wsum_of_values_is_the_general_loop_bit_for_bit(pairs):
    ws = [Value(w) for w, _ in pairs]
    xs = [Value(x) for _, x in pairs]
    fast = wsum(ws, xs, Value(0.375))  # all Values: products and sum in C
    slow = wsum(ws, xs, _Bias(0.375))  # the loop: z = 0.0; z += w_i * x_i; z += b
    z = 0.0
    for w, x in pairs:
        z += w * x
    assert fast.data == slow.data == z + 0.375
    assert math.copysign(1, fast.data) == math.copysign(1, slow.data)
    assert (
        fast.local_grads
        == slow.local_grads
        == (*[x for _, x in pairs], *[w for w, _ in pairs], 1.0)
    )
    assert fast.parents[:-1] == slow.parents[:-1] == (*ws, *xs)
    assert fast.op == slow.op == "wsum" and fast.arg == slow.arg == (len(pairs), len(pairs))


def test_every_attribute_of_a_fresh_node_is_stored_and_value_has_no_getattr():
    # a __getattr__ on Value would switch off CPython's attribute specialization for all nodes
    assert "__getattr__" not in vars(Value) and not hasattr(Value, "__getattr__")
    ws = [Value(0.5), Value(1.5)]
    x = Value(2.0)
    for node in (x * x, x * 3.0, 3.0 - x, x.tanh(), x**2, wsum(ws, [x, x], x), wsum(ws, [1, 2])):
        assert node.grad == 0.0 and node.name is None and node.label is None, node.op
        assert node.arg is None or isinstance(node.arg, tuple)


def test_op_name_label_and_arg_share_one_slot_and_keep_each_other():
    x = Value(2.0, "x")
    y = x * 3.0
    assert (y.op, y.name, y.label, y.arg) == ("mul", None, None, (1, 3.0))
    y.name = "y"
    y.label = "why"
    assert (y.op, y.name, y.label, y.arg) == ("mul", "y", "why", (1, 3.0))
    y.name = y.label = None
    assert (y.op, y.name, y.label, y.arg) == ("mul", None, None, (1, 3.0))
    y.arg = None
    assert (y.op, y.name, y.label, y.arg) == ("mul", None, None, None)
    assert (x.op, x.name, (2.0 - x).arg) == ("", "x", (0, 2.0))
    with pytest.raises(MemogradTypeError, match="arg must be None or a non-empty tuple"):
        y.arg = [1, 3.0]


def test_leaf_grads_accumulate_intermediates_do_not_double():
    x = Value(3.0)
    h = x * x
    y = h * 2.0
    y.backward()
    assert x.grad == 12.0 and h.grad == 2.0
    y.backward()
    assert x.grad == 24.0  # leaves accumulate, as in PyTorch
    assert h.grad == 2.0  # intermediate adjoint is set, not doubled
    y.zero_grad()
    assert x.grad == 0.0 and h.grad == 0.0 and y.grad == 0.0
    y.backward()
    assert x.grad == 12.0


def test_backward_of_a_lone_value():
    x = Value(4.0)
    stats = x.backward()
    assert x.grad == 1.0 and stats.nodes == 1 and stats.edges == 0


def test_no_reference_cycles_graph_freed_without_gc():
    gc.collect()
    gc.disable()
    try:
        x = Value(0.5, "x")
        refs = []
        y = x
        for i in range(200):
            y = (y * 1.01 + x).tanh() if i % 2 else wsum([x], [y], 0.1).sigmoid()
            refs.append(weakref.ref(y))
        loss = y**2
        loss.backward()
        refs.append(weakref.ref(loss))
        assert all(r() is not None for r in refs)
        del y, loss
        assert all(r() is None for r in refs)  # freed by reference counting alone
        assert x.grad != 0.0
    finally:
        gc.enable()


def test_million_op_chain_forward_backward_and_free():
    x = Value(0.5, "x")
    y = x
    for _ in range(1_000_000):
        y = y + 1e-6
    y.backward()
    assert x.grad == 1.0
    assert y.data == pytest.approx(1.5, rel=1e-9)
    del y  # deallocating a deep chain must not overflow the C stack


def test_deep_mixed_chain_gradient():
    x = Value(0.1)
    y = x
    n = 20_000
    for _ in range(n):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001**n, rel=1e-9)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Value(-1.0).log(), r"log: argument must be > 0, got -1\.0"),
        (lambda: Value(0.0).log(), r"log: argument must be > 0, got 0\.0"),
        (lambda: Value(-4.0).sqrt(), r"sqrt: argument must be >= 0, got -4\.0"),
        (lambda: Value(1.0) / 0, r"div: division by zero"),
        (lambda: 1.0 / Value(0.0), r"div: division by zero"),
        (lambda: Value(1.0) / Value(0.0), r"div: division by zero"),
        (lambda: Value(-8.0) ** (1 / 3), r"pow: negative base -8\.0 with non-integer"),
        (lambda: Value(0.0) ** -1, r"pow: 0\.0 \*\* -1"),
        (lambda: Value(-2.0) ** Value(2.0), r"pow: negative base -2\.0 with a Value exponent"),
        (lambda: (-2.0) ** Value(2.0), r"pow: negative base -2\.0 with a Value exponent"),
        (lambda: Value(-2.0) ** math.inf, r"pow: negative base -2\.0 with non-integer"),
        (lambda: Value(-2.0) ** math.nan, r"pow: negative base -2\.0 with non-integer"),
    ],
)
def test_domain_errors_name_op_and_value(make, match):
    with pytest.raises(MemogradValueError, match=match) as info:
        make()
    assert isinstance(info.value, ValueError)


def test_overflow_gives_inf_and_backward_names_the_first_non_finite_node():
    x = Value(1000.0, "x")
    big = x.exp()
    assert big.data == math.inf
    loss = big * 2.0 + 1.0
    loss.name = "L"
    with pytest.raises(
        NonFiniteError, match=r"output L = inf is not finite.*op exp of \(x=1000\.0\)"
    ):
        loss.backward()
    assert x.grad == 0.0  # nothing was written
    assert (Value(10.0) ** 400).data == math.inf


@pytest.mark.parametrize("op", ["relu", "abs", "sigmoid", "tanh", "exp", "sin", "sqrt", "log"])
def test_a_nan_input_stays_nan_through_every_unary_op(op):
    # relu(nan) was 0.0: the nan vanished and backward could not name where it came from
    assert math.isnan(getattr(Value(math.nan, "a"), op)().data)


def test_backward_rejects_nan_input_and_bad_seed():
    a = Value(float("nan"), "a")
    out = a * 2
    with pytest.raises(NonFiniteError, match="first non-finite node is 'a'"):
        out.backward()
    with pytest.raises(NonFiniteError, match="seed"):
        Value(1.0).backward(float("inf"))


def test_sigmoid_is_stable_for_large_arguments():
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0
    assert Value(-30.0).sigmoid().data == pytest.approx(1 / (1 + math.exp(30)), rel=1e-12)


def test_bad_types():
    with pytest.raises(MemogradTypeError, match="real number, got str"):
        Value("1.0")
    with pytest.raises(MemogradTypeError, match="already a Value"):
        Value(Value(1.0))
    with pytest.raises(TypeError):
        Value(1.0) + "a"
    with pytest.raises(TypeError):
        [1] * Value(2.0)


def test_numpy_scalars_and_ints_are_numbers():
    x = Value(np.float32(2.0))
    assert type(x.data) is float
    y = x * np.float32(3.0) + np.int64(1) + True
    assert y.data == 8.0
    assert Value(3).data == 3.0


def test_repr_and_nodes_order():
    x = Value(1.0, "x")
    y = (x * 2).tanh()
    assert "name='x'" in repr(x) and "op='tanh'" in repr(y)
    assert y.nodes() == topological_order(y) and y.nodes()[-1] is y and y.nodes()[0] is x
    assert x.is_leaf and not y.is_leaf
    assert x < y or x >= y
    assert float(x) == 1.0 and +x is x and abs(Value(-2.0)).data == 2.0


def test_name_must_be_a_string():
    with pytest.raises(MemogradTypeError, match="name must be a str"):
        Value(1.0, 3)


OPS = {
    "exp": lambda a, b: a.exp(),
    "log": lambda a, b: (a * a + 0.1).log(),
    "sqrt": lambda a, b: (a * a + 0.1).sqrt(),
    "tanh": lambda a, b: a.tanh(),
    "sigmoid": lambda a, b: a.sigmoid(),
    "relu": lambda a, b: (a * b).relu(),
    "sin": lambda a, b: a.sin(),
    "cos": lambda a, b: b.cos(),
    "abs": lambda a, b: abs(a - b),
    "add": lambda a, b: a + b,
    "sub": lambda a, b: 1.5 - a - b,
    "mul": lambda a, b: a * b * 2,
    "div": lambda a, b: a / (b * b + 0.5) + 1 / (a * a + 1),
    "powc": lambda a, b: (a * a + 0.2) ** 1.7 + a**3,
    "powv": lambda a, b: (a * a + 0.2) ** b + 2**a,
    "wsum": lambda a, b: wsum([a, b], [b, a], a),
}


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(sorted(OPS)),
    st.floats(-2, 2).filter(lambda t: abs(t) > 1e-3),
    st.floats(-2, 2).filter(lambda t: abs(t) > 1e-3),
)
def test_every_op_against_gradcheck(op, a, b):
    from memograd.gradcheck import gradcheck

    if op in ("relu", "abs") and abs(a * b if op == "relu" else a - b) < 1e-3:
        return  # too close to the kink for finite differences
    assert gradcheck(OPS[op], [a, b], atol=1e-6, rtol=1e-5).ok


def test_the_engine_knows_nothing_of_pictures():
    """issue 14: the arrow runs viz -> engine only; viz gives Value its notebook picture."""
    import ast
    from pathlib import Path

    import memograd.scalar

    for path in Path(memograd.scalar.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            assert not any(n.startswith(("memograd.viz", "memograd.cli")) for n in names), path
    import memograd.viz.values  # noqa: F401  (registers the picture)

    v = Value(2.0, "x") * 3.0
    assert v._repr_svg_().lstrip().startswith("<svg")
