"""Preparing tabular and label data: encoding, scaling, splitting, cross-validation folds, CSV loading.

Semantics follow Keras (``to_categorical``) and scikit-learn (scalers, ``train_test_split``,
``KFold``, ``StratifiedKFold``). Inputs may be NumPy arrays, lists or shendu Tensors; scalers give
back the kind they were given.

Example:
    >>> x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)
    >>> scaler = StandardScaler().fit(x_train)
    >>> x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
"""

import csv
import math
import numbers
import os

import numpy as np

from .io.files import brief
from .tensor import Tensor

__all__ = [
    "to_categorical", "one_hot", "minmax_scale", "MinMaxScaler", "StandardScaler", "NotFittedError",
    "train_test_split", "KFold", "StratifiedKFold", "load_csv",
]  # fmt: skip


class NotFittedError(ValueError, AttributeError):
    """A scaler was used before ``fit``."""


def _array(x, name="X"):
    """(NumPy array, whether the input was a Tensor)."""
    if isinstance(x, Tensor):
        return x._array, True
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{name} must be array-like (a list, NumPy array or shendu Tensor); got {type(x).__name__}"
        ) from error
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric; got an array of dtype {array.dtype}")
    return array, False


def _float(array):
    """Floating inputs keep their dtype; others become float32 (shendu's default)."""
    return array if array.dtype.kind == "f" else array.astype(np.float32)


def _like(array, was_tensor):
    return Tensor(array) if was_tensor else array


# ----- labels ------------------------------------------------------------------------------------
def to_categorical(x, num_classes=None, dtype="float32"):
    """Class indices -> one-hot rows (Keras semantics).

    A trailing dimension of size 1 is dropped first, so ``(N, 1)`` labels give ``(N, num_classes)``.

    Args:
        x: integer class indices, any shape.
        num_classes: number of classes. Defaults to ``max(x) + 1``.
        dtype: of the result. Defaults to float32.

    Example:
        >>> to_categorical([0, 2, 1])
        array([[1., 0., 0.],
               [0., 0., 1.],
               [0., 1., 0.]], dtype=float32)
    """
    labels, _ = _array(x, "x")
    if labels.size and (labels.dtype.kind == "f" and not np.all(np.mod(labels, 1) == 0)):
        raise ValueError("to_categorical expects integer class indices; got non-integer values")
    labels = labels.astype(np.int64)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    labels = labels.reshape(-1)
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 0:
        raise ValueError(f"num_classes must be a non-negative integer; got num_classes={num_classes!r}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)][0]
        raise ValueError(
            f"to_categorical: class index {bad} is out of range for num_classes={num_classes} (expected 0..{num_classes - 1})"
        )
    out = np.zeros((labels.size, num_classes), dtype=dtype)
    out[np.arange(labels.size), labels] = 1
    return out.reshape(shape + (num_classes,))


one_hot = to_categorical


# ----- scaling -----------------------------------------------------------------------------------
def _check_2d(array, who):
    if array.ndim == 1:
        raise ValueError(
            f"{who} expects a 2-D array (samples, features); got a 1-D array. Reshape with x.reshape(-1, 1)"
        )
    if array.ndim != 2:
        raise ValueError(f"{who} expects a 2-D array (samples, features); got shape {array.shape}")


class _Scaler:
    """Shared ``fit_transform``, fitted checks and plain-data state."""

    _state_fields: tuple[str, ...] = ()

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X)

    def _check_fitted(self):
        if getattr(self, self._state_fields[0], None) is None:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with the training data before using it."
            )

    def _check_features(self, array):
        _check_2d(array, type(self).__name__)
        if array.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {array.shape[1]} features, but {type(self).__name__} is expecting {self.n_features_in_} "
                "features as input."
            )

    def state_dict(self):
        """The fitted statistics as plain data (lists of floats), e.g. to save as JSON."""
        self._check_fitted()
        state = {name: getattr(self, name) for name in self._state_fields}
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in state.items()}

    def load_state_dict(self, state):
        """Restore statistics saved by :meth:`state_dict`; returns self."""
        missing = [name for name in self._state_fields if name not in state]
        if missing:
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing {missing}")
        for name in self._state_fields:
            value = state[name]
            setattr(self, name, np.asarray(value, dtype=np.float64) if isinstance(value, (list, tuple)) else value)
        return self


