"""memograd.blas (issue 13.11): BLAS threads by problem size, applied with threadpoolctl."""

import sys

import numpy as np
import pytest

from memograd import blas
from memograd.errors import MemogradError, MemogradValueError


def test_mlp_flops_is_the_largest_product_of_a_step():
    assert blas.mlp_flops([64, 64, 64, 10], 32) == 2 * 32 * 64 * 64
    assert blas.mlp_flops([784, 256, 10], 2) == 2 * 2 * 784 * 256
    assert blas.mlp_flops([3], 5) == 0.0


def test_rule_small_work_one_thread_large_work_the_free_cores():
    small = blas.MULTI_THREAD_FLOPS / 2
    big = blas.MULTI_THREAD_FLOPS * 2
    assert blas.threads_for(small, free=8) == 1
    assert blas.threads_for(big, free=2) == 2
    assert blas.threads_for(big, free=8, max_threads=3) == 3
    assert blas.threads_for(big, free=1) == 1  # a busy machine: extra threads only wait
    assert blas.threads_for(blas.mlp_flops([64, 64, 64, 10], 32), free=64) == 1  # digits


def test_idle_cores_follow_the_load(monkeypatch):
    monkeypatch.setattr(blas, "cores", lambda: 4)
    monkeypatch.setattr(blas.os, "getloadavg", lambda: (0.2, 0, 0))
    assert blas.idle_cores() == 4
    monkeypatch.setattr(blas.os, "getloadavg", lambda: (2.5, 0, 0))
    assert blas.idle_cores() == 2
    monkeypatch.setattr(blas.os, "getloadavg", lambda: (9.0, 0, 0))
    assert blas.idle_cores() == 1


@pytest.mark.parametrize("text, expected", [("auto", None), ("1", 1), ("4", 4)])
def test_parse_threads(text, expected):
    assert blas.parse_threads(text) == expected


@pytest.mark.parametrize("text", ["0", "-2", "two", ""])
def test_parse_threads_refuses(text):
    with pytest.raises(MemogradValueError, match="--threads"):
        blas.parse_threads(text)


def test_limit_sets_and_restores_blas_threads():
    threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl not installed")
    np.ones((4, 4)) @ np.ones((4, 4))  # load BLAS

    def blas_threads():
        return {
            p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"
        }

    before = blas_threads()
    if not before:
        pytest.skip("NumPy's BLAS is not visible to threadpoolctl")
    with blas.limit(1) as n:
        assert n == 1 and blas_threads() == {1}
    assert blas_threads() == before
    with blas.limit(None) as n:
        assert n is None and blas_threads() == before
    with blas.auto(blas.MULTI_THREAD_FLOPS / 10) as n:
        assert n == 1 and blas_threads() == {1}


def test_without_threadpoolctl_auto_is_the_default_and_a_number_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import fails
    assert not blas.available()
    with blas.auto(1e12) as n:
        assert n is None
    with pytest.raises(MemogradError, match=r"pip install 'memograd\[threads\]'"):
        with blas.limit(2):
            pass
