"""shendu.vision.transforms against torchvision.transforms on the same images: the deterministic functions
exactly on PIL images (and closely on float tensors); the random transforms by their parameter draws."""

import numpy as np
import pytest

import shendu
import shendu.vision.transforms as T
import shendu.vision.transforms.functional as TF

from .reference import torchvision

Image = pytest.importorskip("PIL.Image")


def _tv():
    tv = torchvision()
    import torch

    return tv.transforms, tv.transforms.functional, torch


def _pil(h=37, w=29, seed=0, mode="RGB"):
    channels = {"RGB": 3, "L": 1}[mode]
    array = np.random.default_rng(seed).integers(0, 256, (h, w, channels) if channels > 1 else (h, w), dtype=np.uint8)
    return Image.fromarray(array, mode=mode)


def _float(h=37, w=29, seed=0):
    return np.random.default_rng(seed).random((3, h, w)).astype(np.float32)


def _same_pixels(ours, theirs):
    assert ours.size == theirs.size and ours.mode == theirs.mode
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


DETERMINISTIC = [
    ("resize-short-edge", lambda F: (F.resize, ([20],), {})),
    ("resize-hw", lambda F: (F.resize, ([50, 41],), {})),
    ("resize-bicubic", lambda F: (F.resize, ([17, 23],), {"interpolation": F.InterpolationMode.BICUBIC})),
    ("resize-max-size", lambda F: (F.resize, ([16],), {"max_size": 19})),
    ("center-crop", lambda F: (F.center_crop, ([21, 13],), {})),
    ("center-crop-larger", lambda F: (F.center_crop, ([45, 40],), {})),
    ("crop", lambda F: (F.crop, (3, 5, 20, 11), {})),
    ("crop-outside", lambda F: (F.crop, (-3, 20, 20, 15), {})),
    ("pad-constant", lambda F: (F.pad, ([1, 2, 3, 4],), {"fill": 7})),
    ("pad-reflect", lambda F: (F.pad, ([3, 2],), {"padding_mode": "reflect"})),
    ("pad-edge", lambda F: (F.pad, (4,), {"padding_mode": "edge"})),
    ("pad-symmetric", lambda F: (F.pad, ([2, 5],), {"padding_mode": "symmetric"})),
    ("hflip", lambda F: (F.hflip, (), {})),
    ("vflip", lambda F: (F.vflip, (), {})),
    ("resized-crop", lambda F: (F.resized_crop, (2, 3, 20, 15, [16, 16]), {})),
    ("affine", lambda F: (F.affine, (), {"angle": 17.0, "translate": [2, -3], "scale": 0.9, "shear": [8.0, 3.0]})),
    ("affine-bilinear", lambda F: (F.affine, (), {"angle": -30.0, "translate": [0, 0], "scale": 1.2, "shear": 0.0,
                                                   "interpolation": F.InterpolationMode.BILINEAR, "fill": [10, 20, 30]})),
    ("rotate", lambda F: (F.rotate, (25.0,), {})),
    ("perspective", lambda F: (F.perspective, ([[0, 0], [28, 0], [28, 36], [0, 36]], [[2, 3], [25, 1], [27, 33], [1, 35]]), {})),
    ("gaussian-blur", lambda F: (F.gaussian_blur, ([5, 3], [1.3, 0.7]), {})),
    ("grayscale-1", lambda F: (F.rgb_to_grayscale, (1,), {})),
    ("grayscale-3", lambda F: (F.rgb_to_grayscale, (3,), {})),
    ("brightness", lambda F: (F.adjust_brightness, (1.4,), {})),
    ("contrast", lambda F: (F.adjust_contrast, (0.6,), {})),
    ("saturation", lambda F: (F.adjust_saturation, (1.7,), {})),
    ("hue", lambda F: (F.adjust_hue, (0.23,), {})),
    ("hue-negative", lambda F: (F.adjust_hue, (-0.4,), {})),
]  # fmt: skip


