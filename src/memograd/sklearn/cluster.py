"""A Dask cluster on this machine, for joblib's ``dask`` backend (the ``distributed`` extra).

    import joblib
    from memograd.sklearn.cluster import local_cluster

    with local_cluster(n_workers=2) as client, joblib.parallel_config(backend="dask"):
        GridSearchCV(MLPClassifier(), grid, n_jobs=-1).fit(X, y)   # fits run in 2 processes

Each worker is a process with one thread (one fit at a time, one BLAS thread: Dask's nanny sets
it), listening on 127.0.0.1 only, without the dashboard. On a real cluster, pass the scheduler's
address to ``distributed.Client`` instead (``examples/dask_sweep.py --scheduler ADDRESS``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from memograd.errors import MissingExtraError

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["local_cluster"]


@contextmanager
def local_cluster(n_workers: int = 2) -> Iterator[Client]:
    """A ``LocalCluster`` of ``n_workers`` single-threaded processes and its ``Client``; both
    are closed on leaving the ``with`` block."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise MissingExtraError(
            "local_cluster needs Dask's distributed: pip install 'memograd[distributed]'"
        ) from None
    with (
        LocalCluster(  # type: ignore[no-untyped-call]  # distributed's __init__ is untyped
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",  # reachable from this machine only
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        yield client
