import numpy as np
import pytest

from memograd.checkpoint import load_checkpoint, save_checkpoint
from memograd.errors import CheckpointError, MemogradValueError
from memograd.train import (
    CHECKPOINT,
    Reporter,
    TrainConfig,
    Trainer,
    TrainingInterrupted,
    confusion_matrix,
    fit,
    load_run,
    predict_scores,
    prepare_data,
    r2_score,
)

SMALL = dict(dataset="moons", n_samples=240, hidden=[8, 8], epochs=6, batch_size=16, lr=0.01)


class StopAt(Reporter):
    """Raises KeyboardInterrupt (what Ctrl-C does) at a given epoch and batch."""

    def __init__(self, epoch, step):
        self.epoch, self.step, self.current = epoch, step, 0

    def epoch_start(self, epoch, epochs, steps):
        self.current = epoch

    def batch(self, step, loss, accuracy, samples_per_s):
        if self.current == self.epoch and step == self.step:
            raise KeyboardInterrupt


def tensors(path):
    return load_checkpoint(path / CHECKPOINT).tensors


@pytest.mark.parametrize("extra", [{}, {"dropout": 0.3, "optimizer": "sgd", "momentum": 0.9}])
def test_resume_after_ctrl_c_reaches_the_same_weights_bit_for_bit(tmp_path, extra):
    cfg = TrainConfig(**SMALL, **extra, patience=None)
    whole = fit(cfg, tmp_path / "whole")
    with pytest.raises(TrainingInterrupted) as info:
        fit(TrainConfig(**SMALL, **extra, patience=None), tmp_path / "cut", reporter=StopAt(4, 3))
    msg = str(info.value)
    assert "after epoch 3 of 6" in msg and f"memograd train --resume {tmp_path / 'cut'}" in msg
    ck = load_checkpoint(tmp_path / "cut" / CHECKPOINT)
    assert ck.metadata["status"] == "interrupted" and ck.metadata["epoch"] == 3
    resumed = fit(None, tmp_path / "cut", resume=True)
    a, b = tensors(tmp_path / "whole"), tensors(tmp_path / "cut")
    assert set(a) == set(b) and any(k.startswith("optimizer.") for k in a)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert resumed.metrics["test_accuracy"] == whole.metrics["test_accuracy"]
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in whole.history]


def test_ctrl_c_in_the_first_epoch_and_without_a_folder(tmp_path):
    with pytest.raises(TrainingInterrupted, match="after epoch 0 of 6.*pass --out"):
        fit(TrainConfig(**SMALL), None, reporter=StopAt(1, 2))
    with pytest.raises(TrainingInterrupted):
        fit(TrainConfig(**SMALL), tmp_path / "r", reporter=StopAt(1, 1))
    resumed = fit(None, tmp_path / "r", resume=True)
    assert resumed.metrics["epochs"] == 6


def test_resume_can_extend_a_finished_run(tmp_path):
    fit(TrainConfig(**{**SMALL, "epochs": 3}), tmp_path / "a", reporter=None)
    longer = fit(None, tmp_path / "a", resume=True, epochs=6)
    straight = fit(TrainConfig(**SMALL), tmp_path / "b")
    assert longer.metrics["epochs"] == 6
    # the schedule is constant, so 3 + 3 epochs equal 6 straight ones
    a, b = tensors(tmp_path / "a"), tensors(tmp_path / "b")
    assert all(np.array_equal(a[k], b[k]) for k in a if k.startswith("model."))
    assert straight.metrics["test_accuracy"] == longer.metrics["test_accuracy"]


def test_resume_refuses_changed_data_and_broken_checkpoints(tmp_path):
    csv = tmp_path / "d.csv"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    rows = [f"{a:.5f},{b:.5f},{'yes' if a + b > 0 else 'no'}" for a, b in X]
    csv.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    cfg = TrainConfig(dataset=None, csv=str(csv), target="label", hidden=[4], epochs=4)
    with pytest.raises(TrainingInterrupted):
        fit(cfg, tmp_path / "run", reporter=StopAt(2, 1))
    csv.write_text("a,b,label\n" + "\n".join(rows[:-1]) + "\n")
    with pytest.raises(CheckpointError, match="d.csv: the file changed since the run was trained"):
        fit(None, tmp_path / "run", resume=True)  # refused by its SHA-256, before parsing it
    path = tmp_path / "run" / CHECKPOINT
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(CheckpointError, match="truncated"):
        fit(None, tmp_path / "run", resume=True)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        fit(None, tmp_path / "nothing", resume=True)


def test_checkpoint_of_another_architecture_is_refused(tmp_path):
    fit(TrainConfig(**{**SMALL, "epochs": 1}), tmp_path / "r")
    ck = load_checkpoint(tmp_path / "r" / CHECKPOINT)
    meta = dict(ck.metadata)
    meta["architecture"] = {**meta["architecture"], "widths": [2, 9, 8, 2]}
    save_checkpoint(tmp_path / "r" / CHECKPOINT, ck.tensors, meta)
    with pytest.raises(CheckpointError, match="'architecture.widths' describes 125 parameters"):
        load_run(tmp_path / "r")  # checked against the stored weights before building anything


