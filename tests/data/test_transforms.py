"""Image transforms (NumPy) and ImageFolder."""

import sys

import numpy as np
import pytest
import torch

import shendu
from shendu.vision import datasets, transforms as T


def _image(h=5, w=7, channels=None, seed=0):
    shape = (h, w) if channels is None else (h, w, channels)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


@pytest.mark.parametrize("kind", ["array", "tensor", "pil"])
@pytest.mark.parametrize("channels", [None, 3])
def test_to_tensor_makes_chw_float32_in_unit_range(kind, channels):
    array = _image(channels=channels)
    if kind == "pil":
        Image = pytest.importorskip("PIL.Image")
        pic = Image.fromarray(array)
    else:
        pic = shendu.tensor(array) if kind == "tensor" else array
    out = T.ToTensor()(pic)
    expected = (array[:, :, None] if channels is None else array).transpose(2, 0, 1) / 255
    assert isinstance(out, shendu.Tensor) and out.dtype == shendu.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)


def test_to_tensor_keeps_non_uint8_values_and_rejects_bad_input():
    out = T.ToTensor()(np.full((2, 2), 3.5, np.float64))
    assert tuple(out.shape) == (1, 2, 2) and out.dtype == shendu.float64 and float(out.max()) == 3.5
    with pytest.raises(TypeError, match="ToTensor expects a NumPy array, shendu Tensor or PIL image; got list"):
        T.ToTensor()([[1, 2]])
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, C\); got shape \(2, 2, 2, 2\)"):
        T.ToTensor()(np.zeros((2, 2, 2, 2), np.uint8))


def test_normalize_matches_torch_formula_per_channel():
    x = np.random.default_rng(0).random((3, 4, 4)).astype(np.float32)
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    out = T.Normalize(mean, std)(shendu.tensor(x))
    expected = (torch.tensor(x) - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="std must not contain zeros"):
        T.Normalize((0.5,), (0.0,))
    with pytest.raises(TypeError, match="floating-point tensor; got dtype shendu.uint8"):
        T.Normalize((0.5,), (0.5,))(shendu.tensor(_image(channels=1).transpose(2, 0, 1)))
    with pytest.raises(ValueError, match="mean has 2 values for an image with 3 channels"):
        T.Normalize((0.5, 0.5), (1.0,))(shendu.tensor(x))


def test_compose_and_lambda_chain_in_order():
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,)), T.Lambda(lambda t: t.flatten())])
    out = pipeline(np.array([[0, 255]], np.uint8))
    np.testing.assert_allclose(out.numpy(), [-1.0, 1.0])
    assert "Normalize" in repr(pipeline)


@pytest.mark.parametrize("make", [lambda a: a, shendu.tensor])
def test_flips_with_probability_one_and_zero(make):
    image = _image()
    flipped = T.RandomHorizontalFlip(p=1.0)(make(image))
    np.testing.assert_array_equal(np.asarray(flipped), image[:, ::-1])
    np.testing.assert_array_equal(np.asarray(T.RandomVerticalFlip(p=1.0)(make(image))), image[::-1])
    np.testing.assert_array_equal(np.asarray(T.RandomHorizontalFlip(p=0.0)(make(image))), image)
    with pytest.raises(ValueError, match="p should be a probability"):
        T.RandomHorizontalFlip(p=2)


def test_flip_on_chw_tensor_mirrors_the_width_axis():
    chw = np.arange(2 * 3 * 4).reshape(2, 3, 4).astype(np.float32)
    out = T.RandomHorizontalFlip(p=1.0)(shendu.tensor(chw))
    np.testing.assert_array_equal(out.numpy(), chw[:, :, ::-1])


def test_random_crop_with_padding_is_a_window_of_the_padded_image():
    image = _image(6, 6, channels=3)
    padded = np.pad(image, ((2, 2), (2, 2), (0, 0)))
    seen = set()
    for _ in range(30):
        out = T.RandomCrop(6, padding=2)(image)
        assert out.shape == (6, 6, 3) and out.dtype == np.uint8
        offsets = [(i, j) for i in range(5) for j in range(5) if np.array_equal(padded[i : i + 6, j : j + 6], out)]
        assert offsets
        seen.update(offsets)
    assert len(seen) > 3  # the position really is random


def test_random_crop_errors_and_pad_if_needed():
    with pytest.raises(ValueError, match=r"crop size \(8, 8\) is larger than the \(padded\) image size \(5, 7\)"):
        T.RandomCrop(8)(_image())
    assert tuple(T.RandomCrop((8, 8), pad_if_needed=True)(shendu.tensor(_image())).shape) == (8, 8)
    with pytest.raises(ValueError, match="padding_mode should be one of"):
        T.RandomCrop(3, padding_mode="wrap")


def test_random_rotation_by_ninety_degrees_is_rot90_counter_clockwise():
    image = _image(6, 6)
    out = T.RandomRotation((90, 90))(image)
    np.testing.assert_array_equal(out, np.rot90(image))
    bilinear = T.RandomRotation((90, 90), interpolation="bilinear")(shendu.tensor(image[None]))
    np.testing.assert_array_equal(bilinear.numpy()[0], np.rot90(image))
    np.testing.assert_array_equal(T.RandomRotation(0)(image), image)


def test_small_random_rotations_keep_shape_dtype_and_mass_and_repeat_with_a_seed():
    (x, _), _ = datasets.load_digits()
    digit = x[0]
    shendu.manual_seed(3)
    a = T.RandomRotation(10, interpolation="bilinear")(digit)
    shendu.manual_seed(3)
    b = T.RandomRotation(10, interpolation="bilinear")(digit)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (28, 28) and a.dtype == np.uint8 and not np.array_equal(a, digit)
    assert abs(int(a.astype(int).sum()) - int(digit.astype(int).sum())) < 0.05 * digit.astype(int).sum()


def test_transforms_reject_non_images():
    with pytest.raises(TypeError, match="RandomRotation expects a shendu Tensor"):
        T.RandomRotation(5)("not an image")
    with pytest.raises(ValueError, match="degrees should be a number or a pair"):
        T.RandomRotation("ten")


# ----- ImageFolder ---------------------------------------------------------------------------------
def test_image_folder_sorts_classes_and_loads_rgb_images(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    for name, colour in (("dog", 200), ("cat", 10)):
        (tmp_path / name).mkdir()
        for i in range(2):
            Image.fromarray(np.full((4, 6), colour + i, np.uint8)).save(tmp_path / name / f"{i}.png")
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    ds = datasets.ImageFolder(tmp_path, transform=T.ToTensor())
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert [(p.split("/")[-2], t) for p, t in ds.samples] == [("cat", 0), ("cat", 0), ("dog", 1), ("dog", 1)]
    image, label = ds[3]
    assert label == 1 and tuple(image.shape) == (3, 4, 6)
    np.testing.assert_allclose(image.numpy(), 201 / 255, rtol=1e-6)


def test_image_folder_errors(tmp_path):
    pytest.importorskip("PIL")
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        datasets.ImageFolder(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty"):
        datasets.ImageFolder(tmp_path)


def test_image_folder_without_pillow_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "PIL", None)  # makes ``from PIL import Image`` fail
    with pytest.raises(ImportError, match=r"pip install 'shendu\[images\]'"):
        datasets.ImageFolder(tmp_path)
