"""Facts about dtypes and the machine, in PyTorch's words: ``finfo``, ``iinfo``, ``is_floating_point``,
``set_num_threads``/``get_num_threads``; and ``logspace`` (a creation function needing only NumPy)."""

import os

import numpy as np

from . import _dtype

__all__ = ["finfo", "iinfo", "is_floating_point", "set_num_threads", "get_num_threads", "logspace", "set_float32_matmul_precision",
           "get_float32_matmul_precision", "use_deterministic_algorithms", "are_deterministic_algorithms_enabled"]

_THREADS = {"limiter": None}


def finfo(type=None):
    """The limits of a floating dtype (``eps``, ``max``, ``min``, ``tiny``, ``resolution``, ``bits``); default dtype by default."""
    numpy_dtype = _dtype.default_float.numpy_dtype if type is None else _dtype.to_numpy_dtype(type)
    if numpy_dtype.kind != "f":
        raise TypeError(f"torch.finfo() requires a floating point input type. Got {type}")
    return np.finfo(numpy_dtype)


def iinfo(type):
    """The limits of an integer dtype (``max``, ``min``, ``bits``)."""
    numpy_dtype = _dtype.to_numpy_dtype(type)
    if numpy_dtype.kind not in "iub":
        raise TypeError(f"torch.iinfo() requires an integer input type. Got {type}")
    return np.iinfo(np.uint8 if numpy_dtype.kind == "b" else numpy_dtype)


def is_floating_point(input):
    """True for a tensor of a floating dtype."""
    return input._array.dtype.kind == "f"


def set_num_threads(num):
    """Use ``num`` threads in the BLAS (through threadpoolctl, when installed) and in shendu's optimiser kernels."""
    if not isinstance(num, int) or num < 1:
        raise ValueError(f"set_num_threads expects a positive integer; got {num!r}")
    os.environ["SHENDU_NUM_THREADS"] = str(num)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    _THREADS["limiter"] = threadpool_limits(limits=num, user_api="blas")


def get_num_threads():
    """The number of BLAS threads in use (shendu's setting, else what threadpoolctl reports, else the cores)."""
    if "SHENDU_NUM_THREADS" in os.environ:
        return int(os.environ["SHENDU_NUM_THREADS"])
    try:
        from threadpoolctl import threadpool_info

        counts = [pool["num_threads"] for pool in threadpool_info() if pool.get("user_api") == "blas"]
        if counts:
            return int(max(counts))
    except ImportError:
        pass
    return os.cpu_count() or 1


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    """``steps`` values base^x for x evenly spaced from ``start`` to ``end``."""
    from .tensor import Tensor

    numpy_dtype = _dtype.default_float.numpy_dtype if dtype is None else _dtype.to_numpy_dtype(dtype)
    return Tensor(np.logspace(start, end, int(steps), base=base).astype(numpy_dtype), requires_grad=requires_grad)


_MATMUL_PRECISIONS = ("highest", "high", "medium")
_matmul_precision = ["highest"]
_deterministic = [False]


def set_float32_matmul_precision(precision):
    """PyTorch's switch for TF32/bfloat16 matrix products; shendu's are always full float32 ("highest")."""
    if precision not in _MATMUL_PRECISIONS:
        raise RuntimeError(f"set_float32_matmul_precision: expected 'highest', 'high' or 'medium'. Received: {precision!r}")
    _matmul_precision[0] = precision


def get_float32_matmul_precision():
    """The value last set (shendu computes at "highest" whatever it is)."""
    return _matmul_precision[0]


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Accepted: shendu's ops are deterministic already (same inputs, same bits, on the same machine)."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms expects a bool, but got {type(mode).__name__}")
    _deterministic[0] = mode


def are_deterministic_algorithms_enabled():
    return _deterministic[0]
