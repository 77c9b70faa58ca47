"""Label encoding, scaling, splitting, cross-validation folds and CSV loading."""

import json

import numpy as np
import pytest

import shendu
from shendu.preprocessing import (
    KFold, MinMaxScaler, NotFittedError, StandardScaler, StratifiedKFold, load_csv, minmax_scale, one_hot,
    to_categorical, train_test_split,
)  # fmt: skip


def test_to_categorical_keras_semantics():
    out = to_categorical([0, 2, 1])
    np.testing.assert_array_equal(out, [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert out.dtype == np.float32
    assert to_categorical(np.array([[1], [0]]), num_classes=4).shape == (2, 4)  # trailing 1 dropped
    assert to_categorical(np.zeros((2, 3), int), 5).shape == (2, 3, 5)
    assert one_hot is to_categorical
    with pytest.raises(ValueError, match="class index 3 is out of range for num_classes=3"):
        to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError, match="integer class indices"):
        to_categorical([0.5])
    with pytest.raises(TypeError, match="must be numeric"):
        to_categorical(["cat"])


def test_minmax_scale_per_column_or_whole_array():
    x = np.array([[1.0, 10.0], [3.0, 10.0], [2.0, 10.0]])
    np.testing.assert_allclose(minmax_scale(x), [[0, 0], [1, 0], [0.5, 0]])  # constant column -> range minimum
    out = minmax_scale(np.array([0, 51, 255], np.uint8), axis=None)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [0, 0.2, 1])
    t = minmax_scale(shendu.tensor([[0.0], [4.0]]), feature_range=(-1, 1))
    assert isinstance(t, shendu.Tensor)
    np.testing.assert_allclose(t.numpy(), [[-1], [1]])


def test_minmax_scaler_fits_on_train_and_applies_to_test():
    scaler = MinMaxScaler().fit(np.array([[0.0, 5.0], [10.0, 15.0]]))
    np.testing.assert_allclose(scaler.transform(np.array([[5.0, 20.0]])), [[0.5, 1.5]])
    np.testing.assert_allclose(MinMaxScaler(clip=True).fit([[0.0], [1.0]]).transform(np.array([[2.0]])), [[1.0]])
    back = scaler.inverse_transform(scaler.transform(np.array([[3.0, 7.0]])))
    np.testing.assert_allclose(back, [[3.0, 7.0]])
    restored = MinMaxScaler().load_state_dict(json.loads(json.dumps(scaler.state_dict())))
    np.testing.assert_allclose(restored.transform(np.array([[5.0, 20.0]])), [[0.5, 1.5]])


def test_standard_scaler_uses_training_statistics_and_round_trips_its_state():
    rng = np.random.default_rng(0)
    train = rng.normal(3.0, 2.0, (200, 3)).astype(np.float32)
    test = rng.normal(3.0, 2.0, (50, 3)).astype(np.float32)
    scaler = StandardScaler().fit(train)
    z = scaler.transform(train)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-5)
    expected = (test - train.mean(0, dtype=np.float64)) / train.std(0, dtype=np.float64)
    np.testing.assert_allclose(scaler.transform(test), expected, rtol=1e-5, atol=1e-6)
    state = json.loads(json.dumps(scaler.state_dict()))
    np.testing.assert_array_equal(StandardScaler().load_state_dict(state).transform(test), scaler.transform(test))
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(test)), test, rtol=1e-5)


def test_scalers_report_misuse():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        StandardScaler().transform(np.zeros((2, 2)))
    scaler = StandardScaler().fit(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="X has 5 features, but StandardScaler is expecting 4"):
        scaler.transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="expects a 2-D array.*reshape"):
        StandardScaler().fit(np.zeros(3))
    with pytest.raises(ValueError, match="feature range must be smaller"):
        MinMaxScaler(feature_range=(1, 0))


def test_train_test_split_sizes_pairs_and_seed():
    x, y = np.arange(20).reshape(10, 2), np.arange(10)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0)
    assert len(x_test) == 3 and len(x_train) == 7  # test rounds up, as scikit-learn
    np.testing.assert_array_equal(x_train[:, 0] // 2, y_train)
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(10))
    again = train_test_split(x, y, test_size=0.25, seed=0)
    np.testing.assert_array_equal(again[3], y_test)
    head = train_test_split(list("abcde"), shuffle=False, test_size=2)
    assert head == [["a", "b", "c"], ["d", "e"]]
    t_train, _ = train_test_split(shendu.arange(8), train_size=0.5, random_state=1)
    assert isinstance(t_train, shendu.Tensor) and len(t_train) == 4


