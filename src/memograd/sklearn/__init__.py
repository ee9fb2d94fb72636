"""scikit-learn estimators trained by memograd's engine (needs scikit-learn >= 1.6).

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from memograd.sklearn import MLPClassifier

    clf = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(64,), random_state=0))
    clf.fit(X_train, y_train).score(X_test, y_test)
    MLPClassifier.from_run("runs/digits").predict(X)      # a `memograd train` run folder

Parameters, attributes and behaviour follow ``sklearn.neural_network.MLPClassifier`` /
``MLPRegressor``; :mod:`memograd.sklearn.estimators` lists the differences.
"""

try:
    from sklearn.utils.validation import validate_data as _validate_data  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installed scikit-learn
    raise ImportError(
        "memograd.sklearn needs scikit-learn >= 1.6 (pip install 'memograd[sklearn]'); "
        f"importing it failed: {exc}"
    ) from None

from memograd.sklearn.estimators import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