def minmax_scale(X, feature_range=(0, 1), axis=0):
    """Scale values linearly so the minimum maps to ``feature_range[0]`` and the maximum to ``feature_range[1]``.

    Args:
        X: the data.
        feature_range: target ``(min, max)``. Defaults to ``(0, 1)``.
        axis: 0 scales each column (feature) separately, 1 each row; None uses the whole array's
            minimum and maximum (e.g. images). A constant slice maps to ``feature_range[0]``.

    Example:
        >>> minmax_scale(np.array([0, 51, 255], np.uint8), axis=None)
        array([0. , 0.2, 1. ], dtype=float32)
    """
    array, was_tensor = _array(X)
    low, high = _check_range(feature_range)
    array = _float(array)
    lo, hi = array.min(axis=axis, keepdims=True), array.max(axis=axis, keepdims=True)
    span = hi - lo
    span = np.where(span == 0, 1, span)
    return _like(((array - lo) / span * (high - low) + low).astype(array.dtype, copy=False), was_tensor)


def _check_range(feature_range):
    low, high = feature_range
    if not low < high:
        raise ValueError(f"Minimum of desired feature range must be smaller than maximum. Got {tuple(feature_range)}.")
    return low, high


class MinMaxScaler(_Scaler):
    """Scale each feature to ``feature_range`` using the minimum and maximum seen in ``fit``.

    ``x' = (x - data_min_) * scale_ + feature_range[0]`` with ``scale_ = (max - min of range) / data_range_``.

    Args:
        feature_range: target ``(min, max)``. Defaults to ``(0, 1)``.
        clip: clip transformed values to ``feature_range`` (for test data beyond the training range).

    Attributes:
        data_min_: the features' minima.
        data_max_: their maxima.
        data_range_: max − min.
        scale_: the factor applied to each feature.
        min_: the offset added after scaling.
        n_features_in_: the number of features.
    """

    _state_fields = ("data_min_", "data_max_", "feature_range", "n_features_in_")

    def __init__(self, feature_range=(0, 1), clip=False):
        _check_range(feature_range)
        self.feature_range = tuple(feature_range)
        self.clip = clip
        self.data_min_ = self.data_max_ = None

    def fit(self, X, y=None):
        array, _ = _array(X)
        _check_2d(array, "MinMaxScaler")
        self.data_min_ = array.min(axis=0).astype(np.float64)
        self.data_max_ = array.max(axis=0).astype(np.float64)
        self.n_features_in_ = array.shape[1]
        return self

    @property
    def data_range_(self):
        return self.data_max_ - self.data_min_

    @property
    def scale_(self):
        span = np.where(self.data_range_ == 0, 1, self.data_range_)
        return (self.feature_range[1] - self.feature_range[0]) / span

    @property
    def min_(self):
        return self.feature_range[0] - self.data_min_ * self.scale_

    def transform(self, X):
        self._check_fitted()
        array, was_tensor = _array(X)
        self._check_features(array)
        array = _float(array)
        out = array * self.scale_.astype(array.dtype) + self.min_.astype(array.dtype)
        if self.clip:
            out = np.clip(out, *self.feature_range)
        return _like(out.astype(array.dtype, copy=False), was_tensor)

    def inverse_transform(self, X):
        self._check_fitted()
        array, was_tensor = _array(X)
        self._check_features(array)
        array = _float(array)
        return _like(((array - self.min_) / self.scale_).astype(array.dtype), was_tensor)

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.feature_range = tuple(self.feature_range)
        return self


class StandardScaler(_Scaler):
    """Standardise each feature to mean 0 and standard deviation 1, with statistics from the training data.

    ``x' = (x - mean_) / scale_``, ``scale_`` the population standard deviation (a constant feature
    gets scale 1). Fit on the training set, then transform training and test sets alike.

    Args:
        with_mean: subtract the mean. Defaults to True.
        with_std: divide by the standard deviation. Defaults to True.

    Attributes:
        mean_: the features' means.
        var_: their (population) variances.
        scale_: their standard deviations (1 for a constant feature).
        n_features_in_: the number of features.
        n_samples_seen_: the number of training samples.

    Example:
        >>> scaler = StandardScaler().fit(x_train)
        >>> x_test = scaler.transform(x_test)
        >>> state = scaler.state_dict()  # plain lists; StandardScaler().load_state_dict(state) restores it
    """

    _state_fields = ("mean_", "var_", "scale_", "n_features_in_", "n_samples_seen_")

    def __init__(self, with_mean=True, with_std=True):
        self.with_mean = with_mean
        self.with_std = with_std
        self.mean_ = self.var_ = self.scale_ = None

    def fit(self, X, y=None):
        array, _ = _array(X)
        _check_2d(array, "StandardScaler")
        if array.shape[0] == 0:
            raise ValueError("StandardScaler.fit needs at least one sample")
        work = array.astype(np.float64)
        self.mean_ = work.mean(axis=0)
        self.var_ = work.var(axis=0)
        self.scale_ = np.where(self.var_ == 0, 1.0, np.sqrt(self.var_))
        self.n_features_in_ = array.shape[1]
        self.n_samples_seen_ = array.shape[0]
        return self

    def transform(self, X):
        self._check_fitted()
        array, was_tensor = _array(X)
        self._check_features(array)
        array = _float(array)
        out = array
        if self.with_mean:
            out = out - self.mean_.astype(array.dtype)
        if self.with_std:
            out = out / self.scale_.astype(array.dtype)
        return _like(np.array(out, dtype=array.dtype, copy=out is array), was_tensor)

    def inverse_transform(self, X):
        self._check_fitted()
        array, was_tensor = _array(X)
        self._check_features(array)
        array = _float(array)
        out = array * self.scale_.astype(array.dtype) if self.with_std else array.copy()
        if self.with_mean:
            out = out + self.mean_.astype(array.dtype)
        return _like(out.astype(array.dtype, copy=False), was_tensor)


