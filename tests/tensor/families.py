"""The rows each op family registers into THE table, and the test file that covers them (the
coverage check of test_ops.py counts these as covered; test_ops_math checks the list)."""

from memograd.tensor import ops_math

FAMILY_ROWS = {
    "ops_math": set(ops_math.__all__),  # tests/tensor/test_ops_math.py: every name is a row
    "ops_index": {"take", "index_add", "gather", "scatter_add"},  # test_ops_index_shape.py
    "ops_reduce": {"prod", "cumsum", "cumprod", "norm2"},  # test_ops_reduce.py
    "ops_linalg": {"einsum"},  # test_ops_linalg.py
    "nnf": {"softplus", "binary_cross_entropy"},  # test_nnf.py
    "conv": {"im2col", "col2im"},  # test_nnf.py
}
ALL_FAMILY_ROWS = set().union(*FAMILY_ROWS.values())
