"""memograd.nn.layers: what MLP accepts as its widths, and the error for what it does not."""

import re

import numpy as np
import pytest

import memograd as mg
from memograd.errors import MemogradTypeError


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ((2, [4, 1]), "here write MLP([2, 4, 1])"),
        ((3,), "got the int 3"),
        (("23",), "got str '23'"),
        (([2.5, 3],), "every width must be an int, got 2.5"),
        (([2, True],), "every width must be an int, got True"),
    ],
)
def test_mlp_widths_spelled_wrong_get_a_clear_error(args, needle):
    """MLP(2, [4, 1]) is the scalar engine's spelling; mg.nn.MLP names the one it wants."""
    with pytest.raises(MemogradTypeError, match=re.escape(needle)):
        mg.nn.MLP(*args)


def test_mlp_widths_accept_tuples_and_arrays():
    for widths in ((2, 3, 1), np.array([2, 3, 1]), [np.int64(2), 3, 1]):
        model = mg.nn.MLP(widths, seed=0)
        assert [p.shape for p in model.parameters()] == [(2, 3), (3,), (3, 1), (1,)]
