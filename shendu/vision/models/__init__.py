"""``shendu.vision.models``: the classic image classifiers with torchvision's constructors, module names and
``state_dict`` keys, so a torchvision ``state_dict`` loads unchanged (``shendu.load`` reads ``.pth`` files).

One module per family: :mod:`.alexnet`, :mod:`.vgg`, :mod:`.resnet`, :mod:`.mobilenetv2`,
:mod:`.squeezenet`, :mod:`.googlenet`. Every builder takes ``weights=None`` / ``pretrained=False``
and torchvision's keyword arguments (``num_classes``, ...); pretrained weights are never downloaded
(asking for them explains how to load a local file).

Example:
    >>> from shendu.vision import models
    >>> model = models.resnet18(weights=None)
    >>> model.load_state_dict(shendu.load("resnet18-f37072fd.pth"))   # a torchvision checkpoint
"""

from ._weights import PretrainedWeightsUnavailable
from .alexnet import AlexNet, alexnet
from .googlenet import GoogLeNet, GoogLeNetOutputs, googlenet
from .mobilenetv2 import MobileNetV2, mobilenet_v2
from .resnet import (
    ResNet, resnet18, resnet34, resnet50, resnet101, resnet152, resnext50_32x4d, resnext101_32x8d, wide_resnet50_2,
    wide_resnet101_2,
)  # fmt: skip
from .squeezenet import SqueezeNet, squeezenet1_0, squeezenet1_1
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn

__all__ = [
    "AlexNet", "alexnet", "VGG", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    "ResNet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d",
    "wide_resnet50_2", "wide_resnet101_2", "MobileNetV2", "mobilenet_v2", "SqueezeNet", "squeezenet1_0",
    "squeezenet1_1", "GoogLeNet", "GoogLeNetOutputs", "googlenet", "PretrainedWeightsUnavailable", "list_models",
    "get_model",
]  # fmt: skip

def _register():
    """Every class of these models is a registered layer: shendu.save(model) and save_model store them as plain data."""
    from ...io.model_files import register_layer
    from ._helpers import Conv2dNormActivation
    from .googlenet import BasicConv2d, Inception, InceptionAux
    from .mobilenetv2 import InvertedResidual
    from .resnet import BasicBlock, Bottleneck
    from .squeezenet import Fire

    for klass in (AlexNet, VGG, ResNet, BasicBlock, Bottleneck, MobileNetV2, InvertedResidual, SqueezeNet, Fire, GoogLeNet,
                  Inception, InceptionAux, BasicConv2d, Conv2dNormActivation):  # fmt: skip
        register_layer(klass)


_register()

_BUILDERS = {name: globals()[name] for name in __all__ if name[0].islower() and name not in ("list_models", "get_model")}


def list_models():
    """The names of every model builder (torchvision's ``list_models``)."""
    return sorted(_BUILDERS)


def get_model(name, **config):
    """The model called ``name`` built with ``config`` (torchvision's ``get_model``)."""
    if name not in _BUILDERS:
        raise ValueError(f"Unknown model {name!r}; known: {', '.join(sorted(_BUILDERS))}")
    return _BUILDERS[name](**config)
