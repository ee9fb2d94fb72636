"""scalar.nn: shapes, names in the notes' notation, losses, loading weights, the notes' example."""

import json
import math
import random

import pytest

from memograd import MemogradTypeError, MemogradValueError, Value
from memograd.errors import DataError
from memograd.scalar.nn import MLP, Layer, Neuron, notes_network, parse_net


def test_mlp_2_2_2_1_has_the_notes_15_parameters_and_names():
    m = MLP(2, [2, 2, 1], activation="sigmoid", output_activation="sigmoid")
    names = list(m.named_parameters())
    assert len(m.parameters()) == 15 == len(names)
    assert names[:3] == ["w11^1", "w21^1", "b1^1"]  # (2+1) = 3 per neuron
    assert {"w11^2", "w22^2", "b2^2", "w11^3", "w21^3", "b1^3"} <= set(names)
    x1, x2 = Value(0.5, "x1"), Value(-0.3, "x2")
    yhat = m([x1, x2])
    assert isinstance(yhat, Value) and yhat.name == "yhat"
    o21 = next(p for p in yhat.parents[0].parents if p.name == "o21")
    z21 = o21.parents[0]
    assert z21.op == "wsum" and z21.label == "z21" and z21.name is None
    o11 = next(p for p in z21.parents if p.name == "o11")
    assert o11.op == "sigmoid"


def test_layer_of_values_builds_the_same_nodes_as_each_neuron_alone():
    layer = Layer(3, 4, "tanh", rng=random.Random(7))
    xs = [Value(0.5, "x1"), Value(-0.25, "x2"), Value(2.0, "x3")]
    together = layer(xs)  # the inputs' data read once for all neurons
    alone = [n(list(xs)) for n in layer.neurons]  # each neuron by wsum
    for a, b in zip(together, alone, strict=True):
        za, zb = a.parents[0], b.parents[0]
        assert (a.data, a.name, a.op) == (b.data, b.name, b.op)
        assert (za.data, za.label, za.parents, za.local_grads) == (
            zb.data,
            zb.label,
            zb.parents,
            zb.local_grads,
        )


def test_layer_names_follow_a_renamed_or_reactivated_neuron():
    layer = Layer(2, 2, "relu", rng=random.Random(3))
    xs = [Value(1.0), Value(-2.0)]
    first = layer(xs)
    assert [o.name for o in first] == ["o11", "o12"] and first[0].parents[0].label == "z11"
    layer.neurons[0].name, layer.neurons[0].z_label = "h", "zh"
    layer.neurons[1].activation = "linear"
    again = layer(xs)
    assert again[0].name == "h" and again[0].op == "relu" and again[0].parents[0].label == "zh"
    assert again[1].op == "wsum" and again[1].name == "o12" and again[1].label is None


def test_layer_with_a_weight_that_is_not_a_value_still_names_it():
    layer = Layer(2, 2, "relu", rng=random.Random(1))
    layer.neurons[1].w[0] = 0.5
    with pytest.raises(MemogradTypeError, match="weights must be Values, got float"):
        layer([Value(1.0), Value(2.0)])


def test_forward_matches_hand_computation():
    m = MLP(2, [2, 1], activation="tanh", output_activation="linear", seed=3)
    p = m.named_parameters()
    x = [0.2, -0.7]
    o1 = [
        math.tanh(p[f"w1{j}^1"].data * x[0] + p[f"w2{j}^1"].data * x[1] + p[f"b{j}^1"].data)
        for j in (1, 2)
    ]
    y = p["w11^2"].data * o1[0] + p["w21^2"].data * o1[1] + p["b1^2"].data
    assert m(x).data == pytest.approx(y, rel=1e-14)


def test_single_output_layer_and_multi_output():
    single = MLP(3, [1])
    assert isinstance(single([1.0, 2.0, 3.0]), Value)
    multi = MLP(2, [3, 2])
    out = multi([1.0, 2.0])
    assert [o.name for o in out] == ["yhat1", "yhat2"]
    layer = Layer(2, 1, "relu")
    assert isinstance(layer([1.0, 2.0]), list) and len(layer([1.0, 2.0])) == 1


def test_activations_are_selectable():
    for act, f in [
        ("sigmoid", lambda t: 1 / (1 + math.exp(-t))),
        ("tanh", math.tanh),
        ("relu", lambda t: max(t, 0.0)),
        ("linear", lambda t: t),
    ]:
        n = Neuron(2, act, rng=random.Random(1))
        z = n.w[0].data * 0.3 + n.w[1].data * 0.9 + n.b.data
        assert n([0.3, 0.9]).data == pytest.approx(f(z), rel=1e-14)
    with pytest.raises(MemogradValueError, match="unknown activation 'gelu'"):
        MLP(2, [1], activation="gelu")


def test_seed_reproduces_and_zero_grad():
    a, b = MLP(2, [4, 1], seed=7), MLP(2, [4, 1], seed=7)
    assert a.weights() == b.weights()
    loss = a([0.1, 0.2]) ** 2
    loss.backward()
    assert any(p.grad != 0 for p in a.parameters())
    a.zero_grad()
    assert all(p.grad == 0 for p in a.parameters())


