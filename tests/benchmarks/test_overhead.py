"""benchmarks/overhead.py runs every case in both frameworks and reports consistent ratios (no timing asserted)."""

import math

import pytest

pytest.importorskip("torch")

from benchmarks import overhead  # noqa: E402


def test_every_case_is_timed_in_both_frameworks_with_consistent_ratios(capsys):
    results = overhead.main(["--number", "3", "--repeats", "1"])
    assert set(results) == {"add fwd", "add fwd+bwd", "linear fwd+bwd", "nn.Linear fwd+bwd"}
    for case, row in results.items():
        for side in ("torch", "shendu"):
            assert math.isfinite(row[side]["best_us"]) and 0 < row[side]["best_us"] <= row[side]["median_us"], case
        assert row["ratio_best"] == pytest.approx(row["shendu"]["best_us"] / row["torch"]["best_us"])
    printed = capsys.readouterr().out
    assert all(case in printed for case in results) and "shendu/torch" in printed


def test_the_timed_cases_compute_the_same_gradients_in_both_frameworks():
    import torch

    import shendu

    cases = overhead._cases(torch, shendu)
    for fn in cases["linear fwd+bwd"].values():
        fn()  # runs forward + backward, then clears the grads: it must not raise in either framework
    assert set(cases["add fwd"]) == {"torch", "shendu"}
    out_t, out_s = cases["add fwd"]["torch"](), cases["add fwd"]["shendu"]()
    assert out_t.item() == out_s.item() == 2.0 and out_s.requires_grad
