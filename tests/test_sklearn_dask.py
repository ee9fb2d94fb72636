"""A grid search through joblib's Dask backend on a local cluster: same results as the local run."""

import numpy as np
import pytest

pytest.importorskip("sklearn", minversion="1.6", reason="memograd.sklearn needs scikit-learn>=1.6")
pytest.importorskip(
    "distributed",
    reason="the Dask sweep needs dask.distributed: pip install 'memograd[distributed]'",
)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grid_search_on_a_local_dask_cluster_matches_the_local_run():
    import joblib
    from distributed import get_task_stream
    from sklearn.datasets import load_digits
    from sklearn.model_selection import GridSearchCV
    from threadpoolctl import threadpool_limits

    from memograd.sklearn import MLPClassifier
    from memograd.sklearn.cluster import local_cluster

    X, y = load_digits(return_X_y=True)
    X, y = X[:360] / 16.0, y[:360]
    grid = {"hidden_layer_sizes": [(8,), (24,)], "learning_rate_init": [1e-3, 1e-2]}
    search = GridSearchCV(MLPClassifier(max_iter=8, random_state=0), grid, cv=3, n_jobs=-1)
    with threadpool_limits(1):  # the workers run one BLAS thread each (Dask's nanny sets it)
        local = GridSearchCV(search.estimator, grid, cv=3, n_jobs=1).fit(X, y)
    with local_cluster(n_workers=2) as client:
        with get_task_stream(client) as tasks, joblib.parallel_config(backend="dask"):
            remote = search.fit(X, y)
        workers = {t["worker"] for t in tasks.data}
    assert len(tasks.data) >= 12 and len(workers) >= 1  # the fits ran on the cluster
    assert remote.best_params_ == local.best_params_
    for key in ("mean_test_score", *(f"split{i}_test_score" for i in range(3))):
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key])
    np.testing.assert_array_equal(remote.predict_proba(X), local.predict_proba(X))
