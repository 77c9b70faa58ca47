"""Example 3: y = 2x + 1 with one neuron (seed 003), the exact updates and the convergence."""

import pytest

from examples import linear_fit


def test_first_two_updates_are_exact():
    result = linear_fit.run(pairs=50, passes=1)
    (w1, b1), (w2, b2) = result["steps"]
    assert (round(w1, 10), round(b1, 10)) == (0.5, 0.604)
    assert (round(w2, 10), round(b2, 10)) == (0.51796, 0.62196)


def test_noisy_pairs_bring_w_b_close_to_2_1_and_to_least_squares():
    result = linear_fit.run(pairs=50, passes=20)
    assert result["w"] == pytest.approx(2.0, abs=0.05)
    assert result["b"] == pytest.approx(1.0, abs=0.05)
    w_ls, b_ls = result["least_squares"]
    assert result["w"] == pytest.approx(w_ls, abs=0.01) and result["b"] == pytest.approx(b_ls, abs=0.01)
    assert result["losses"][-1] < result["losses"][0] / 50


def test_main_prints_the_updates(capsys):
    linear_fit.main(["--fast"])
    out = capsys.readouterr().out
    assert "after the pair (0, 1): w = 0.50000, b = 0.60400" in out
    assert "after the pair (1, 2.9): w = 0.51796, b = 0.62196" in out


def test_runs_as_a_script(tmp_path):
    import os
    import pathlib
    import subprocess
    import sys

    root = pathlib.Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}  # as after `pip install -e .`
    done = subprocess.run(
        [sys.executable, str(root / "examples" / "linear_fit.py"), "--fast"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "w = 0.51796, b = 0.62196" in done.stdout
