import math
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import memograd as mg
from memograd import fibonacci as F
from memograd import fibtree as T
from memograd.errors import MemogradTypeError, MemogradValueError


def reference(n, a=0, b=1):
    """Independent check: the plain loop, written here without the library."""
    seq = [a, b]
    while len(seq) <= n:
        seq.append(seq[-1] + seq[-2])
    return seq[n]


def test_public_name_and_the_notes_numbers():
    assert mg.fib is F.fib
    assert mg.fib(10) == 55
    assert mg.fib(38, base=(1, 1)) == 63_245_986
    assert F.notes_fib(38, {0: 1, 1: 1}) == 63_245_986


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 22),
    a=st.integers(-(10**6), 10**6),
    b=st.integers(-(10**6), 10**6),
)
def test_all_methods_agree_for_random_n_and_bases(n, a, b):
    expected = reference(n, a, b)
    for method in F.METHODS:
        assert F.fib(n, method, (a, b)) == expected, method


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 3000), a=st.integers(-50, 50), b=st.integers(-50, 50))
def test_fast_methods_agree_for_large_n(n, a, b):
    expected = reference(n, a, b)
    assert F.fib(n, "doubling", (a, b)) == expected
    assert F.fib(n, "iter", (a, b)) == expected


@pytest.mark.parametrize("n", [0, 1, 2, 3, 10, 20])
@pytest.mark.parametrize("base", [(0, 1), (1, 1), (2, -3)])
def test_counts_match_closed_forms(n, base):
    F_n1 = reference(n + 1)
    naive = F.measure(n, "naive", base)
    assert naive.calls == 2 * F_n1 - 1 == F.naive_calls(n) == naive.predicted_calls
    assert naive.additions == F_n1 - 1 == F.naive_additions(n)
    assert naive.max_depth == max(n, 1)
    d = F.measure(n, "dict", base)
    m = F.measure(n, "memo", base)
    assert d.calls == m.calls == F.memoized_calls(n) == (2 * n - 1 if n else 1)
    # dict: the base cases are in the dictionary from the start, as in the notes
    assert d.misses == d.additions == max(n - 1, 0) and d.hits == d.calls - d.misses
    # memo: G(0) and G(1) are ordinary calls, misses the first time
    assert m.misses == m.extra["currsize"] == (n + 1 if n >= 2 else 1)
    assert m.hits == m.calls - m.misses and m.additions == max(n - 1, 0)
    assert d.max_depth == m.max_depth == max(n, 1)
    it = F.measure(n, "iter", base)
    assert it.additions == max(n - 1, 0) and it.calls == 1 and it.hits is None
    db = F.measure(n, "doubling", base)
    steps = n.bit_length() or 1
    assert db.multiplications == 3 * steps + (0 if base == (0, 1) else 2)
    assert all(r.value == reference(n, *base) for r in (naive, d, m, it, db))


@pytest.mark.parametrize("n", [239, 240, 400, 1000, 5000])
@pytest.mark.parametrize("method", ["memo", "dict"])
def test_recursion_between_shallow_and_deep(method, n):
    run = F.measure(n, method)
    assert run.value == reference(n) and run.max_depth == expected_depth(run, n)
    assert run.misses == (n + 1 if method == "memo" else n - 1)


def expected_depth(run, n):
    """n, except where the interpreter caps recursion through C code (CPython 3.12/3.13) and
    the memo method fills its table in steps (then one extra top-level call per step)."""
    if run.method == "memo" and F.C_RECURSION_CAPPED and n > F.MEMO_CHUNK:
        step = run.extra["chunked"]
        assert run.calls == 2 * (n - 1) + len(range(step, n, step)) + 1
        return step
    assert "chunked" not in run.extra
    return n


def test_memo_in_chunks_when_recursion_through_c_is_capped(monkeypatch):
    monkeypatch.setattr(F, "C_RECURSION_CAPPED", True)
    run = F.measure(1000, "memo")
    assert run.value == reference(1000) and run.extra["chunked"] == F.MEMO_CHUNK
    assert run.max_depth == F.MEMO_CHUNK and run.misses == 1001
    assert run.calls == 2 * 999 + len(range(F.MEMO_CHUNK, 1000, F.MEMO_CHUNK)) + 1


def test_notes_call_counts():
    naive = F.measure(20, "naive", (1, 1))
    assert naive.calls == 21_891
    assert F.naive_calls(38) == 126_491_971  # the notes' fib(38): 2*F(39) - 1
    d = F.measure(38, "dict", (1, 1))
    assert (d.value, d.calls, d.hits, d.misses) == (63_245_986, 75, 38, 37)