# ----- splitting ---------------------------------------------------------------------------------
def _rng(random_state):
    if random_state is None:
        from .random import resolve_generator

        return resolve_generator()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise TypeError(
            f"random_state must be None, an int seed or a numpy.random.Generator; got {type(random_state).__name__}"
        )
    return np.random.default_rng(int(random_state))


def _num_samples(x):
    if isinstance(x, Tensor) or hasattr(x, "shape"):
        if len(x.shape) == 0:
            raise TypeError("Expected an array of samples; got a 0-d value")
        return int(x.shape[0])
    if hasattr(x, "__len__") and not isinstance(x, (str, bytes)):
        return len(x)
    raise TypeError(f"Expected an array of samples (list, NumPy array or Tensor); got {type(x).__name__}")


def _take(x, indices):
    """Rows ``indices`` of ``x``, keeping its kind (Tensor, NumPy array or list)."""
    if isinstance(x, Tensor):
        return Tensor(x._array[indices])
    if isinstance(x, np.ndarray):
        return x[indices]
    return [x[int(i)] for i in indices]


def _resolve_size(size, n, name):
    if size is None:
        return None
    if isinstance(size, numbers.Real) and not isinstance(size, (bool, numbers.Integral)):
        if not 0 < size < 1:
            raise ValueError(f"{name}={size} should be a float in (0, 1) or an int in [1, {n - 1}]")
        return size
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        if not 0 < size < n:
            raise ValueError(f"{name}={size} should be a float in (0, 1) or an int in [1, {n - 1}] for {n} samples")
        return int(size)
    raise ValueError(f"{name} should be a float, an int or None; got {name}={size!r}")


def _split_sizes(n, test_size, train_size):
    test = _resolve_size(test_size, n, "test_size")
    train = _resolve_size(train_size, n, "train_size")
    if test is None and train is None:
        test = 0.25
    n_test = None if test is None else (math.ceil(test * n) if isinstance(test, float) else test)
    n_train = None if train is None else (math.floor(train * n) if isinstance(train, float) else train)
    if n_train is None:
        n_train = n - n_test
    elif n_test is None:
        n_test = n - n_train
    if n_train + n_test > n:
        raise ValueError(f"train_size ({n_train}) + test_size ({n_test}) samples exceed the {n} samples available")
    if n_train == 0 or n_test == 0:
        raise ValueError(
            f"With n_samples={n}, test_size={test_size} and train_size={train_size}, one of the sets would be empty"
        )
    return n_train, n_test


def _allocate(counts, total, rng):
    """Split ``total`` among classes in proportion to ``counts`` (largest remainder, ties broken at random)."""
    exact = counts * total / counts.sum()
    share = np.floor(exact).astype(np.int64)
    remainder = total - share.sum()
    if remainder:
        order = np.lexsort((rng.random(len(counts)), -(exact - share)))
        share[order[:remainder]] += 1
    return share


