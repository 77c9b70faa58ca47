"""Example 1: seed 001's worked back-propagation example, every figure of SPEC.md §1.1."""

import pytest

from examples import backprop_worked_example as example


@pytest.fixture(scope="module")
def figures():
    return example.run(updates=10_000)


def test_forward_output_and_total_error(figures):
    assert figures["output"] == pytest.approx([0.75136507, 0.77292847], abs=5e-9)
    assert _agrees(figures["error"], "0.298371109")


def _agrees(value, figure):
    """``value`` rounded to as many decimals as the printed ``figure`` has is that figure."""
    decimals = len(figure.split(".")[1])
    return round(value, decimals) == float(figure)


def test_weights_after_one_update(figures):
    w = figures["weights_after_one"]
    spec = ["0.149780716", "0.19956143", "0.24975114", "0.29950229", "0.35891648", "0.408666186", "0.511301270", "0.561370121"]
    assert [_agrees(v, f) for v, f in zip(w, spec)] == [True] * 8, list(zip(w, spec))


def test_error_after_one_update(figures):
    assert _agrees(figures["error_after_one"], "0.29102777")


def test_after_ten_thousand_updates(figures):
    assert figures["updates"] == 10_000
    assert figures["error_final"] == pytest.approx(3.51e-5, abs=5e-8)
    assert [round(v, 5) for v in figures["output_final"]] == [0.01591, 0.98406]


def test_biases_are_shared_per_layer_and_not_trained():
    model = example.build_network()
    assert [p.requires_grad for p in model.parameters()] == [True, False, True, False]
    assert model[0].bias.tolist() == [0.35, 0.35] and model[2].bias.tolist() == [0.6, 0.6]


def test_main_prints_the_figures(capsys):
    figures = example.main(["--fast", "--explain"])
    out = capsys.readouterr().out
    assert "Total error E = 0.298371109" in out
    assert "w5 = 0.358916480" in out and "w1 = 0.149780716" in out
    assert "After 100 updates" in out and figures["updates"] == 100
    assert "∂E/∂w5 = ∂E/∂out(o1) · ∂out(o1)/∂net(o1) · ∂net(o1)/∂w5" in out  # --explain