@pytest.mark.parametrize("case", DETERMINISTIC, ids=[c[0] for c in DETERMINISTIC])
def test_functions_on_pil_images_give_torchvisions_pixels(case):
    _, tvF, _ = _tv()
    name, make = case
    theirs_fn, args, kwargs = make(tvF)
    ours_fn = getattr(TF, theirs_fn.__name__)
    kwargs_ours = {k: (getattr(T.InterpolationMode, v.name) if hasattr(v, "name") and k == "interpolation" else v) for k, v in kwargs.items()}
    image = _pil()
    if name == "gaussian-blur":  # torchvision blurs in float32 on a tensor and rounds: the same to within one level
        ours, theirs = np.asarray(ours_fn(image, *args, **kwargs_ours)).astype(int), np.asarray(theirs_fn(image, *args, **kwargs)).astype(int)
        assert np.abs(ours - theirs).max() <= 1 and (ours != theirs).mean() < 0.01
        return
    _same_pixels(ours_fn(image, *args, **kwargs_ours), theirs_fn(image, *args, **kwargs))


TENSOR_CASES = ["resize-short-edge", "resize-hw", "resize-bicubic", "center-crop", "center-crop-larger", "crop", "crop-outside",
                "pad-constant", "pad-reflect", "pad-edge", "pad-symmetric", "hflip", "vflip", "resized-crop", "gaussian-blur",
                "grayscale-1", "grayscale-3", "brightness", "contrast", "saturation", "hue", "hue-negative"]  # fmt: skip


@pytest.mark.parametrize("case", [c for c in DETERMINISTIC if c[0] in TENSOR_CASES], ids=TENSOR_CASES)
def test_functions_on_float_tensors_match_torchvision(case):
    _, tvF, torch = _tv()
    name, make = case
    theirs_fn, args, kwargs = make(tvF)
    ours_fn = getattr(TF, theirs_fn.__name__)
    kwargs_ours = {k: (getattr(T.InterpolationMode, v.name) if hasattr(v, "name") and k == "interpolation" else v) for k, v in kwargs.items()}
    x = _float()
    theirs = theirs_fn(torch.tensor(x), *args, **kwargs).numpy()
    ours = ours_fn(shendu.tensor(x), *args, **kwargs_ours).numpy()
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=2e-5)


def test_nearest_resize_of_a_tensor_uses_pytorchs_index_rule():
    _, tvF, torch = _tv()
    x = _float()
    theirs = tvF.resize(torch.tensor(x), [20, 15], interpolation=tvF.InterpolationMode.NEAREST).numpy()
    np.testing.assert_array_equal(TF.resize(shendu.tensor(x), [20, 15], interpolation=T.InterpolationMode.NEAREST).numpy(), theirs)


def test_five_and_ten_crop_equal_torchvisions():
    tvT, _, _ = _tv()
    image = _pil()
    for ours, theirs in zip(T.TenCrop(11, vertical_flip=True)(image), tvT.TenCrop(11, vertical_flip=True)(image)):
        _same_pixels(ours, theirs)
    for ours, theirs in zip(T.FiveCrop((9, 13))(image), tvT.FiveCrop((9, 13))(image)):
        _same_pixels(ours, theirs)


def test_conversions_equal_torchvisions():
    tvT, tvF, torch = _tv()
    x = _float()
    _same_pixels(T.ToPILImage()(shendu.tensor(x)), tvT.ToPILImage()(torch.tensor(x)))
    image = _pil()
    np.testing.assert_array_equal(T.PILToTensor()(image).numpy(), tvT.PILToTensor()(image).numpy())
    as_float = T.ConvertImageDtype(shendu.float32)(T.PILToTensor()(image))
    np.testing.assert_allclose(as_float.numpy(), tvT.ConvertImageDtype(torch.float32)(tvT.PILToTensor()(image)).numpy(), rtol=1e-7)
    back = T.ConvertImageDtype(shendu.uint8)(shendu.tensor(x))
    np.testing.assert_array_equal(back.numpy(), tvF.convert_image_dtype(torch.tensor(x), torch.uint8).numpy())


# ----- the random transforms: their draws -----------------------------------------------------------------------
def test_random_resized_crop_draws_windows_within_scale_and_ratio():
    shendu.manual_seed(0)
    image = _pil(100, 80)
    areas, ratios = [], []
    for _ in range(400):
        top, left, h, w = T.RandomResizedCrop.get_params(image, (0.2, 0.9), (0.5, 2.0))
        assert 0 <= top and 0 <= left and top + h <= 100 and left + w <= 80
        areas.append(h * w / 8000)
        ratios.append(w / h)
    assert 0.18 < min(areas) and max(areas) < 0.92 and 0.45 < min(ratios) and max(ratios) < 2.1
    assert 0.4 < np.mean(areas) < 0.7  # uniform in scale, cut by what fits: as torchvision
    assert T.RandomResizedCrop(24)(image).size == (24, 24)


