"""The notes' Fibonacci lesson: the same number five ways, with honest, measured counts.

    G(0) = a, G(1) = b, G(k) = G(k-1) + G(k-2)          base=(a, b); standard (0, 1)

The notes write the base cases as a dictionary ``d = {0: 1, 1: 1}`` (``base=(1, 1)``), so the notes'
``fib(38, d)`` is 63,245,986 = F(39). Methods:

* ``naive``    plain recursion: the same subproblems again and again, 2*F(n+1) - 1 calls;
* ``dict``     the notes' version: a dictionary passed down the recursion (2n - 1 calls);
* ``memo``     the same recursion under :func:`memograd.memoize` (2n - 1 calls, n - 2 hits);
* ``iter``     bottom-up, two variables, n - 1 additions, O(1) memory;
* ``doubling`` fast doubling, F(2k) = F(k)(2F(k+1) - F(k)), F(2k+1) = F(k)^2 + F(k+1)^2:
               O(log n) big-integer multiplications (fib(10**6), 208,988 digits, in a fraction of a
               second). Other bases follow from G(n) = a*F(n-1) + b*F(n).

``fib(n, method, base)`` returns the number; :func:`measure` returns a :class:`FibRun` with the
counted figures (calls, additions, multiplications, hits, misses, max recursion depth, wall time).
"""

from __future__ import annotations

import math
import operator
import time
from collections.abc import Iterable, MutableMapping
from dataclasses import asdict, dataclass, field
from typing import Any

from memograd.errors import MemogradTypeError, MemogradValueError
from memograd.memo import C_RECURSION_CAPPED, memoize, run_deep

METHODS = ("naive", "dict", "memo", "iter", "doubling")
STANDARD = (0, 1)
NOTES_BASE = (1, 1)  # the notes' d = {0: 1, 1: 1}

NAIVE_TIME_LIMIT = 60.0  # seconds of predicted naive work before it refuses without force
NAIVE_MAX_N = 900  # beyond this, naive recursion would not end in the age of the universe
TABLE_MEMORY_LIMIT = 2**30  # predicted bytes of the dict/memo table before they refuse
TREE_MAX_N = 10
# without force, the bottom-up loop (about n^2/100 ns here: 10 s at 10^6) and fast doubling
# (big-integer products of ~0.21 n digits) refuse n past these
ITER_MAX_N = 2_000_000
DOUBLING_MAX_N = 50_000_000
# On interpreters that cap recursion through C code (CPython 3.12, 3.13: see
# memograd.memo.C_RECURSION_CAPPED), the memo method fills its table in steps of this many levels.
MEMO_CHUNK = 250
_LOG2_PHI = math.log2((1 + 5**0.5) / 2)


class NaiveTooSlow(MemogradValueError):
    """Naive recursion would run for longer than the limit: the message gives the prediction."""

    def __init__(self, message: str, predicted_calls: int, predicted_seconds: float):
        super().__init__(message)
        self.predicted_calls = predicted_calls
        self.predicted_seconds = predicted_seconds


class TableTooLarge(MemogradValueError):
    """A memo table of every G(k), k <= n, would not fit in memory comfortably."""


class ResultTooLarge(MemogradValueError):
    """F(n) itself is so large that computing it would take minutes (or memory without end)."""


