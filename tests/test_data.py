import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memograd.data import (
    DATASETS,
    Standardizer,
    batches,
    load_csv,
    load_dataset,
    load_features_csv,
    split_dataset,
    split_indices,
)
from memograd.errors import DataError, MemogradValueError


@pytest.mark.parametrize("name", DATASETS)
def test_every_builtin_dataset_loads_with_consistent_shapes(name):
    ds = load_dataset(name)
    assert ds.X.ndim == 2 and ds.X.shape[0] == ds.y.shape[0] > 0
    assert np.isfinite(ds.X).all()
    if ds.is_classification:
        assert ds.y.dtype == np.int64
        assert set(np.unique(ds.y)) == set(range(ds.n_classes))
    else:
        assert ds.y.dtype == np.float64 and ds.classes == ()


def test_generated_datasets_are_seeded():
    a, b, c = load_dataset("moons", seed=1), load_dataset("moons", seed=1), load_dataset("moons")
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)


def test_generated_geometry():
    moons = load_dataset("moons", noise=0.0)
    upper = moons.X[moons.y == 0]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)  # points of the unit circle
    circles = load_dataset("circles", noise=0.0)
    r = np.hypot(circles.X[:, 0], circles.X[:, 1])
    assert np.allclose(r[circles.y == 0], 1.0) and np.allclose(r[circles.y == 1], 0.5)
    xor = load_dataset("xor")
    assert np.array_equal(xor.y, (xor.X[:, 0] * xor.X[:, 1] > 0).astype(int))
    spirals = load_dataset("spirals", n_samples=300)
    assert np.bincount(spirals.y).tolist() == [100, 100, 100]
    toy = load_dataset("notes")
    assert (
        toy.name == "toy" and toy.n_features == 2 and toy.feature_names == ("cgpa", "profile_score")
    )


def test_unknown_dataset_and_bad_options():
    with pytest.raises(MemogradValueError, match="unknown dataset 'mnistx'.*digits"):
        load_dataset("mnistx")
    with pytest.raises(MemogradValueError, match="generated datasets only"):
        load_dataset("iris", n_samples=10)
    with pytest.raises(MemogradValueError, match="noise must be >= 0"):
        load_dataset("moons", noise=-1)


# --------------------------------------------------------------------------- splits


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(1, 40), min_size=2, max_size=5),
    val=st.sampled_from([0.0, 0.1, 0.2]),
    test=st.sampled_from([0.1, 0.25]),
    seed=st.integers(0, 10),
)
def test_stratified_split_is_a_partition_that_keeps_class_balance(counts, val, test, seed):
    y = np.concatenate([np.full(c, k) for k, c in enumerate(counts)])
    y = y[np.random.default_rng(seed).permutation(len(y))]
    tr, va, te = split_indices(y, val=val, test=test, seed=seed)
    joined = np.concatenate([tr, va, te])
    assert sorted(joined.tolist()) == list(range(len(y)))  # disjoint and covering
    for k, c in enumerate(counts):
        n_test = int(np.sum(y[te] == k))
        n_val = int(np.sum(y[va] == k))
        assert abs(n_test - test * c) <= 1 and abs(n_val - val * c) <= 1
        if c >= 3:
            assert np.sum(y[tr] == k) >= 1
    again = split_indices(y, val=val, test=test, seed=seed)
    assert all(np.array_equal(a, b) for a, b in zip((tr, va, te), again))


def test_split_dataset_stratifies_classes_and_not_regression():
    s = split_dataset(load_dataset("iris"), val=0.2, test=0.2, seed=3)
    assert np.bincount(s.test.y).tolist() == [10, 10, 10]
    assert np.bincount(s.val.y).tolist() == [10, 10, 10]
    r = split_dataset(load_dataset("diabetes"), val=0.1, test=0.2)
    assert len(r.train.y) + len(r.val.y) + len(r.test.y) == 442
    with pytest.raises(MemogradValueError, match="val \\+ test"):
        split_indices(np.arange(10), val=0.5, test=0.5)