def test_color_jitter_draws_factors_uniformly_and_applies_them_in_a_random_order():
    shendu.manual_seed(1)
    jitter = T.ColorJitter(brightness=0.5, contrast=(0.2, 0.4), saturation=0, hue=0.1)
    draws = [T.ColorJitter.get_params(jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue) for _ in range(2000)]
    b = np.array([d[1] for d in draws])
    c = np.array([d[2] for d in draws])
    h = np.array([d[4] for d in draws])
    assert all(d[3] is None for d in draws) and {tuple(d[0]) for d in draws}.__len__() == 24
    assert 0.5 <= b.min() and b.max() <= 1.5 and abs(b.mean() - 1.0) < 0.03
    assert 0.2 <= c.min() and c.max() <= 0.4 and -0.1 <= h.min() and h.max() <= 0.1


def test_random_affine_and_perspective_draw_within_their_ranges():
    shendu.manual_seed(2)
    for _ in range(200):
        angle, (tx, ty), scale, (sx, sy) = T.RandomAffine.get_params([-10, 10], [0.1, 0.2], [0.8, 1.2], [-5, 5, -3, 3], [50, 40])
        assert -10 <= angle <= 10 and abs(tx) <= 5 and abs(ty) <= 8 and 0.8 <= scale <= 1.2 and abs(sx) <= 5 and abs(sy) <= 3
        start, end = T.RandomPerspective.get_params(50, 40, 0.5)
        assert start == [[0, 0], [49, 0], [49, 39], [0, 39]]
        assert 0 <= end[0][0] <= 12 and 37 <= end[1][0] <= 49 and 29 <= end[2][1] <= 39


def test_random_erasing_blanks_a_window_of_the_drawn_size():
    shendu.manual_seed(3)
    x = shendu.ones(3, 40, 40)
    erased = T.RandomErasing(p=1.0, scale=(0.1, 0.2), value=0)(x).numpy()
    zeros = (erased == 0).all(axis=0)
    assert 0.08 < zeros.mean() < 0.22 and (x.numpy() == 1).all()
    noisy = T.RandomErasing(p=1.0, value="random")(x).numpy()
    assert (noisy != 1).any()
    with pytest.raises(TypeError, match="apply ToTensor first"):
        T.RandomErasing(p=1.0)(_pil())


def test_random_apply_choice_order_and_grayscale_probabilities():
    shendu.manual_seed(4)
    image = _pil()
    flip = T.RandomApply([T.functional.hflip], p=0.3)
    flipped = np.mean([np.array_equal(np.asarray(flip(image)), np.asarray(TF.hflip(image))) for _ in range(600)])
    assert 0.24 < flipped < 0.36
    gray = np.mean([T.RandomGrayscale(p=0.25)(image).getpixel((0, 0))[0] == T.Grayscale(3)(image).getpixel((0, 0))[0] for _ in range(600)])
    assert 0.18 < gray < 0.45
    picks = [T.RandomChoice([lambda x: 0, lambda x: 1], p=[0.8, 0.2])(image) for _ in range(600)]
    assert 0.72 < 1 - np.mean(picks) < 0.88
    orders = {tuple(T.RandomOrder([lambda x: x + [0], lambda x: x + [1], lambda x: x + [2]])([])) for _ in range(100)}
    assert len(orders) == 6


def test_a_torchvision_style_training_pipeline_runs_on_cifar_sized_images():
    pipeline = T.Compose([
        T.RandomResizedCrop(32, scale=(0.6, 1.0)), T.RandomHorizontalFlip(), T.ColorJitter(0.3, 0.3, 0.3, 0.05),
        T.RandomGrayscale(0.1), T.RandomApply([T.GaussianBlur(3)], p=0.5), T.RandomRotation(10), T.ToTensor(),
        T.Normalize((0.49, 0.48, 0.45), (0.25, 0.24, 0.26)), T.RandomErasing(p=0.5),
    ])  # fmt: skip
    out = pipeline(_pil(32, 32))
    assert tuple(out.shape) == (3, 32, 32) and str(out.dtype) == "shendu.float32"