def _stratified_indices(labels, n_train, n_test, rng):
    classes, encoded, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if counts.min() < 2:
        raise ValueError(
            f"The least populated class in y has only {counts.min()} member, which is too few. "
            "The minimum number of groups for any class cannot be less than 2."
        )
    if n_test < len(classes):
        raise ValueError(
            f"The test_size = {n_test} should be greater or equal to the number of classes = {len(classes)}"
        )
    if n_train < len(classes):
        raise ValueError(
            f"The train_size = {n_train} should be greater or equal to the number of classes = {len(classes)}"
        )
    test_share = _allocate(counts, n_test, rng)
    train_share = (
        _allocate(counts - test_share, n_train, rng) if n_train < len(labels) - n_test else counts - test_share
    )
    train, test = [], []
    for k in range(len(classes)):
        members = rng.permutation(np.flatnonzero(encoded == k))
        test.append(members[: test_share[k]])
        train.append(members[test_share[k] : test_share[k] + train_share[k]])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def train_test_split(
    *arrays, test_size=None, train_size=None, random_state=None, shuffle=True, stratify=None, seed=None
):
    """Split arrays into random train and test subsets (scikit-learn's semantics).

    Args:
        *arrays: arrays, lists or tensors with the same number of samples.
        test_size: a fraction (rounded up) or a count. Defaults to 0.25 when ``train_size`` is also None.
        train_size: a fraction (rounded down) or a count. Defaults to the complement of ``test_size``.
        random_state: an int seed (or ``numpy.random.Generator``); ``seed`` is an alias. Defaults to
            shendu's global generator.
        shuffle: shuffle before splitting; without it the test set is the tail. Defaults to True.
        stratify: class labels; each class keeps its share in both subsets.

    Returns:
        ``[a_train, a_test, b_train, b_test, ...]``, each of its input's kind.

    Example:
        >>> x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)
    """
    if not arrays:
        raise ValueError("At least one array required as input")
    if seed is not None and random_state is not None:
        raise ValueError("give random_state or seed, not both")
    random_state = seed if random_state is None else random_state
    lengths = [_num_samples(a) for a in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: {lengths}")
    n = lengths[0]
    n_train, n_test = _split_sizes(n, test_size, train_size)
    if not shuffle:
        if stratify is not None:
            raise ValueError("Stratified train/test split is not implemented for shuffle=False")
        train, test = np.arange(n_train), np.arange(n_train, n_train + n_test)
    elif stratify is not None:
        labels, _ = _array(stratify, "stratify")
        if len(labels) != n:
            raise ValueError(f"stratify has {len(labels)} labels for {n} samples")
        train, test = _stratified_indices(labels, n_train, n_test, _rng(random_state))
    else:
        permutation = _rng(random_state).permutation(n)
        test, train = permutation[:n_test], permutation[n_test : n_test + n_train]
    return [part for a in arrays for part in (_take(a, train), _take(a, test))]


class KFold:
    """K-fold cross-validation: each of ``n_splits`` consecutive folds is the test set once.

    The first ``n % n_splits`` folds have one sample more. Train indices are sorted.

    Args:
        n_splits: number of folds, at least 2. Defaults to 5.
        shuffle: shuffle the samples before cutting folds. Defaults to False.
        random_state: seed for the shuffle (only with ``shuffle=True``).

    Example:
        >>> for train_idx, test_idx in KFold(3, shuffle=True, random_state=0).split(x):
        ...     model.fit(x[train_idx], y[train_idx])
    """

    def __init__(self, n_splits=5, shuffle=False, random_state=None):
        if isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral):
            raise ValueError(
                f"The number of folds must be of Integral type. {n_splits!r} of type {type(n_splits).__name__} was passed."
            )
        if n_splits <= 1:
            raise ValueError(
                f"k-fold cross-validation requires at least one train/test split by setting n_splits=2 or more, got n_splits={n_splits}."
            )
        if not isinstance(shuffle, bool):
            raise TypeError(f"shuffle must be True or False; got {shuffle!r}")
        if not shuffle and random_state is not None:
            raise ValueError(
                "Setting a random_state has no effect since shuffle is False. You should leave random_state to its "
                "default (None), or set shuffle=True."
            )
        self.n_splits = int(n_splits)
        self.shuffle = shuffle
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.n_splits

    def _check_samples(self, n):
        if self.n_splits > n:
            raise ValueError(
                f"Cannot have number of splits n_splits={self.n_splits} greater than the number of samples: n_samples={n}."
            )

    def _test_folds(self, X, y):
        n = _num_samples(X)
        self._check_samples(n)
        order = _rng(self.random_state).permutation(n) if self.shuffle else np.arange(n)
        sizes = np.full(self.n_splits, n // self.n_splits, dtype=np.int64)
        sizes[: n % self.n_splits] += 1
        folds = np.empty(n, dtype=np.int64)
        folds[order] = np.repeat(np.arange(self.n_splits), sizes)
        return folds, order

    def split(self, X, y=None, groups=None):
        """Yield ``(train_indices, test_indices)`` int64 arrays, one pair per fold."""
        folds, order = self._test_folds(X, y)
        for k in range(self.n_splits):
            in_test = folds == k
            yield np.flatnonzero(~in_test), order[in_test[order]]


class StratifiedKFold(KFold):
    """K-fold cross-validation keeping each class's share in every fold (scikit-learn's allocation).

    Classes are dealt out round-robin over the folds, so the folds' class counts differ by at most
    one; with ``shuffle=True`` the members of each class are assigned to folds at random.

    Example:
        >>> for train_idx, test_idx in StratifiedKFold(5, shuffle=True, random_state=0).split(x, y): ...
    """

    def _test_folds(self, X, y):
        if y is None:
            raise ValueError("StratifiedKFold.split needs the class labels y")
        labels, _ = _array(y, "y")
        n = _num_samples(X)
        if labels.ndim != 1 or len(labels) != n:
            raise ValueError(f"y should be 1-D with one label per sample ({n}); got shape {labels.shape}")
        self._check_samples(n)
        # Encode classes in order of first appearance, as scikit-learn.
        _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
        _, by_appearance = np.unique(first, return_inverse=True)
        encoded = by_appearance[inverse]
        n_classes = len(first)
        counts = np.bincount(encoded)
        if np.all(self.n_splits > counts):
            raise ValueError(f"n_splits={self.n_splits} cannot be greater than the number of members in each class.")
        allocation = np.asarray(
            [np.bincount(np.sort(encoded)[i :: self.n_splits], minlength=n_classes) for i in range(self.n_splits)]
        )
        rng = _rng(self.random_state) if self.shuffle else None
        folds = np.empty(n, dtype=np.int64)
        for k in range(n_classes):
            for_class = np.repeat(np.arange(self.n_splits), allocation[:, k])
            if rng is not None:
                rng.shuffle(for_class)
            folds[encoded == k] = for_class
        return folds, np.arange(n)


# ----- CSV -----------------------------------------------------------------------------------------
def load_csv(path, target=None, header=True, delimiter=",", dtype=np.float32):
    """Load a numeric CSV table as ``(X, y)``.

    Args:
        path: the file.
        target: the label column, by header name or index (negative counts from the end); None for
            no labels (``y`` is None).
        header: the first line holds column names. Defaults to True.
        delimiter: the field separator. Defaults to ``','``.
        dtype: of ``X``. Defaults to float32.

    Returns:
        ``(X, y)``: ``X`` of shape (rows, features); ``y`` int64 if every label is a whole number,
        else float32.

    Raises:
        ValueError: a cell is not a number, or a row has the wrong number of fields; the message
            names the line, the column and the cell.

    Example:
        >>> X, y = load_csv("diabetes.csv", target="progression")
    """
    path = os.fspath(path)
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f, delimiter=delimiter)
        try:
            rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]  # skip blank lines
        except csv.Error as error:  # a field over csv.field_size_limit() (128 KiB), a NUL byte, ...
            raise ValueError(f"{path}, line {reader.line_num}: {error}") from None
    if not rows:
        raise ValueError(f"{path} is empty")
    if header:
        names = [name.strip() for name in rows[0][1]]
        rows = rows[1:]
    else:
        names = [f"column {i}" for i in range(len(rows[0][1]))]
    width = len(names)
    target_column = _target_column(target, names, header, path)
    values = np.empty((len(rows), width), dtype=np.float64)
    for r, (line, row) in enumerate(rows):
        if len(row) != width:
            raise ValueError(
                f"{path}, line {line}: {len(row)} fields; expected {width} (from the {'header' if header else 'first row'})"
            )
        for c, cell in enumerate(row):
            try:
                values[r, c] = float(cell)
            except ValueError:
                raise ValueError(
                    f"{path}, line {line}, column {c + 1} ({brief(names[c])}): cannot read {brief(cell)} as a number"
                ) from None
    if target_column is None:
        return values.astype(dtype), None
    y = values[:, target_column]
    X = np.delete(values, target_column, axis=1).astype(dtype)
    y = y.astype(np.int64) if np.all(np.isfinite(y)) and np.all(y == np.round(y)) else y.astype(np.float32)
    return X, y


def _target_column(target, names, header, path):
    if target is None:
        return None
    if isinstance(target, str):
        if not header:
            raise ValueError(f"load_csv: target={target!r} is a column name, but header=False; give its index")
        if target not in names:
            raise ValueError(f"load_csv: {path} has no column {target!r}; columns are {names}")
        return names.index(target)
    if isinstance(target, numbers.Integral) and not isinstance(target, bool):
        if not -len(names) <= target < len(names):
            raise ValueError(f"load_csv: target={target} is out of range for {len(names)} columns")
        return int(target) % len(names)
    raise TypeError(f"load_csv: target should be a column name, an index or None; got {type(target).__name__}")