def test_standardizer_is_fitted_on_training_data_only():
    rng = np.random.default_rng(0)
    train = rng.normal(5.0, 3.0, (200, 3))
    test = rng.normal(-5.0, 1.0, (50, 3))
    sc = Standardizer.fit(train)
    z = sc.transform(train)
    assert np.allclose(z.mean(0), 0) and np.allclose(z.std(0), 1)
    assert np.allclose(sc.transform(test), (test - train.mean(0)) / train.std(0))
    assert np.allclose(sc.inverse(sc.transform(test)), test)
    const = Standardizer.fit(np.ones((5, 2)))
    assert np.array_equal(const.transform(np.ones((2, 2))), np.zeros((2, 2)))
    back = Standardizer.from_dict(sc.to_dict())
    assert np.array_equal(back.mean, sc.mean) and np.array_equal(back.scale, sc.scale)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 70), bs=st.integers(1, 16), seed=st.integers(0, 5), drop=st.booleans())
def test_batches_cover_each_sample_once_and_replay_from_rng_state(n, bs, seed, drop):
    X = np.arange(n, dtype=float)[:, None]
    y = np.arange(n)
    rng = np.random.default_rng(seed)
    state = rng.bit_generator.state
    got = list(batches(X, y, batch_size=bs, rng=rng, drop_last=drop))
    seen = np.concatenate([yb for _, yb in got]) if got else np.array([], int)
    assert all(np.array_equal(xb[:, 0], yb) for xb, yb in got)
    assert len(set(seen.tolist())) == len(seen)
    assert len(seen) == (n - n % bs if drop else n)
    assert all(len(yb) == bs for _, yb in got[:-1])
    rng2 = np.random.default_rng()
    rng2.bit_generator.state = state
    again = [yb for _, yb in batches(X, y, batch_size=bs, rng=rng2, drop_last=drop)]
    assert all(np.array_equal(a, b) for a, (_, b) in zip(again, got))


def test_batches_in_order_without_shuffle():
    got = [
        yb.tolist()
        for _, yb in batches(np.zeros((5, 1)), np.arange(5), batch_size=2, shuffle=False)
    ]
    assert got == [[0, 1], [2, 3], [4]]


# --------------------------------------------------------------------------- CSV


