"""Pooling layers: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d, as PyTorch's."""

from ..ops.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    checked_max_pool2d,
    max_pool1d,
    max_pool2d,
    max_pool2d_geometry,
)
from ..tensor import Tensor
from .conv import layer_ints
from ..ops.unpooling import lp_pool1d, lp_pool2d, max_unpool1d, max_unpool2d
from .module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "MaxUnpool1d",
           "MaxUnpool2d", "LPPool1d", "LPPool2d"]


class _Pool(Module):
    _dims = 2

    def _validate(self, kernel_size, stride, padding, dilation=1):
        name, n = type(self).__name__, self._dims
        kernel = layer_ints(name, n, "kernel_size", kernel_size, 1)
        if stride is not None:
            layer_ints(name, n, "stride", stride, 1)
        pads = layer_ints(name, n, "padding", padding, 0)
        dilations = layer_ints(name, n, "dilation", dilation, 1)
        if any(p > (d * (k - 1) + 1) // 2 for k, p, d in zip(kernel, pads, dilations)):
            raise ValueError(
                f"{name}: padding should be at most half of the kernel size. "
                f"Received: padding={padding!r}, kernel_size={kernel_size!r}"
            )

    def _check_input(self, input):
        n = self._dims
        if input.ndim not in (n + 1, n + 2):
            layout = "(N, C, L) or (C, L)" if n == 1 else "(N, C, H, W) or (C, H, W)"
            raise ValueError(f"{type(self).__name__} got input of shape {tuple(input.shape)}; expected {layout}")


class MaxPool2d(_Pool):
    """2-D max pooling: y[n, c, i, j] = max over the window at (i·s - p, j·s - p).

    The gradient goes to the first maximum of each window (row-major), as PyTorch.

    Args:
        kernel_size: int or (kh, kw).
        stride: int or (sh, sw). Defaults to ``kernel_size``.
        padding: implicit -∞ padding, at most half the kernel. Defaults to 0.
        dilation: spacing of window elements. Defaults to 1.
        return_indices: also return the flat indices of the maxima. Defaults to False.
        ceil_mode: round the output size up. Defaults to False.

    Shape:
        input (N, C, H, W) → output (N, C, OH, OW), OH = ⌊(H + 2·p - d·(k-1) - 1) / s⌋ + 1.

    Example:
        >>> MaxPool2d(2)(randn(32, 32, 26, 26)).shape
        shendu.Size([32, 32, 13, 13])
    """

    _function = staticmethod(max_pool2d)
    _direct: tuple = (None, None)  # (the settings, {input (H, W): checked_max_pool2d's arguments}): see forward

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self._validate(kernel_size, stride, padding, dilation)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        # NOTE: a batched float input goes straight to the op, with the geometry worked out once per
        # input size: max_pool2d's checks cost more than pooling a one-image feature map. Every other
        # case takes the public path, with its checks and errors.
        if self._dims == 2 and isinstance(input, Tensor) and not self.return_indices:
            x = input._array
            if x.ndim == 4 and x.dtype.kind == "f":
                settings = (self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)
                made_from, geometries = self._direct  # geometries: a dict
                if made_from != settings:
                    geometries = {}
                    self._direct = (settings, geometries)
                spatial = x.shape[2:]
                args = geometries.get(spatial)
                if args is None and len(geometries) < 8:  # a few input sizes; more take the public path
                    try:
                        args = geometries[spatial] = max_pool2d_geometry(*settings, spatial)
                    except ValueError:  # max_pool2d raises it, with its message
                        pass
                if args is not None:
                    return checked_max_pool2d(input, *args)
        self._check_input(input)
        return self._function(
            input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices
        )

    def extra_repr(self):
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(MaxPool2d):
    """1-D max pooling over (N, C, L); arguments as :class:`MaxPool2d` (ints).

    Example:
        >>> MaxPool1d(3, stride=2)(randn(20, 16, 50)).shape
        shendu.Size([20, 16, 24])
    """

    _dims = 1
    _function = staticmethod(max_pool1d)


class AvgPool2d(_Pool):
    """2-D average pooling: y = Σ window / divisor.

    Args:
        kernel_size: int or (kh, kw).
        stride: int or (sh, sw). Defaults to ``kernel_size``.
        padding: implicit zero padding, at most half the kernel. Defaults to 0.
        ceil_mode: round the output size up. Defaults to False.
        count_include_pad: count the padding zeros in the divisor. Defaults to True.
        divisor_override: fixed divisor for every window. Defaults to None.

    Shape:
        input (N, C, H, W) → output (N, C, OH, OW), OH = ⌊(H + 2·p - k) / s⌋ + 1.

    Example:
        >>> AvgPool2d(2)(randn(1, 3, 8, 8)).shape
        shendu.Size([1, 3, 4, 4])
    """

    def __init__(
        self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True, divisor_override=None
    ) -> None:
        super().__init__()
        self._validate(kernel_size, stride, padding)
        if divisor_override is not None and (not isinstance(divisor_override, int) or divisor_override <= 0):
            raise ValueError(
                f"AvgPool2d: divisor_override must be a positive int. Received: divisor_override={divisor_override!r}"
            )
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        return avg_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_Pool):
    """1-D average pooling over (N, C, L); arguments as :class:`AvgPool2d` (ints).

    Example:
        >>> AvgPool1d(3, stride=2)(randn(1, 1, 7)).shape
        shendu.Size([1, 1, 3])
    """

    _dims = 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__()
        self._validate(kernel_size, stride, padding)
        single = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v,)  # noqa: E731
        self.kernel_size = single(kernel_size)
        self.stride = single(stride if stride is not None else kernel_size)
        self.padding = single(padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(_Pool):
    """Average pooling to a fixed output size: cell (i, j) averages rows ⌊i·H/OH⌋ … ⌈(i+1)·H/OH⌉ - 1 (and columns).

    Args:
        output_size: int or (OH, OW); None in a position keeps the input's size there.

    Shape:
        input (N, C, H, W) → output (N, C, OH, OW).

    Example:
        >>> AdaptiveAvgPool2d(1)(randn(2, 64, 7, 7)).shape
        shendu.Size([2, 64, 1, 1])
    """

    _function = staticmethod(adaptive_avg_pool2d)

    def __init__(self, output_size) -> None:
        super().__init__()
        n = self._dims
        sizes = (output_size,) * n if isinstance(output_size, int) or output_size is None else output_size
        ok = isinstance(sizes, (tuple, list)) and len(sizes) == n
        if not (ok and all(s is None or (isinstance(s, int) and not isinstance(s, bool) and s > 0) for s in sizes)):
            raise ValueError(
                f"{type(self).__name__}: output_size must be a positive int or a tuple of {n} (positive ints or None). "
                f"Received: output_size={output_size!r}"
            )
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        return self._function(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Average pooling of (N, C, L) to length ``output_size``.

    Example:
        >>> AdaptiveAvgPool1d(5)(randn(1, 64, 8)).shape
        shendu.Size([1, 64, 5])
    """

    _dims = 1
    _function = staticmethod(adaptive_avg_pool1d)


class _MaxUnpool(Module):
    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding = padding

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return self._function(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpool):
    """The partial inverse of MaxPool1d: values back at their indices, zeros elsewhere."""

    _function = staticmethod(max_unpool1d)


class MaxUnpool2d(_MaxUnpool):
    """The partial inverse of MaxPool2d (``return_indices=True``): values back at their indices, zeros elsewhere.

    Example:
        >>> pooled, indices = MaxPool2d(2, return_indices=True)(x)
        >>> MaxUnpool2d(2)(pooled, indices, output_size=x.size())
    """

    _function = staticmethod(max_unpool2d)


class _LPPool(Module):
    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        return self._function(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self):
        return f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, ceil_mode={self.ceil_mode}"


class LPPool1d(_LPPool):
    """Power-average pooling: (Σ_window x^p)^(1/p)."""

    _function = staticmethod(lp_pool1d)


class LPPool2d(_LPPool):
    """Power-average pooling over (kh, kw) windows: (Σ_window x^p)^(1/p)."""

    _function = staticmethod(lp_pool2d)
