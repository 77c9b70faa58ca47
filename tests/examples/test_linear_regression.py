"""Example 4: multiple linear regression with one neuron: trained, saved, reloaded, used to predict."""

import os

import pytest

pytest.importorskip("sklearn")

from examples import linear_regression  # noqa: E402


def test_neuron_reaches_least_squares_and_survives_save_and_load(tmp_path):
    result = linear_regression.run(epochs=300, out_dir=str(tmp_path))
    assert len(result["weights"]) == 12  # wine: alcohol from the 12 other measurements
    assert result["max_coefficient_gap"] < 1e-3
    assert result["same_as_trained"]
    assert os.path.exists(os.path.join(result["path"], "model.safetensors"))
    assert result["test_r2"] > 0.3
    assert result["test_mae"] == pytest.approx(result["least_squares_test_mae"], abs=0.01)


def test_main_prints_the_comparison(tmp_path, capsys):
    linear_regression.main(["--fast", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "least sq." in out and "predictions identical to the trained model: True" in out
