"""memograd.complexity.measure: counts on real graphs against closed forms."""

from memograd.complexity import measure


def test_measure_counts_parameters_and_paths_of_the_notes_network():
    (row,) = measure(2, [2])  # the notes' 2-2-2-1 network
    assert row["net"] == "2-2-2-1"
    assert row["depth"] == 2
    assert row["parameters"] == 2 * 3 + 2 * 3 + 3  # (2+1) per neuron, 5 neurons
    # paths from L to w11^1: w11^1 feeds o11, which reaches L through 2 neurons of layer 2
    assert row["paths_to_w11^1"] == 2


def test_paths_to_w11_double_with_each_width_2_layer():
    rows = measure(2, [1, 2, 3, 4])
    counts = [r["paths_to_w11^1"] for r in rows]
    assert counts == [1, 2, 4, 8]
    # memoized backprop grows linearly with depth: constant increments
    backprop = [r["backprop"] for r in rows]
    steps = {b - a for a, b in zip(backprop, backprop[1:])}
    assert len(steps) == 1
