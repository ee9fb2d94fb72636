import functools
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import memograd as mg
from memograd.errors import MemogradError, MemogradTypeError, MemogradValueError
from memograd.memo import array_key, memoize


def test_bare_and_with_options_and_public_names():
    @memoize
    def square(x):
        return x * x

    @memoize(maxsize=2)
    def cube(x):
        return x**3

    assert square(3) == 9 and cube(2) == 8
    assert mg.memoize is memoize
    assert isinstance(square.cache_info(), mg.CacheInfo)
    assert square.cache_info() == (0, 1, None, 1)
    assert cube.cache_info().maxsize == 2
    assert square.__wrapped__.__name__ == "square" and square.__name__ == "square"


def test_recursion_counts_match_closed_forms():
    @memoize
    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    n = 30
    assert fib(n) == 832040
    info = fib.cache_info()
    # each k = 0..n computed once; each k >= 2 calls twice: 2n - 1 calls in all
    assert info.misses == n + 1 and info.hits == n - 2 and info.currsize == n + 1
    assert fib.stats.calls == 2 * n - 1 == info.hits + info.misses
    assert fib.stats.max_depth == n
    assert fib.stats.depth == 0
    expected = [0, 1]
    while len(expected) <= n:
        expected.append(expected[-1] + expected[-2])
    assert dict(fib.cache) == dict(enumerate(expected))


def test_cache_is_read_only_and_cache_clear_resets_everything():
    @memoize
    def f(x, y=0):
        return (x, y)

    f(1)
    f(1, y=2)
    f((1, 2))
    f(1, 2)
    assert len(f.cache) == f.cache_info().currsize == 4
    assert f.cache[1] == (1, 0) and f.cache[(1, 2)] == (1, 2) and f.cache[((1, 2),)] == ((1, 2), 0)
    with pytest.raises(TypeError):
        f.cache[5] = 5  # type: ignore[index]
    f.cache_clear()
    assert f.cache_info() == (0, 0, None, 0) and len(f.cache) == 0
    assert f.stats.max_depth == 0 and f.stats.calls == 0


def test_bounded_view_follows_lru_eviction():
    @memoize(maxsize=3)
    def sq(x):
        return x * x

    for x in [1, 2, 3, 1, 4, 5, 1]:
        sq(x)
    # LRU order: 1 used again before 4 and 5 came, so 2 and 3 were evicted
    assert dict(sq.cache) == {1: 1, 4: 16, 5: 25}
    assert len(sq.cache) == sq.cache_info().currsize == 3
    with pytest.raises(KeyError):
        sq.cache[2]
    sq.cache_clear()
    assert dict(sq.cache) == {}


def test_maxsize_zero_caches_nothing_like_lru_cache():
    @memoize(maxsize=0)
    def f(x):
        return x

    ref = functools.lru_cache(maxsize=0)(lambda x: x)
    for x in [1, 1, 2]:
        assert f(x) == ref(x)
    assert f.cache_info() == ref.cache_info() and len(f.cache) == 0


# equal arguments of different types (1, 1.0, True) are separate keys or one, as lru_cache has it
ARGUMENTS = [0, 1, 2, 3, 4, 5, 6, 1.0, 2.0, 0.0, True, False, "a", (1,), (1.0, "a")]


def _sequences():
    return st.lists(
        st.tuples(
            st.sampled_from(ARGUMENTS), st.booleans(), st.sampled_from(["call", "call", "clear"])
        ),
        max_size=60,
    )


@settings(max_examples=150, deadline=None)
@given(maxsize=st.one_of(st.none(), st.integers(0, 5)), ops=_sequences())
def test_cache_info_agrees_with_lru_cache_after_every_call(maxsize, ops):
    def body(x, kw=False):
        return (repr(x), kw)  # tells 1, 1.0 and True apart: which call's value was stored

    ours = memoize(maxsize=maxsize)(body)
    ref = functools.lru_cache(maxsize=maxsize)(body)
    for x, use_kw, op in ops:
        if op == "clear":
            ours.cache_clear()
            ref.cache_clear()
        elif use_kw:
            assert ours(x, kw=True) == ref(x, kw=True)
        else:
            assert ours(x) == ref(x)
        assert ours.cache_info() == ref.cache_info()
        assert len(ours.cache) == ours.cache_info().currsize
        for key, value in ours.cache.items():
            # keyed as lru_cache keys: a lone int/str by itself, else (x,) or (x, marker, kw item)
            args = key if isinstance(key, tuple) else (key,)
            assert type(key) in (int, str) or isinstance(key, tuple)
            assert value == body(args[0], kw=len(args) > 1)


