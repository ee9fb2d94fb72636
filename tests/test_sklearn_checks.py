"""scikit-learn's own conformance suite on memograd's estimators: every check, none skipped."""

import pytest

pytest.importorskip("sklearn", minversion="1.6", reason="memograd.sklearn needs scikit-learn>=1.6")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from memograd.sklearn import MLPClassifier, MLPRegressor  # noqa: E402


def _expected_failures(estimator) -> dict:
    return {}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(
    [MLPClassifier(random_state=0), MLPRegressor(random_state=0)],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_conformance(estimator, check):
    check(estimator)


def test_array_api_check_with_scipy_array_api():
    """The one check scikit-learn skips unless SCIPY_ARRAY_API=1 is set before SciPy is imported
    (which would change SciPy for the whole test session): run it in its own interpreter."""
    import os
    import subprocess
    import sys

    code = (
        "from sklearn.utils.estimator_checks import check_array_api_input as check\n"
        "from memograd.sklearn import MLPClassifier, MLPRegressor\n"
        "for est in (MLPClassifier(random_state=0), MLPRegressor(random_state=0)):\n"
        "    check(type(est).__name__, est, array_namespace='numpy',"
        " expect_only_array_outputs=False)\n"
        "print('ok')\n"
    )
    env = {**os.environ, "SCIPY_ARRAY_API": "1", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
