"""Dropout and channel dropout: mask statistics, scaling, train/eval, the gradient's mask, seeding, errors."""

import numpy as np
import pytest
import torch

import shendu
import shendu.nn as nn
import shendu.nn.functional as F
from tests.helpers import gradcheck


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_mask_drops_a_fraction_p_and_scales_the_rest(p):
    y = F.dropout(shendu.ones(400, 500), p=p).numpy()
    dropped = np.mean(y == 0)
    assert abs(dropped - p) < 0.01
    kept = y[y != 0]
    np.testing.assert_allclose(kept, np.float32(1 / (1 - p)), rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.02  # inverted dropout keeps the expectation


def test_gradient_uses_the_same_mask_as_forward():
    x = shendu.tensor(np.random.default_rng(0).uniform(1, 2, (50, 40)).astype(np.float32), requires_grad=True)
    y = F.dropout(x, p=0.4)
    probe = np.random.default_rng(1).normal(size=(50, 40)).astype(np.float32)
    y.backward(shendu.tensor(probe))
    mask = y.detach().numpy() / x.detach().numpy()  # 0 or 1/(1-p), per element
    kept = mask != 0
    assert 0.5 < kept.mean() < 0.7
    np.testing.assert_allclose(mask[kept], 1 / 0.6, rtol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), probe * mask, rtol=1e-5, atol=1e-7)


def test_gradcheck_float64_with_a_fixed_mask():
    gradcheck(lambda x: F.dropout(x, p=0.3, generator=7), [(4, 5)])
    gradcheck(lambda x: F.dropout2d(x, p=0.5, generator=7), [(3, 4, 2, 2)])


def test_eval_mode_and_training_false_are_the_identity():
    x = shendu.randn(8, 8)
    drop = nn.Dropout(0.5)
    assert drop.training
    drop.eval()
    assert drop(x) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_train_eval_switch_reaches_dropout_inside_a_model():
    model = nn.Sequential(nn.Linear(10, 10), nn.Dropout(0.5))
    x = shendu.ones(64, 10)
    model.eval()
    np.testing.assert_array_equal(model(x).detach().numpy(), model(x).detach().numpy())
    model.train()
    assert np.any(model(x).detach().numpy() != model(x).detach().numpy())


def test_p_one_zeroes_everything_and_passes_no_gradient():
    x = shendu.ones(3, 4, requires_grad=True)
    y = F.dropout(x, p=1.0)
    assert np.all(y.detach().numpy() == 0)
    y.sum().backward()
    assert np.all(x.grad.numpy() == 0)


def test_masks_repeat_under_manual_seed_and_differ_otherwise():
    shendu.manual_seed(123)
    first = F.dropout(shendu.ones(100), 0.5).numpy()
    second = F.dropout(shendu.ones(100), 0.5).numpy()
    shendu.manual_seed(123)
    again = F.dropout(shendu.ones(100), 0.5).numpy()
    np.testing.assert_array_equal(first, again)
    assert np.any(first != second)
    generator = shendu.Generator().manual_seed(4)
    a = F.dropout(shendu.ones(100), 0.5, generator=generator).numpy()
    b = F.dropout(shendu.ones(100), 0.5, generator=shendu.Generator().manual_seed(4)).numpy()
    np.testing.assert_array_equal(a, b)


def test_float64_stays_float64_and_integer_input_is_refused():
    assert F.dropout(shendu.ones(4, dtype=shendu.float64), 0.5).dtype == shendu.float64
    with pytest.raises(TypeError, match=r"dropout needs a floating-point input; got dtype shendu.int64"):
        F.dropout(shendu.tensor([1, 2, 3]), 0.5)


@pytest.mark.parametrize(
    "function, shape, channel_dims",
    [
        (F.dropout2d, (40, 50, 3, 3), 2),
        (F.dropout2d, (40, 50, 6), 2),  # 3-D: (N, C, L), as PyTorch today
        (F.dropout1d, (40, 50, 5), 2),
        (F.dropout1d, (2000, 7), 1),  # unbatched (C, L)
        (F.dropout3d, (20, 100, 2, 2, 2), 2),
        (F.dropout3d, (2000, 2, 2, 2), 1),  # unbatched (C, D, H, W)
    ],
)
def test_channel_dropout_drops_whole_channels(function, shape, channel_dims):
    y = function(shendu.ones(*shape), p=0.3).numpy()
    per_channel = y.reshape(int(np.prod(shape[:channel_dims])), -1)
    assert np.all(per_channel.min(axis=1) == per_channel.max(axis=1))  # each channel all kept or all dropped
    assert abs(np.mean(per_channel[:, 0] == 0) - 0.3) < 0.04
    np.testing.assert_allclose(per_channel[per_channel[:, 0] != 0], np.float32(1 / 0.7), rtol=1e-6)


@pytest.mark.parametrize(
    "layer, shape, message",
    [
        (
            nn.Dropout2d(),
            (4, 5),
            r"dropout2d: expected input of shape \(N, C, H, W\) or \(N, C, L\); got shape \(4, 5\)",
        ),
        (
            nn.Dropout1d(),
            (4, 5, 6, 7),
            r"dropout1d: expected input of shape \(N, C, L\) or \(C, L\); got shape \(4, 5, 6, 7\)",
        ),
        (
            nn.Dropout3d(),
            (4, 5, 6),
            r"dropout3d: expected input of shape \(N, C, D, H, W\) or \(C, D, H, W\); got shape",
        ),
    ],
)
def test_channel_dropout_wrong_rank(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer(shendu.ones(*shape))


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5", None, True])
def test_probability_outside_0_1_raises_at_construction(p):
    with pytest.raises(ValueError, match=r"Dropout: dropout probability has to be between 0 and 1, but got p="):
        nn.Dropout(p)
    with pytest.raises(ValueError, match=r"dropout probability has to be between 0 and 1"):
        F.dropout(shendu.ones(3), p)


def test_p_bounds_accepted_as_torch_does():
    assert nn.Dropout(0.0).p == 0.0
    assert nn.Dropout(1).p == 1


@pytest.mark.parametrize("name", ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"])
def test_repr_matches_torch(name):
    assert repr(getattr(nn, name)(0.25)) == repr(getattr(torch.nn, name)(0.25))
    assert repr(getattr(nn, name)()) == repr(getattr(torch.nn, name)())


def test_dropout_has_no_parameters_or_state():
    drop = nn.Dropout(0.3)
    assert list(drop.parameters()) == [] and len(drop.state_dict()) == 0
