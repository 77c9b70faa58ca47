"""VGG (Simonyan & Zisserman, 2015), as torchvision builds it: ``features``, ``avgpool``, ``classifier``.

Configurations A, B, D, E are VGG-11, 13, 16, 19 (``_bn``: a BatchNorm after every convolution);
``vgg16`` has 138,357,544 parameters. Weights: convolutions He-normal (fan-out), linear layers
N(0, 0.01), biases 0.
"""

from ... import nn
from ...ops.shape import flatten
from ._weights import check_weights
from ...tensor import Tensor

__all__ = ["VGG", "make_layers", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"]

CONFIGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


class VGG(nn.Module):
    """``features`` (3×3 convolutions and max-pools), adaptive average pool to 7×7, three linear layers."""

    def __init__(self, features, num_classes: int = 1000, init_weights: bool = True, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )  # fmt: skip
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(flatten(self.avgpool(self.features(x)), 1))


def make_layers(config, batch_norm=False):
    """The ``features`` Sequential of a configuration: numbers are 3×3 convolutions, "M" a 2×2 max-pool."""
    layers, in_channels = [], 3
    for value in config:
        if value == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers.append(nn.Conv2d(in_channels, value, kernel_size=3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(value))
            layers.append(nn.ReLU(inplace=True))
            in_channels = value
    return nn.Sequential(*layers)


def _vgg(name, config, batch_norm, kwargs):
    kwargs = check_weights(name, **kwargs)
    return VGG(make_layers(CONFIGS[config], batch_norm), **kwargs)


def vgg11(**kwargs):
    """VGG-11 (configuration A)."""
    return _vgg("vgg11", "A", False, kwargs)


def vgg11_bn(**kwargs):
    """VGG-11 with BatchNorm."""
    return _vgg("vgg11_bn", "A", True, kwargs)


def vgg13(**kwargs):
    """VGG-13 (configuration B)."""
    return _vgg("vgg13", "B", False, kwargs)


def vgg13_bn(**kwargs):
    """VGG-13 with BatchNorm."""
    return _vgg("vgg13_bn", "B", True, kwargs)


def vgg16(**kwargs):
    """VGG-16 (configuration D): 138,357,544 parameters."""
    return _vgg("vgg16", "D", False, kwargs)


def vgg16_bn(**kwargs):
    """VGG-16 with BatchNorm."""
    return _vgg("vgg16_bn", "D", True, kwargs)


def vgg19(**kwargs):
    """VGG-19 (configuration E)."""
    return _vgg("vgg19", "E", False, kwargs)


def vgg19_bn(**kwargs):
    """VGG-19 with BatchNorm."""
    return _vgg("vgg19_bn", "E", True, kwargs)
