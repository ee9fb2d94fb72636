"""MLP.from_torch and load_state_dict(layout=...): PyTorch's names and layout, never guessed."""

from __future__ import annotations

import numpy as np
import pytest

import memograd as mg
from memograd.errors import MemogradTypeError, MemogradValueError, ShapeError
from memograd.nn import MLP


def test_numpy_state_in_torch_layout_is_refused_with_the_fix():
    model = MLP([3, 5, 2], seed=0)
    torch_layout = {k: v.T if v.ndim == 2 else v for k, v in model.state_dict().items()}
    with pytest.raises(ShapeError, match=r"0.weight has shape \(5, 3\).*pass layout='torch'"):
        model.load_state_dict(torch_layout)
    other = MLP([3, 5, 2], seed=1)
    other.load_state_dict(torch_layout, layout="torch")
    assert all(
        np.array_equal(a, b)
        for a, b in zip(other.state_dict().values(), model.state_dict().values())
    )
    with pytest.raises(
        ShapeError, match=r"in PyTorch's \(out, in\) layout the model's is \(5, 3\)"
    ):
        other.load_state_dict(model.state_dict(), layout="torch")
    with pytest.raises(MemogradValueError, match="layout must be one of"):
        other.load_state_dict(model.state_dict(), layout="keras")


def test_square_numpy_weights_are_only_transposed_when_told():
    model = MLP([4, 4, 4], seed=0)
    state = model.state_dict()
    same = MLP([4, 4, 4], seed=1)
    same.load_state_dict(state)  # memograd's layout: as is
    assert np.array_equal(same.state_dict()["0.weight"], state["0.weight"])
    same.load_state_dict(state, layout="torch")  # declared PyTorch's: transposed, once
    assert np.array_equal(same.state_dict()["0.weight"], state["0.weight"].T)
    assert np.array_equal(same.state_dict()["0.bias"], state["0.bias"])


torch = pytest.importorskip("torch", reason="needs the interop extra (torch==2.13.0)")
nn = torch.nn


def _net(*layers):
    torch.manual_seed(0)
    return nn.Sequential(*layers)


def test_from_torch_reads_a_plain_pytorch_sequential():
    net = _net(nn.Linear(4, 6), nn.Tanh(), nn.Dropout(0.2), nn.Linear(6, 6), nn.Tanh())
    net.append(nn.Dropout(0.2)).append(nn.Linear(6, 3))
    model = MLP.from_torch(net)
    assert model.config["widths"] == [4, 6, 6, 3]
    assert model.config["activation"] == "tanh" and model.config["dropout"] == 0.2
    assert not model.training
    net.eval()
    x = np.random.default_rng(0).normal(size=(7, 4)).astype(np.float32)
    with torch.no_grad():
        want = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model(mg.tensor(x)).data, want, rtol=1e-6, atol=1e-6)
    # the same from the state_dict, once the activation is named
    again = MLP.from_torch(net.state_dict(), activation="tanh", dropout=0.2)
    for a, b in zip(model.state_dict().values(), again.state_dict().values()):
        assert a.tobytes() == b.tobytes()


def test_from_torch_reads_a_pt_file_with_weights_only(tmp_path):
    net = _net(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    torch.save(net.state_dict(), tmp_path / "w.pt")
    model = MLP.from_torch(tmp_path / "w.pt", activation="relu")
    assert np.array_equal(model.state_dict()["2.weight"], net[2].weight.detach().numpy().T)
    (tmp_path / "bad.pt").write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(MemogradValueError, match="bad.pt: not a PyTorch state_dict file"):
        MLP.from_torch(tmp_path / "bad.pt", activation="relu")


def test_from_torch_refuses_what_memograd_cannot_express_naming_the_layer():
    with pytest.raises(MemogradValueError, match=r"layer 1 \(BatchNorm1d\) cannot be expressed"):
        MLP.from_torch(_net(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 1)))
    with pytest.raises(MemogradValueError, match=r"layer 1 \(GELU\).*approximate='tanh'"):
        MLP.from_torch(_net(nn.Linear(2, 3), nn.GELU(), nn.Linear(3, 1)))
    with pytest.raises(MemogradValueError, match="one activation for every hidden layer"):
        MLP.from_torch(
            _net(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1))
        )
    with pytest.raises(MemogradValueError, match="layer 0 \\(Linear\\) has no bias"):
        MLP.from_torch(_net(nn.Linear(2, 3, bias=False), nn.ReLU(), nn.Linear(3, 1)))
    with pytest.raises(MemogradValueError, match="starts and ends with a Linear"):
        MLP.from_torch(_net(nn.Linear(2, 3), nn.ReLU()))
    with pytest.raises(MemogradTypeError, match="expected a torch.nn.Sequential"):
        MLP.from_torch(nn.ReLU())
    with pytest.raises(MemogradValueError, match="slope 0.01"):
        MLP.from_torch(_net(nn.Linear(2, 3), nn.LeakyReLU(0.2), nn.Linear(3, 1)))
    ok = MLP.from_torch(_net(nn.Linear(2, 3), nn.GELU(approximate="tanh"), nn.Linear(3, 1)))
    assert ok.config["activation"] == "gelu"


def test_from_torch_state_dict_errors_name_the_key():
    state = _net(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)).state_dict()
    with pytest.raises(MemogradValueError, match="say which activation"):
        MLP.from_torch(state)
    with pytest.raises(MemogradValueError, match="missing key 2.bias"):
        MLP.from_torch({k: v for k, v in state.items() if k != "2.bias"}, activation="relu")
    with pytest.raises(MemogradValueError, match="missing key 0.weight"):
        MLP.from_torch({k: v for k, v in state.items() if k != "0.weight"}, activation="relu")
    bad = dict(state, **{"2.weight": torch.zeros(1, 4)})
    with pytest.raises(ShapeError, match=r"2.weight has shape \(1, 4\).*takes 4 inputs but the"):
        MLP.from_torch(bad, activation="relu")
    bad = dict(state, **{"2.bias": torch.zeros(2)})
    with pytest.raises(ShapeError, match=r"2.bias has shape \(2,\), expected \(1,\)"):
        MLP.from_torch(bad, activation="relu")
    with pytest.raises(MemogradValueError, match="unexpected key 'running_mean'"):
        MLP.from_torch({**state, "running_mean": torch.zeros(3)}, activation="relu")
    with pytest.raises(MemogradTypeError, match="bfloat16"):
        MLP.from_torch({k: v.bfloat16() for k, v in state.items()}, activation="relu")


def test_load_state_dict_of_torch_tensors_uses_pytorch_layout_and_names():
    net = _net(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2))
    model = MLP([3, 3, 2], seed=4)
    model.load_state_dict(net.state_dict())
    assert np.array_equal(model.state_dict()["0.weight"], net[0].weight.detach().numpy().T)
    with pytest.raises(MemogradValueError, match="missing 2.bias"):
        model.load_state_dict({k: v for k, v in net.state_dict().items() if k != "2.bias"})
    with pytest.raises(ShapeError, match="2.weight has shape"):
        MLP([3, 3, 4], seed=0).load_state_dict(net.state_dict())
    mixed = {**net.state_dict(), "2.bias": np.zeros(2, np.float32)}
    with pytest.raises(MemogradTypeError, match="mixes torch tensors and arrays"):
        model.load_state_dict(mixed)
    exported = mg.export.to_torch(model, preprocessing={"mean": [0, 0, 0], "scale": [1, 1, 1]})
    with pytest.raises(MemogradValueError, match="use MLP.from_torch"):
        model.load_state_dict(exported.state_dict())
