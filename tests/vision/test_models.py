"""shendu.vision.models against torchvision: the same state_dict keys and shapes, the same parameter
counts, and (with torchvision's weights copied in) the same outputs and gradients."""

import numpy as np
import pytest

import shendu
from shendu.nn import init
from shendu.vision import models

from .reference import torchvision

ALL = ["alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "resnet18", "resnet34",
       "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "wide_resnet50_2", "mobilenet_v2", "squeezenet1_0",
       "squeezenet1_1", "googlenet"]  # fmt: skip
PUBLISHED = {"resnet18": 11_689_512, "resnet50": 25_557_032, "vgg16": 138_357_544, "alexnet": 61_100_840,
             "mobilenet_v2": 3_504_872, "squeezenet1_0": 1_248_424, "squeezenet1_1": 1_235_496}  # fmt: skip


@pytest.mark.parametrize("name", ALL)
def test_state_dict_keys_and_shapes_equal_torchvisions(name):
    tv = torchvision()
    import torch

    extra = {"init_weights": True} if name == "googlenet" else {}  # (torchvision warns about its default otherwise)
    with torch.device("meta"):
        reference = getattr(tv.models, name)(weights=None, **extra)
    with init.skip_init():  # the shapes are what is compared: no need to draw millions of random numbers
        ours = getattr(models, name)(weights=None)
    theirs = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == theirs
    assert list(ours.state_dict()) == list(theirs)
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in reference.parameters())
    if name in PUBLISHED:
        assert sum(p.numel() for p in ours.parameters()) == PUBLISHED[name]


def _copied(name, size, batch=2, **kwargs):
    tv = torchvision()
    import torch

    torch.manual_seed(0)
    extra = {"init_weights": True} if name == "googlenet" else {}
    reference = getattr(tv.models, name)(weights=None, **kwargs, **extra)
    ours = getattr(models, name)(weights=None, **kwargs)
    ours.load_state_dict({k: shendu.tensor(v.detach().numpy().copy()) for k, v in reference.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((batch, 3, size, size)).astype(np.float32)
    return reference, ours, x


@pytest.mark.parametrize(
    ("name", "size", "kwargs"),
    [("resnet18", 64, {}), ("resnet50", 64, {"num_classes": 10}), ("resnext50_32x4d", 64, {"num_classes": 10}),
     ("vgg11_bn", 32, {"num_classes": 10}), ("alexnet", 64, {"num_classes": 10}), ("mobilenet_v2", 64, {}),
     ("squeezenet1_0", 64, {}), ("squeezenet1_1", 64, {}), ("googlenet", 64, {"aux_logits": False, "num_classes": 10})],
    ids=["resnet18", "resnet50", "resnext50", "vgg11_bn", "alexnet", "mobilenet_v2", "squeezenet1_0", "squeezenet1_1", "googlenet"],
)  # fmt: skip
def test_same_weights_give_the_same_outputs_in_eval_mode(name, size, kwargs):
    import torch

    reference, ours, x = _copied(name, size, **kwargs)
    reference.eval()
    ours.eval()
    with torch.no_grad():
        expected = reference(torch.tensor(x)).numpy()
    got = ours(shendu.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=2e-4, atol=2e-5 * max(1.0, float(np.abs(expected).max())))


def test_resnet18_training_step_gradients_equal_torchvisions():
    import torch

    # In float64: 18 layers of BatchNorm amplify float32 rounding (0.3 % here), which would hide a real error.
    reference, ours, x = _copied("resnet18", 64, batch=4, num_classes=5)
    reference.double()
    ours.double()
    y = np.array([1, 3, 0, 4])
    torch.nn.functional.cross_entropy(reference(torch.tensor(x, dtype=torch.float64)), torch.tensor(y)).backward()
    shendu.nn.functional.cross_entropy(ours(shendu.tensor(x, dtype=shendu.float64)), shendu.tensor(y)).backward()
    ours_grads = dict(ours.named_parameters())
    for key, param in reference.named_parameters():
        expected = param.grad.numpy()
        np.testing.assert_allclose(ours_grads[key].grad.numpy(), expected, rtol=1e-7, atol=1e-9 * float(np.abs(expected).max()), err_msg=key)


def test_googlenet_in_training_returns_the_auxiliary_logits_like_torchvision():
    import torch

    reference, ours, x = _copied("googlenet", 96, num_classes=7)
    torch.manual_seed(0)
    theirs = reference(torch.tensor(x))
    got = ours(shendu.tensor(x))
    assert type(got).__name__ == "GoogLeNetOutputs" and got._fields == theirs._fields
    assert [tuple(t.shape) for t in got] == [tuple(t.shape) for t in theirs]


@pytest.mark.parametrize("kwargs", [{"pretrained": True}, {"weights": "IMAGENET1K_V1"}, {"weights": "DEFAULT"}])
def test_pretrained_weights_offline_give_a_clear_error(kwargs):
    with pytest.raises(models.PretrainedWeightsUnavailable, match=r"does not download pretrained weights.*shendu.load\('resnet18.pth'\)"):
        models.resnet18(**kwargs)


def test_a_torchvision_checkpoint_file_loads_with_shendu_load(tmp_path):
    tv = torchvision()
    import torch

    reference = tv.models.squeezenet1_1(weights=None).eval()
    torch.save(reference.state_dict(), tmp_path / "squeezenet1_1.pth")
    model = models.squeezenet1_1(weights=None).eval()
    model.load_state_dict(shendu.load(tmp_path / "squeezenet1_1.pth"))
    x = np.random.default_rng(1).standard_normal((1, 3, 64, 64)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.tensor(x)).numpy()
    np.testing.assert_allclose(model(shendu.tensor(x)).detach().numpy(), expected, rtol=2e-4, atol=1e-5)


def test_list_and_get_model():
    assert "resnet18" in models.list_models() and "vgg16_bn" in models.list_models()
    assert isinstance(models.get_model("resnet18", num_classes=3), models.ResNet)
    with pytest.raises(ValueError, match="Unknown model 'resnet9'"):
        models.get_model("resnet9")