@dataclass
class FibRun:
    """One measured run. Counts are what the code counted while running (``None``: not
    applicable to the method, e.g. cache hits of ``iter``); ``seconds`` is wall time."""

    method: str
    n: int
    base: tuple[int, int]
    value: int | None
    calls: int
    additions: int
    multiplications: int = 0
    hits: int | None = None
    misses: int | None = None
    max_depth: int = 1
    seconds: float = 0.0
    interrupted: bool = False
    predicted_calls: int | None = None
    predicted_seconds: float | None = None
    skipped: str | None = None  # why the method did not run (only from compare())
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def digits(self) -> int | None:
        return None if self.value is None else digit_count(self.value)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the value as an int while it has at most 4,000 digits (Python refuses to
        print longer ints by default), always with ``digits`` and a shortened ``value_short``."""
        d = asdict(self)
        d["base"] = list(self.base)
        d.update(d.pop("extra"))
        if self.value is not None:
            d["digits"] = self.digits
            d["value_short"] = short_value(self.value)
            if d["digits"] > 4000:
                d["value"] = None
        for name in ("predicted_calls",):
            if d[name] is not None and digit_count(d[name]) > 4000:
                d[name] = short_value(d[name])
        return d


# ---------------------------------------------------------------- validation


def _check_n(n: object, name: str = "n") -> int:
    if isinstance(n, bool):
        raise MemogradTypeError(f"fib: {name} must be a non-negative integer, got bool {n!r}")
    try:
        k = operator.index(n)  # type: ignore[arg-type]  # any object: TypeError if not an int
    except TypeError:
        raise MemogradTypeError(
            f"fib: {name} must be a non-negative integer, got {type(n).__name__} {n!r}"
        ) from None
    if k < 0:
        raise MemogradValueError(f"fib: {name} must be a non-negative integer, got {k}")
    return k


def _check_base(base: object) -> tuple[int, int]:
    items: tuple[object, ...] | None
    try:
        items = tuple(base)  # type: ignore[arg-type]  # any object: TypeError if not iterable
    except TypeError:
        items = None
    if items is None or len(items) != 2:
        raise MemogradTypeError(
            f"fib: base must be two integers (G(0), G(1)), e.g. (0, 1) or the notes' (1, 1); "
            f"got {base!r}"
        )
    out = []
    for label, v in zip(("G(0)", "G(1)"), items):
        if isinstance(v, bool):
            raise MemogradTypeError(f"fib: base {label} must be an integer, got bool {v!r}")
        try:
            out.append(operator.index(v))  # type: ignore[arg-type]
        except TypeError:
            raise MemogradTypeError(
                f"fib: base {label} must be an integer, got {type(v).__name__} {v!r}"
            ) from None
    return out[0], out[1]


def _check_method(method: object) -> str:
    if method not in METHODS:
        raise MemogradValueError(
            f"fib: unknown method {method!r}; choose one of {', '.join(METHODS)}"
        )
    return method


# ---------------------------------------------------------------- closed forms


def standard_pair(n: int) -> tuple[int, int]:
    """(F(n), F(n+1)) with the standard base, by fast doubling (no counting)."""
    a, b = 0, 1
    for bit in bin(n)[2:]:
        a, b = a * ((b << 1) - a), a * a + b * b
        if bit == "1":
            a, b = b, a + b
    return a, b


def naive_calls(n: int) -> int:
    """Calls of naive recursion for G(n), whatever the base: 2*F(n+1) - 1."""
    return 2 * standard_pair(_check_n(n))[1] - 1


def naive_additions(n: int) -> int:
    """Additions of naive recursion: one per internal node of the call tree, F(n+1) - 1."""
    return standard_pair(_check_n(n))[1] - 1


def memoized_calls(n: int) -> int:
    """Calls of the dict and memo methods: 2n - 1 for n >= 1 (each G(k), k >= 2, computed once
    and calling twice), 1 for n = 0."""
    n = _check_n(n)
    return 2 * n - 1 if n >= 1 else 1


def _big(x: int) -> Any:
    """``x`` as a GMP integer when gmpy2 is installed (its powers and divisions of 10^5-digit
    numbers are much faster than Python's), else unchanged."""
    try:
        from gmpy2 import mpz
    except ImportError:
        return x
    return mpz(x)


def digit_count(x: int) -> int:
    """Decimal digits of |x| without converting it to a string (fast for huge ints)."""
    x = abs(x)
    if x < 10:
        return 1
    guess = int((x.bit_length() - 1) * math.log10(2)) + 1  # exact or one too small
    if guess < 1000:
        return guess + 1 if x >= 10**guess else guess
    return guess + 1 if _big(x) >= _big(10) ** guess else guess


def short_value(x: int, keep: int = 12, with_digits: bool = True) -> str:
    """``x`` with thousands separators, or its first and last ``keep`` digits (and the digit
    count)."""
    digits = digit_count(x)
    if digits <= 2 * keep:
        return f"{x:,}"
    sign = "-" if x < 0 else ""
    big = _big(abs(x)) if digits > 1000 else abs(x)
    head = int(big // _big(10) ** (digits - keep))
    tail = int(big % 10**keep)
    count = f" ({digits:,} digits)" if with_digits else ""
    return f"{sign}{head}…{tail:0{keep}d}{count}"


# ---------------------------------------------------------------- the methods


def notes_fib(num: int, dict: MutableMapping[int, int]) -> int:  # noqa: A002 - the notes' names
    """The notes' function, exactly as written: ``fib(38, {0: 1, 1: 1})`` is 63,245,986."""
    if num in dict:
        return dict[num]
    else:
        dict[num] = notes_fib(num - 1, dict) + notes_fib(num - 2, dict)
        return dict[num]


def _naive(n: int, a: int, b: int) -> FibRun:
    leaves = internal = max_depth = 0

    def f(k: int, depth: int) -> int:
        nonlocal leaves, internal, max_depth
        if k < 2:
            leaves += 1
            if depth > max_depth:  # the deepest call is always a leaf
                max_depth = depth
            return b if k else a
        internal += 1
        return f(k - 1, depth + 1) + f(k - 2, depth + 1)

    start = time.perf_counter()
    try:
        value, interrupted = f(n, 1), False
    except KeyboardInterrupt:  # Ctrl-C: stop cleanly with the counts so far
        value, interrupted = None, True
    seconds = time.perf_counter() - start
    return FibRun(
        "naive",
        n,
        (a, b),
        value,
        calls=leaves + internal,
        additions=internal,
        max_depth=max_depth,
        seconds=seconds,
        interrupted=interrupted,
    )


def _dict(n: int, a: int, b: int) -> FibRun:
    """The notes' fib(num, dict), counted: a call is a hit when num is already in the dictionary
    (the base cases are, from the start, as in the notes)."""
    calls = hits = max_depth = 0

    def fib(num: int, dict: dict[int, int], _depth: int = 1) -> int:  # noqa: A002 - the notes'
        nonlocal calls, hits, max_depth
        calls += 1
        if _depth > max_depth:
            max_depth = _depth
        if num in dict:
            hits += 1
            return dict[num]
        else:
            dict[num] = fib(num - 1, dict, _depth + 1) + fib(num - 2, dict, _depth + 1)
            return dict[num]

    d = {0: a, 1: b}
    start = time.perf_counter()
    value = run_deep(lambda: fib(n, d), levels=n, frames_per_level=2)
    seconds = time.perf_counter() - start
    return FibRun(
        "dict",
        n,
        (a, b),
        value,
        calls=calls,
        additions=calls - hits,
        hits=hits,
        misses=calls - hits,
        max_depth=max_depth,
        seconds=seconds,
    )


def _memo(n: int, a: int, b: int) -> FibRun:
    """Plain recursion under @memoize (a fresh cache per run); the base cases are ordinary
    calls, so G(0) and G(1) are misses the first time and hits afterwards."""
    additions = 0

    @memoize
    def fib(k: int) -> int:
        nonlocal additions
        if k < 2:
            return b if k else a
        additions += 1
        return fib(k - 1) + fib(k - 2)

    start = time.perf_counter()
    chunk = None
    if C_RECURSION_CAPPED and n > MEMO_CHUNK:
        chunk = MEMO_CHUNK
    else:
        try:
            # a level is 3 Python frames (wrapper, miss, fib) plus the C cache's call, which
            # CPython also counts against the limit: 4 per level (memograd.memo.FRAMES_PER_LEVEL)
            value = run_deep(lambda: fib(n), levels=n)
        except RecursionError:  # an interpreter whose C recursion cap we did not foresee
            fib.cache_clear()
            additions = 0
            chunk = MEMO_CHUNK
    if chunk is not None:
        # Fill the table bottom-up, fib(chunk), fib(2*chunk), ...: each call recurses at most
        # chunk levels before it meets a cached value. Honest counts of what ran: one extra
        # top-level call per step, and a maximum depth of chunk instead of n.
        def fill() -> int:
            for k in range(chunk, n, chunk):
                fib(k)
            return fib(n)

        value = run_deep(fill, levels=chunk + 1)  # still more frames than the default limit
    seconds = time.perf_counter() - start
    stats = fib.stats.as_dict()
    extra = {"currsize": fib.cache_info().currsize}
    if chunk is not None:
        extra["chunked"] = chunk
    return FibRun(
        "memo",
        n,
        (a, b),
        value,
        calls=stats["calls"],
        additions=additions,
        hits=stats["hits"],
        misses=stats["misses"],
        max_depth=stats["max_depth"],
        seconds=seconds,
        extra=extra,
    )


def _iter(n: int, a: int, b: int) -> FibRun:
    start = time.perf_counter()
    additions = 0
    if n == 0:
        value = a
    else:
        prev, cur = a, b
        for _ in range(n - 1):
            prev, cur = cur, prev + cur
        additions = n - 1
        value = cur
    seconds = time.perf_counter() - start
    return FibRun("iter", n, (a, b), value, calls=1, additions=additions, seconds=seconds)


_GMP_FROM_N = 20_000  # F(n) has n/4.8 digits: from here GMP's multiplication pays for its import


def _big_ints(n: int) -> tuple[Any, Any, str]:
    """(zero, one) as gmpy2's GMP integers for large n when gmpy2 is installed (the ``fast``
    extra: its multiplication is several times faster on numbers of 10^4+ digits), else ints."""
    if n >= _GMP_FROM_N:
        try:
            from gmpy2 import mpz
        except ImportError:
            pass
        else:
            return mpz(0), mpz(1), "gmpy2"
    return 0, 1, "python int"


def _doubling(n: int, a: int, b: int) -> FibRun:
    """Fast doubling over the bits of n, from the top: (F(k), F(k+1)) -> (F(2k), F(2k+1)),
    then one step forward when the bit is 1. Counts +/- as additions (a shift as none). The
    numbers are GMP integers when gmpy2 is installed (same steps, same counts; the result is
    returned as a Python int)."""
    zero, one, backend = _big_ints(n)
    start = time.perf_counter()
    f0, f1 = zero, one  # (F(k), F(k+1)) for k = 0
    mults = adds = 0
    for bit in bin(n)[2:]:
        f0, f1 = f0 * ((f1 << 1) - f0), f0 * f0 + f1 * f1
        mults += 3
        adds += 2
        if bit == "1":
            f0, f1 = f1, f0 + f1
            adds += 1
    if (a, b) == STANDARD:
        value = int(f0)
    else:  # G(n) = a*F(n-1) + b*F(n), with F(n-1) = F(n+1) - F(n) (also right for n = 0)
        value = int(a * (f1 - f0) + b * f0)
        mults += 2
        adds += 2
    seconds = time.perf_counter() - start
    return FibRun(
        "doubling",
        n,
        (a, b),
        value,
        calls=1,
        additions=adds,
        multiplications=mults,
        seconds=seconds,
        extra={"integers": backend},
    )


_RUNNERS = {"naive": _naive, "dict": _dict, "memo": _memo, "iter": _iter, "doubling": _doubling}


# ---------------------------------------------------------------- predictions and guards

_seconds_per_naive_call: float | None = None
_SLOWEST_NAIVE_CALL = 1e-5  # seconds; a counted naive call takes well under 1 µs on a laptop


def naive_seconds_per_call() -> float:
    """This machine's cost of one counted naive call, measured once on fib(18) (best of 5)."""
    global _seconds_per_naive_call
    if _seconds_per_naive_call is None:
        best = min(_naive(18, 0, 1).seconds for _ in range(5))
        _seconds_per_naive_call = best / naive_calls(18)
    return _seconds_per_naive_call


def predict_naive(n: int) -> tuple[int, float]:
    """(calls, seconds) naive recursion would take for n: closed form times measured cost."""
    calls = naive_calls(n)
    return calls, calls * naive_seconds_per_call()


def human_seconds(s: float) -> str:
    """A duration for people: 850 µs, 1.2 s, 3.4 hours, 2.1e+12 years."""
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    if s < 120:
        return f"{s:.1f} s"
    if s < 2 * 3600:
        return f"{s / 60:.1f} minutes"
    if s < 2 * 86400:
        return f"{s / 3600:.1f} hours"
    if s < 2 * 3.156e7:
        return f"{s / 86400:.1f} days"
    years = s / 3.156e7
    return f"{years:,.0f} years" if years < 1e6 else f"{years:.2e} years"


def _guard(method: str, n: int, base: tuple[int, int], force: bool, time_limit: float) -> None:
    if method == "naive":
        if n > NAIVE_MAX_N:
            raise NaiveTooSlow(
                f"fib: naive recursion for n={n} would make about "
                f"10^{digit_count(naive_calls(n)) - 1} calls, longer "
                f"than the age of the universe; refused even with force (n <= {NAIVE_MAX_N}); "
                "use method 'memo', 'dict', 'iter' or 'doubling'",
                naive_calls(n),
                math.inf,
            )
        calls = naive_calls(n)
        if force or calls * _SLOWEST_NAIVE_CALL <= time_limit:
            return  # under the limit even at a pessimistic speed: no need to measure this machine
        calls, seconds = predict_naive(n)
        if seconds > time_limit:
            raise NaiveTooSlow(
                f"fib: naive recursion for n={n} is predicted to make {calls:,} calls "
                f"(2*F(n+1) - 1), about {human_seconds(seconds)} at "
                f"{naive_seconds_per_call() * 1e9:.0f} ns per call, over the "
                f"{time_limit:g} s limit; pass --force (force=True) to run it anyway, or use a "
                f"memoized method ('memo' or 'dict': {memoized_calls(n):,} calls)",
                calls,
                seconds,
            )
    elif method in ("iter", "doubling") and not force:
        limit = ITER_MAX_N if method == "iter" else DOUBLING_MAX_N
        if n > limit:
            digits = int(n * _LOG2_PHI * math.log10(2)) + 1
            raise ResultTooLarge(
                f"fib: F({n}) has about {digits:,} digits; the {method} method refuses n > "
                f"{limit:,} (minutes of big-integer work or more); pass --force (force=True) to "
                "run it anyway"
                + (", or use method 'doubling'" if method == "iter" and n <= DOUBLING_MAX_N else "")
            )
    elif method in ("dict", "memo") and not force:
        size = predicted_table_bytes(n, base)
        if size > TABLE_MEMORY_LIMIT:
            raise TableTooLarge(
                f"fib: the {method} method for n={n} keeps every G(k), k <= n, about "
                f"{size / 2**30:.1f} GiB of integers (limit {TABLE_MEMORY_LIMIT / 2**30:.0f} GiB);"
                " use method 'iter' or 'doubling', or pass --force (force=True)"
            )


def predicted_table_bytes(n: int, base: tuple[int, int] = STANDARD) -> int:
    """Approximate bytes of the table of G(0..n): G(k) has about k*log2(phi) bits."""
    extra_bits = max(abs(base[0]), abs(base[1]), 1).bit_length()
    total_bits = _LOG2_PHI * n * (n + 1) / 2 + extra_bits * (n + 1)
    return int(total_bits / 8 + 60 * (n + 1))  # + int object and table overhead per entry


# ---------------------------------------------------------------- public API


def measure(
    n: int,
    method: str = "memo",
    base: tuple[int, int] = STANDARD,
    *,
    force: bool = False,
    time_limit: float = NAIVE_TIME_LIMIT,
) -> FibRun:
    """Compute G(n) with ``method`` and return the counted figures (:class:`FibRun`).

    ``naive`` first predicts its calls (2*F(n+1) - 1) and time and raises :class:`NaiveTooSlow`
    past ``time_limit`` seconds unless ``force``; Ctrl-C during it returns the counts so far with
    ``interrupted=True``. ``dict``/``memo`` raise :class:`TableTooLarge` past 1 GiB of table.
    """
    n = _check_n(n)
    method = _check_method(method)
    a, b = _check_base(base)
    _guard(method, n, (a, b), force, time_limit)
    predicted: tuple[int | None, float | None] = (None, None)
    if method == "naive":  # seconds only when this machine's cost was measured (by the guard)
        per_call = _seconds_per_naive_call
        predicted = (naive_calls(n), None if per_call is None else naive_calls(n) * per_call)
    run = _RUNNERS[method](n, a, b)
    run.predicted_calls, run.predicted_seconds = predicted
    return run


def compare(
    n: int,
    methods: Iterable[str] = METHODS,
    base: tuple[int, int] = STANDARD,
    *,
    force: bool = False,
    time_limit: float = NAIVE_TIME_LIMIT,
) -> list[FibRun]:
    """Run several methods on the same n; a method its guard refuses is returned with
    ``skipped`` set (and, for naive, the predicted calls and seconds) instead of failing."""
    n = _check_n(n)
    base = _check_base(base)
    runs = []
    for method in methods:
        _check_method(method)
        try:
            runs.append(measure(n, method, base, force=force, time_limit=time_limit))
        except (NaiveTooSlow, TableTooLarge, ResultTooLarge) as exc:
            run = FibRun(method, n, base, None, calls=0, additions=0, skipped=str(exc))
            if isinstance(exc, NaiveTooSlow):
                run.predicted_calls = exc.predicted_calls
                run.predicted_seconds = exc.predicted_seconds
            runs.append(run)
        if runs[-1].interrupted:
            break
    return runs


def fib(
    n: int, method: str = "memo", base: tuple[int, int] = STANDARD, *, force: bool = False
) -> int:
    """G(n) with G(0), G(1) = base (standard (0, 1); the notes' convention is (1, 1)).

    >>> fib(10), fib(38, base=(1, 1)), fib(10**6, method="doubling") % 1000
    (55, 63245986, 875)
    """
    run = measure(n, method, base, force=force)
    if run.interrupted or run.value is None:  # (a completed run always has its value)
        raise KeyboardInterrupt
    return run.value
