"""A grid search over memograd's MLPClassifier, run on a Dask cluster through joblib.

    python examples/dask_sweep.py                      # a local cluster of 2 worker processes
    python examples/dask_sweep.py --workers 4 --compare
    python examples/dask_sweep.py --scheduler tcp://10.0.0.5:8786   # a cluster already running

scikit-learn's GridSearchCV hands each (parameters, fold) fit to joblib; inside
``joblib.parallel_config(backend="dask")`` joblib sends them to the workers of the active
``distributed.Client``. The estimators travel pickled (scikit-learn's convention; memograd's own
run files stay pickle-free), the data is shipped once per worker. Every fit is seeded
(random_state), so the cluster finds the same best parameters and the same scores as a run on
this machine: ``--compare`` runs the same search with n_jobs=1 and checks it.

Needs the ``distributed`` extra: pip install 'memograd[distributed]'.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def make_search(n_jobs):
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from memograd.sklearn import MLPClassifier

    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=60, random_state=0))
    grid = {
        "mlpclassifier__hidden_layer_sizes": [(32,), (64,), (64, 64)],
        "mlpclassifier__alpha": [1e-4, 1e-2],
        "mlpclassifier__learning_rate_init": [1e-3, 3e-3],
    }
    return GridSearchCV(pipe, grid, cv=3, n_jobs=n_jobs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scheduler", help="address of a running Dask scheduler (default: local)")
    ap.add_argument("--workers", type=int, default=2, help="local cluster: worker processes")
    ap.add_argument("--compare", action="store_true", help="also run with n_jobs=1 and compare")
    args = ap.parse_args()

    import joblib
    from distributed import Client
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning

    from memograd.sklearn.cluster import local_cluster

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32)  # memograd trains float32 data in float32
    cluster = Client(args.scheduler) if args.scheduler else local_cluster(args.workers)
    with cluster as client:
        print(f"cluster: {len(client.scheduler_info()['workers'])} workers")
        search = make_search(n_jobs=-1)
        start = time.perf_counter()
        with joblib.parallel_config(backend="dask"):
            search.fit(X, y)
        seconds = time.perf_counter() - start
        n = len(search.cv_results_["params"])
        print(f"{n} parameter sets x 3 folds on Dask: {seconds:.1f} s")
        print(f"best {search.best_params_}: accuracy {search.best_score_:.4f}")
    if args.compare:
        start = time.perf_counter()
        local = make_search(n_jobs=1).fit(X, y)
        print(f"n_jobs=1 on this machine: {time.perf_counter() - start:.1f} s")
        same = local.best_params_ == search.best_params_ and np.array_equal(
            local.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"]
        )
        print("same best parameters and scores" if same else "RESULTS DIFFER")


if __name__ == "__main__":
    main()
