"""memograd.export: PyTorch and ONNX exports compute what memograd computes, and come back."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import memograd as mg
from memograd.data import DATASETS, split_dataset
from memograd.export import (
    ExportError,
    check_export,
    load_onnx,
    run_onnx,
    save_torch,
    to_onnx,
    to_torch,
)
from memograd.train import TrainConfig, fit, load_data, load_run, predict_scores

torch = pytest.importorskip("torch", reason="needs the interop extra (torch==2.13.0)")
onnx = pytest.importorskip("onnx", reason="needs the interop extra (onnx)")
pytest.importorskip("onnxruntime", reason="needs the interop extra (onnxruntime)")

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "gelu", "identity")


def _raw_test_split(run):
    """The raw (unstandardised) test rows of a run, split as training split them."""
    _, ck = load_run(run)
    cfg = TrainConfig.from_dict(ck.metadata["config"])
    return split_dataset(load_data(cfg), val=cfg.val, test=cfg.test, seed=cfg.seed).test.X


@pytest.mark.parametrize("dataset", DATASETS)
def test_memograd_torch_and_onnxruntime_agree_on_every_preset_and_activation(dataset, tmp_path):
    for act in ACTIVATIONS:
        run = tmp_path / act
        result = fit(
            TrainConfig(dataset=dataset, hidden=[16, 8], activation=act, epochs=3, lr=0.03),
            out=run,
        )
        raw = _raw_test_split(run)
        # memograd: standardised as in training, then the model
        mine = predict_scores(result.model, result.data.X["test"])
        assert np.array_equal(
            result.data.scaler.transform(raw).astype(np.float32), result.data.X["test"]
        )
        with torch.no_grad():
            theirs = to_torch(run)(torch.from_numpy(raw)).numpy()
        session, meta = load_onnx(to_onnx(run, tmp_path / f"{act}.onnx"))
        ort = run_onnx(session, raw)
        assert theirs.dtype == ort.dtype == np.float32 and theirs.shape == mine.shape
        np.testing.assert_allclose(theirs, mine, rtol=1e-5, atol=1e-5, err_msg=f"torch {act}")
        np.testing.assert_allclose(ort, mine, rtol=1e-5, atol=1e-5, err_msg=f"onnx {act}")
        assert meta["dataset"] == dataset and meta["architecture"]["activation"] == act


def _mlp(widths, act, dropout=0.0, seed=0, dtype="float32"):
    return mg.nn.MLP(widths, activation=act, dropout=dropout, seed=seed, dtype=dtype)


@settings(max_examples=25, deadline=None)
@given(
    widths=st.lists(st.integers(1, 7), min_size=2, max_size=5),
    act=st.sampled_from(ACTIVATIONS),
    dropout=st.sampled_from([0.0, 0.25]),
    dtype=st.sampled_from(["float32", "float64"]),
    seed=st.integers(0, 2**16),
)
def test_round_trip_memograd_torch_memograd_is_bit_identical(widths, act, dropout, dtype, seed):
    model = _mlp(widths, act, dropout, seed, dtype)
    net = to_torch(model)
    back = mg.nn.MLP.from_torch(net)
    assert back.config["widths"] == widths and back.config["dtype"] == dtype
    if len(widths) > 2:  # one layer has no activation nor dropout to carry
        assert back.config["activation"] == act and back.config["dropout"] == dropout
    ours, again = model.state_dict(), back.state_dict()
    assert list(ours) == list(again)
    for k in ours:
        assert ours[k].dtype == again[k].dtype and ours[k].tobytes() == again[k].tobytes(), k
    # the torch module holds PyTorch's layout: weight (out, in) = memograd's transposed
    for name, p in net.named_parameters():
        a = ours[name]
        want = a.T if name.endswith("weight") else a
        assert p.detach().numpy().tobytes() == np.ascontiguousarray(want).tobytes()


def test_square_layers_keep_their_orientation_through_the_round_trip():
    model = _mlp([3, 3, 3], "tanh")
    w = model.state_dict()["0.weight"]
    assert not np.array_equal(w, w.T)
    net = to_torch(model)
    assert np.array_equal(net[0].weight.detach().numpy(), w.T)
    x = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(
            net(torch.from_numpy(x)).numpy(), model(mg.tensor(x)).data, rtol=1e-6, atol=1e-6
        )
    back = _mlp([3, 3, 3], "tanh", seed=5)
    back.load_state_dict(net.state_dict())  # torch tensors: PyTorch's layout, transposed once
    assert np.array_equal(back.state_dict()["0.weight"], w)


def test_run_preprocessing_is_the_first_layer_and_comes_back(tmp_path):
    result = fit(TrainConfig(dataset="wine", hidden=[8], epochs=2), out=tmp_path / "run")
    net = to_torch(tmp_path / "run")
    std = net[0]
    assert type(std).__name__ == "Standardize"
    assert np.array_equal(std.mean.numpy(), result.data.scaler.mean)
    assert np.array_equal(std.scale.numpy(), result.data.scaler.scale)
    raw = _raw_test_split(tmp_path / "run")
    with torch.no_grad():  # float64 standardisation, as memograd's: the same float32 inputs
        z = std(torch.from_numpy(raw)).numpy()
    assert np.array_equal(z, result.data.X["test"])
    back = mg.nn.MLP.from_torch(net)
    assert np.array_equal(back.input_standardization["mean"], result.data.scaler.mean)
    again = to_torch(back)  # the imported model exports its standardisation again
    for (k, a), (k2, b) in zip(net.state_dict().items(), again.state_dict().items()):
        assert k == k2 and torch.equal(a, b)
    bare = to_torch(tmp_path / "run", preprocessing=False)
    assert type(bare[0]).__name__ == "Linear"


def _import_file(path):
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_saved_files_rebuild_the_network_without_memograd_code(tmp_path):
    fit(TrainConfig(dataset="iris", hidden=[8, 8], epochs=2, dropout=0.1), out=tmp_path / "run")
    files = save_torch(tmp_path / "run", tmp_path / "iris.pt")
    assert files == {"weights": tmp_path / "iris.pt", "module": tmp_path / "iris.py"}
    source = files["module"].read_text()
    assert "memograd" not in source.split('"""')[2].split("METADATA")[0]  # imports torch only
    state = torch.load(files["weights"], weights_only=True)  # tensors only, no pickled code
    assert set(state) == {"0.mean", "0.scale", "1.weight", "1.bias", "4.weight", "4.bias"} | {
        "7.weight",
        "7.bias",
    }
    module = _import_file(files["module"])
    net = module.load()
    assert not net.training and module.CLASSES == ["setosa", "versicolor", "virginica"]
    assert len(module.FEATURE_NAMES) == 4
    x = torch.from_numpy(_raw_test_split(tmp_path / "run"))
    with torch.no_grad():
        assert torch.equal(net(x), to_torch(tmp_path / "run")(x))
    assert check_export(files["weights"], tmp_path / "run").agree