def test_stratified_split_keeps_class_shares():
    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    _, _, y_train, y_test = train_test_split(np.zeros((100, 1)), y, test_size=0.2, stratify=y, random_state=0)
    assert np.bincount(y_test).tolist() == [12, 6, 2] and np.bincount(y_train).tolist() == [48, 24, 8]
    with pytest.raises(ValueError, match="least populated class in y has only 1 member"):
        train_test_split(np.zeros(5), stratify=[0, 0, 1, 1, 2])
    with pytest.raises(ValueError, match="not implemented for shuffle=False"):
        train_test_split(np.zeros(4), stratify=[0, 0, 1, 1], shuffle=False)
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[3, 2\]"):
        train_test_split(np.zeros(3), np.zeros(2))


def test_kfold_matches_scikit_learn_folds():
    folds = list(KFold(3).split(np.zeros(7)))
    assert [test.tolist() for _, test in folds] == [[0, 1, 2], [3, 4], [5, 6]]  # first n % k folds are larger
    assert folds[1][0].tolist() == [0, 1, 2, 5, 6]
    shuffled = list(KFold(3, shuffle=True, random_state=0).split(np.zeros(7)))
    assert sorted(np.concatenate([test for _, test in shuffled]).tolist()) == list(range(7))
    assert [test.tolist() for _, test in shuffled] == [
        t.tolist() for _, t in KFold(3, shuffle=True, random_state=0).split(range(7))
    ]
    with pytest.raises(ValueError, match="n_splits=2 or more"):
        KFold(1)
    with pytest.raises(ValueError, match="random_state has no effect since shuffle is False"):
        KFold(3, random_state=0)
    with pytest.raises(ValueError, match="n_splits=3 greater than the number of samples: n_samples=2"):
        list(KFold(3).split([1, 2]))


def test_stratified_kfold_balances_every_fold():
    y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2])
    folds = list(StratifiedKFold(3).split(np.zeros(15), y))
    for train, test in folds:
        assert np.bincount(y[test], minlength=3).tolist() == [2, 2, 1]
        assert sorted(np.concatenate([train, test]).tolist()) == list(range(15))
    assert folds[0][1].tolist() == [0, 1, 6, 7, 12]  # scikit-learn's block assignment without shuffle
    shuffled = list(StratifiedKFold(3, shuffle=True, random_state=0).split(np.zeros(15), y))
    assert all(np.bincount(y[test], minlength=3).tolist() == [2, 2, 1] for _, test in shuffled)
    with pytest.raises(ValueError, match="needs the class labels y"):
        list(StratifiedKFold(3).split(np.zeros(15)))


def test_load_csv_by_target_name_or_index(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("age,score,label\n31,1.5,1\n\n40,2.5,0\n")
    X, y = load_csv(path, target="label")
    assert X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(X, [[31, 1.5], [40, 2.5]])
    assert y.tolist() == [1, 0]
    X2, y2 = load_csv(path, target=1)
    assert y2.dtype == np.float32 and X2.tolist() == [[31, 1], [40, 0]]
    (tmp_path / "plain.tsv").write_text("1\t2\n3\t4\n")
    X3, y3 = load_csv(tmp_path / "plain.tsv", header=False, delimiter="\t")
    assert y3 is None and X3.tolist() == [[1, 2], [3, 4]]


def test_load_csv_errors_name_line_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("age,score,label\n31,1.5,1\n40,abc,0\n")
    with pytest.raises(ValueError, match=r"bad.csv, line 3, column 2 \('score'\): cannot read 'abc' as a number"):
        load_csv(path, target="label")
    path.write_text("a,b\n1,2\n3\n")
    with pytest.raises(ValueError, match="line 3: 1 fields; expected 2"):
        load_csv(path)
    with pytest.raises(ValueError, match=r"has no column 'c'; columns are \['a', 'b'\]"):
        load_csv(path, target="c")
    with pytest.raises(TypeError, match="target should be a column name, an index or None"):
        load_csv(path, target=1.5)