def test_early_stopping_keeps_the_best_weights(tmp_path):
    cfg = TrainConfig(dataset="diabetes", hidden=[32], epochs=200, lr=0.01, patience=3)
    r = fit(cfg, tmp_path / "r")
    m = r.metrics
    assert m["stopped_early"] and m["epochs"] < 200
    assert m["epochs"] == m["best_epoch"] + 3
    losses = [h["val_loss"] for h in r.history]
    assert min(losses) == losses[m["best_epoch"] - 1]
    assert all(x >= losses[m["best_epoch"] - 1] for x in losses[m["best_epoch"] :])
    model, ck = load_run(tmp_path / "r")
    best = ck.group("best")
    assert all(np.array_equal(v, best[k]) for k, v in model.state_dict().items())
    assert all(np.array_equal(v, best[k]) for k, v in r.model.state_dict().items())
    # the reported validation loss is the best epoch's
    assert m["val_loss"] == pytest.approx(losses[m["best_epoch"] - 1], rel=1e-5)


def test_same_seed_same_run_other_seed_differs():
    a = fit(TrainConfig(**SMALL, dropout=0.2)).model.state_dict()
    b = fit(TrainConfig(**SMALL, dropout=0.2)).model.state_dict()
    c = fit(TrainConfig(**SMALL, dropout=0.2, seed=1)).model.state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["0.weight"], c["0.weight"])


def test_standardisation_uses_training_statistics_only():
    data = prepare_data(TrainConfig(dataset="wine"))
    assert np.allclose(data.X["train"].mean(0), 0, atol=1e-5)
    assert np.allclose(data.X["train"].std(0), 1, atol=1e-4)
    assert not np.allclose(data.X["test"].mean(0), 0, atol=1e-3)
    reg = prepare_data(TrainConfig(dataset="diabetes"))
    assert abs(reg.y["train"].mean()) < 1e-5 and abs(reg.y["train"].std() - 1) < 1e-4


@pytest.mark.parametrize(
    "dataset, epochs, floor",
    [("moons", 15, 0.97), ("digits", 10, 0.93), ("iris", 40, 0.85), ("breast_cancer", 10, 0.92)],
)
def test_small_budgets_learn(dataset, epochs, floor):
    m = fit(TrainConfig(dataset=dataset, epochs=epochs)).metrics
    assert m["test_accuracy"] >= floor, m


def test_regression_reports_r2_and_rmse_in_target_units():
    r = fit(TrainConfig(dataset="toy", epochs=30, hidden=[16]))
    m = r.metrics
    assert m["test_r2"] > 0.7
    d = r.data
    pred = d.target_scaler.inverse(predict_scores(r.model, d.X["test"]))[:, 0]
    truth = d.target_scaler.inverse(d.y["test"][:, None])[:, 0]
    assert m["test_rmse"] == pytest.approx(np.sqrt(np.mean((pred - truth) ** 2)), rel=1e-3)
    assert m["test_r2"] == pytest.approx(r2_score(truth, pred), abs=1e-4)


@pytest.mark.parametrize("loss", ["hinge", "bce_with_logits"])
def test_other_classification_losses_train(loss):
    m = fit(TrainConfig(**{**SMALL, "epochs": 20}, loss=loss)).metrics
    assert m["loss_function"] == loss and m["test_accuracy"] > 0.9


def test_bad_configurations():
    with pytest.raises(MemogradValueError, match="learning rate must be > 0"):
        Trainer(TrainConfig(**{**SMALL, "lr": 0}))
    with pytest.raises(MemogradValueError, match="needs class labels"):
        Trainer(TrainConfig(dataset="diabetes", loss="cross_entropy"))
    with pytest.raises(MemogradValueError, match="bce_with_logits needs class labels"):
        Trainer(TrainConfig(dataset="diabetes", loss="bce_with_logits"))
    with pytest.raises(MemogradValueError, match="needs 2 classes"):
        Trainer(TrainConfig(dataset="iris", loss="bce_with_logits"))
    with pytest.raises(MemogradValueError, match="either a dataset name or a CSV"):
        Trainer(TrainConfig(dataset=None))


def test_confusion_matrix_and_r2():
    m = confusion_matrix(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 2, 0]), 3)
    assert m.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]
    assert r2_score(np.array([1.0, 2, 3]), np.array([1.0, 2, 3])) == 1.0
    assert r2_score(np.array([1.0, 2, 3]), np.array([2.0, 2, 2])) == 0.0