def test_onnx_graph_is_checked_and_carries_probabilities(tmp_path):
    fit(TrainConfig(dataset="wine", hidden=[8], epochs=2), out=tmp_path / "run")
    path = to_onnx(tmp_path / "run", tmp_path / "wine.onnx")
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    assert proto.opset_import[0].version >= 17
    ops = {n.op_type for n in proto.graph.node}
    assert {"Gemm", "Relu", "Softmax", "Cast", "Sub", "Div"} <= ops
    session, meta = load_onnx(path)
    raw = _raw_test_split(tmp_path / "run")
    logits = run_onnx(session, raw)
    probs = run_onnx(session, raw, "probabilities")
    z = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(probs, z / z.sum(1, keepdims=True), rtol=1e-5, atol=1e-6)
    assert meta["classes"] == ["class_0", "class_1", "class_2"] or len(meta["classes"]) == 3


def test_onnx_regression_gives_the_target_in_its_units(tmp_path):
    result = fit(TrainConfig(dataset="diabetes", hidden=[8], epochs=2), out=tmp_path / "run")
    session, _ = load_onnx(to_onnx(tmp_path / "run", tmp_path / "d.onnx"))
    raw = _raw_test_split(tmp_path / "run")
    want = result.data.target_scaler.inverse(predict_scores(result.model, result.data.X["test"]))
    np.testing.assert_allclose(run_onnx(session, raw, "prediction"), want, rtol=1e-5)


class Doubler(mg.nn.Module):
    def forward(self, x):
        return x * 2


def test_a_layer_the_target_cannot_express_is_named_with_the_target(tmp_path):
    model = mg.nn.Sequential(mg.nn.Linear(2, 3, rng=0), Doubler(), mg.nn.Linear(3, 1, rng=0))
    with pytest.raises(ExportError, match=r"layer 1 \(Doubler\) cannot be expressed in PyTorch"):
        to_torch(model)
    with pytest.raises(ExportError, match=r"layer 1 \(Doubler\) cannot be expressed in ONNX"):
        to_onnx(model, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()
    from memograd.scalar.nn import MLP as ScalarMLP

    with pytest.raises(mg.MemogradTypeError, match="scalar-engine network"):
        to_torch(ScalarMLP(2, [2, 1]))
    with pytest.raises(ExportError, match="standardisation has 3 features, the model takes 2"):
        to_torch(_mlp([2, 1], "relu"), preprocessing={"mean": [0, 0, 0], "scale": [1, 1, 1]})


def test_corrupted_or_mismatched_files_are_refused_naming_the_file(tmp_path):
    fit(TrainConfig(dataset="iris", hidden=[8], epochs=1), out=tmp_path / "iris")
    fit(TrainConfig(dataset="moons", hidden=[8], epochs=1), out=tmp_path / "moons")
    save_torch(tmp_path / "moons", tmp_path / "moons.pt")
    with pytest.raises(ExportError, match="moons.pt: cannot run on the run's data"):
        check_export(tmp_path / "moons.pt", tmp_path / "iris")
    save_torch(tmp_path / "iris", tmp_path / "iris.pt")
    data = (tmp_path / "iris.pt").read_bytes()
    (tmp_path / "iris.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ExportError, match="iris.pt: not a PyTorch state_dict file, or a corrupt"):
        check_export(tmp_path / "iris.pt", tmp_path / "iris")
    # weights of another architecture under this module
    save_torch(tmp_path / "moons", tmp_path / "other.pt")
    (tmp_path / "iris.pt").write_bytes((tmp_path / "other.pt").read_bytes())
    with pytest.raises(ExportError, match="iris.pt: does not match the architecture in iris.py"):
        check_export(tmp_path / "iris.pt", tmp_path / "iris")
    (tmp_path / "bad.onnx").write_bytes(b"not a protobuf at all")
    with pytest.raises(ExportError, match="bad.onnx: not a valid ONNX model"):
        load_onnx(tmp_path / "bad.onnx")
    to_onnx(tmp_path / "moons", tmp_path / "moons.onnx")
    with pytest.raises(ExportError, match="takes 2 features, the data has 4"):
        check_export(tmp_path / "moons.onnx", tmp_path / "iris")
