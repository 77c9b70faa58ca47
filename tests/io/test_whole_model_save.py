"""``shendu.save(model, path)`` stores a whole model without pickle; ``shendu.load(path)`` rebuilds it."""

import numpy as np
import pytest

import shendu
import shendu.nn as nn
from shendu.io import SerializationError
from shendu.vision import models


def test_a_model_of_registered_layers_round_trips(tmp_path):
    shendu.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    model(shendu.randn(2, 1, 8, 8))  # moves the running statistics
    shendu.save(model, tmp_path / "model.pt")
    loaded = shendu.load(tmp_path / "model.pt")
    assert isinstance(loaded, nn.Sequential) and repr(loaded) == repr(model)
    model.eval()
    loaded.eval()
    x = shendu.randn(3, 1, 8, 8)
    np.testing.assert_array_equal(loaded(x).detach().numpy(), model(x).detach().numpy())


def test_a_torchvision_style_model_round_trips(tmp_path):
    model = models.squeezenet1_1(num_classes=4).eval()
    shendu.save(model, tmp_path / "squeeze.pt")
    loaded = shendu.load(tmp_path / "squeeze.pt").eval()
    x = shendu.randn(1, 3, 48, 48)
    np.testing.assert_array_equal(loaded(x).detach().numpy(), model(x).detach().numpy())


def test_a_model_of_an_unregistered_class_says_to_save_its_state_dict(tmp_path):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

    with pytest.raises(TypeError, match=r"cannot store a whole Net.*shendu.save\(model.state_dict\(\), path\)"):
        shendu.save(Net(), tmp_path / "net.pt")
    assert not (tmp_path / "net.pt").exists()


def test_a_tampered_architecture_is_refused(tmp_path):
    shendu.save(nn.Sequential(nn.Linear(3, 2)), tmp_path / "m.pt")
    raw = (tmp_path / "m.pt").read_bytes().replace(b"Linear", b"Lineax")
    (tmp_path / "m.pt").write_bytes(raw)
    with pytest.raises(SerializationError, match="unknown class_name 'Lineax'"):
        shendu.load(tmp_path / "m.pt")


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2", "googlenet", "vgg11_bn", "alexnet"])
def test_every_vision_model_family_saves_as_plain_data_and_reloads(tmp_path, name):
    with shendu.nn.init.skip_init():
        model = getattr(models, name)(num_classes=3)
    for p in model.parameters():  # deterministic weights without drawing millions of random numbers
        p.data.fill_(0.01)
    for b in model.buffers():
        b.fill_(1 if b.dtype == shendu.float32 else 0)
    shendu.save_model(model, tmp_path / name)
    loaded = shendu.load_model(tmp_path / name)
    assert repr(loaded) == repr(model)
    assert list(loaded.state_dict()) == list(model.state_dict())