@pytest.mark.parametrize("method", ["memo", "dict"])
def test_deep_recursion_without_touching_the_recursion_limit(method):
    limit = sys.getrecursionlimit()
    run = F.measure(100_000, method)
    assert run.max_depth == expected_depth(run, 100_000)
    assert run.value == F.fib(100_000, "doubling")
    assert sys.getrecursionlimit() == limit  # restored afterwards


def test_doubling_for_a_million():
    run = F.measure(10**6, "doubling")
    assert run.digits == 208_988 == F.digit_count(run.value)
    # the last nine digits, checked independently by the loop modulo 10**9
    a, b = 0, 1
    for _ in range(10**6):
        a, b = b, (a + b) % 10**9
    assert run.value % 10**9 == a


def test_digit_count_and_short_value():
    for x in [0, 9, 10, 99, 100, 10**50 - 1, 10**50, -12345]:
        assert F.digit_count(x) == len(str(abs(x)))
    assert F.short_value(63_245_986) == "63,245,986"
    big = 10**40 + 7
    assert F.short_value(big, keep=5) == "10000…00007 (41 digits)"


def test_naive_refuses_past_a_minute_with_the_prediction():
    with pytest.raises(F.NaiveTooSlow) as info:
        F.measure(60, "naive")
    message = str(info.value)
    assert f"{F.naive_calls(60):,}" in message and "--force" in message and "memo" in message
    assert info.value.predicted_calls == F.naive_calls(60)
    assert info.value.predicted_seconds > 60
    # a tiny limit makes even a small n refuse; force runs it anyway
    with pytest.raises(F.NaiveTooSlow):
        F.measure(15, "naive", time_limit=1e-9)
    assert F.measure(15, "naive", time_limit=1e-9, force=True).calls == F.naive_calls(15)
    with pytest.raises(F.NaiveTooSlow, match="even with force"):
        F.measure(F.NAIVE_MAX_N + 1, "naive", force=True)


def test_table_methods_refuse_when_the_table_would_not_fit():
    with pytest.raises(F.TableTooLarge, match="iter"):
        F.measure(10**6, "memo")
    assert F.predicted_table_bytes(100_000) < F.TABLE_MEMORY_LIMIT


def test_compare_marks_refused_methods_as_skipped():
    runs = F.compare(60, base=(1, 1))
    by = {r.method: r for r in runs}
    assert by["naive"].skipped and by["naive"].predicted_calls == F.naive_calls(60)
    assert by["memo"].value == by["doubling"].value == reference(60, 1, 1)


def test_ctrl_c_during_naive_returns_the_counts_so_far(monkeypatch):
    """Ctrl-C is simulated by a base value whose 1000th addition raises KeyboardInterrupt in the
    middle of the recursion, as the signal would."""
    ticks = {"n": 0}

    class Interrupting(int):
        def _tick(self):
            ticks["n"] += 1
            if ticks["n"] == 1000:
                raise KeyboardInterrupt

        def __add__(self, other):
            self._tick()
            return int(self) + int(other)

        __radd__ = __add__

    real = F._naive
    monkeypatch.setitem(F._RUNNERS, "naive", lambda n, a, b: real(n, a, Interrupting(b)))
    run = F.measure(25, "naive")
    assert run.interrupted and run.value is None
    assert 0 < run.calls < F.naive_calls(25)
    assert run.max_depth == 25  # the first descent already went all the way down
    ticks["n"] = 0
    with pytest.raises(KeyboardInterrupt):
        F.fib(25, "naive")


@pytest.mark.parametrize(
    "args, exc, text",
    [
        ((-3,), MemogradValueError, "non-negative integer, got -3"),
        ((2.5,), MemogradTypeError, "float"),
        (("7",), MemogradTypeError, "str"),
        ((True,), MemogradTypeError, "bool"),
        ((5, "fast"), MemogradValueError, "unknown method 'fast'"),
        ((5, "memo", (1,)), MemogradTypeError, "two integers"),
        ((5, "memo", 3), MemogradTypeError, "two integers"),
        ((5, "memo", (1, 1.5)), MemogradTypeError, "G\\(1\\)"),
        ((5, "memo", ("a", 1)), MemogradTypeError, "G\\(0\\)"),
    ],
)
def test_bad_input(args, exc, text):
    with pytest.raises(exc, match=text):
        F.fib(*args)
    with pytest.raises(exc):
        F.measure(*args)


