"""``SyncBatchNorm``: batch normalisation whose statistics span the batches of every process (PyTorch's).

In training, with a process group of several ranks, the per-channel sums Σx, Σx² and the counts
are all-reduced, so every rank normalises with the mean and (biased) variance of the global batch
and updates its running estimates with the global (unbiased) variance. The backward pass
all-reduces Σdy and Σdy·x̂ likewise:

    dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂)),  the means over the global batch.

Without a process group (or in eval mode) it is BatchNorm. ``convert_sync_batchnorm`` swaps every
BatchNorm of a model for one, keeping its parameters and statistics.
"""

import numpy as np

from ..autograd import Function
from .normalization import _BatchNorm
from ..tensor import Tensor

__all__ = ["SyncBatchNorm"]


def _allreduce(array):
    from mpi4py import MPI

    from ..distributed import communicator

    communicator().Allreduce(MPI.IN_PLACE, array, op=MPI.SUM)
    return array


class _SyncBatchNormFunction(Function):
    def __init__(self, eps) -> None:
        self.eps = eps

    def forward(self, x, weight, bias):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        # Two all-reduces, as two passes: the mean, then the squared deviations from it (no cancellation).
        sums = _allreduce(np.concatenate([x.sum(axis=axes, dtype=np.float64), [x.size / x.shape[1]]]))
        self.count = sums[-1]
        mean = sums[:-1] / self.count
        centred = x.astype(np.float64) - mean.reshape(shape)
        var = _allreduce((centred * centred).sum(axis=axes)) / self.count
        self.mean, self.var = mean, var
        self.inv_std = (1.0 / np.sqrt(var + self.eps)).astype(x.dtype)
        self.xhat = (x - mean.astype(x.dtype).reshape(shape)) * self.inv_std.reshape(shape)
        return self.xhat * weight.reshape(shape) + bias.reshape(shape)

    def backward(self, gy):
        x, weight, bias = self.input_values()
        axes = (0,) + tuple(range(2, gy.ndim))
        shape = (1, -1) + (1,) * (gy.ndim - 2)
        sum_dy = gy.sum(axis=axes, dtype=np.float64)
        sum_dy_xhat = (gy * self.xhat).sum(axis=axes, dtype=np.float64)
        sums = _allreduce(np.concatenate([sum_dy, sum_dy_xhat]))
        channels = gy.shape[1]
        mean_dy = (sums[:channels] / self.count).astype(gy.dtype).reshape(shape)
        mean_dy_xhat = (sums[channels:] / self.count).astype(gy.dtype).reshape(shape)
        gx = (weight * self.inv_std).reshape(shape) * (gy - mean_dy - self.xhat * mean_dy_xhat)
        return gx, sum_dy_xhat.astype(weight.dtype), sum_dy.astype(bias.dtype)


class SyncBatchNorm(_BatchNorm):
    """BatchNorm over the global batch of every process (see the module docstring); (N, C, *) inputs."""

    _layout = "(N, C, *)"
    _ndims = (2, 3, 4, 5)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum=0.1, affine: bool = True, track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None) -> None:  # fmt: skip
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        from .. import distributed

        if not (self.training and distributed.is_initialized() and distributed.get_world_size() > 1):
            return super().forward(input)
        self._check_input(input)
        if self.weight is None or self.bias is None:
            raise NotImplementedError("SyncBatchNorm across processes needs affine=True")
        function = _SyncBatchNormFunction(self.eps)
        out = function(input, self.weight, self.bias)
        if self.track_running_stats:
            self.num_batches_tracked._array += 1
            factor = 1.0 / float(self.num_batches_tracked._array) if self.momentum is None else self.momentum
            unbiased = function.var * function.count / max(function.count - 1, 1)
            dtype = self.running_mean._array.dtype
            self.running_mean._array[...] = (1 - factor) * self.running_mean._array + factor * function.mean.astype(dtype)
            self.running_var._array[...] = (1 - factor) * self.running_var._array + factor * unbiased.astype(dtype)
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm1d/2d/3d replaced by a SyncBatchNorm holding the same state."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            reference = module.weight if module.weight is not None else module.running_mean
            dtype = None if reference is None else reference.dtype  # keep float64 models float64
            converted = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats, dtype=dtype)
            converted.load_state_dict(module.state_dict())
            converted.train(module.training)
            return converted
        for name, child in list(module._modules.items()):
            if child is not None:
                module._modules[name] = cls.convert_sync_batchnorm(child, process_group)
        return module


