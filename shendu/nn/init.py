"""Weight initialisers (``shendu.nn.init``), with PyTorch's names, arguments and formulas.

Every function fills a tensor in place (outside the graph) and returns it. The random ones
take an optional ``generator`` (a ``numpy.random.Generator``, a ``shendu.Generator`` or an
int seed); by default they draw from shendu's global generator, so ``shendu.manual_seed``
makes them repeatable.

Fan-in and fan-out: for a weight of shape (out, in, *kernel), fan_in = in·∏kernel and
fan_out = out·∏kernel.

Example:
    >>> fc = Linear(784, 500)
    >>> init.kaiming_normal_(fc.weight, nonlinearity="relu")
    >>> init.zeros_(fc.bias)
"""

import contextlib
import functools
import math
import numbers
import threading

from .._backend import xp
from ..autograd import no_grad
from ..random import resolve_generator

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "zeros_",
    "ones_",
    "eye_",
    "dirac_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "lecun_uniform_",
    "lecun_normal_",
    "orthogonal_",
]

_LINEAR_LIKE = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)


_STATE = threading.local()


@contextlib.contextmanager
def skip_init():
    """Within this block every fill function of this module leaves its tensor as it is.

    Used where the weights are about to be overwritten anyway (a model rebuilt from a file):
    no random numbers are drawn and no page of a lazily allocated array is touched.
    """
    previous = getattr(_STATE, "skip", False)
    _STATE.skip = True
    try:
        yield
    finally:
        _STATE.skip = previous


def skipping():
    """True inside :func:`skip_init`."""
    return getattr(_STATE, "skip", False)


