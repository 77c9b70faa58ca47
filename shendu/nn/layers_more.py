"""Small layers of PyTorch's ``nn`` built from existing ops: explicit padding layers, ``CosineSimilarity``,
``PairwiseDistance``, ``GLU``, ``Softmax2d``, ``PixelShuffle``/``PixelUnshuffle``, ``InstanceNorm1d/2d``."""

from ..ops.activation import softmax
from ..ops.shape import pad, reshape
from . import functional as F
from .module import Module
from .normalization import GroupNorm
from ..tensor import Tensor

__all__ = [
    "ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d",
    "ReplicationPad2d", "CosineSimilarity", "PairwiseDistance", "GLU", "Softmax2d", "PixelShuffle", "PixelUnshuffle",
    "InstanceNorm1d", "InstanceNorm2d", "RMSNorm", "Bilinear", "ChannelShuffle", "Unfold", "Fold", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d", "LazyLinear",
]  # fmt: skip


class _Pad(Module):
    _dims, _mode = 2, "constant"

    def __init__(self, padding, value: float = 0.0) -> None:
        super().__init__()
        self.padding = (padding,) * (2 * self._dims) if isinstance(padding, int) else tuple(padding)
        if len(self.padding) != 2 * self._dims:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a {2 * self._dims}-tuple")
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, mode=self._mode, value=self.value) if self._mode == "constant" else pad(input, self.padding, mode=self._mode)

    def extra_repr(self):
        return f"{self.padding}" + (f", value={self.value}" if type(self).__name__.startswith("ConstantPad") else "")


class ZeroPad1d(_Pad):
    """Pad the last dimension with zeros: (left, right)."""

    _dims = 1

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(ZeroPad1d):
    """Pad the last two dimensions with zeros: (left, right, top, bottom)."""

    _dims = 2


class ConstantPad1d(_Pad):
    """Pad the last dimension with ``value``."""

    _dims = 1


class ConstantPad2d(_Pad):
    """Pad the last two dimensions with ``value``."""


class ReflectionPad1d(ZeroPad1d):
    """Pad the last dimension by reflection (the edge not repeated)."""

    _mode = "reflect"


class ReflectionPad2d(ReflectionPad1d):
    _dims = 2


class ReplicationPad1d(ZeroPad1d):
    """Pad the last dimension by repeating the edge."""

    _mode = "replicate"


class ReplicationPad2d(ReplicationPad1d):
    _dims = 2


