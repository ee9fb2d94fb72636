"""The play API answers with memograd's own numbers, checked against independent computations."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import memograd as mg
from memograd.complexity import measure
from memograd.fibonacci import memoized_calls, naive_calls
from memograd.graph import Trace, backward, topological_order
from memograd.play import api
from memograd.scalar.nn import notes_network


def test_network_view_matches_a_fresh_backward():
    ans = api.call("network", {})
    ex = notes_network()
    ex.loss.backward()
    params = ex.model.named_parameters()
    assert ans["L"] == ex.loss.data and ans["yhat"] == ex.output.data
    assert len(ans["edges"]) == 10 and len(ans["biases"]) == 5  # 2·2 + 2·2 + 2·1 weights
    for e in ans["edges"]:
        assert e["data"] == params[e["name"]].data and e["grad"] == params[e["name"]].grad
    assert [len(layer) for layer in ans["layers"]] == [2, 2, 2, 1]
    # the edge from o11 to o21 is w11^2: from neuron i of layer k-1 to neuron j of layer k
    edge = next(e for e in ans["edges"] if e["name"] == "w11^2")
    assert (edge["from"], edge["to"]) == ("o11", "o21")
    assert ans["cost"]["parameters"] == 15


@pytest.mark.parametrize("wrt", ["w11^1", "w21^2", "b1^1", "o12", "yhat", "x2"])
def test_explain_equals_mg_explain(wrt):
    ans = api.call("explain", {"wrt": wrt})
    ex = notes_network()
    ref = mg.explain(ex.loss, wrt).to_dict()
    for key in ("count", "path_sum", "backprop", "factored", "factored_values"):
        assert ans[key] == ref[key]
    assert [p["nodes"] for p in ans["paths"]] == [p["nodes"] for p in ref["paths"]]


def test_w11_1_has_the_notes_two_paths_and_their_sum_is_backprop():
    ans = api.call("explain", {"wrt": "w11^1"})
    assert ans["count"] == 2
    assert [p["nodes"][2] for p in ans["paths"]] == ["o21", "o22"]  # via o21 and via o22
    products = [math.prod(p["values"]) for p in ans["paths"]]
    assert math.isclose(sum(products), ans["backprop"], rel_tol=1e-12)


def test_trace_equals_an_independent_trace_of_graph_backward():
    ans = api.call("trace", {})
    ex = notes_network()
    order = topological_order(ex.loss)
    events = []

    class Rec(Trace):
        def store(self, node, adjoint):
            events.append(("store", order.index(node), adjoint))

        def push(self, node, parent, contribution):
            events.append(("push", order.index(parent), contribution))

    backward(ex.loss, 1.0, trace=Rec())
    got = []
    for s in ans["steps"]:
        got.append(("store", s["node"], s["adjoint"]))
        got += [("push", p["parent"], p["contribution"]) for p in s["pushes"]]
    assert got == events
    last = ans["steps"][-1]
    # every edge multiplies once, every second contribution to an entry adds once: backprop's cost
    assert last["multiplications"] + last["additions"] == ans["cost"]["backprop"] == 36
    assert ans["cost"]["naive"] == 129


def test_complexity_rows_are_memograd_complexity_rows():
    ans = api.call("complexity", {"depth": 5, "width": 3})
    assert ans["rows"] == measure(3, [1, 2, 3, 4, 5])


def test_fib_trees_count_the_closed_form_calls():
    for n in range(0, 11):
        ans = api.call("fib", {"n": n})
        assert ans["calls"] == {"naive": naive_calls(n), "memo": memoized_calls(n)}

        def count(t):
            return 1 + sum(count(c) for c in t.get("children", []))

        assert count(ans["trees"]["naive"]) == naive_calls(n)
        assert count(ans["trees"]["memo"]) == memoized_calls(n)


def test_edits_reach_the_engine():
    ans = api.call(
        "explain", {"wrt": "w11^1", "inputs": [0.9, -0.2], "target": 0.1, "weights": {"w11^2": 1.5}}
    )
    ex = notes_network(inputs=[0.9, -0.2], target=0.1)
    ex.model.named_parameters()["w11^2"].data = 1.5
    ex.forward()
    assert ans["backprop"] == mg.explain(ex.loss, "w11^1").backprop


def test_training_lowers_the_loss_and_returns_weights_by_name():
    first = api.call("train", {"dataset": "moons", "steps": 40, "lr": 2.0})
    assert first["losses"][-1] < first["losses"][0]
    assert set(first["weights"]) == set(notes_network().model.weights())
    again = api.call("train", {"dataset": "moons", "steps": 0, "weights": first["weights"]})
    assert again["loss"] == pytest.approx(first["loss"], rel=1e-12)  # the state round-trips
    assert len(first["grid"]["values"]) == 30 and 0 <= first["accuracy"] <= 1


@pytest.mark.parametrize(
    "route,req,message",
    [
        ("explain", {"net": [3, 2, 1]}, "net must be 2"),
        ("explain", {"net": [2] + [2] * 4 + [1]}, "1 to 3 hidden layers"),
        ("explain", {"net": [2, 17, 1]}, "1 to 16 neurons"),
        ("explain", {"wrt": "w11^9"}, "no weight, bias or neuron named"),
        ("explain", {"wrt": "../../etc/passwd"}, "wrt must be"),
        ("explain", {"inputs": [1.0]}, "inputs must be [x1, x2]"),
        ("explain", {"inputs": [1.0, float("nan")]}, "x2 must be a finite number"),
        ("explain", {"weights": {"w11^1": "a"}}, "w11^1 must be a finite number"),
        ("explain", {"weights": {"nope": 1.0}}, "unknown parameter"),
        ("explain", {"weights": {"w11^1": 1e300}}, "must lie in"),
        ("explain", {"activation": "softmax"}, "activation must be one of"),
        ("explain", {"seed": True}, "seed must be an integer"),
        ("train", {"dataset": "/etc/passwd"}, "dataset must be one of"),
        ("train", {"steps": 10**6}, "steps must be an integer"),
        ("train", {"lr": -1}, "lr must be positive"),
        ("complexity", {"depth": 99}, "depth must be an integer"),
        ("fib", {"n": 11}, "n must be an integer in [0, 10]"),
        ("nope", {}, "unknown API route"),
        ("network", [], "must be a JSON object"),
    ],
)
def test_bad_requests_get_one_clear_message(route, req, message):
    with pytest.raises(api.ApiError) as err:
        api.call(route, req)
    assert message in str(err.value)
    assert isinstance(err.value, ValueError) and isinstance(err.value, mg.MemogradError)


@settings(max_examples=25, deadline=None)
@given(
    hidden=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    seed=st.integers(0, 1000),
    x=st.lists(st.floats(-2, 2), min_size=2, max_size=2),
)
def test_every_weight_explained_agrees_with_backprop(hidden, seed, x):
    """On random small nets: each parameter's path sum equals the backprop value the network
    view shows for it (the two ways of the lesson, through the API)."""
    req = {"net": [2, *hidden, 1], "seed": seed, "inputs": x, "activation": "tanh"}
    net = api.call("network", req)
    for e in net["edges"][:6] + net["biases"][:3]:
        ans = api.call("explain", {**req, "wrt": e["name"]})
        assert ans["backprop"] == pytest.approx(e["grad"], rel=1e-9, abs=1e-15)
        assert ans["path_sum"] == pytest.approx(e["grad"], rel=1e-9, abs=1e-12)


def test_mg_play_serves_the_model_and_renders_an_iframe():
    import json
    import urllib.parse
    import urllib.request

    model = mg.scalar.nn.MLP(2, [3, 1], "tanh", "tanh", seed=4)
    view = mg.play(model)
    assert view.url.startswith("http://127.0.0.1:")
    assert "<iframe" in view._repr_html_() and 'title="memograd play"' in view._repr_html_()
    state = json.loads(urllib.parse.unquote(view.url.split("#state=", 1)[1]))
    assert state["net"] == [2, 3, 1] and state["weights"] == model.weights()
    with urllib.request.urlopen(view.url.split("#")[0] + "api/presets", timeout=30) as r:
        assert r.status == 200
    ans = api.call("network", state)
    assert ans["weights"] == model.weights()
    with pytest.raises(api.ApiError, match="one activation in every layer"):
        mg.play(mg.scalar.nn.MLP(2, [3, 1], "tanh", "linear"))
    with pytest.raises(api.ApiError, match="net must be 2"):
        mg.play(mg.scalar.nn.MLP(3, [3, 1], "tanh", "tanh"))
