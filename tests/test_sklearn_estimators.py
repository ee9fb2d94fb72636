"""memograd.sklearn: the loss and update against closed forms, scikit-learn's workflow (Pipeline,
cross_val_score, GridSearchCV with process workers, clone, pickle), bad input, memograd runs."""

import pickle
import re
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn", minversion="1.6", reason="memograd.sklearn needs scikit-learn>=1.6")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_iris, make_classification, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from memograd.errors import MemogradError  # noqa: E402
from memograd.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def blobs():
    X, y = make_classification(
        n_samples=150, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return StandardScaler().fit_transform(X), y


# ----------------------------------------------------------------------------- closed forms


def _forward(X, coefs, intercepts, act):
    h = X
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        h = act(h @ W + b)
    return h @ coefs[-1] + intercepts[-1]


ACTS = {
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "logistic": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
}


def _sklearn_loss(est, X, y, coefs, intercepts):
    """scikit-learn's objective written out: data loss + α/(2n)·Σ‖W‖²."""
    act = ACTS[est.activation][0]
    z = _forward(X, coefs, intercepts, act)
    n = len(X)
    if isinstance(est, MLPRegressor):
        data = 0.5 * np.mean((z - y.reshape(n, -1)) ** 2)
    elif z.shape[1] == 1:  # binary: one logistic output
        t = (y == est.classes_[1]).astype(float)[:, None]
        data = np.mean(np.logaddexp(0, z) - t * z)
    else:
        idx = np.searchsorted(est.classes_, y)
        zmax = z.max(axis=1, keepdims=True)
        logp = z - zmax - np.log(np.exp(z - zmax).sum(axis=1, keepdims=True))
        data = -np.mean(logp[np.arange(n), idx])
    return data + 0.5 * est.alpha / n * sum(float(np.sum(W * W)) for W in coefs)


def _numeric_grad(f, arrays, eps=1e-6):
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            old = a[i]
            a[i] = old + eps
            up = f()
            a[i] = old - eps
            down = f()
            a[i] = old
            g[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


@pytest.mark.parametrize(
    "kind, activation, n_classes",
    [("clf", "relu", 3), ("clf", "tanh", 2), ("reg", "logistic", None), ("reg", "relu", None)],
)
def test_loss_and_sgd_update_match_closed_form(kind, activation, n_classes):
    """One full-batch SGD step (no momentum): the recorded loss is scikit-learn's objective at
    the weights before the step, and the step is W - lr·∇objective (finite differences)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 3))
    if kind == "clf":
        y = rng.integers(0, n_classes, size=24) * 10  # labels 0, 10, 20: not indices
        est = MLPClassifier
    else:
        y = rng.normal(size=(24, 2))
        est = MLPRegressor
    lr = 0.05
    m = est(
        hidden_layer_sizes=(4, 3),
        activation=activation,
        solver="sgd",
        momentum=0.0,
        learning_rate_init=lr,
        alpha=0.3,
        batch_size=24,
        shuffle=False,
        random_state=1,
    )
    extra = {"classes": np.unique(y)} if kind == "clf" else {}
    m.partial_fit(X, y, **extra)  # some training first: weights away from their init
    coefs, intercepts = m.coefs_, m.intercepts_
    assert all(W.dtype == np.float64 for W in coefs)  # float64 data trains in float64
    params = [*coefs, *intercepts]
    expected_loss = _sklearn_loss(m, X, y, coefs, intercepts)
    grads = _numeric_grad(lambda: _sklearn_loss(m, X, y, coefs, intercepts), params)
    m.partial_fit(X, y)
    assert m.loss_curve_[-1] == pytest.approx(expected_loss, rel=1e-10)
    assert m.n_iter_ == 2 and len(m.loss_curve_) == 2 and m.t_ == 48
    for after, before, g in zip([*m.coefs_, *m.intercepts_], params, grads):
        np.testing.assert_allclose(after, before - lr * g, rtol=1e-6, atol=1e-9)


def test_warm_start_adam_step_matches_the_formula():
    """warm_start fit starts a fresh Adam (as scikit-learn): its first full-batch update from
    zero moments is W - lr·g/(|g| + ε), g = ∇objective at W."""
    X, y = make_regression(n_samples=16, n_features=3, random_state=0)
    X /= 3
    lr = 0.01
    m = MLPRegressor(
        hidden_layer_sizes=(5,),
        alpha=0.1,
        learning_rate_init=lr,
        batch_size=16,
        shuffle=False,
        max_iter=1,
        warm_start=True,
        random_state=0,
    ).fit(X, y)
    params = [*m.coefs_, *m.intercepts_]
    grads = _numeric_grad(lambda: _sklearn_loss(m, X, y, params[:2], params[2:]), params)
    m.fit(X, y)
    for after, before, g in zip([*m.coefs_, *m.intercepts_], params, grads):
        np.testing.assert_allclose(after, before - lr * g / (np.abs(g) + 1e-8), rtol=1e-5)


def test_pickled_estimator_continues_bit_for_bit(blobs):
    X, y = blobs
    m = MLPClassifier(hidden_layer_sizes=(8,), random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    twin = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(twin.predict_proba(X), m.predict_proba(X))
    m.partial_fit(X, y)  # same Adam moments, same shuffling stream
    twin.partial_fit(X, y)
    for a, b in zip([*m.coefs_, *m.intercepts_], [*twin.coefs_, *twin.intercepts_]):
        np.testing.assert_array_equal(a, b)
    assert m.loss_curve_ == twin.loss_curve_


# ----------------------------------------------------------------------------- behaviour


def test_learns_and_is_reproducible(blobs):
    X, y = blobs
    kw = dict(hidden_layer_sizes=(16,), max_iter=100, batch_size=32, learning_rate_init=0.01)
    a = MLPClassifier(random_state=3, **kw).fit(X, y)
    b = MLPClassifier(random_state=3, **kw).fit(X, y)
    c = MLPClassifier(random_state=4, **kw).fit(X, y)
    assert a.score(X, y) > 0.85
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.loss_curve_ == b.loss_curve_
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])
    p = a.predict_proba(X)
    assert p.shape == (150, 3) and p.dtype == np.float64
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_array_equal(a.classes_[p.argmax(axis=1)], a.predict(X))
    assert a.n_features_in_ == 6 and a.n_layers_ == 3 and a.out_activation_ == "softmax"
    assert [W.shape for W in a.coefs_] == [(6, 16), (16, 3)]


def test_binary_has_one_logistic_output_and_string_labels():
    X, y = make_classification(n_samples=80, n_features=4, random_state=1)
    labels = np.array(["no", "yes"])[y]
    m = MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, batch_size=16, random_state=0)
    m.fit(X, labels)
    assert m.n_outputs_ == 1 and m.out_activation_ == "logistic"
    assert list(m.classes_) == ["no", "yes"]
    assert m.score(X, labels) > 0.85
    z = _forward(X, m.coefs_, m.intercepts_, ACTS["relu"][0])[:, 0]
    np.testing.assert_allclose(m.predict_proba(X)[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-9)


def test_float32_trains_in_float32_and_dtype_param():
    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    m = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    assert m.fit(X.astype(np.float32), y).coefs_[0].dtype == np.float32
    assert m.set_params(dtype="float32").fit(X, y).coefs_[0].dtype == np.float32
    assert m.set_params(dtype=None).fit(X, y).coefs_[0].dtype == np.float64


def test_early_stopping_follows_sklearns_rule(blobs):
    X, y = blobs
    m = MLPClassifier(
        hidden_layer_sizes=(8,),
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=3,
        tol=0.0,
        max_iter=300,
        random_state=0,
    ).fit(X, y)
    scores = m.validation_scores_
    assert len(scores) == m.n_iter_ == len(m.loss_curve_) < 300
    assert m.best_validation_score_ == max(scores)
    assert m.best_loss_ is None
    # stopped because the last n_iter_no_change + 1 epochs did not beat the best before them
    best_before = max(scores[: -(m.n_iter_no_change + 1)])
    assert all(s <= best_before for s in scores[-(m.n_iter_no_change + 1) :])


def test_tol_stopping_without_early_stopping(blobs):
    X, y = blobs
    m = MLPClassifier(hidden_layer_sizes=(8,), tol=10.0, n_iter_no_change=2, random_state=0)
    m.fit(X, y)  # epoch 1 improves on inf; epochs 2-4 do not improve by 10: 3 > 2, stop
    assert m.n_iter_ == 4 and m.validation_scores_ is None
    assert m.best_loss_ == min(m.loss_curve_)


def test_max_iter_warns_convergence(blobs):
    X, y = blobs
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        MLPClassifier(max_iter=2, random_state=0).fit(X, y)


def test_partial_fit_and_warm_start(blobs):
    X, y = blobs
    m = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        m.partial_fit(X, y)
    m.partial_fit(X[:50], y[:50], classes=[0, 1, 2])
    m.partial_fit(X[50:], y[50:])
    assert m.n_iter_ == 2 and len(m.loss_curve_) == 2 and m.t_ == 150
    with pytest.raises(ValueError, match=r"labels \[7\] that are not in classes_"):
        m.partial_fit(X[:3], [0, 1, 7])
    w = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, warm_start=True, random_state=0)
    w.fit(X, y)
    first = w.coefs_[0].copy()
    w.fit(X, y)
    assert w.n_iter_ == 10 and len(w.loss_curve_) == 10
    assert not np.array_equal(first, w.coefs_[0])
    with pytest.raises(ValueError, match="warm_start needs y with the classes"):
        w.fit(X, np.where(y == 2, 1, y))


def test_regressor_multi_output_and_sgd_schedules():
    X, Y = make_regression(n_samples=120, n_features=5, n_targets=2, random_state=0)
    X = StandardScaler().fit_transform(X)
    Y = StandardScaler().fit_transform(Y)
    m = MLPRegressor(hidden_layer_sizes=(32,), max_iter=200, random_state=0).fit(X, Y)
    assert m.predict(X).shape == (120, 2) and m.score(X, Y) > 0.9
    assert MLPRegressor(max_iter=3).fit(X, Y[:, 0]).predict(X).shape == (120,)
    # scikit-learn's MLPRegressor in these settings: R² 0.82 and 0.998
    for rate, least in (("invscaling", 0.4), ("adaptive", 0.9)):
        s = MLPRegressor(solver="sgd", learning_rate=rate, learning_rate_init=0.1, max_iter=30)
        assert s.set_params(random_state=0).fit(X, Y).score(X, Y) > least
    inv = MLPRegressor(solver="sgd", learning_rate="invscaling", max_iter=3, power_t=0.5)
    inv.fit(X, Y)
    assert inv._network.optimizer.lr == pytest.approx(1e-3 / (2 * 120 + 1) ** 0.5)


@pytest.mark.parametrize("solver", ["adam", "sgd", "adamw", "rmsprop"])
def test_every_solver_learns(blobs, solver):
    X, y = blobs
    lr = {"sgd": 0.05, "rmsprop": 0.003}.get(solver, 0.01)
    m = MLPClassifier(hidden_layer_sizes=(16,), solver=solver, learning_rate_init=lr, max_iter=60)
    assert m.set_params(batch_size=16, random_state=0).fit(X, y).score(X, y) > 0.85


# ----------------------------------------------------------------------------- bad input


def test_bad_input_follows_sklearns_rules(blobs):
    X, y = blobs
    m = MLPClassifier(max_iter=2)
    with pytest.raises(NotFittedError):
        m.predict(X)
    with pytest.raises(NotFittedError):
        m.model_  # noqa: B018
    m.fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features, but MLPClassifier is expecting 6"):
        m.predict(X[:, :5])
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        MLPClassifier().fit(bad, y)
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        m.predict(bad)
    with pytest.raises(ValueError, match="Input y contains NaN"):
        MLPRegressor().fit(X, np.where(y == 0, np.nan, y))
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPClassifier().fit(X, y + 0.5)


@pytest.mark.parametrize(
    "param, value, words",
    [
        ("hidden_layer_sizes", (10, 0), "hidden_layer_sizes must be positive integers"),
        ("solver", "lbfgs", "lbfgs is scikit-learn's own"),
        ("activation", "softplus", "activation must be one of"),
        ("alpha", -1.0, "alpha must be a number >= 0.0"),
        ("learning_rate_init", 0.0, "learning_rate_init must be a number > 0.0"),
        ("max_iter", 0, "max_iter must be an integer >= 1"),
        ("batch_size", 0, "batch_size must be an integer >= 1"),
        ("validation_fraction", 1.0, "validation_fraction must be < 1"),
        ("beta_2", 1.0, "beta_2 must be in [0, 1)"),
        ("learning_rate", "cyclic", "learning_rate must be"),
        ("dtype", "float16", "dtype must be None"),
    ],
)
def test_bad_parameters_name_the_argument(blobs, param, value, words):
    X, y = blobs
    m = MLPClassifier().set_params(**{param: value})  # scikit-learn: no checks before fit
    with pytest.raises(ValueError, match=re.escape(words)) as e:
        m.fit(X, y)
    assert isinstance(e.value, MemogradError) and "MLPClassifier:" in str(e.value)


def test_divergence_is_reported():
    X = np.random.default_rng(0).normal(size=(40, 3)) * 1e30
    with pytest.raises(ValueError, match="lower learning_rate_init"):
        MLPRegressor(max_iter=5, solver="sgd", learning_rate_init=10.0).fit(X, X[:, 0] * 1e10)


# ----------------------------------------------------------------------------- the workflow


def test_pipeline_cross_val_grid_search_clone_pickle(tmp_path):
    import joblib

    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(
        StandardScaler(),
        MLPClassifier(hidden_layer_sizes=(8,), max_iter=60, batch_size=16, random_state=0),
    )
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.8
    grid = GridSearchCV(
        pipe,
        {"mlpclassifier__alpha": [1e-4, 1e-1], "mlpclassifier__hidden_layer_sizes": [(4,), (8,)]},
        cv=3,
        n_jobs=2,  # joblib's process workers: estimators are pickled to and fro
    ).fit(X, y)
    serial = GridSearchCV(pipe, grid.param_grid, cv=3, n_jobs=1).fit(X, y)
    assert grid.best_params_ == serial.best_params_
    np.testing.assert_allclose(
        grid.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
    fitted = grid.best_estimator_
    twin = clone(fitted)
    assert twin.get_params()["mlpclassifier__alpha"] == grid.best_params_["mlpclassifier__alpha"]
    assert not hasattr(twin[-1], "classes_")
    path = tmp_path / "pipe.joblib"
    joblib.dump(fitted, path)
    again = joblib.load(path)
    np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))
    # the unpickled estimator keeps training: optimizer state and compiled step come back
    est = again[-1]
    before = est.n_iter_
    est.partial_fit(again[0].transform(X), y)
    assert est.n_iter_ == before + 1


def test_feature_names_in():
    pd = pytest.importorskip("pandas", reason="feature_names_in_ comes from a DataFrame")
    X, y = load_iris(return_X_y=True, as_frame=True)
    m = MLPClassifier(max_iter=3).fit(X, y)
    assert list(m.feature_names_in_) == list(X.columns)
    with pytest.raises(ValueError, match="Feature names"):
        m.predict(X.rename(columns={X.columns[0]: "other"}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.predict(pd.DataFrame(X))


# ----------------------------------------------------------------------------- memograd runs


def _train_run(tmp_path, **kw):
    from memograd.train import TrainConfig, fit, prepare_data

    cfg = TrainConfig(epochs=4, checkpoint_format="npz", **kw)
    result = fit(cfg, out=tmp_path / "run")
    return result, prepare_data(TrainConfig(epochs=4, **kw))


def test_from_run_classifier_predicts_raw_features(tmp_path):
    result, data = _train_run(tmp_path, dataset="iris", hidden=[8])
    est = MLPClassifier.from_run(tmp_path / "run")
    raw = data.scaler.inverse(data.X["test"])  # the test split in the units of the dataset
    labels = np.asarray(data.dataset.classes)[data.y["test"]]
    assert est.score(raw, labels) == pytest.approx(result.metrics["test_accuracy"])
    assert list(est.classes_) == list(data.dataset.classes)
    assert est.n_features_in_ == 4 and est.run_info_["dataset"] == "iris"
    assert est.hidden_layer_sizes == (8,) and est.solver == "adamw" and est.max_iter == 4
    np.testing.assert_allclose(est.predict_proba(raw).sum(axis=1), 1.0)
    est.partial_fit(raw, labels)  # keeps training on raw features, in the run's units
    assert est.n_iter_ == 5 and len(est.loss_curve_) == 5
    refit = clone(est).fit(raw, labels)  # a fresh network with the run's settings
    assert not hasattr(refit, "run_info_") and refit.n_features_in_ == 4


def test_from_run_regressor_and_wrong_kind(tmp_path):
    result, data = _train_run(tmp_path, dataset="diabetes", hidden=[8])
    est = MLPRegressor.from_run(tmp_path / "run")
    raw = data.scaler.inverse(data.X["test"])
    y = data.target_scaler.inverse(data.y["test"][:, None].astype(np.float64))[:, 0]
    assert est.score(raw, y) == pytest.approx(result.metrics["test_r2"], abs=1e-5)
    with pytest.raises(ValueError, match=r"regression run .* MLPRegressor\.from_run"):
        MLPClassifier.from_run(tmp_path / "run")
    with pytest.raises(ValueError, match="no such run folder"):
        MLPRegressor.from_run(tmp_path / "missing")


def test_from_run_integer_classes_and_binary_bce(tmp_path):
    result, data = _train_run(tmp_path, dataset="moons", hidden=[8], loss="bce_with_logits")
    est = MLPClassifier.from_run(tmp_path / "run")
    assert est.classes_.dtype.kind == "i" and list(est.classes_) == [0, 1]
    assert est.out_activation_ == "logistic"
    raw = data.scaler.inverse(data.X["test"])
    assert est.score(raw, data.y["test"]) == pytest.approx(result.metrics["test_accuracy"])