class CosineSimilarity(Module):
    """x·y / max(‖x‖·‖y‖, eps) along ``dim``."""

    def __init__(self, dim=1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """‖x − y + eps‖_p along the last dimension."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class GLU(Module):
    """a ⊗ σ(b) with (a, b) the two halves of ``dim``."""

    def __init__(self, dim=-1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W) at each position."""

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input of 3 or 4 dimensions; got {input.ndim}")
        return softmax(input, -3)


class PixelShuffle(Module):
    """(N, C·r², H, W) → (N, C, H·r, W·r)."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(N, C, H·r, W·r) → (N, C·r², H, W)."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class _InstanceNorm(Module):
    """Normalise each channel of each sample over its positions (GroupNorm with one channel per group)."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum=0.1, affine: bool = False, track_running_stats: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        if track_running_stats:
            raise NotImplementedError(f"{type(self).__name__}: track_running_stats=True is not available")
        self.num_features, self.eps, self.momentum, self.affine, self.track_running_stats = num_features, eps, momentum, affine, False
        norm = GroupNorm(num_features, num_features, eps=eps, affine=affine, dtype=dtype)
        if affine:
            self.weight, self.bias = norm.weight, norm.bias

    def forward(self, input: Tensor) -> Tensor:
        unbatched = input.ndim == self._dims + 1
        x = reshape(input, (1, *input.shape)) if unbatched else input
        y = F.group_norm(x, self.num_features, self.weight if self.affine else None, self.bias if self.affine else None, self.eps)
        return reshape(y, tuple(input.shape)) if unbatched else y

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, track_running_stats={self.track_running_stats}"


class InstanceNorm1d(_InstanceNorm):
    _dims = 1


class InstanceNorm2d(_InstanceNorm):
    _dims = 2




class RMSNorm(Module):
    """x / √(mean(x²) + eps) · γ over the last ``normalized_shape`` dimensions (eps defaults to the dtype's epsilon)."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine: bool = True, device=None, dtype=None) -> None:
        import numpy as np

        from .. import _dtype
        from .parameter import Parameter

        super().__init__()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            numpy_dtype = _dtype.default_float.numpy_dtype if dtype is None else _dtype.to_numpy_dtype(dtype)
            self.weight = Parameter(np.ones(self.normalized_shape, numpy_dtype))
        else:
            self.register_parameter("weight", None)

    def forward(self, input: Tensor) -> Tensor:
        import numpy as np

        dims = tuple(range(-len(self.normalized_shape), 0))
        eps = float(np.finfo(input._array.dtype).eps) if self.eps is None else self.eps
        out = input * ((input * input).mean(dim=dims, keepdim=True) + eps).rsqrt()
        return out * self.weight if self.weight is not None else out

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class Bilinear(Module):
    """y = x₁ᵀ·A·x₂ + b, A of shape (out_features, in1_features, in2_features), PyTorch's initialisation U(±1/√in1)."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        import math

        import numpy as np

        from .. import _dtype
        from . import init
        from .parameter import Parameter

        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        numpy_dtype = _dtype.default_float.numpy_dtype if dtype is None else _dtype.to_numpy_dtype(dtype)
        self.weight = Parameter(np.empty((out_features, in1_features, in2_features), numpy_dtype))
        if bias:
            self.bias = Parameter(np.empty(out_features, numpy_dtype))
        else:
            self.register_parameter("bias", None)
        bound = 1 / math.sqrt(in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        from ..ops.linalg import einsum

        out = einsum("bi,oij,bj->bo", input1.reshape(-1, self.in1_features), self.weight, input2.reshape(-1, self.in2_features))
        out = out.reshape(*input1.shape[:-1], self.out_features)
        return out + self.bias if self.bias is not None else out

    def extra_repr(self):
        return f"in1_features={self.in1_features}, in2_features={self.in2_features}, out_features={self.out_features}, bias={self.bias is not None}"


class ChannelShuffle(Module):
    """Interleave the channels of ``groups`` groups (ShuffleNet): (N, g·k, *) → channel order k × g."""

    def __init__(self, groups) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        n, c = input.shape[0], input.shape[1]
        rest = tuple(input.shape[2:])
        x = input.reshape(n, self.groups, c // self.groups, *rest)
        return x.transpose(1, 2).reshape(n, c, *rest)

    def extra_repr(self):
        return f"groups={self.groups}"


class Unfold(Module):
    """Sliding windows as columns: (N, C, H, W) → (N, C·kH·kW, L) (see ``F.unfold``)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, stride={self.stride}"


class Fold(Unfold):
    """Columns summed back into an image: (N, C·kH·kW, L) → (N, C, H, W) (see ``F.fold``)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__(kernel_size, dilation, padding, stride)
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return f"output_size={self.output_size}, " + super().extra_repr()


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed output size (PyTorch's windows)."""

    _function = staticmethod(F.adaptive_max_pool2d)

    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._function(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    _function = staticmethod(F.adaptive_max_pool1d)


class LazyLinear(Module):
    """A Linear layer whose ``in_features`` is taken from its first input; it then becomes a plain ``Linear``."""

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.out_features, self._bias, self._dtype = out_features, bias, dtype
        self.in_features = 0

    def forward(self, input: Tensor) -> Tensor:
        from .linear import Linear

        if not self.in_features:
            layer = Linear(input.shape[-1], self.out_features, bias=self._bias, dtype=self._dtype or input.dtype)
            self.in_features = layer.in_features
            self.weight, self.bias = layer.weight, layer.bias
            self.__class__ = Linear  # type: ignore[assignment]  # as PyTorch's lazy modules become their full class
            return self.forward(input)
        raise RuntimeError("LazyLinear: uninitialized")
