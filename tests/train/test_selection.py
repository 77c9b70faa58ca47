"""cross_validate and grid_search: per-fold results, mean ± std, ranking."""

import numpy as np
import pytest

import shendu.nn as nn
import shendu.optim as optim
from shendu.preprocessing import KFold
from shendu.train import cross_validate, grid_search


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=2.5, size=(3, 5))
    y = rng.integers(0, 3, 180)
    return (centres[y] + rng.normal(size=(180, 5))).astype(np.float32), y


def _build(hidden=16, activation="relu"):
    act = nn.ReLU() if activation == "relu" else nn.Tanh()
    return nn.Sequential(nn.Linear(5, hidden), act, nn.Linear(hidden, 3))


def test_cross_validate_reports_each_fold_and_mean_plus_minus_std(blobs):
    x, y = blobs
    result = cross_validate(_build, x, y, cv=3, epochs=5, learning_rate=0.01, metrics=["accuracy", "f1"])
    assert len(result.folds) == 3
    assert set(result.mean) == {"loss", "accuracy", "f1"}
    accuracies = [fold["accuracy"] for fold in result.folds]
    assert result.mean["accuracy"] == pytest.approx(np.mean(accuracies))
    assert result.std["accuracy"] == pytest.approx(np.std(accuracies))
    assert result["accuracy"] > 0.8
    assert "accuracy: " in str(result) and " ± " in str(result) and "(3 folds)" in str(result)


def test_cross_validate_is_repeatable_and_accepts_a_splitter_and_a_full_build(blobs):
    x, y = blobs

    def build():
        model = _build()
        return model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1)

    a = cross_validate(build, x, y, cv=KFold(4, shuffle=True, random_state=1), epochs=3)
    b = cross_validate(build, x, y, cv=KFold(4, shuffle=True, random_state=1), epochs=3)
    assert len(a.folds) == 4 and a.folds == b.folds


def test_cross_validate_regression_defaults_to_mse_with_mae_and_r2():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 3)).astype(np.float32)
    y = (x @ np.array([1.0, 2.0, -1.0])).astype(np.float32)
    result = cross_validate(lambda: nn.Linear(3, 1), x, y, cv=3, epochs=30, learning_rate=0.05)
    assert set(result.mean) == {"loss", "mae", "r2"}
    assert result["r2"] > 0.9


def test_grid_search_ranks_the_combinations(blobs):
    x, y = blobs
    search = grid_search(_build, {"hidden": [4, 16], "learning_rate": [1e-4, 1e-2]}, x, y, cv=3, epochs=3)
    assert len(search.results) == 4
    assert search.best_params["learning_rate"] == 1e-2
    scores = [result.mean["accuracy"] for _, result in search.results]
    assert scores == sorted(scores, reverse=True) and search.best_score == scores[0]
    assert search.table().count("\n") == 3


def test_bad_arguments(blobs):
    x, y = blobs
    with pytest.raises(ValueError, match="non-empty"):
        grid_search(_build, {}, x, y)
    with pytest.raises(TypeError, match="cv must be"):
        cross_validate(_build, x, y, cv="three")
    with pytest.raises(ValueError, match="unknown optimizer"):
        cross_validate(_build, x, y, cv=2, optimizer="lbfgs")