def test_compiled_and_eager_steps_train_the_same_way():
    compiled = Trainer(TrainConfig(**SMALL))
    eager = Trainer(TrainConfig(**SMALL, compile=False))
    a, b = compiled.run(), eager.run()
    assert compiled.compiled() and not eager.compiled()
    la = [r["train_loss"] for r in a.history]
    lb = [r["train_loss"] for r in b.history]
    assert np.allclose(la, lb, rtol=1e-3)  # float32 sums in another order: close, not equal
    for k, v in a.model.state_dict().items():
        assert np.allclose(v, b.model.state_dict()[k], atol=1e-3)
    # dropout masks are random per step, so a dropout network always runs eagerly
    assert not Trainer(TrainConfig(**SMALL, dropout=0.1)).compiled()


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"optimizer": "adam"},
        {"optimizer": "sgd", "momentum": 0.9, "schedule": "cosine"},
        {"optimizer": "rmsprop", "clip": 0.5},
    ],
)
def test_the_update_inside_the_compiled_step_trains_bit_for_bit_as_after_it(extra):
    """compile_step(..., optimizer=) runs the update itself; the loss curve and the weights are
    exactly those of optimizer.step() after the step (the NumPy replay, numba off)."""
    from memograd.tensor import fused

    old = fused.set_mode("off")
    try:
        inside = Trainer(TrainConfig(**SMALL, **extra))
        after = Trainer(TrainConfig(**SMALL, **extra))
        after.update_in_step = False
        a, b = inside.run(), after.run()
    finally:
        fused.set_mode(old)
    assert inside._step.optimizer is inside.optimizer and after._step.optimizer is None
    assert inside.optimizer.t == after.optimizer.t > 0
    assert [r["train_loss"] for r in a.history] == [r["train_loss"] for r in b.history]
    for k, v in a.model.state_dict().items():
        assert np.array_equal(v, b.model.state_dict()[k])


def test_resume_cannot_go_back_in_epochs(tmp_path):
    fit(TrainConfig(**{**SMALL, "epochs": 3}), tmp_path / "a")
    with pytest.raises(MemogradValueError, match="already trained 3 epochs"):
        fit(None, tmp_path / "a", resume=True, epochs=2)


def test_npz_checkpoints_resume_too(tmp_path):
    cfg = dict(SMALL, checkpoint_format="npz", patience=None)
    whole = fit(TrainConfig(**cfg), tmp_path / "whole")
    with pytest.raises(TrainingInterrupted):
        fit(TrainConfig(**cfg), tmp_path / "cut", reporter=StopAt(2, 2))
    assert [p.name for p in (tmp_path / "cut").iterdir()] == ["checkpoint.npz"]
    fit(None, tmp_path / "cut", resume=True)
    a = load_checkpoint(tmp_path / "whole" / "checkpoint.npz").tensors
    b = load_checkpoint(tmp_path / "cut" / "checkpoint.npz").tensors
    assert all(np.array_equal(a[k], b[k]) for k in a)
    model, _ = load_run(tmp_path / "cut")
    assert np.array_equal(
        predict_scores(model, whole.data.X["test"]),
        predict_scores(whole.model, whole.data.X["test"]),
    )


def test_more_epochs_after_an_early_stop_train_again_only_past_the_configured_count(tmp_path):
    cfg = TrainConfig(dataset="diabetes", hidden=[16], epochs=40, lr=0.01, patience=2)
    first = fit(cfg, tmp_path / "r")
    assert first.metrics["stopped_early"]
    done = first.metrics["epochs"]
    assert done < 40
    for same in (done + 1, 40):  # within the run's configured epochs the early stop is its end
        again = fit(None, tmp_path / "r", resume=True, epochs=same)
        assert again.metrics["epochs"] == done and len(again.history) == done
        assert again.metrics["best_epoch"] == first.metrics["best_epoch"]
    more = fit(None, tmp_path / "r", resume=True, epochs=41)  # past it: patience starts afresh
    assert more.metrics["epochs"] >= done + 2 and len(more.history) == more.metrics["epochs"]


def test_score_train_off_skips_the_training_accuracy_and_files_still_work(tmp_path):
    from memograd.train import write_run_files
    from memograd.viz.training_plots import write_plots

    r = fit(TrainConfig(**SMALL, score_train=False), tmp_path / "r")
    assert all("train_accuracy" not in h and "val_accuracy" in h for h in r.history)
    files = {**write_run_files(r, tmp_path / "r"), **write_plots(r, tmp_path / "r")}
    assert "train_accuracy" not in (tmp_path / "r" / "metrics.csv").read_text().splitlines()[0]
    pytest.importorskip("matplotlib")
    assert {"curves", "confusion", "boundary"} <= set(files)


def test_a_2d_regression_run_gets_curves_and_a_surface_but_no_confusion_matrix(tmp_path):
    pytest.importorskip("matplotlib")
    from memograd.viz.training_plots import write_plots

    r = fit(TrainConfig(dataset="toy", epochs=2, hidden=[4]), tmp_path / "r")
    files = write_plots(r, tmp_path / "r")
    assert {"curves", "boundary"} <= set(files) and "confusion" not in files
    assert (tmp_path / "r" / "boundary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
