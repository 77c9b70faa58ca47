"""Small pieces shared by the model families: torchvision's rounding of channel counts, its
convolution + normalisation + activation block, and configs for models whose arguments are classes."""

import inspect

from ... import nn

__all__ = ["make_divisible", "Conv2dNormActivation", "ClassArguments"]

#: Constructor arguments that take a layer class (``block=Bottleneck``, ``norm_layer=nn.BatchNorm2d``).
CLASS_ARGUMENTS = ("block", "blocks", "norm_layer", "activation_layer", "conv_block")


def _class_by_name(name):
    from ...io.model_files import _lookup

    return _lookup(name, "a model's layer class argument")


class ClassArguments:
    """Gives a model whose constructor takes layer classes a plain-data config (classes by their registered
    names), so ``shendu.save_model`` and ``shendu.save(model)`` can store it and rebuild it."""

    def get_config(self):
        from ...io.model_files import _name_of

        args, kwargs = getattr(self, "_init_args", ((), {}))
        bound = inspect.signature(type(self)).bind(*args, **kwargs)
        config = {}
        for key, value in bound.arguments.items():
            if key in CLASS_ARGUMENTS and value is not None:
                value = [_name_of(v, key) for v in value] if isinstance(value, (tuple, list)) else _name_of(value, key)
            config[key] = value
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in CLASS_ARGUMENTS:
            value = config.get(key)
            if isinstance(value, str):
                config[key] = _class_by_name(value)
            elif isinstance(value, (list, tuple)):
                config[key] = tuple(_class_by_name(v) for v in value)
        return cls(**config)


def make_divisible(value, divisor, min_value=None):
    """``value`` rounded to the nearest multiple of ``divisor``, never more than 10 % below it (MobileNet's rule)."""
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class Conv2dNormActivation(ClassArguments, nn.Sequential):
    """Conv2d (no bias when a norm follows), a normalisation layer, an activation: torchvision's block."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1, inplace=True, bias=None):  # fmt: skip
        if padding is None:
            padding = (kernel_size - 1) // 2 * dilation
        if bias is None:
            bias = norm_layer is None
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation, groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer())
        super().__init__(*layers)
        self.out_channels = out_channels