def test_equal_arguments_of_other_types_are_keyed_as_lru_cache_keys_them():
    @memoize
    def kind(x):
        return type(x).__name__

    ref = functools.lru_cache(maxsize=None)(kind.__wrapped__)
    for x in (1, 1.0, True, "1", (1,)):
        assert kind(x) == ref(x)
    assert kind.cache_info() == ref.cache_info() == (1, 4, None, 4)
    assert dict(kind.cache) == {1: "int", (1.0,): "float", "1": "str", ((1,),): "tuple"}


@pytest.mark.parametrize(
    "bad, typename",
    [([1, 2], "list"), ({"a": 1}, "dict"), (np.arange(3), "ndarray"), ((1, [2]), "tuple")],
)
def test_unhashable_argument_names_function_argument_and_fix(bad, typename):
    # the default (unbounded) memoize IS the C cache, so that a hit runs no Python code: an
    # unhashable argument gets lru_cache's own TypeError there, naming the type
    @memoize
    def fast(values):
        return values

    with pytest.raises(TypeError, match="unhashable type") as raw:
        fast(bad)
    assert not isinstance(raw.value, MemogradError)
    assert type(fast) is type(functools.lru_cache(maxsize=None)(len))

    # a bounded cache has a Python wrapper anyway (it unboxes entries): it names argument and fix
    @memoize(maxsize=64)
    def total(values, scale=1):
        return scale

    with pytest.raises(MemogradTypeError) as info:
        total(bad)
    message = str(info.value)
    assert "total()" in message and "'values'" in message and typename in message
    assert "key=" in message and "unhashable type:" not in message
    assert isinstance(info.value, TypeError) and isinstance(info.value, MemogradError)
    with pytest.raises(MemogradTypeError, match="'scale'"):
        total(1, scale=[1])


def test_type_error_from_the_body_is_not_disguised():
    @memoize
    def f(x):
        return x + "a"

    with pytest.raises(TypeError) as info:
        f(1)
    assert not isinstance(info.value, MemogradError)


def test_key_makes_arrays_work_keyed_by_dtype_shape_and_bytes():
    calls = []

    @memoize(key=array_key)
    def total(a):
        calls.append(a)
        return float(np.asarray(a).sum())

    assert total(np.arange(4)) == 6.0
    assert total(np.arange(4)) == 6.0  # equal array: a hit
    assert total(np.arange(4).reshape(2, 2)) == 6.0  # other shape: a miss
    assert total(np.arange(4, dtype=np.float32)) == 6.0  # other dtype: a miss
    assert total([1, 2]) == 3.0 and total([1, 2]) == 3.0
    assert total.cache_info().hits == 2 and total.cache_info().misses == 4 == len(calls)
    assert len(total.cache) == 4


def test_array_key_is_hashable_and_distinguishes_what_matters():
    a = np.arange(6, dtype=np.int64)
    assert hash(array_key(a)) == hash(array_key(a.copy()))
    assert array_key(a) != array_key(a.reshape(2, 3))
    assert array_key(a) != array_key(a.astype(np.int32))
    assert array_key(a[::2]) == array_key(np.array([0, 2, 4]))  # non-contiguous views too
    assert array_key({"b": [1], "a": {2}}) == array_key({"a": {2}, "b": [1]})
    assert array_key(x=[1]) != array_key([1])
    with pytest.raises(MemogradTypeError, match="object"):
        array_key(np.array([object()]))