def _skippable(fill):
    @functools.wraps(fill)
    def wrapper(tensor, *args, **kwargs):
        if getattr(_STATE, "skip", False):
            return tensor
        return fill(tensor, *args, **kwargs)

    return wrapper


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for an activation, as ``torch.nn.init.calculate_gain``.

    ========================  =====================================
    nonlinearity              gain
    ========================  =====================================
    linear, conv*, sigmoid    1
    tanh                      5/3
    relu                      √2
    leaky_relu                √(2 / (1 + negative_slope²)), slope ``param`` (default 0.01)
    selu                      3/4
    ========================  =====================================
    """
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, bool) or not isinstance(param, numbers.Real):
            raise ValueError(f"negative_slope {param!r} not a valid number")
        else:
            slope = param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"Unsupported nonlinearity {nonlinearity!r}; expected one of {list(_LINEAR_LIKE) + ['tanh', 'relu', 'leaky_relu', 'selu']}"
    )


def _array(tensor):
    """The array behind a Tensor/Parameter (or a NumPy array itself), to be written in place."""
    array = getattr(tensor, "_array", tensor)
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"init functions fill a Tensor in place; got {type(tensor).__name__}")
    return array


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight shaped (out, in, *kernel)."""
    shape = _array(tensor).shape
    if len(shape) < 2:
        raise ValueError(
            f"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions; got shape {tuple(shape)}"
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode!r} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, values):
    with no_grad():
        _array(tensor)[...] = values
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b) (the spec's "uniform in [-r, r]" is ``uniform_(w, -r, r)``)."""
    if a > b:
        raise ValueError(f"uniform_ expects a <= b; got a={a}, b={b}")
    return _fill(tensor, resolve_generator(generator).uniform(a, b, _array(tensor).shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std²) (the spec's "Gaussian with fixed variance")."""
    if std < 0:
        raise ValueError(f"normal_ expects std >= 0; got std={std}")
    return _fill(tensor, resolve_generator(generator).normal(mean, std, _array(tensor).shape))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std²) truncated to [a, b] (redrawing values outside).

    ``a`` and ``b`` are absolute bounds, as PyTorch. Sampling is by rejection, so it is exact;
    an interval holding less than one-millionth of the mass is refused.
    """
    if std <= 0 or a >= b:
        raise ValueError(f"trunc_normal_ expects std > 0 and a < b; got std={std}, a={a}, b={b}")
    rng = resolve_generator(generator)
    mass = 0.5 * (math.erf((b - mean) / (std * math.sqrt(2))) - math.erf((a - mean) / (std * math.sqrt(2))))
    if mass < 1e-6:
        raise ValueError(
            f"trunc_normal_: [a, b] = [{a}, {b}] holds almost none of N({mean}, {std}²); choose wider bounds"
        )
    shape = _array(tensor).shape
    n = math.prod(shape)
    out = xp.empty(n)
    filled = 0
    while filled < n:
        draw = rng.normal(mean, std, int((n - filled) / mass * 1.1) + 16)
        draw = draw[(draw >= a) & (draw <= b)][: n - filled]
        out[filled : filled + draw.size] = draw
        filled += draw.size
    return _fill(tensor, out.reshape(shape))


def constant_(tensor, val):
    """Fill with the value ``val``."""
    return _fill(tensor, val)


def zeros_(tensor):
    """Fill with 0."""
    return _fill(tensor, 0)


def ones_(tensor):
    """Fill with 1."""
    return _fill(tensor, 1)


def eye_(tensor):
    """Fill a 2-D tensor with the identity (ones on the diagonal, zeros elsewhere)."""
    array = _array(tensor)
    if array.ndim != 2:
        raise ValueError(f"eye_: only tensors with 2 dimensions are supported; got shape {tuple(array.shape)}")
    return _fill(tensor, xp.eye(*array.shape))


def dirac_(tensor, groups=1):
    """Fill a conv weight (3-, 4- or 5-D) so the convolution is the identity, per group."""
    array = _array(tensor)
    if array.ndim not in (3, 4, 5):
        raise ValueError(
            f"dirac_: only tensors with 3, 4, or 5 dimensions are supported; got shape {tuple(array.shape)}"
        )
    if array.shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 ({array.shape[0]}) must be divisible by groups={groups}")
    per_group = array.shape[0] // groups
    centre = tuple(s // 2 for s in array.shape[2:])
    values = xp.zeros(array.shape)
    for g in range(groups):
        for d in range(min(per_group, array.shape[1])):
            values[(g * per_group + d, d) + centre] = 1
    return _fill(tensor, values)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Xavier/Glorot uniform: U(-r, r), r = gain·√(6 / (fan_in + fan_out)) (variance gain²·2/(fan_in+fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out)) if fan_in + fan_out else 0.0
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Xavier/Glorot normal: N(0, std²), std = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out)) if fan_in + fan_out else 0.0
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He/Kaiming uniform: U(-r, r), r = gain·√(3 / fan), gain = calculate_gain(nonlinearity, a).

    Args:
        a: negative slope of the rectifier after this layer (for ``leaky_relu``). Defaults to 0.
        mode: ``'fan_in'`` keeps the forward variance, ``'fan_out'`` the backward. Defaults to ``'fan_in'``.
        nonlinearity: ``'relu'`` or ``'leaky_relu'`` (the default), or any name ``calculate_gain`` knows.
    """
    fan = _fan(tensor, mode)
    if fan == 0:  # a zero-element tensor: nothing to fill
        return tensor
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He/Kaiming normal: N(0, std²), std = gain / √fan, gain = calculate_gain(nonlinearity, a)."""
    fan = _fan(tensor, mode)
    if fan == 0:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def lecun_uniform_(tensor, generator=None):
    """LeCun uniform: U(-r, r), r = √(3 / fan_in) (variance 1/fan_in; suits tanh and SELU)."""
    return kaiming_uniform_(tensor, mode="fan_in", nonlinearity="linear", generator=generator)


def lecun_normal_(tensor, generator=None):
    """LeCun normal: N(0, 1/fan_in).

    NOTE: Keras draws ``lecun_normal`` from a truncated normal rescaled to the same variance;
    this is the plain Gaussian of LeCun et al. (1998).
    """
    return kaiming_normal_(tensor, mode="fan_in", nonlinearity="linear", generator=generator)


def orthogonal_(tensor, gain=1.0, generator=None):
    """Fill with a (semi-)orthogonal matrix times ``gain`` (Saxe et al. 2013), as PyTorch.

    The tensor is viewed as (rows, cols) = (shape[0], rest). A Gaussian matrix is factored
    G = QR; the signs of R's diagonal are moved into Q so Q is uniform over orthogonal matrices.
    Rows (or columns, whichever are fewer) come out orthonormal: W Wᵀ = gain²·I or Wᵀ W = gain²·I.
    """
    array = _array(tensor)
    if array.ndim < 2:
        raise ValueError(
            f"orthogonal_: only tensors with 2 or more dimensions are supported; got shape {tuple(array.shape)}"
        )
    if array.size == 0:
        return tensor
    rows = array.shape[0]
    cols = array.size // rows
    gaussian = resolve_generator(generator).standard_normal((rows, cols))
    if rows < cols:
        gaussian = gaussian.T
    q, r = xp.linalg.qr(gaussian)
    q *= xp.sign(xp.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(array.shape))


for _name in __all__:
    if _name.endswith("_"):
        globals()[_name] = _skippable(globals()[_name])
del _name
