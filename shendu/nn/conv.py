"""Convolution layers: Conv1d and Conv2d, PyTorch's arguments, defaults and weight layout."""

import math

from .. import _dtype
from .._backend import xp
from ..ops.conv import conv1d, conv2d, conv_padding
from ..ops.shape import pad
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def layer_ints(layer, dims, name, value, minimum):
    """``value`` (an int or a dims-tuple of ints, each ≥ ``minimum``) as a tuple; ValueError naming the layer otherwise."""
    values = (value,) * dims if isinstance(value, int) and not isinstance(value, bool) else value
    ok = isinstance(values, (tuple, list)) and len(values) == dims
    if not (ok and all(isinstance(v, int) and not isinstance(v, bool) for v in values)):
        raise ValueError(f"{layer}: {name} must be an int or a tuple of {dims} ints. Received: {name}={value!r}")
    if any(v < minimum for v in values):
        kind = "positive" if minimum > 0 else "non-negative"
        raise ValueError(f"{layer}: {name} must be {kind}. Received: {name}={value!r}")
    return tuple(values)


class _ConvNd(Module):
    """Shared construction, initialisation and repr of Conv1d and Conv2d."""

    _dims = 2
    _functional = staticmethod(conv2d)

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ):
        super().__init__()
        name = type(self).__name__
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name}: {arg} must be a positive integer. Received: {arg}={value!r}")
        self.kernel_size = self._tuple(kernel_size, "kernel_size", 1)
        self.stride = self._tuple(stride, "stride", 1)
        self.dilation = self._tuple(dilation, "dilation", 1)
        if in_channels % groups:
            raise ValueError(
                f"{name}: in_channels must be divisible by groups. Received: in_channels={in_channels}, groups={groups}"
            )
        if out_channels % groups:
            raise ValueError(
                f"{name}: out_channels must be divisible by groups. Received: out_channels={out_channels}, groups={groups}"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{name}: padding_mode must be one of {_PADDING_MODES}. Received: padding_mode={padding_mode!r}"
            )
        if isinstance(padding, str):
            self._pads = conv_padding(padding, self.kernel_size, self.dilation, self.stride, name)
            self.padding = padding
        else:
            self.padding = self._tuple(padding, "padding", 0)
            self._pads = tuple((p, p) for p in self.padding)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.padding_mode = padding_mode
        numpy_dtype = _dtype.default_float.numpy_dtype if dtype is None else _dtype.to_numpy_dtype(dtype)
        self.weight = Parameter(xp.empty((out_channels, in_channels // groups) + self.kernel_size, numpy_dtype))
        if bias:
            self.bias = Parameter(xp.empty(out_channels, numpy_dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _tuple(self, value, arg, minimum):
        return layer_ints(type(self).__name__, self._dims, arg, value, minimum)

    def reset_parameters(self):
        """PyTorch's default: weight kaiming_uniform(a=√5), i.e. U(-1/√fan_in, 1/√fan_in); bias the same bound."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_channels // self.groups * math.prod(self.kernel_size)
            if fan_in:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        n = self._dims
        spatial = "L" if n == 1 else "H, W"
        if input.ndim not in (n + 1, n + 2) or input.shape[-n - 1] != self.in_channels:
            raise ValueError(
                f"{type(self).__name__}(in_channels={self.in_channels}) got input of shape {tuple(input.shape)}; "
                f"expected (N, {self.in_channels}, {spatial})"
            )
        if self.padding_mode == "zeros":
            return self._functional(
                input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
            )
        widths = tuple(w for pair in reversed(self._pads) for w in pair)  # F.pad order: last dim first
        return self._functional(
            pad(input, widths, mode=self.padding_mode),
            self.weight,
            self.bias,
            self.stride,
            0,
            self.dilation,
            self.groups,
        )

    def extra_repr(self):
        n = self._dims
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-D convolution layer: y[n, o] = b[o] + Σ_c W[o, c] ⋆ x[n, c] (⋆: cross-correlation).

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output (number of filters).
        kernel_size: int or (kh, kw).
        stride: int or (sh, sw). Defaults to 1.
        padding: int, (ph, pw), 'valid' or 'same' (stride 1 only). Defaults to 0.
        dilation: int or (dh, dw). Defaults to 1.
        groups: independent channel groups (in and out channels divisible by it). Defaults to 1.
        bias: learn a per-channel bias. Defaults to True.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'. Defaults to 'zeros'.
        dtype: parameter dtype. Defaults to float32.

    Shape:
        input (N, C_in, H, W) → output (N, C_out, OH, OW), OH = ⌊(H + 2·ph - dh·(kh-1) - 1) / sh⌋ + 1.

    Attributes:
        weight: (out_channels, in_channels/groups, kh, kw), kaiming_uniform(a=√5) as PyTorch.
        bias: (out_channels,), U(-1/√fan_in, 1/√fan_in) with fan_in = in_channels/groups·kh·kw.

    Example:
        >>> conv = Conv2d(1, 32, 3)
        >>> conv(randn(32, 1, 28, 28)).shape
        shendu.Size([32, 32, 26, 26])
    """

    _dims = 2
    _functional = staticmethod(conv2d)


class Conv1d(_ConvNd):
    """1-D convolution layer: y[n, o, i] = b[o] + Σ_{c, p} W[o, c, p] · x[n, c, i·s + p·d - pad].

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        kernel_size: int.
        stride: Defaults to 1.
        padding: int, 'valid' or 'same' (stride 1 only). Defaults to 0.
        dilation: Defaults to 1.
        groups: Defaults to 1.
        bias: Defaults to True.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'. Defaults to 'zeros'.
        dtype: parameter dtype. Defaults to float32.

    Shape:
        input (N, C_in, L) → output (N, C_out, L_out), L_out = ⌊(L + 2·pad - d·(k-1) - 1) / s⌋ + 1.

    Attributes:
        weight: (out_channels, in_channels/groups, k). bias: (out_channels,). Initialised as PyTorch.

    Example:
        >>> Conv1d(16, 33, 3, stride=2)(randn(20, 16, 50)).shape
        shendu.Size([20, 33, 24])
    """

    _dims = 1
    _functional = staticmethod(conv1d)
