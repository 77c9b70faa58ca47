"""MultiMarginLoss, MultiLabelMarginLoss and TripletMarginWithDistanceLoss against PyTorch (float64, with gradients)."""

import numpy as np
import pytest
import torch

import shendu

RNG = np.random.default_rng(0)
X, LABELS, WEIGHTS = RNG.standard_normal((4, 5)), np.array([1, 0, 4, 2]), RNG.uniform(0.5, 2, 5)
MULTILABEL = np.array([[3, 0, -1, 1, 2], [1, 2, 3, -1, 0], [0, -1, 0, 0, 0], [4, 3, 2, 1, 0]])

CASES = {
    "multi_margin": lambda lib, t: lib.nn.MultiMarginLoss()(t, lib.tensor(LABELS)),
    "multi_margin_p2_weight_sum": lambda lib, t: lib.nn.MultiMarginLoss(p=2, margin=0.7, weight=lib.tensor(WEIGHTS),
                                                                        reduction="sum")(t, lib.tensor(LABELS)),
    "multi_margin_none_1d": lambda lib, t: lib.nn.functional.multi_margin_loss(t[0], lib.tensor([3]), reduction="none"),
    "multilabel_margin": lambda lib, t: lib.nn.MultiLabelMarginLoss()(t, lib.tensor(MULTILABEL)),
    "multilabel_margin_none": lambda lib, t: lib.nn.functional.multilabel_margin_loss(t, lib.tensor(MULTILABEL), reduction="none"),
    "triplet_distance": lambda lib, t: lib.nn.TripletMarginWithDistanceLoss(
        distance_function=lambda u, v: (u - v).abs().sum(-1), swap=True)(t, t * 0.5, t * -0.3),
    "triplet_default_distance": lambda lib, t: lib.nn.functional.triplet_margin_with_distance_loss(t, t.flip(0), t * 2, margin=2.0),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_equal_to_pytorch_with_gradients(name):
    results = []
    for lib in (torch, shendu):
        t = lib.tensor(X, requires_grad=True)
        loss = CASES[name](lib, t)
        loss.sum().backward()
        results.append((loss.detach().numpy(), t.grad.numpy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-12)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-12, atol=1e-15)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        shendu.nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="target must hold 4 class indices in \\[0, 5\\)"):
        shendu.nn.MultiMarginLoss()(shendu.tensor(X), shendu.tensor([0, 1, 2, 7]))
