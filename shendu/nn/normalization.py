"""Normalisation layers: BatchNorm1d/2d/3d, LayerNorm, GroupNorm (PyTorch's names, arguments and state)."""

import numbers

from .._backend import xp
from ..autograd import is_grad_enabled
from ..ops.normalization import batch_norm, eval_batch_norm, group_norm, layer_norm
from ..tensor import Tensor
from . import init
from .linear import _check_size, _factory_dtype
from .module import Module
from .parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm", "LocalResponseNorm"]


def _add_affine(module, enabled, bias, shape, numpy_dtype):
    """Register γ (``weight``) and β (``bias``) of ``shape``; each is None when switched off."""
    module.register_parameter("weight", Parameter(xp.empty(shape, numpy_dtype)) if enabled else None)
    module.register_parameter("bias", Parameter(xp.empty(shape, numpy_dtype)) if enabled and bias else None)


def _reset_affine(module):
    """γ = 1, β = 0."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


def _check_tensor(module, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{type(module).__name__} expects a Tensor input; got {type(input).__name__}")


def _check_eps(layer, eps):
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or eps < 0:
        raise ValueError(f"{layer}: eps must be a non-negative number. Received: eps={eps!r}")
    return eps


class _BatchNorm(Module):
    """Batch normalisation (Ioffe & Szegedy 2015) over dim 1: y = γ·(x - E[x]) / √(Var[x] + ε) + β.

    In training mode the statistics come from the batch (biased variance) and the running
    estimates are updated: ``running = (1 - momentum)·running + momentum·batch``, with the
    unbiased variance for ``running_var``; ``momentum=None`` gives the cumulative average
    (factor 1/num_batches_tracked). In eval mode the running estimates are used.
    """

    _layout = "(N, C, *)"
    _ndims: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum=0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.num_features = _check_size(name, "num_features", num_features)
        self.eps = _check_eps(name, eps)
        if momentum is not None and (
            isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or not 0 <= float(momentum) <= 1
        ):
            raise ValueError(f"{name}: momentum must be a number in [0, 1] or None. Received: momentum={momentum!r}")
        self.momentum = momentum
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        numpy_dtype = _factory_dtype(device, dtype)
        _add_affine(self, self.affine, bias, self.num_features, numpy_dtype)
        if self.track_running_stats:
            # Allocated empty and filled by reset_running_stats (nothing is touched when a model is
            # rebuilt from a file, whose weights then fill them).
            self.register_buffer("running_mean", Tensor(xp.empty(self.num_features, numpy_dtype)))
            self.register_buffer("running_var", Tensor(xp.empty(self.num_features, numpy_dtype)))
            self.register_buffer("num_batches_tracked", Tensor(xp.zeros((), xp.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats and not init.skipping():
            self.running_mean._array[...] = 0
            self.running_var._array[...] = 1
            self.num_batches_tracked._array[...] = 0

    def reset_parameters(self):
        """Reset the running statistics, γ = 1 and β = 0."""
        self.reset_running_stats()
        _reset_affine(self)

    def _layout_for(self):
        c = self.num_features
        return self._layout.replace("C", str(c))

    def _check_input(self, input):
        _check_tensor(self, input)
        if input.ndim not in self._ndims or input.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}(num_features={self.num_features}) got input of shape {tuple(input.shape)}; "
                f"expected {self._layout_for()}"
            )

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        if not self.training and self.running_mean is not None and not is_grad_enabled() and self._same_dtype(input):
            # NOTE: inference straight to the normalisation, without the functional form's checks of arguments that
            # are the module's own, nor an autograd node: ~3 µs of a call; with the axis orders of ops.normalization
            # as constants, a batch norm of 1×512×7×7 29 → 21 µs, of 1×64×56×56 60 → 45 µs (one thread)
            array = input._array
            weight, bias = (None if p is None else p._array for p in (self.weight, self.bias))
            y = eval_batch_norm(array, self.running_mean._array, self.running_var._array, weight, bias, self.eps)
            return Tensor._from_op(y, False)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked._array += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked._array)
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        keep_running = not self.training or self.track_running_stats
        return batch_norm(
            input,
            self.running_mean if keep_running else None,
            self.running_var if keep_running else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )

    def _same_dtype(self, input):
        """Whether the input is a floating tensor of the parameters' dtype (the functional form casts otherwise)."""
        dtype = input._array.dtype
        return dtype.kind == "f" and all(p is None or p._array.dtype == dtype for p in (self.weight, self.bias))

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per feature/channel C.

    y = γ·(x - E[x]) / √(Var[x] + ε) + β, the statistics over N (and L).

    Args:
        num_features: C.
        eps: added to the variance. Defaults to 1e-5.
        momentum: weight of the new batch in the running statistics; None for a cumulative
            average. Defaults to 0.1.
        affine: learn γ (init 1) and β (init 0). Defaults to True.
        track_running_stats: keep running_mean/running_var buffers and use them in eval mode;
            otherwise batch statistics are used in both modes. Defaults to True.
        bias: learn β (keyword only). Defaults to True.

    Shape:
        (N, C) → (N, C); (N, C, L) → (N, C, L).

    Example:
        >>> bn = BatchNorm1d(100)
        >>> bn(randn(20, 100)).shape
        shendu.Size([20, 100])
    """

    _layout = "(N, C) or (N, C, L)"
    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) images, per channel C (statistics over N, H, W).

    Arguments as :class:`BatchNorm1d`.

    Example:
        >>> bn = BatchNorm2d(16)
        >>> bn(randn(8, 16, 28, 28)).shape
        shendu.Size([8, 16, 28, 28])
    """

    _layout = "(N, C, H, W)"
    _ndims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) volumes, per channel C. Arguments as :class:`BatchNorm1d`."""

    _layout = "(N, C, D, H, W)"
    _ndims = (5,)


class LayerNorm(Module):
    """Layer normalisation (Ba et al. 2016): each sample normalised over its last dims.

    y = γ·(x - E[x]) / √(Var[x] + ε) + β, mean and (biased) variance over ``normalized_shape``;
    the same in training and evaluation.

    Args:
        normalized_shape: an int or a shape: the trailing dims of the input to normalise over.
        eps: added to the variance. Defaults to 1e-5.
        elementwise_affine: learn γ (init 1) and β (init 0) of shape ``normalized_shape``. Defaults to True.
        bias: learn β when ``elementwise_affine``. Defaults to True.

    Shape:
        (*, *normalized_shape) → same.

    Example:
        >>> ln = LayerNorm(64)
        >>> ln(randn(32, 10, 64)).shape
        shendu.Size([32, 10, 64])
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
        if not shape:
            raise ValueError(
                f"LayerNorm: normalized_shape must not be empty. Received: normalized_shape={normalized_shape!r}"
            )
        for size in shape:
            _check_size("LayerNorm", "normalized_shape", size)
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps = _check_eps("LayerNorm", eps)
        self.elementwise_affine = bool(elementwise_affine)
        numpy_dtype = _factory_dtype(device, dtype)
        _add_affine(self, self.elementwise_affine, bias, self.normalized_shape, numpy_dtype)
        self.reset_parameters()

    def reset_parameters(self):
        """γ = 1, β = 0."""
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        _check_tensor(self, input)
        k = len(self.normalized_shape)
        if input.ndim < k or tuple(input.shape[input.ndim - k :]) != self.normalized_shape:
            raise ValueError(
                f"LayerNorm(normalized_shape={self.normalized_shape}) got input of shape {tuple(input.shape)}; "
                f"expected (*, {', '.join(map(str, self.normalized_shape))})"
            )
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Group normalisation (Wu & He 2018): channels split into groups, each normalised per sample.

    Args:
        num_groups: G; must divide ``num_channels``.
        num_channels: C.
        eps: added to the variance. Defaults to 1e-5.
        affine: learn per-channel γ (init 1) and β (init 0). Defaults to True.
        bias: learn β when ``affine`` (keyword only). Defaults to True.

    Shape:
        (N, C, *) → same.

    Example:
        >>> gn = GroupNorm(4, 16)
        >>> gn(randn(2, 16, 8, 8)).shape
        shendu.Size([2, 16, 8, 8])
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_groups = _check_size("GroupNorm", "num_groups", num_groups)
        self.num_channels = _check_size("GroupNorm", "num_channels", num_channels)
        if self.num_channels % self.num_groups:
            raise ValueError(
                f"GroupNorm: num_channels must be divisible by num_groups. "
                f"Received: num_groups={num_groups}, num_channels={num_channels}"
            )
        self.eps = _check_eps("GroupNorm", eps)
        self.affine = bool(affine)
        numpy_dtype = _factory_dtype(device, dtype)
        _add_affine(self, self.affine, bias, self.num_channels, numpy_dtype)
        self.reset_parameters()

    def reset_parameters(self):
        """γ = 1, β = 0."""
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        _check_tensor(self, input)
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(
                f"GroupNorm(num_groups={self.num_groups}, num_channels={self.num_channels}) got input of shape "
                f"{tuple(input.shape)}; expected (N, {self.num_channels}, *)"
            )
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, bias={self.bias is not None}"


class LocalResponseNorm(Module):
    """Normalise each channel by its neighbours' energy: b_c = a_c / (k + α/n Σ a_c'²)^β over n = ``size`` channels.

    Args:
        size: the number of neighbouring channels in the window.
        alpha: Defaults to 1e-4. beta: Defaults to 0.75. k: Defaults to 1.
    """

    def __init__(self, size, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"LocalResponseNorm: size must be a positive integer. Received: size={size!r}")
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        from ..ops.normalization import local_response_norm

        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
