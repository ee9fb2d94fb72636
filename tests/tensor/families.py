"""The rows each op family registers into THE table, and the test file that covers them (the
coverage check of test_ops.py counts these as covered; test_op_families checks the list)."""

FAMILY_ROWS = {
    "ops_math": {  # tests/tensor/test_ops_math.py
        "sin",
        "cos",
        "tan",
        "arcsin",
        "arccos",
        "arctan",
        "sinh",
        "cosh",
        "arcsinh",
        "arccosh",
        "arctanh",
        "log1p",
        "expm1",
        "log2",
        "log10",
        "exp2",
        "erf",
        "sign",
        "floor",
        "ceil",
        "round",
        "deg2rad",
        "rad2deg",
        "nan_to_num",
        "sinc",
        "logaddexp",
        "arctan2",
        "hypot",
        "remainder",
        "fmax",
        "fmin",
    },
    "ops_index": {"take", "index_add", "gather", "scatter_add"},  # test_ops_index_shape.py
    "ops_reduce": {"prod", "cumsum", "cumprod", "norm2"},  # test_ops_reduce.py
    "ops_linalg": {"einsum"},  # test_ops_linalg.py
    "nnf": {"softplus", "binary_cross_entropy"},  # test_nnf.py
    "conv": {"im2col", "col2im"},  # test_nnf.py
}
ALL_FAMILY_ROWS = set().union(*FAMILY_ROWS.values())