def test_key_function_returning_unhashable_is_reported():
    @memoize(key=lambda xs: list(xs))
    def f(xs):
        return 1

    with pytest.raises(MemogradTypeError, match="key function.*unhashable list"):
        f((1, 2))


def test_key_with_bounded_cache_and_keyword_arguments():
    @memoize(maxsize=1, key=lambda x, *, scale=1: (x, scale))
    def f(x, *, scale=1):
        return x * scale

    assert f(2, scale=3) == 6 and f(2, scale=3) == 6 and f(2) == 2
    assert f.cache_info() == (1, 2, 1, 1)
    assert dict(f.cache) == {(2, 1): 2}


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        ({"maxsize": -1}, MemogradValueError),
        ({"maxsize": 1.5}, MemogradTypeError),
        ({"maxsize": True}, MemogradTypeError),
        ({"key": 3}, MemogradTypeError),
    ],
)
def test_bad_options(kwargs, exc):
    with pytest.raises(exc):
        memoize(**kwargs)


def test_decorating_a_non_function_is_an_error():
    with pytest.raises(MemogradTypeError, match="expected a function"):
        memoize(42)


def test_methods_work_with_hashable_self():
    class Grid:
        def __init__(self, k):
            self.k = k

        @memoize
        def paths(self, r, c):
            if r == 0 or c == 0:
                return 1
            return self.paths(r - 1, c) + self.paths(r, c - 1)

    g = Grid(1)
    assert g.paths(10, 10) == 184756  # C(20, 10)
    assert Grid.paths.cache_info().currsize == 121 - 1  # (0, 0) is never reached


def test_concurrent_callers_get_correct_results_and_per_thread_depth():
    @memoize
    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    expected = [0, 1]
    for _ in range(300):
        expected.append(expected[-1] + expected[-2])
    errors, barrier = [], threading.Barrier(8)

    def worker(seed):
        barrier.wait()
        for n in range(seed, 301, 8):
            if fib(n) != expected[n]:
                errors.append(n)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    info = fib.cache_info()
    assert info.currsize == 301 == len(fib.cache)
    assert info.misses >= 301  # a race may compute a value twice, never zero times
    assert fib.stats.calls == info.hits + info.misses
    # depth is per thread: never more than the deepest single recursion
    assert fib.stats.max_depth <= 301