def test_numpy_integers_are_fine():
    import numpy as np

    assert F.fib(np.int64(10)) == 55
    assert F.fib(10, base=(np.int32(1), np.int32(1))) == 89


def test_recursion_trees_mark_repeats_and_hits():
    naive = T.recursion_tree(5, "naive")
    assert naive.count() == F.naive_calls(5) == 15
    # everything after the first time each k appears is a repeat: 15 calls, 6 distinct k
    assert naive.count("repeat") == 15 - 6
    assert naive.value == 5
    memo = T.recursion_tree(5, "memo")
    assert memo.count() == F.memoized_calls(5) == 9
    assert memo.count("hit") == 3 and all(not c.children for c in _walk(memo) if c.mark == "hit")
    notes = T.recursion_tree(4, "naive", (1, 1))
    assert notes.value == 5
    lines = T.tree_lines(memo)
    assert lines[0][0] == "" and lines[1][0] == "├── " and len(lines) == 9
    assert T.recursion_tree(0).as_dict() == {"k": 0, "value": 0, "mark": ""}
    with pytest.raises(MemogradValueError, match="<= 10"):
        T.recursion_tree(11)
    with pytest.raises(MemogradValueError, match="naive' or 'memo"):
        T.recursion_tree(3, "iter")


def _walk(node):
    yield node
    for c in node.children:
        yield from _walk(c)


def test_as_dict_is_json_ready_for_huge_values():
    import json

    run = F.measure(30_000, "doubling")
    d = run.as_dict()
    assert d["value"] is None and d["digits"] == 6270 and "6,270 digits" in d["value_short"]
    json.dumps(d)
    small = F.measure(10, "memo").as_dict()
    assert small["value"] == 55 and small["currsize"] == 11 and small["base"] == [0, 1]


def test_human_seconds():
    assert F.human_seconds(0.5) == "500.0 ms"
    assert F.human_seconds(3 * 3600) == "3.0 hours"
    assert "years" in F.human_seconds(1e12)


def test_iter_and_doubling_refuse_huge_n_without_force_and_say_how_many_digits():
    from memograd import fibonacci as F
    from memograd.errors import MemogradValueError

    for method, limit in (("iter", F.ITER_MAX_N), ("doubling", F.DOUBLING_MAX_N)):
        with pytest.raises(F.ResultTooLarge, match=r"digits.*--force") as info:
            F.measure(limit + 1, method)
        assert isinstance(info.value, MemogradValueError)
        # F(n) has floor(n log10(phi) + log10(1/sqrt 5)) + 1 digits; the message's estimate is close
        shown = int(str(info.value).split("about ")[1].split(" digits")[0].replace(",", ""))
        exact = int((limit + 1) * math.log10((1 + 5**0.5) / 2) - math.log10(5) / 2) + 1
        assert abs(shown - exact) <= 2
    runs = F.compare(F.ITER_MAX_N + 1, ("iter",))
    assert runs[0].skipped and "digits" in runs[0].skipped


def test_doubling_with_gmpy2_gives_the_same_number_and_counts(monkeypatch):
    pytest.importorskip("gmpy2")
    small = F.measure(30_001, "doubling", (2, 5))  # from _GMP_FROM_N: GMP integers
    assert small.extra["integers"] == "gmpy2"
    assert type(small.value) is int
    monkeypatch.setattr(F, "_GMP_FROM_N", 10**9)  # the same steps on Python ints
    plain = F.measure(30_001, "doubling", (2, 5))
    assert plain.extra["integers"] == "python int"
    assert plain.value == small.value == F.fib(30_001, "iter", (2, 5))
    assert (plain.multiplications, plain.additions) == (small.multiplications, small.additions)
    assert F.short_value(small.value) == F.short_value(plain.value)


def test_digit_count_and_short_value_of_huge_numbers():
    x = 7 * 10**5000 + 123
    assert F.digit_count(x) == 5001 == F.digit_count(-x)
    assert F.digit_count(10**5000 - 1) == 5000
    assert F.short_value(x, keep=4) == "7000…0123 (5,001 digits)"


def test_small_naive_runs_do_not_time_the_machine_first(monkeypatch):
    monkeypatch.setattr(F, "_seconds_per_naive_call", None)
    F.measure(20, "naive")  # 21,891 calls: under a minute at any plausible speed
    assert F._seconds_per_naive_call is None
    with pytest.raises(F.NaiveTooSlow):  # a tiny limit still needs the measured cost
        F.measure(20, "naive", time_limit=1e-9)
    assert F._seconds_per_naive_call is not None
