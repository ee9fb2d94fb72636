"""Issue 10's scalar functions (tan ... sign): values against math, derivatives against the
closed forms, central differences (float64) and torch 2.13.0; domain errors named; nan and
overflow follow the engine's rules. Issue 11: Value(10**400) is a clear error."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memograd import MemogradValueError, NonFiniteError, Value
from memograd.scalar.value import RULES

# op -> (math function, closed-form derivative, domain as an open interval for sampling)
FUNCS = {
    "tan": (math.tan, lambda x: 1 / math.cos(x) ** 2, (-1.4, 1.4)),
    "sinh": (math.sinh, math.cosh, (-5, 5)),
    "cosh": (math.cosh, math.sinh, (-5, 5)),
    "arcsin": (math.asin, lambda x: 1 / math.sqrt(1 - x * x), (-0.95, 0.95)),
    "arccos": (math.acos, lambda x: -1 / math.sqrt(1 - x * x), (-0.95, 0.95)),
    "arctan": (math.atan, lambda x: 1 / (1 + x * x), (-5, 5)),
    "arcsinh": (math.asinh, lambda x: 1 / math.sqrt(x * x + 1), (-5, 5)),
    "arccosh": (math.acosh, lambda x: 1 / math.sqrt(x * x - 1), (1.05, 6)),
    "arctanh": (math.atanh, lambda x: 1 / (1 - x * x), (-0.95, 0.95)),
    "log2": (math.log2, lambda x: 1 / (x * math.log(2)), (0.05, 9)),
    "log10": (math.log10, lambda x: 1 / (x * math.log(10)), (0.05, 9)),
    "log1p": (math.log1p, lambda x: 1 / (1 + x), (-0.95, 9)),
    "expm1": (math.expm1, math.exp, (-5, 5)),
    "sign": (lambda x: math.copysign(1.0, x) if x else 0.0, lambda x: 0.0, (-5, 5)),
}


def central(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_every_function_is_a_row_of_the_table_with_formulas():
    for op in FUNCS:
        rule = RULES[op]
        assert "{x}" in rule.formula and len(rule.derivatives) == 1


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(FUNCS)), st.floats(0.0, 1.0))
def test_value_and_gradient_against_math_closed_form_and_central_differences(op, t):
    f, df, (lo, hi) = FUNCS[op]
    x0 = lo + (hi - lo) * t
    if op == "sign" and abs(x0) < 1e-5:
        return  # finite differences straddle the jump
    x = Value(x0, "x")
    y = getattr(x, op)()
    assert y.op == op and y.parents == (x,)
    assert y.data == pytest.approx(f(x0), rel=1e-15, abs=1e-300)
    y.backward()
    assert x.grad == pytest.approx(df(x0), rel=1e-12, abs=1e-300)
    assert x.grad == pytest.approx(central(f, x0), rel=1e-6, abs=1e-8)


def test_composed_functions_against_gradcheck():
    from memograd.gradcheck import gradcheck

    def fn(a, b):
        return (a.tanh().arcsin() * b.sinh()).arctan() + (a * a + 1).log2() - b.expm1().log1p()

    assert gradcheck(fn, [0.3, -0.7], atol=1e-7, rtol=1e-6).ok


def test_gradients_match_torch():
    torch = pytest.importorskip("torch")
    for op, (_, _, (lo, hi)) in FUNCS.items():
        for x0 in (lo + 0.1 * (hi - lo), lo + 0.63 * (hi - lo)):
            x = Value(x0)
            y = getattr(x, op)()
            y.backward()
            tx = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
            name = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh"}
            name |= {"arccosh": "acosh", "arctanh": "atanh"}
            ty = getattr(torch, name.get(op, op))(tx)
            ty.backward()
            assert y.data == pytest.approx(ty.item(), rel=1e-14, abs=1e-15), op
            assert x.grad == pytest.approx(tx.grad.item(), rel=1e-12, abs=1e-15), op


@pytest.mark.parametrize(
    "op, x, match",
    [
        ("arcsin", 1.5, r"arcsin: argument must be in \[-1, 1\], got 1\.5; clamp"),
        ("arccos", -1.01, r"arccos: argument must be in \[-1, 1\], got -1\.01"),
        ("arccosh", 0.5, r"arccosh: argument must be >= 1, got 0\.5"),
        ("arctanh", 1.0, r"arctanh: argument must be in \(-1, 1\).*got 1\.0"),
        ("arctanh", -3.0, r"arctanh: .*got -3\.0"),
        ("log2", 0.0, r"log2: argument must be > 0, got 0\.0"),
        ("log10", -2.0, r"log10: argument must be > 0, got -2\.0"),
        ("log1p", -1.0, r"log1p: argument must be > -1, got -1\.0"),
    ],
)
def test_domain_errors_name_the_op_the_value_and_the_fix(op, x, match):
    with pytest.raises(MemogradValueError, match=match) as info:
        getattr(Value(x), op)()
    assert isinstance(info.value, ValueError)


def test_domain_edges_give_the_one_sided_infinite_derivative():
    for op, x0, d in (("arcsin", 1.0, math.inf), ("arccos", -1.0, -math.inf)):
        y = getattr(Value(x0), op)()
        assert y.local_grads == (d,)
    assert Value(1.0).arccosh().local_grads == (math.inf,)


@pytest.mark.parametrize("op", sorted(FUNCS))
def test_nan_stays_nan_and_backward_names_it(op):
    y = getattr(Value(math.nan, "a"), op)()
    assert math.isnan(y.data)
    with pytest.raises(NonFiniteError, match="first non-finite node is 'a'"):
        y.backward()


def test_overflow_gives_signed_inf_and_infinite_tan_argument_gives_nan():
    assert Value(1000.0).sinh().data == math.inf
    assert Value(-1000.0).sinh().data == -math.inf
    assert Value(-1000.0).cosh().data == math.inf
    assert Value(1000.0).expm1().data == math.inf
    assert math.isnan(Value(math.inf).tan().data)
    assert Value(math.inf).arctan().data == pytest.approx(math.pi / 2)


def test_sign_has_zero_gradient_everywhere():
    for x0 in (-2.0, 0.0, 3.0):
        x = Value(x0)
        y = x.sign() * 5.0 + x
        y.backward()
        assert x.grad == 1.0  # only the identity path contributes
    assert [Value(v).sign().data for v in (-2.0, 0.0, 3.0)] == [-1.0, 0.0, 1.0]


def test_an_integer_too_large_for_a_float_is_a_clear_error():
    for make in (
        lambda: Value(10**400),
        lambda: Value(1.0) + 10**400,
        lambda: Value(2.0) ** (10**400),
        lambda: -(10**5000) * Value(1.0),
    ):
        with pytest.raises(MemogradValueError, match=r"integer of about 10\^\d+ is too large"):
            make()
    assert Value(10**300).data == 1e300
