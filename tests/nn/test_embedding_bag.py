"""EmbeddingBag and F.embedding_bag against PyTorch: every mode, 2-D and offset inputs, padding, empty bags,
per-sample weights; outputs and float64 gradients."""

import numpy as np
import pytest
import torch

import shendu
import shendu.nn as nn
import shendu.nn.functional as F
from tests.helpers import gradcheck

rng = np.random.default_rng(0)
WEIGHT = rng.normal(size=(10, 4))
FLAT = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 0])
CASES = [
    ({"mode": "mean"}, FLAT, [0, 4, 4, 7]),  # an empty bag
    ({"mode": "sum"}, FLAT, [0, 2, 5]),
    ({"mode": "max"}, FLAT, [0, 3, 3, 8]),
    ({"mode": "mean", "padding_idx": 0}, FLAT, [0, 5, 8]),  # the last bag holds only padding
    ({"mode": "max", "padding_idx": 2}, FLAT, [0, 4]),
    ({"mode": "sum", "include_last_offset": True}, FLAT, [0, 3, 6, 10]),
    ({"mode": "mean"}, FLAT.reshape(2, 5), None),
    ({"mode": "max"}, FLAT.reshape(5, 2), None),
]


@pytest.mark.parametrize("kwargs,indices,offsets", CASES, ids=[str(i) for i in range(len(CASES))])
def test_embedding_bag_equals_torch_with_gradients(kwargs, indices, offsets):
    probe = None
    results = []
    for lib in (shendu, torch):
        weight = lib.tensor(WEIGHT, dtype=lib.float64, requires_grad=True)
        inputs = lib.tensor(indices)
        offs = None if offsets is None else lib.tensor(offsets)
        out = (F if lib is shendu else torch.nn.functional).embedding_bag(inputs, weight, offs, **kwargs)
        if probe is None:
            probe = np.random.default_rng(1).normal(size=tuple(out.shape))
        (out * lib.tensor(probe)).sum().backward()
        results.append((out.detach().numpy(), weight.grad.numpy()))
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)


def test_per_sample_weights_and_the_module_equal_torch():
    mine = nn.EmbeddingBag(10, 4, mode="sum")
    theirs = torch.nn.EmbeddingBag(10, 4, mode="sum")
    theirs.load_state_dict({"weight": torch.tensor(mine.weight.detach().numpy())})
    weights = rng.uniform(0.5, 2, FLAT.size).astype(np.float32)
    a = mine(shendu.tensor(FLAT), shendu.tensor([0, 3, 6]), per_sample_weights=shendu.tensor(weights))
    b = theirs(torch.tensor(FLAT), torch.tensor([0, 3, 6]), per_sample_weights=torch.tensor(weights))
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-6)
    assert repr(mine) == "EmbeddingBag(10, 4, mode='sum')" and repr(theirs) == repr(mine)
    frozen = nn.EmbeddingBag.from_pretrained(shendu.tensor(WEIGHT), mode="max")
    assert not frozen.weight.requires_grad and tuple(frozen(shendu.tensor(FLAT.reshape(2, 5))).shape) == (2, 4)


def test_gradcheck_float64():
    gradcheck(lambda w: F.embedding_bag(shendu.tensor(FLAT), w, shendu.tensor([0, 4, 7]), mode="mean"), [(10, 3)])
    gradcheck(lambda w: F.embedding_bag(shendu.tensor(FLAT.reshape(2, 5)), w, mode="max"), [(10, 3)])


def test_bad_arguments_are_refused_as_torch_refuses_them():
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(shendu.tensor(FLAT.reshape(2, 5)), shendu.tensor(WEIGHT), shendu.tensor([0, 1]))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor"):
        F.embedding_bag(shendu.tensor(FLAT), shendu.tensor(WEIGHT))
    with pytest.raises(NotImplementedError, match="per_sample_weights is only supported for mode='sum'"):
        F.embedding_bag(shendu.tensor(FLAT), shendu.tensor(WEIGHT), shendu.tensor([0]), mode="mean",
                        per_sample_weights=shendu.ones(10))  # fmt: skip
    with pytest.raises(ValueError, match="mode must be 'sum', 'mean' or 'max'"):
        nn.EmbeddingBag(10, 4, mode="median")
