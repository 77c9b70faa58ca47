"""make_grid and save_image against torchvision's, on the same images."""

import numpy as np
import pytest

import shendu
from shendu.vision.utils import make_grid, save_image

from .reference import torchvision

CASES = [
    {}, {"nrow": 3}, {"padding": 0}, {"padding": 5, "pad_value": 0.7}, {"normalize": True},
    {"normalize": True, "value_range": (-1, 1)}, {"normalize": True, "scale_each": True},
]  # fmt: skip


@pytest.mark.parametrize("kwargs", CASES, ids=[str(c) for c in CASES])
@pytest.mark.parametrize("shape", [(7, 3, 5, 6), (4, 1, 4, 4), (1, 3, 4, 4), (3, 8, 8), (1, 5, 5), (6, 6)])
def test_make_grid_equals_torchvisions(kwargs, shape):
    tv = torchvision()
    import torch

    images = np.random.default_rng(0).uniform(-1.5, 2.0, shape).astype(np.float32)
    expected = tv.utils.make_grid(torch.tensor(images), **kwargs).numpy()
    got = make_grid(shendu.tensor(images), **kwargs).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


def test_make_grid_takes_a_list_of_images():
    tv = torchvision()
    import torch

    images = [np.random.default_rng(i).random((3, 4, 5)).astype(np.float32) for i in range(5)]
    expected = tv.utils.make_grid([torch.tensor(a) for a in images], nrow=2).numpy()
    np.testing.assert_array_equal(make_grid([shendu.tensor(a) for a in images], nrow=2).numpy(), expected)


@pytest.mark.parametrize("kwargs", [{}, {"nrow": 4, "normalize": True, "value_range": (-1, 1)}])
def test_save_image_writes_the_same_pixels_as_torchvision(tmp_path, kwargs):
    tv = torchvision()
    import torch
    from PIL import Image

    images = np.random.default_rng(1).uniform(-1, 1.2, (10, 3, 7, 9)).astype(np.float32)
    tv.utils.save_image(torch.tensor(images), tmp_path / "theirs.png", **kwargs)
    save_image(shendu.tensor(images), tmp_path / "ours.png", **kwargs)
    theirs, ours = np.asarray(Image.open(tmp_path / "theirs.png")), np.asarray(Image.open(tmp_path / "ours.png"))
    np.testing.assert_array_equal(ours, theirs)


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(shendu.rand(2, 3, 4, 4), normalize=True, value_range=5)
    with pytest.raises(ValueError, match="expected images of shape"):
        make_grid(shendu.rand(2, 2, 3, 4, 4))