def test_wide_layers_get_unambiguous_names():
    m = MLP(12, [11, 1])
    names = m.named_parameters()
    assert "w12,11^1" in names and "w1,1^1" not in names and "w11^1" in names
    assert len(names) == len(m.parameters())


def test_load_weights_by_name(tmp_path):
    m = MLP(2, [2, 1], seed=0)
    w = {k: 0.1 * i for i, k in enumerate(m.weights())}
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"weights": w}))
    m.load_weights(path)
    assert m.weights() == w
    with pytest.raises(MemogradValueError, match="unknown parameter name.*'w99\\^1'.*valid names"):
        m.load_weights({**w, "w99^1": 1.0})
    with pytest.raises(MemogradValueError, match="missing parameter"):
        m.load_weights({"w11^1": 1.0})
    m.load_weights({"w11^1": 1.0}, strict=False)
    assert m.named_parameters()["w11^1"].data == 1.0
    with pytest.raises(MemogradTypeError, match="must be a number"):
        m.load_weights({**w, "w11^1": "x"})
    with pytest.raises(MemogradValueError, match="finite"):
        m.load_weights({**w, "w11^1": float("nan")})
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    with pytest.raises(DataError, match="line 1 column 2"):
        m.load_weights(bad)
    with pytest.raises(DataError, match="cannot read"):
        m.load_weights(tmp_path / "missing.json")


def test_notes_network_example():
    ex = notes_network(seed=0)
    assert ex.loss.name == "L" and ex.output.name == "yhat"
    assert [x.name for x in ex.inputs] == ["x1", "x2"]
    t = ex.targets[0]
    assert ex.loss.data == pytest.approx((ex.output.data - t) ** 2, rel=1e-15)
    d = ex.to_dict()
    assert len(d["weights"]) == 15 and d["activation"] == "sigmoid" and d["loss"] == "mse"
    again = notes_network(weights=d["weights"], inputs=list(d["inputs"].values()), target=t)
    assert again.loss.data == ex.loss.data
    with pytest.raises(MemogradValueError, match="unknown parameter 'w33\\^1'"):
        ex.parameter("w33^1")


def test_losses():
    ex = notes_network(loss="bce", seed=1)
    y, t = ex.output.data, ex.targets[0]
    assert ex.loss.data == pytest.approx(-(t * math.log(y) + (1 - t) * math.log(1 - y)))
    ex = notes_network(loss="hinge", seed=1, activation="tanh")
    assert ex.targets[0] in (-1.0, 1.0)
    assert ex.loss.data == pytest.approx(max(0.0, 1 - ex.targets[0] * ex.output.data))
    with pytest.raises(MemogradValueError, match="unknown loss"):
        notes_network(loss="l7")


@pytest.mark.parametrize(
    "spec, match",
    [("2", "at least two layers"), ("2,0,1", "width 0"), ("2,a", "integers"), ("", "integers")],
)
def test_parse_net_errors(spec, match):
    with pytest.raises(MemogradValueError, match=match):
        parse_net(spec)
    assert parse_net("2, 2,2,1") == (2, 2, 2, 1)


def test_inputs_and_target_from_a_weights_file_are_checked_and_named(tmp_path):
    d = notes_network(seed=2).to_dict()
    path = tmp_path / "w.json"
    for inputs, target, match in [
        ({"x1": "a", "x2": 1.0}, 0.5, r"w\.json: inputs: every entry must be a finite number"),
        ([1.0, 2.0, 3.0], 0.5, r"w\.json: inputs: expected 2 numbers, got 3"),
        ([1.0, 2.0], "zz", r"w\.json: target: every entry must be a finite number, got 'zz'"),
        ([1.0, 2.0], [0.1, 0.2], r"target: expected 1 numbers, got 2"),
        ([1.0, float("nan")], 0.5, r"inputs: every entry must be a finite number, got nan"),
    ]:
        path.write_text(json.dumps({**d, "inputs": inputs, "target": target}))
        with pytest.raises(MemogradValueError, match=match):
            notes_network(weights=path)
    path.write_text(json.dumps({**d, "inputs": [0.25, -0.5], "target": 0.75}))
    ex = notes_network(weights=path)
    assert [x.data for x in ex.inputs] == [0.25, -0.5] and ex.targets == [0.75]
    assert ex.model.weights() == d["weights"]


def test_losses_average_over_outputs():
    ys = [Value(0.2), Value(0.7)]
    from memograd.scalar.nn import bce, hinge, mse

    assert mse(ys, [0.0, 1.0]).data == pytest.approx((0.2**2 + 0.3**2) / 2)
    assert bce(ys, [0.0, 1.0]).data == pytest.approx(-(math.log(0.8) + math.log(0.7)) / 2)
    assert hinge(ys, [1.0, -1.0]).data == pytest.approx((0.8 + 1.7) / 2)
    assert mse(ys[0], 0.5).name == "L" and mse(ys[0], 0.5).op == "pow"  # one output: no mean
    with pytest.raises(MemogradValueError, match="hinge: 2 outputs but 1 targets"):
        hinge(ys, [1.0])
