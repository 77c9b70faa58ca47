"""shendu (深度, "depth"): a deep-learning framework on NumPy that speaks PyTorch and Keras.

Example:
    >>> import shendu
    >>> x = shendu.tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4.])
"""

__version__ = "0.1.0"

import builtins as _builtins  # noqa: E402  (shendu.int and shendu.bool are dtypes below)

from ._malloc import tune_malloc as _tune_malloc  # noqa: E402

_tune_malloc()  # large freed blocks are reused by the next step (see _malloc.py)

from . import accelerator, amp, autograd, backends, cuda, jit, linalg, random, special  # noqa: E402
from . import distributions  # noqa: E402
from ._dtype import (  # noqa: E402,F401
    bool, double, dtype, float, float16, float32, float64, half, int, int8, int16, int32, int64, long, short, uint8,
)  # fmt: skip
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: E402
from .creation import *  # noqa: E402,F401,F403
from .ops import *  # noqa: E402,F401,F403
from .ops import divide, greater, less, multiply, negative, subtract  # noqa: E402,F401
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state  # noqa: E402,F401
from ._show_config import show_config  # noqa: E402,F401
from .tensor import Size, Tensor, device, set_printoptions  # noqa: E402,F401
from ._numeric_info import finfo, get_num_threads, iinfo, is_floating_point, logspace, set_num_threads  # noqa: E402,F401
from ._numeric_info import (  # noqa: E402,F401
    are_deterministic_algorithms_enabled, get_float32_matmul_precision, set_float32_matmul_precision,
    use_deterministic_algorithms,
)
from .amp import autocast  # noqa: E402,F401
from .compiler import compile  # noqa: E402,F401


class _TypedTensorType(type):
    """``shendu.FloatTensor`` and friends, as in PyTorch: calling one makes a tensor of that dtype
    (from data, or zeros of a shape given as integers); ``isinstance`` checks the dtype."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls._dtype

    def __call__(cls, *args):
        if len(args) == 1 and not isinstance(args[0], (_builtins.int, Size)):
            return tensor(args[0], dtype=cls._dtype)  # noqa: F405
        shape = tuple(args[0]) if len(args) == 1 and isinstance(args[0], Size) else args
        return zeros(shape, dtype=cls._dtype)  # noqa: F405


FloatTensor = _TypedTensorType("FloatTensor", (), {"_dtype": float32})
DoubleTensor = _TypedTensorType("DoubleTensor", (), {"_dtype": float64})
LongTensor = _TypedTensorType("LongTensor", (), {"_dtype": int64})
IntTensor = _TypedTensorType("IntTensor", (), {"_dtype": int32})
BoolTensor = _TypedTensorType("BoolTensor", (), {"_dtype": bool})


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()


def get_default_dtype():
    from . import _dtype

    return _dtype.default_float


def set_default_dtype(d):
    """Set the dtype Python floats become (float32 or float64)."""
    from . import _dtype

    chosen = _dtype.from_numpy_dtype(_dtype.to_numpy_dtype(d))
    if not chosen.is_floating_point:
        raise TypeError(f"set_default_dtype expects a floating-point dtype; got {chosen}")
    _dtype.default_float = chosen


def __getattr__(name):
    """Load the heavier sub-packages on first use, so ``import shendu`` stays fast."""
    import importlib

    lazy_modules = {
        "nn",
        "optim",
        "utils",
        "vision",
        "text",
        "train",
        "keras",
        "io",
        "serve",
        "explain",
        "onnx",
        "sklearn",
        "preprocessing",
    }
    if name in lazy_modules:
        return importlib.import_module(f".{name}", __name__)
    lazy_functions = {"save": "io", "load": "io", "save_model": "io", "load_model": "io"}
    if name in lazy_functions:
        module = importlib.import_module(f".{lazy_functions[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'shendu' has no attribute {name!r}")
