"""Convolution layers: Conv1d and Conv2d, PyTorch's arguments, defaults and weight layout."""

import math

from .. import _dtype
from .._backend import xp
from ..ops.conv import checked_conv2d, conv1d, conv2d, conv_padding, int_tuple
from ..ops.conv_transpose import conv_transpose1d, conv_transpose2d
from ..ops.shape import pad
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

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


def _conv_repr(layer):
    """PyTorch's repr of a convolution layer: the sizes, then each setting that differs from its default."""
    n = layer._dims
    s = f"{layer.in_channels}, {layer.out_channels}, kernel_size={layer.kernel_size}, stride={layer.stride}"
    if layer.padding != (0,) * n:
        s += f", padding={layer.padding}"
    if layer.dilation != (1,) * n:
        s += f", dilation={layer.dilation}"
    if getattr(layer, "output_padding", (0,) * n) != (0,) * n:
        s += f", output_padding={layer.output_padding}"
    if layer.groups != 1:
        s += f", groups={layer.groups}"
    if layer.bias is None:
        s += ", bias=False"
    if layer.padding_mode != "zeros":
        s += f", padding_mode={layer.padding_mode}"
    return s


class _ConvNd(Module):
    """Shared construction, initialisation and repr of Conv1d and Conv2d."""

    _dims = 2
    _functional = staticmethod(conv2d)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
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

    def forward(self, input: Tensor) -> Tensor:
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
        return _conv_repr(self)


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
    _direct = (None, None)  # (the settings they were made from, the op's arguments): see _direct_args

    def forward(self, input: Tensor):
        # NOTE: a batched input of the weight's dtype goes straight to the op, with the layer's
        # arguments normalised once (``_direct_args``) -> Tensor: conv2d's checks of stride, padding,
        # dilation and groups cost about as much as the arithmetic of a one-image forward.
        # Every other case takes the public path, with its checks and errors.
        if isinstance(input, Tensor) and input._array.ndim == 4:
            settings = (self.in_channels, self.out_channels, self.kernel_size, self.stride, self.padding,
                        self.dilation, self.groups, self.padding_mode)  # fmt: skip
            made_from, direct = self._direct
            if made_from != settings:
                direct = self._direct_args(settings)
            params = self._parameters
            weight, bias = params["weight"], params["bias"]
            if direct is not None and isinstance(weight, Tensor):
                stride, padding, dilation, groups, weight_shape, bias_shape, min_h, min_w = direct
                x, w = input._array, weight._array
                if (
                    w.shape == weight_shape
                    and x.shape[1] == self.in_channels
                    and x.dtype == w.dtype
                    and x.shape[2] >= min_h
                    and x.shape[3] >= min_w
                    and (bias is None or (bias._array.shape == bias_shape and bias._array.dtype == w.dtype))
                ):
                    return checked_conv2d(input, weight, bias, stride, padding, dilation, groups)
        return super().forward(input)

    def _direct_args(self, settings):
        """The op's arguments for the layer's ``settings``, or None when conv2d must check or pad; cached.

        (stride, (top, bottom, left, right), dilation, groups, weight shape, bias shape, smallest H, smallest W).
        """
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups, padding_mode = settings
        direct = None
        try:
            kernel = int_tuple(kernel_size, 2, "kernel_size", "conv2d", 1)
            stride = int_tuple(stride, 2, "stride", "conv2d", 1)
            dilation = int_tuple(dilation, 2, "dilation", "conv2d", 1)
            (top, bottom), (left, right) = conv_padding(padding, kernel, dilation, stride, "conv2d")
        except ValueError:  # conv2d raises it, with its message
            pass
        else:
            usable = padding_mode == "zeros" and type(groups) is int and groups > 0
            if usable and type(in_channels) is int and in_channels % groups == 0 and out_channels % groups == 0:
                weight_shape = (out_channels, in_channels // groups) + kernel
                min_h = dilation[0] * (kernel[0] - 1) + 1 - top - bottom
                min_w = dilation[1] * (kernel[1] - 1) + 1 - left - right
                padding = (top, bottom, left, right)
                direct = (stride, padding, dilation, groups, weight_shape, (out_channels,), min_h, min_w)
        self._direct = (settings, direct)
        return direct


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


class _ConvTransposeNd(Module):
    """Shared construction of ConvTranspose1d/2d: weight (in_channels, out_channels/groups, *kernel), PyTorch's init."""

    _dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias: bool = True,
                 dilation=1, padding_mode: str = "zeros", device=None, dtype=None) -> None:  # fmt: skip
        super().__init__()
        name = type(self).__name__
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name}: {arg} must be a positive integer. Received: {arg}={value!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels and out_channels must be divisible by groups. Received: {in_channels}, {out_channels}, groups={groups}")
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')
        self.in_channels, self.out_channels, self.groups, self.padding_mode = in_channels, out_channels, groups, padding_mode
        self.kernel_size = layer_ints(name, self._dims, "kernel_size", kernel_size, 1)
        self.stride = layer_ints(name, self._dims, "stride", stride, 1)
        self.padding = layer_ints(name, self._dims, "padding", padding, 0)
        self.output_padding = layer_ints(name, self._dims, "output_padding", output_padding, 0)
        self.dilation = layer_ints(name, self._dims, "dilation", dilation, 1)
        numpy_dtype = _dtype.default_float.numpy_dtype if dtype is None else _dtype.to_numpy_dtype(dtype)
        self.weight = Parameter(xp.empty((in_channels, out_channels // groups) + self.kernel_size, numpy_dtype))
        if bias:
            self.bias = Parameter(xp.empty(out_channels, numpy_dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: kaiming_uniform(a=√5) on the weight (fan-in = out_channels/groups·∏kernel), bias U(±1/√fan_in)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.out_channels // self.groups * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def _output_padding(self, input, output_size):
        """``output_padding`` or, given ``output_size``, the one that yields it (as PyTorch)."""
        if output_size is None:
            return self.output_padding
        output_size = list(output_size)[-self._dims :]
        spatial = input.shape[-self._dims :]
        padding = []
        for n, size, k, s, p, d in zip(spatial, output_size, self.kernel_size, self.stride, self.padding, self.dilation):
            smallest = (n - 1) * s - 2 * p + d * (k - 1) + 1
            if not smallest <= size < smallest + s:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes range from {smallest} to {smallest + s - 1} (for an input of {tuple(spatial)})")
            padding.append(size - smallest)
        return tuple(padding)

    def extra_repr(self):
        return _conv_repr(self)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution ("deconvolution"): upsamples, as in DCGAN's generator.

    Shape: (N, C_in, H, W) → (N, C_out, H_out, W_out), H_out = (H − 1)·stride − 2·padding +
    dilation·(kH − 1) + output_padding + 1.

    Example:
        >>> up = ConvTranspose2d(64, 32, 4, stride=2, padding=1)   # doubles H and W
    """

    def forward(self, input: Tensor, output_size=None):
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups, self.dilation)  # fmt: skip


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution: (N, C_in, L) → (N, C_out, L_out)."""

    _dims = 1

    def forward(self, input: Tensor, output_size=None):
        return conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups, self.dilation)  # fmt: skip
