"""ResNet (He et al., 2016), as torchvision builds it: the same modules, names and ``state_dict`` keys.

``resnet18`` has 11,689,512 parameters, ``resnet50`` 25,557,032. BasicBlock: two 3×3 convolutions;
Bottleneck: 1×1 → 3×3 (stride here, "ResNet v1.5") → 1×1 with 4× the channels; a 1×1 convolution
and BatchNorm form the shortcut where the shape changes. Weights: convolutions He-normal (fan-out),
BatchNorm γ = 1, β = 0.

Example:
    >>> model = resnet18(num_classes=10)
    >>> model(shendu.randn(2, 3, 32, 32)).shape
    shendu.Size([2, 10])
"""

from ... import nn
from ...ops.shape import flatten
from ._helpers import ClassArguments
from ._weights import check_weights
from ...tensor import Tensor

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
           "resnext50_32x4d", "resnext101_32x8d", "wide_resnet50_2", "wide_resnet101_2"]  # fmt: skip


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    return nn.Conv2d(in_planes, out_planes, 3, stride=stride, padding=dilation, groups=groups, bias=False, dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False)


class BasicBlock(ClassArguments, nn.Module):
    """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), two 3×3 convolutions."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1, norm_layer=None) -> None:
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(ClassArguments, nn.Module):
    """1×1 reduce, 3×3 (with the stride), 1×1 expand to 4× planes, plus the shortcut."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1, norm_layer=None) -> None:
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(ClassArguments, nn.Module):
    """conv 7×7/2, max-pool 3×3/2, four stages of blocks (64, 128, 256, 512 planes), global average pool, fc."""

    def __init__(self, block, layers, num_classes: int = 1000, zero_init_residual: bool = False, groups=1, width_per_group=64,
                 replace_stride_with_dilation=None, norm_layer=None) -> None:  # fmt: skip
        super().__init__()
        self._norm_layer = norm_layer or nn.BatchNorm2d
        self.inplanes, self.dilation = 64, 1
        replace_stride_with_dilation = replace_stride_with_dilation or [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError(f"replace_stride_with_dilation should be None or a 3-element tuple, got {replace_stride_with_dilation}")
        self.groups, self.base_width = groups, width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2, dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2, dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2, dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        norm_layer, downsample, previous_dilation = self._norm_layer, None, self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride), norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width, previous_dilation, norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups, base_width=self.base_width,
                                dilation=self.dilation, norm_layer=norm_layer))  # fmt: skip
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(flatten(self.avgpool(x), 1))


def _resnet(name, block, layers, kwargs):
    return ResNet(block, layers, **check_weights(name, **kwargs))


def resnet18(**kwargs):
    """ResNet-18: BasicBlocks [2, 2, 2, 2]; 11,689,512 parameters."""
    return _resnet("resnet18", BasicBlock, [2, 2, 2, 2], kwargs)


def resnet34(**kwargs):
    """ResNet-34: BasicBlocks [3, 4, 6, 3]; 21,797,672 parameters."""
    return _resnet("resnet34", BasicBlock, [3, 4, 6, 3], kwargs)


def resnet50(**kwargs):
    """ResNet-50: Bottlenecks [3, 4, 6, 3]; 25,557,032 parameters."""
    return _resnet("resnet50", Bottleneck, [3, 4, 6, 3], kwargs)


def resnet101(**kwargs):
    """ResNet-101: Bottlenecks [3, 4, 23, 3]; 44,549,160 parameters."""
    return _resnet("resnet101", Bottleneck, [3, 4, 23, 3], kwargs)


def resnet152(**kwargs):
    """ResNet-152: Bottlenecks [3, 8, 36, 3]; 60,192,808 parameters."""
    return _resnet("resnet152", Bottleneck, [3, 8, 36, 3], kwargs)


def resnext50_32x4d(**kwargs):
    """ResNeXt-50 32×4d: 32 groups of width 4."""
    return _resnet("resnext50_32x4d", Bottleneck, [3, 4, 6, 3], {"groups": 32, "width_per_group": 4, **kwargs})


def resnext101_32x8d(**kwargs):
    """ResNeXt-101 32×8d."""
    return _resnet("resnext101_32x8d", Bottleneck, [3, 4, 23, 3], {"groups": 32, "width_per_group": 8, **kwargs})


def wide_resnet50_2(**kwargs):
    """Wide ResNet-50-2: bottlenecks twice as wide."""
    return _resnet("wide_resnet50_2", Bottleneck, [3, 4, 6, 3], {"width_per_group": 128, **kwargs})


def wide_resnet101_2(**kwargs):
    """Wide ResNet-101-2."""
    return _resnet("wide_resnet101_2", Bottleneck, [3, 4, 23, 3], {"width_per_group": 128, **kwargs})