def test_a_race_may_compute_a_value_twice_as_documented():
    both_inside = threading.Barrier(2, timeout=10)
    computed = []

    @memoize
    def slow(x):
        computed.append(x)
        both_inside.wait()  # both threads are inside the body before either returns
        return x * 2

    results = []
    threads = [threading.Thread(target=lambda: results.append(slow(5))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [10, 10] and computed == [5, 5]
    info = slow.cache_info()
    assert info.misses == 2 and info.currsize == 1 and dict(slow.cache) == {5: 10}


@pytest.mark.skipif(
    mg.memo.C_RECURSION_CAPPED, reason="CPython 3.12/3.13 cap recursion through C code"
)
def test_run_deep_recurses_far_past_the_limit_and_restores_it():
    import sys

    from memograd.memo import FRAMES_PER_LEVEL, run_deep

    @memoize
    def count(k):
        return 0 if k == 0 else 1 + count(k - 1)

    limit = sys.getrecursionlimit()
    with pytest.raises(RecursionError):
        count(limit)  # plain call: too deep for the default limit
    count.cache_clear()
    assert run_deep(lambda: count(30_000), levels=30_000) == 30_000
    assert count.stats.max_depth == 30_001
    assert sys.getrecursionlimit() == limit
    assert FRAMES_PER_LEVEL * 30_000 > limit


def test_run_deep_reraises_the_workers_exception_and_runs_small_jobs_inline():
    import sys

    from memograd.memo import run_deep

    def boom():
        raise ValueError("inside")

    limit = sys.getrecursionlimit()
    with pytest.raises(ValueError, match="inside"):
        run_deep(boom, levels=100_000)
    assert sys.getrecursionlimit() == limit
    assert run_deep(threading.current_thread, levels=10) is threading.current_thread()


def test_stats_depth_inside_the_body_and_as_dict():
    seen = []

    @memoize
    def down(k):
        seen.append(down.stats.depth)
        return 0 if k == 0 else down(k - 1)

    down(3)
    assert seen == [1, 2, 3, 4] and down.stats.depth == 0
    assert down.stats.as_dict() == {"calls": 4, "hits": 0, "misses": 4, "max_depth": 4}
    assert "max_depth=4" in repr(down.stats)
    down(3)  # a hit runs no body: depth unchanged, calls counted
    assert down.stats.calls == 5 and down.stats.hits == 1 and seen == [1, 2, 3, 4]


# --- the miss frame: func's own signature when it is plain; the C table as .cache -------------


def _signatures():
    """Functions of every parameter shape, each returning what it was called with."""

    def plain(a, b):
        return ("plain", a, b)

    def positional_only(a, /, b):
        return ("positional_only", a, b)

    def with_default(a, b=2):
        return ("with_default", a, b)

    def star(*args, **kwargs):
        return ("star", args, tuple(sorted(kwargs.items())))

    def keyword_only(a, *, b):
        return ("keyword_only", a, b)

    return [plain, positional_only, with_default, star, keyword_only]


CALLS = [((1, 2), {}), ((1,), {"b": 2}), ((3, 4), {}), ((1, 2), {})]


@pytest.mark.parametrize("mirrored", [False, True], ids=["c-table", "mirrored"])
@pytest.mark.parametrize("func", _signatures(), ids=lambda f: f.__name__)
def test_every_signature_gives_lru_caches_results_table_and_errors(func, mirrored, monkeypatch):
    from memograd.memo import decorator

    readable = decorator._C_TABLE_READABLE
    monkeypatch.setattr(decorator, "_C_TABLE_READABLE", readable and not mirrored)
    ours, ref = memoize(func), functools.lru_cache(maxsize=None)(func)
    for args, kwargs in CALLS:
        if func.__name__ == "positional_only" and "a" in kwargs:
            continue
        try:
            want = ref(*args, **kwargs)
        except TypeError as e:  # keyword_only called positionally: the same error, naming func
            with pytest.raises(TypeError) as info:
                ours(*args, **kwargs)
            assert str(info.value) == str(e)
            continue
        assert ours(*args, **kwargs) == want
        assert ours.cache_info() == ref.cache_info()
        assert len(ours.cache) == ours.cache_info().currsize
        assert want in ours.cache.values()
    assert ours.stats.max_depth == (1 if ours.cache_info().misses else 0)
    ours.cache_clear()
    assert len(ours.cache) == 0 and ours.stats.max_depth == 0


def test_a_plain_signature_gets_its_own_miss_frame_and_wrong_calls_name_the_function():
    from memograd.memo.miss import _simple_parameters

    assert _simple_parameters(lambda n: n) == ["n"]
    assert _simple_parameters(lambda a, /, b: a) == ["a", "/", "b"]
    assert _simple_parameters(lambda a, b=1: a) is None
    assert _simple_parameters(lambda *a: a) is None
    assert _simple_parameters(lambda _memo_func: 1) is None  # would shadow the frame's names

    @memoize
    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    with pytest.raises(TypeError, match=r"fib\(\) missing 1 required positional argument: 'n'"):
        fib()
    assert fib(n=10) == 55 and fib(10) == 55  # a keyword call is its own key, as in lru_cache
    # lru_cache counts the failed call as a miss too; the body never ran for it (depth 10)
    assert fib.cache_info().misses == 13 and fib.stats.max_depth == 10


def test_the_c_table_view_is_lru_caches_own_table():
    from memograd.memo import table as memo

    if not memo._C_TABLE_READABLE:  # pragma: no cover - another Python: mirrored instead
        pytest.skip("this interpreter's lru_cache table is not reachable; .cache is mirrored")

    @memoize
    def square(x):
        return x * x

    table = memo._find_c_table(square)
    square(3)
    assert table == {3: 9} and dict(square.cache) == table
    square.cache_clear()  # cleared in place: the view stays live
    square(4)
    assert dict(square.cache) == {4: 16} and memo._find_c_table(square) is table