def write(tmp_path, text, name="data.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_csv_with_header_and_text_classes(tmp_path):
    p = write(tmp_path, "a,b,label\n1,2,cat\n3,4.5,dog\n\n5,6e1,cat\n")
    ds = load_csv(p, "label")
    assert ds.feature_names == ("a", "b") and ds.classes == ("cat", "dog")
    assert ds.X.tolist() == [[1, 2], [3, 4.5], [5, 60]]
    assert ds.y.tolist() == [0, 1, 0] and ds.is_classification


def test_csv_target_in_the_middle_regression_and_semicolons(tmp_path):
    p = write(tmp_path, "x1;price;x2\n1;10.5;2\n2;11.25;3\n3;12.0;4\n")
    ds = load_csv(p, "price")
    assert ds.task == "regression" and ds.y.tolist() == [10.5, 11.25, 12.0]
    assert ds.X.tolist() == [[1, 2], [2, 3], [3, 4]]
    assert load_csv(p, "price", task="classification").classes == ("10.5", "11.25", "12.0")


def test_csv_without_header_uses_column_numbers(tmp_path):
    p = write(tmp_path, "1,2,0\n3,4,1\n5,6,1\n")
    ds = load_csv(p)  # last column by default
    assert ds.feature_names == ("0", "1") and ds.classes == ("0", "1")
    assert load_csv(p, "0").y.tolist() == [0, 1, 2]  # integers with few values are classes
    assert load_csv(p, -1).X.shape == (3, 2)


def test_integer_target_with_many_values_is_a_regression(tmp_path):
    rows = "\n".join(f"{i},{i * 3}" for i in range(30))
    assert load_csv(write(tmp_path, "x,y\n" + rows), "y").task == "regression"


@pytest.mark.parametrize(
    "text, target, pattern",
    [
        ("a,b,y\n1,2,0\n3,,1\n", "y", r"line 3, column 2 \('b'\): missing value"),
        ("a,b,y\n1,2,0\n3,NA,1\n", "y", r"line 3, column 2 \('b'\): missing value"),
        ("a,b,y\n1,2,0\n3,x7,1\n", "y", r"line 3, column 2 \('b'\): non-numeric value 'x7'"),
        ("a,b,y\n1,2,0\n3,4\n", "y", r"line 3, column 3: ragged row with 2 fields, expected 3"),
        ("a,b,y\n1,2,0\n3,4,1,9\n", "y", r"line 3, column 4: ragged row with 4 fields"),
        ("", "y", r"empty file"),
        ("   \n\n", "y", r"empty file"),
        ("a,b,y\n", "y", r"header \(line 1\) has no data rows"),
        ("a,b,y\n1,2,0\n", "z", r"no target column 'z'.*columns are: a, b, y"),
        ("a,b,y\n1,2,k\n3,4,k\n", "y", r"column 3 \('y'\): the target has a single class 'k'"),
        ("a,b,y\n1,2,\n3,4,1\n", "y", r"line 2, column 3 \('y'\): missing target"),
        ("a,b,y\n1,2,inf\n3,4,1\n", "y", r"line 2, column 3 \('y'\): missing target|non-numeric"),
    ],
)
def test_bad_csv_names_file_line_and_column(tmp_path, text, target, pattern):
    p = write(tmp_path, text, "bad.csv")
    with pytest.raises(DataError, match=pattern) as info:
        load_csv(p, target, task="regression" if "inf" in text else None)
    assert "bad.csv" in str(info.value)


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_csv(tmp_path / "nope.csv", "y")


def test_features_csv_matches_columns_by_name(tmp_path):
    p = write(tmp_path, "b,y,a\n2,0,1\n4,1,3\n")
    X, extra = load_features_csv(p, ("a", "b"))
    assert X.tolist() == [[1, 2], [3, 4]] and extra == ["y"]
    with pytest.raises(DataError, match="missing feature column.*'c'"):
        load_features_csv(p, ("a", "c"))
    q = write(tmp_path, "1,2\n3,x\n", "q.csv")
    with pytest.raises(DataError, match=r"q.csv, line 2, column 2: non-numeric value 'x'"):
        load_features_csv(q, ("a", "b"))
    many = tuple(f"f{i}" for i in range(64))
    with pytest.raises(
        DataError, match=r"needs 64 features \(f0, f1, .*, f7, \.\.\. \(64 in all\)\)"
    ):
        load_features_csv(q, many)


@settings(max_examples=30, deadline=None)
@given(
    data=st.data(),
    rows=st.integers(2, 12),
    cols=st.integers(2, 5),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_csv_round_trip_property(tmp_path_factory, data, rows, cols, delimiter):
    values = data.draw(
        st.lists(
            st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=cols, max_size=cols),
            min_size=rows,
            max_size=rows,
        )
    )
    labels = data.draw(
        st.lists(st.sampled_from(["red", "green", "blue"]), min_size=rows, max_size=rows)
    )
    if len(set(labels)) < 2:
        labels[0], labels[-1] = "red", "blue"
    where = data.draw(st.integers(0, cols))
    names = [f"f{j}" for j in range(cols)]
    header = names[:where] + ["colour"] + names[where:]
    lines = [delimiter.join(header)]
    for vals, lab in zip(values, labels):
        cells = [repr(v) for v in vals]
        lines.append(delimiter.join(cells[:where] + [lab] + cells[where:]))
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_text("\n".join(lines) + "\n")
    ds = load_csv(path, "colour")
    assert ds.feature_names == tuple(names)
    assert np.array_equal(ds.X, np.array(values))
    assert [ds.classes[k] for k in ds.y] == labels
