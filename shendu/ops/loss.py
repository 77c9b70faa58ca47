"""Loss functions, and the information-theory quantities behind them.

Regression, on d = input − target: ``l1_loss`` |d|, ``mse_loss`` d², ``huber_loss`` and
``smooth_l1_loss`` (quadratic near 0, linear beyond). Classification: ``cross_entropy`` (from logits,
log-softmax and NLL fused in one op), ``nll_loss`` (from log-probabilities), ``binary_cross_entropy``
(logs clamped at −100, as PyTorch), ``binary_cross_entropy_with_logits`` (sigmoid fused in, stable),
``kl_div``. Every loss takes ``reduction``: 'mean' (default), 'sum' or 'none'.

Distributions (probability vectors along the last dim): ``entropy`` H(p) = −Σ p·log p,
``cross_entropy_between`` H(p, q) = −Σ p·log q and ``kl_divergence`` KL(p‖q) = Σ p·log(p/q);
natural logs (nats), or ``base=2`` for bits.
"""

import math
import numbers

from .._backend import xp
from ..autograd import Function
from ..tensor import Tensor, as_array
from .activation import _float_tensor, _softplus_array, stable_sigmoid

__all__ = [
    "l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "entropy", "cross_entropy_between", "kl_divergence",
]  # fmt: skip

REDUCTIONS = ("mean", "sum", "none")
KL_REDUCTIONS = ("mean", "batchmean", "sum", "none")


# ----- argument checks (shared with the modules in shendu.nn.loss) ---------------------------------------------


def resolve_reduction(function, size_average=None, reduce=None, reduction="mean", accepted=REDUCTIONS):
    """``reduction`` after PyTorch's deprecated ``size_average``/``reduce`` pair; a ValueError if unknown."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if reduce and size_average else "sum" if reduce else "none"
    if not isinstance(reduction, str) or reduction not in accepted:
        raise ValueError(
            f"{function}: reduction must be one of {', '.join(map(repr, accepted))}. Received: reduction={reduction!r}"
        )
    return reduction


def check_real(function, name, value, low=None, high=None, low_open=False):
    """``value`` as a float in [low, high] (or (low, high] with ``low_open``); else a clear error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{function}: {name} must be a real number. Received: {name}={value!r}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    if too_low or (high is not None and value > high) or math.isnan(value):
        interval = f"{'(' if low_open else '['}{'-inf' if low is None else low}, {'inf' if high is None else high}]"
        raise ValueError(f"{function}: {name} must be in {interval}. Received: {name}={value}")
    return value


def check_ignore_index(function, ignore_index):
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"{function}: ignore_index must be an integer. Received: ignore_index={ignore_index!r}")
    return int(ignore_index)


def _pair(function, input, target):
    """Input and target as float tensors of one dtype; a ValueError naming both shapes if they differ."""
    input = _float_tensor(input)
    target = target if isinstance(target, Tensor) else Tensor(target)
    if target.shape != input.shape:
        raise ValueError(
            f"{function}: input and target must have the same shape; got input of shape {tuple(input.shape)} "
            f"and target of shape {tuple(target.shape)}"
        )
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    return input, target


def _constant(function, name, value, shape, dtype, exact=False):
    """A weight-like argument as an array of ``dtype`` that broadcasts to ``shape`` (or equals it)."""
    if value is None:
        return None
    array = as_array(value).astype(dtype, copy=False)
    fits = array.shape == tuple(shape)
    if not exact and not fits:
        try:
            fits = xp.broadcast_shapes(array.shape, tuple(shape)) == tuple(shape)
        except ValueError:
            fits = False
    if not fits:
        how = "have the input's shape" if exact else "broadcast to the input's shape"
        raise ValueError(f"{function}: {name} must {how} {tuple(shape)}; got {name} of shape {array.shape}")
    return array


# ----- the reduction every loss op shares ------------------------------------------------------------------------


class _Reduced(Function):
    """Base of the loss ops: ``forward`` computes per-element losses and ``reduce``s them;
    ``backward`` gets the gradient reaching each per-element loss from ``spread``.

    ``weight`` (optional, broadcast to the losses) multiplies each per-element loss.
    """

    weight = None

    def __init__(self, reduction):
        self.reduction = reduction

    def reduce(self, losses, denominator=None):
        """'none': the losses; 'sum': their sum; 'mean'/'batchmean': the sum / ``denominator`` (default: the count)."""
        if self.weight is not None:
            losses = losses * self.weight
        if self.reduction == "none":
            return xp.asarray(losses)  # ufuncs turn 0-d arrays into scalars
        total = losses.sum()
        if self.reduction != "sum":
            self.denominator = losses.size if denominator is None else denominator
            with xp.errstate(divide="ignore", invalid="ignore"):  # an empty or all-ignored batch gives nan, as PyTorch
                total = total / self.denominator
        return xp.asarray(total, dtype=losses.dtype)

    def spread(self, gy):
        """∂(reduced loss)/∂(each per-element loss) times gy."""
        if self.reduction not in ("none", "sum"):
            with xp.errstate(divide="ignore", invalid="ignore"):
                gy = gy / self.denominator
        return gy if self.weight is None else gy * self.weight


# ----- regression losses on d = input − target -------------------------------------------------------------------


class _DifferenceLoss(_Reduced):
    """reduce(f(d)) with d = input − target; backward f'(d) to the input and −f'(d) to the target."""

    def __init__(self, reduction, weight=None, mean_over_weight=False):
        super().__init__(reduction)
        self.weight, self.mean_over_weight = weight, mean_over_weight

    def forward(self, input, target):
        self.d = input - target
        denominator = self.weight.sum() if self.mean_over_weight and self.weight is not None else None
        return self.reduce(self.value(self.d).astype(input.dtype, copy=False), denominator)

    def backward(self, gy):
        g = self.gradient(self.spread(gy), self.d)
        need_input, need_target = self.needs_input_grad
        return (g if need_input else None, -g if need_target else None)

    def gradient(self, spread, d):
        """∂loss/∂input from the reduction's share of ``gy`` per element and d."""
        return spread * self.slope(d)


class L1(_DifferenceLoss):
    """|d|; derivative sign(d) (0 at d = 0, as PyTorch)."""

    def value(self, d):
        return xp.abs(d)

    def slope(self, d):
        return xp.sign(d)


class MSE(_DifferenceLoss):
    """d²; derivative 2d."""

    def value(self, d):
        return d * d

    def slope(self, d):
        return 2 * d

    def gradient(self, spread, d):
        return (2 * spread) * d  # the small factor first: 2·d overflows for |d| > 1.7e38, 2·(1/n)·d does not


class Huber(_DifferenceLoss):
    """½d² for |d| < δ, else δ·(|d| − ½δ); derivative clip(d, −δ, δ)."""

    def __init__(self, reduction, delta, weight=None):
        super().__init__(reduction, weight)
        self.delta = delta

    def value(self, d):
        a = xp.abs(d)
        return xp.where(a < self.delta, 0.5 * d * d, self.delta * (a - 0.5 * self.delta))

    def slope(self, d):
        return xp.clip(d, -self.delta, self.delta)


class SmoothL1(_DifferenceLoss):
    """½d²/β for |d| < β, else |d| − ½β (Huber divided by β); derivative clip(d/β, −1, 1)."""

    def __init__(self, reduction, beta):
        super().__init__(reduction)
        self.beta = beta

    def value(self, d):
        a = xp.abs(d)
        return xp.where(a < self.beta, 0.5 * d * d / self.beta, a - 0.5 * self.beta)

    def slope(self, d):
        return xp.clip(d / self.beta, -1, 1)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error: reduce(|input − target|); ∂/∂input = sign(input − target).

    Args:
        input, target: tensors of one shape.
        reduction: 'mean', 'sum' or 'none'. Defaults to 'mean'.
        weight: per-element weights of the input's shape (no gradient); 'mean' then divides by their sum,
            as PyTorch. Defaults to None.

    Example:
        >>> l1_loss(tensor([1.0, 2.0]), tensor([0.0, 4.0]))
        tensor(1.5)
    """
    return _difference_loss("l1_loss", L1, input, target, size_average, reduce, reduction, weight)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error: reduce((input − target)²); ∂/∂input = 2·(input − target).

    Arguments as :func:`l1_loss`.

    Example:
        >>> mse_loss(tensor([1.0, 2.0]), tensor([0.0, 4.0]))
        tensor(2.5)
    """
    return _difference_loss("mse_loss", MSE, input, target, size_average, reduce, reduction, weight)


def _difference_loss(function, op, input, target, size_average, reduce, reduction, weight):
    reduction = resolve_reduction(function, size_average, reduce, reduction)
    input, target = _pair(function, input, target)
    weight = _constant(function, "weight", weight, input.shape, input._array.dtype, exact=True)
    return op(reduction, weight, mean_over_weight=True)(input, target)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber loss: ½d² for |d| < δ, else δ·(|d| − ½δ), d = input − target; ∂/∂input = clip(d, −δ, δ).

    Args:
        input, target: tensors of one shape.
        reduction: 'mean', 'sum' or 'none'. Defaults to 'mean'.
        delta: δ > 0, where the loss turns from quadratic to linear. Defaults to 1.0.
        weight: per-element weights of the input's shape (no gradient; 'mean' stays the plain mean, as
            PyTorch). Defaults to None.

    Example:
        >>> huber_loss(tensor([0.5, 3.0]), tensor([0.0, 0.0]))
        tensor(1.3125)
    """
    reduction = resolve_reduction("huber_loss", reduction=reduction)
    delta = check_real("huber_loss", "delta", delta, low=0, low_open=True)
    input, target = _pair("huber_loss", input, target)
    weight = _constant("huber_loss", "weight", weight, input.shape, input._array.dtype, exact=True)
    return Huber(reduction, delta, weight)(input, target)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Smooth L1: ½d²/β for |d| < β, else |d| − ½β, d = input − target; ∂/∂input = clip(d/β, −1, 1).

    Args:
        input, target: tensors of one shape.
        reduction: 'mean', 'sum' or 'none'. Defaults to 'mean'.
        beta: β ≥ 0; β = 0 is the L1 loss. Defaults to 1.0.

    Example:
        >>> smooth_l1_loss(tensor([0.5, 3.0]), tensor([0.0, 0.0]))
        tensor(1.3125)
    """
    reduction = resolve_reduction("smooth_l1_loss", size_average, reduce, reduction)
    beta = check_real("smooth_l1_loss", "beta", beta, low=0)
    input, target = _pair("smooth_l1_loss", input, target)
    return (L1(reduction) if beta == 0 else SmoothL1(reduction, beta))(input, target)


# ----- binary classification --------------------------------------------------------------------------------------


def _clamped_logs(x):
    """log x and log(1 − x), each clamped at −100 as PyTorch (finite at x = 0 and 1)."""
    with xp.errstate(divide="ignore"):
        return xp.maximum(xp.log(x), -100), xp.maximum(xp.log1p(-x), -100)


class BinaryCrossEntropy(_Reduced):
    """−w·(t·log x + (1 − t)·log(1 − x)), logs clamped at −100.

    ∂/∂x = w·(x − t) / max(x·(1 − x), 1e-12) (as PyTorch); ∂/∂t = w·(log(1 − x) − log x).
    """

    def __init__(self, reduction, weight):
        super().__init__(reduction)
        self.weight = weight

    def forward(self, x, t):
        log_x, log_1mx = _clamped_logs(x)
        return self.reduce(-(t * log_x + (1 - t) * log_1mx))

    def backward(self, gy):
        x, t = self.input_values()
        g = self.spread(gy)
        need_x, need_t = self.needs_input_grad
        gx = gt = None
        if need_x:
            gx = g * (x - t) / xp.maximum(x * (1 - x), 1e-12)
        if need_t:
            log_x, log_1mx = _clamped_logs(x)
            gt = g * (log_1mx - log_x)
        return gx, gt


class BinaryCrossEntropyWithLogits(_Reduced):
    """w·[(1 − t)·x + (1 + (p − 1)·t)·softplus(−x)] = −w·[p·t·log σ(x) + (1 − t)·log(1 − σ(x))].

    ∂/∂x = w·((p·t + 1 − t)·σ(x) − p·t), which is w·(σ(x) − t) without pos_weight p;
    ∂/∂t = w·((p − 1)·softplus(−x) − x).
    """

    # NOTE: sigmoid and BCE fused in one op: log σ(x) = −softplus(−x) is finite for any x (no log 0),
    # and the gradient σ(x) − t never divides by σ(x)·(1 − σ(x)) as BCE on probabilities must.

    def __init__(self, reduction, weight, pos_weight):
        super().__init__(reduction)
        self.weight, self.pos_weight = weight, pos_weight

    def forward(self, x, t):
        softplus_neg = _softplus_array(-x)  # −log σ(x)
        if self.pos_weight is not None:
            softplus_neg = softplus_neg * (1 + (self.pos_weight - 1) * t)
        return self.reduce((1 - t) * x + softplus_neg)

    def backward(self, gy):
        x, t = self.input_values()
        g = self.spread(gy)
        p = self.pos_weight
        need_x, need_t = self.needs_input_grad
        gx = gt = None
        if need_x:
            s = stable_sigmoid(x)
            gx = g * (s - t) if p is None else g * ((p * t + 1 - t) * s - p * t)
        if need_t:
            gt = -g * x if p is None else g * ((p - 1) * _softplus_array(-x) - x)
        return gx, gt


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross-entropy on probabilities: −w·(t·log x + (1 − t)·log(1 − x)), logs clamped at −100.

    ∂/∂x = w·(x − t) / (x·(1 − x)). Prefer :func:`binary_cross_entropy_with_logits` on raw scores: it is
    stable where σ saturates.

    Args:
        input: probabilities x in [0, 1].
        target: t, of the input's shape (usually 0 or 1).
        weight: rescales each element; broadcasts to the input's shape (no gradient). Defaults to None.
        reduction: 'mean', 'sum' or 'none'. Defaults to 'mean'.

    Example:
        >>> binary_cross_entropy(tensor([0.5]), tensor([1.0]))
        tensor(0.6931)
    """
    reduction = resolve_reduction("binary_cross_entropy", size_average, reduce, reduction)
    input, target = _pair("binary_cross_entropy", input, target)
    x = input._array
    if x.size and not (x.min() >= 0 and x.max() <= 1):  # also catches NaN
        raise ValueError(
            f"binary_cross_entropy: input must hold probabilities in [0, 1]; got values from {x.min()} to {x.max()}. "
            "For raw scores (logits) use binary_cross_entropy_with_logits"
        )
    weight = _constant("binary_cross_entropy", "weight", weight, input.shape, x.dtype)
    return BinaryCrossEntropy(reduction, weight)(input, target)


def binary_cross_entropy_with_logits(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
):
    """Binary cross-entropy on logits, σ fused in: −w·[p·t·log σ(x) + (1 − t)·log(1 − σ(x))], stable for any x.

    ∂/∂x = w·(σ(x) − t) (with pos_weight p: w·((p·t + 1 − t)·σ(x) − p·t)).

    Args:
        input: logits x.
        target: t, of the input's shape, in [0, 1].
        weight: rescales each element; broadcasts to the input's shape (no gradient). Defaults to None.
        reduction: 'mean', 'sum' or 'none'. Defaults to 'mean'.
        pos_weight: p, the weight of positive examples, per class along the last dim; broadcasts to the
            input's shape (no gradient). Defaults to None.

    Example:
        >>> binary_cross_entropy_with_logits(tensor([0.0]), tensor([1.0]))
        tensor(0.6931)
    """
    function = "binary_cross_entropy_with_logits"
    reduction = resolve_reduction(function, size_average, reduce, reduction)
    input, target = _pair(function, input, target)
    dtype = input._array.dtype
    weight = _constant(function, "weight", weight, input.shape, dtype)
    pos_weight = _constant(function, "pos_weight", pos_weight, input.shape, dtype)
    return BinaryCrossEntropyWithLogits(reduction, weight, pos_weight)(input, target)


# ----- multi-class classification -----------------------------------------------------------------------------------


def _along(array, axis, ndim):
    """A per-class vector (C,) shaped to broadcast along ``axis`` of an ndim-array."""
    return array.reshape(array.shape + (1,) * (ndim - axis - 1))


class _ClassIndexLoss(_Reduced):
    """Base of the losses on class-index targets: gather-safe indices, per-sample weights w[y] (0 where the
    target is ignore_index) and the count 'mean' divides by, Σ w[y] over the kept samples (as PyTorch)."""

    def __init__(self, axis, indices, class_weight, ignore_index, reduction, dtype):
        super().__init__(reduction)
        self.axis, self.class_weight = axis, class_weight
        keep = indices != ignore_index
        self.all_kept = bool(keep.all())
        safe = indices if self.all_kept else xp.where(keep, indices, 0)
        # Fancy index of every sample's target entry: x[self.target] has the per-sample shape (N, d1, ...).
        grids = xp.ix_(*[xp.arange(n) for n in indices.shape])
        self.target = (*grids[:axis], safe, *grids[axis:])
        if class_weight is None and self.all_kept:
            self.sample_weight, self.count = None, indices.size
        else:
            w = keep.astype(dtype) if class_weight is None else class_weight[safe] * keep
            self.sample_weight, self.count = w, w.sum()
        self.keep = keep

    def per_sample(self, g, weighted=True):
        """gy spread to each sample (times w[y] if ``weighted``): per-sample shaped, or a scalar for all alike.

        Ignored samples get exactly 0, as PyTorch, even when 'mean' over no kept sample made gy NaN.
        """
        weight = self.sample_weight if weighted else None if self.all_kept else self.keep
        if weight is not None:
            with xp.errstate(invalid="ignore"):
                g = xp.where(self.keep, g * weight, 0)
        return g

    def with_class_axis(self, g):
        """A per-sample array (or scalar) shaped to broadcast against the scores."""
        return g if g.ndim == 0 else xp.expand_dims(g, self.axis)


class CrossEntropy(_ClassIndexLoss):
    """Cross-entropy from logits with class-index targets y, label smoothing ε and class weights w:

    loss = (1 − ε)·w_y·(lse − x_y) + (ε/C)·Σ_c w_c·(lse − x_c), lse = log Σ_c exp x_c;
    ∂/∂x = a·softmax(x) − (1 − ε)·w_y·onehot(y) − (ε/C)·w, a = (1 − ε)·w_y + (ε/C)·Σ_c w_c,
    i.e. softmax − onehot without weights and smoothing, times gy (over N for the mean).
    """

    # NOTE: log-softmax and NLL fused on purpose: this is the hot path of every classifier. One pass over
    # the logits (max shift, exp in place, softmax kept for backward) and no graph of intermediate ops.

    def __init__(self, axis, indices, class_weight, ignore_index, label_smoothing, reduction, dtype):
        super().__init__(axis, indices, class_weight, ignore_index, reduction, dtype)
        self.smoothing = label_smoothing

    def forward(self, x):
        axis, smoothing = self.axis, self.smoothing
        classes = x.shape[axis]
        shifted = x - x.max(axis=axis, keepdims=True)
        picked = shifted[self.target]
        if smoothing:
            weighted = shifted if self.class_weight is None else shifted * _along(self.class_weight, axis, x.ndim)
            weighted_sum = weighted.sum(axis=axis, keepdims=True)
        e = xp.exp(shifted, out=shifted)
        sums = e.sum(axis=axis, keepdims=True)
        lse = xp.squeeze(xp.log(sums), axis)
        self.softmax = xp.divide(e, sums, out=e)
        losses = lse - picked
        if self.sample_weight is not None:
            losses = losses * self.sample_weight
        if smoothing:
            self.total_weight = classes if self.class_weight is None else float(self.class_weight.sum())
            smooth = self.total_weight * lse - xp.squeeze(weighted_sum, axis)
            if not self.all_kept:
                smooth = smooth * self.keep
            losses = (1 - smoothing) * losses + (smoothing / classes) * smooth
        return self.reduce(losses, self.count)

    def backward(self, gy):
        axis, smoothing = self.axis, self.smoothing
        g = self.spread(gy)
        at_target = self.per_sample(g)
        if not smoothing:
            gx = self.softmax * self.with_class_axis(at_target)
        else:
            smooth_g = self.per_sample(g, weighted=False) * (smoothing / self.softmax.shape[axis])
            at_target = at_target * (1 - smoothing)
            gx = self.softmax * self.with_class_axis(at_target + smooth_g * self.total_weight)
            smooth_g = self.with_class_axis(smooth_g)
            gx -= smooth_g if self.class_weight is None else smooth_g * _along(self.class_weight, axis, gx.ndim)
        gx[self.target] -= at_target
        return gx


class _MeanCrossEntropy(Function):
    """:class:`CrossEntropy` in its everyday case, with less around it: (N, C) logits, N > 0 class indices
    all in [0, C), 'mean', no class weights, no label smoothing, nothing ignored.

    loss = mean over the batch of (lse − x_y); ∂/∂x = (softmax(x) − onehot(y)) · gy / N.
    """

    # NOTE: the same arithmetic as CrossEntropy (same rounding), minus what the general case needs: no
    # index grids, keep-masks, per-sample weights or errstate blocks. This loss runs once per training
    # step of every classifier, and for small models (W2 of the benchmarks) its Python overhead shows.

    def __init__(self, indices):
        self.indices = indices

    def forward(self, x):
        n = x.shape[0]
        rows = _row_indices(n)
        shifted = x - xp.maximum.reduce(x, axis=1, keepdims=True)  # ufunc reductions skip ndarray.max's wrapper
        picked = shifted[rows, self.indices]
        e = xp.exp(shifted, out=shifted)
        sums = xp.add.reduce(e, axis=1, keepdims=True)
        losses = xp.log(sums).reshape(n)
        losses -= picked
        self.softmax = xp.divide(e, sums, out=e)
        return xp.asarray(xp.add.reduce(losses) / n, dtype=x.dtype)

    def backward(self, gy):
        softmax = self.softmax
        g = gy / softmax.shape[0]
        gx = softmax * g
        gx[_row_indices(softmax.shape[0]), self.indices] -= g
        return gx


_rows_cache: dict = {}


def _unsigned(indices):
    """The indices seen as unsigned: a negative one becomes huge, so one max() checks both bounds."""
    return indices if indices.dtype.kind == "u" else indices.view(f"u{indices.dtype.itemsize}")


def _row_indices(n):
    """``arange(n)``, made once per batch size (read-only)."""
    rows = _rows_cache.get(n)
    if rows is None:
        if len(_rows_cache) > 64:
            _rows_cache.clear()
        rows = _rows_cache[n] = xp.arange(n)
        rows.flags.writeable = False
    return rows


class CrossEntropyProbabilities(_Reduced):
    """Cross-entropy from logits with probability targets q (smoothed q' = (1 − ε)·q + ε/C, weights w):

    loss = −Σ_c w_c·q'_c·log softmax(x)_c; ∂/∂x = (Σ_c w_c·q'_c)·softmax(x) − w·q';
    ∂/∂q = −(1 − ε)·w·log softmax(x). 'mean' divides by the number of samples (as PyTorch).
    """

    # NOTE: fused like CrossEntropy: log-softmax computed once, shifted by the max, never a log of 0.

    def __init__(self, axis, class_weight, label_smoothing, reduction):
        super().__init__(reduction)
        self.axis, self.class_weight, self.smoothing = axis, class_weight, label_smoothing

    def _target(self, q):
        """w·q' and w·(1 − ε): the effective target weights, and ∂(w·q')/∂q."""
        classes = q.shape[self.axis]
        scale = 1 - self.smoothing
        if self.class_weight is not None:
            scale = scale * _along(self.class_weight, self.axis, q.ndim)
        target = q * (1 - self.smoothing) + self.smoothing / classes if self.smoothing else q
        return (target if self.class_weight is None else target * _along(self.class_weight, self.axis, q.ndim)), scale

    def forward(self, x, q):
        shifted = x - x.max(axis=self.axis, keepdims=True)
        self.log_softmax = shifted - xp.log(xp.exp(shifted).sum(axis=self.axis, keepdims=True))
        target, _ = self._target(q)
        return self.reduce(-(target * self.log_softmax).sum(axis=self.axis))

    def backward(self, gy):
        x, q = self.input_values()
        g = xp.expand_dims(self.spread(gy), self.axis) if self.reduction == "none" else self.spread(gy)
        target, scale = self._target(q)
        need_x, need_q = self.needs_input_grad
        gx = g * (target.sum(axis=self.axis, keepdims=True) * xp.exp(self.log_softmax) - target) if need_x else None
        gq = -g * scale * self.log_softmax if need_q else None
        return gx, gq


class NLL(_ClassIndexLoss):
    """−w_y·x_y per sample, x holding log-probabilities; ∂/∂x = −w_y·gy at the target, 0 elsewhere."""

    def forward(self, x):
        self.shape = x.shape
        losses = -x[self.target]
        if self.sample_weight is not None:
            losses = losses * self.sample_weight
        return self.reduce(losses, self.count)

    def backward(self, gy):
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        gx[self.target] = -self.per_sample(self.spread(gy))
        return gx


def _class_input(function, input):
    """The scores as a float tensor and their class axis: 0 for (C,), 1 for (N, C) and (N, C, d1, ...)."""
    input = _float_tensor(input)
    if input.ndim == 0:
        raise ValueError(
            f"{function}: input must have a class dimension, (C,), (N, C) or (N, C, d1, ...); got a scalar"
        )
    return input, (1 if input.ndim >= 2 else 0)


def _class_weight(function, weight, classes, dtype):
    if weight is None:
        return None
    array = as_array(weight).astype(dtype, copy=False)
    if array.shape != (classes,):
        raise ValueError(
            f"{function}: weight must have one entry per class, shape ({classes},); got shape {array.shape}"
        )
    return array


def _class_indices(function, target, input_shape, axis, ignore_index):
    """Class-index targets as an integer array, checked against the input's shape and class count."""
    indices = as_array(target)
    input_shape = tuple(input_shape)
    expected = input_shape[:axis] + input_shape[axis + 1 :]
    if indices.dtype.kind == "f":
        raise ValueError(
            f"{function}: got input of shape {input_shape} and a float target of shape {indices.shape}; "
            f"class-index targets must be integers of shape {expected} (use target.long())"
            + (", probability targets must have the input's shape" if function == "cross_entropy" else "")
        )
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{function}: class-index targets must be integers; got dtype {indices.dtype}")
    if indices.shape != expected:
        raise ValueError(
            f"{function}: expected a class-index target of shape {expected} for input of shape {input_shape}; "
            f"got target of shape {indices.shape}"
        )
    classes = input_shape[axis]
    if indices.size == 0 or (indices.min() >= 0 and indices.max() < classes):  # the usual case, two reductions
        return indices
    bad = ((indices < 0) | (indices >= classes)) & (indices != ignore_index)
    if bad.any():
        raise IndexError(
            f"{function}: target {int(indices[bad][0])} is out of bounds for {classes} classes "
            f"(expected 0 to {classes - 1}, or ignore_index={ignore_index})"
        )
    return indices


def cross_entropy(
    input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean", label_smoothing=0.0
):
    """Cross-entropy from logits: −log softmax(x)_y, log-softmax and NLL fused, stable for any logits.

    ∂/∂x = softmax(x) − onehot(y) (averaged over the batch for 'mean').

    Args:
        input: logits, (C,), (N, C) or (N, C, d1, ...).
        target: class indices (integers) of shape (), (N,) or (N, d1, ...), or class probabilities
            (floats, e.g. one-hot) of the input's shape.
        weight: a weight per class, shape (C,). 'mean' divides by the sum of the targets' weights, as
            PyTorch. Defaults to None.
        ignore_index: a class-index target that contributes neither loss nor gradient. Defaults to -100.
        reduction: 'mean', 'sum' or 'none'. Defaults to 'mean'.
        label_smoothing: ε in [0, 1]; the target becomes (1 − ε)·target + ε/C. Defaults to 0.0.

    Example:
        >>> cross_entropy(tensor([[0.0, 0.0]]), tensor([1]))
        tensor(0.6931)
    """
    if (
        weight is None and reduction == "mean" and size_average is None and reduce is None
        and type(label_smoothing) in (float, int) and label_smoothing == 0 and ignore_index == -100
        and isinstance(input, Tensor) and isinstance(target, Tensor)
    ):  # fmt: skip
        x, indices = input._array, target._array
        if (
            x.ndim == 2 and indices.ndim == 1 and x.dtype.kind == "f" and indices.dtype.kind in "iu"
            and 0 < len(indices) == len(x) and _unsigned(indices).max() < x.shape[1]
        ):  # fmt: skip
            return _MeanCrossEntropy(indices)(input)
    function = "cross_entropy"
    reduction = resolve_reduction(function, size_average, reduce, reduction)
    ignore_index = check_ignore_index(function, ignore_index)
    label_smoothing = check_real(function, "label_smoothing", label_smoothing, low=0, high=1)
    input, axis = _class_input(function, input)
    dtype = input._array.dtype
    weight = _class_weight(function, weight, input.shape[axis], dtype)
    target_array = target._array if isinstance(target, Tensor) else as_array(target)
    if target_array.dtype.kind == "f" and target_array.shape == tuple(input.shape):
        if ignore_index != -100:
            raise ValueError(
                f"{function}: ignore_index is only for class-index targets; got probability targets and ignore_index={ignore_index}"
            )
        target = target if isinstance(target, Tensor) else Tensor(target_array)
        if target.dtype != input.dtype:
            target = target.to(input.dtype)
        return CrossEntropyProbabilities(axis, weight, label_smoothing, reduction)(input, target)
    indices = _class_indices(function, target_array, input.shape, axis, ignore_index)
    return CrossEntropy(axis, indices, weight, ignore_index, label_smoothing, reduction, dtype)(input)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood: −w_y·input_y, with input holding log-probabilities (e.g. from log_softmax).

    ∂/∂input = −w_y at the target class, 0 elsewhere. ``nll_loss(log_softmax(x, 1), y)`` equals
    ``cross_entropy(x, y)``, which is fused and faster.

    Args:
        input: log-probabilities, (C,), (N, C) or (N, C, d1, ...).
        target: class indices (integers) of shape (), (N,) or (N, d1, ...).
        weight: a weight per class, shape (C,); 'mean' divides by the sum of the targets' weights.
            Defaults to None.
        ignore_index: a target that contributes neither loss nor gradient. Defaults to -100.
        reduction: 'mean', 'sum' or 'none'. Defaults to 'mean'.

    Example:
        >>> nll_loss(tensor([[-1.0, -2.0]]), tensor([1]))
        tensor(2.)
    """
    function = "nll_loss"
    reduction = resolve_reduction(function, size_average, reduce, reduction)
    ignore_index = check_ignore_index(function, ignore_index)
    input, axis = _class_input(function, input)
    dtype = input._array.dtype
    weight = _class_weight(function, weight, input.shape[axis], dtype)
    indices = _class_indices(function, target, input.shape, axis, ignore_index)
    return NLL(axis, indices, weight, ignore_index, reduction, dtype)(input)


# ----- divergences ------------------------------------------------------------------------------------------------------


class KLDiv(_Reduced):
    """Pointwise t·(log t − x) (0 where t = 0), or eᵗ·(t − x) with log_target; x holds log-probabilities.

    ∂/∂x = −t (or −eᵗ); ∂/∂t = log t + 1 − x (or eᵗ·(t − x + 1)).
    """

    def __init__(self, reduction, log_target):
        super().__init__("mean" if reduction == "batchmean" else reduction)
        self.batchmean, self.log_target = reduction == "batchmean", log_target

    def forward(self, x, t):
        with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.log_target:
                losses = xp.exp(t) * (t - x)
            else:
                losses = xp.where(t == 0, 0, t * xp.log(t)) - t * x
        return self.reduce(losses, (x.shape[0] if x.ndim else 1) if self.batchmean else None)

    def backward(self, gy):
        x, t = self.input_values()
        g = self.spread(gy)
        need_x, need_t = self.needs_input_grad
        gx = gt = None
        with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
            e = xp.exp(t) if self.log_target else t
            if need_x:
                gx = -g * e
            if need_t:
                gt = g * e * (t - x + 1) if self.log_target else g * (xp.log(t) + 1 - x)
        return gx, gt


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback–Leibler divergence, pointwise t·(log t − input) with input = log q (log-probabilities).

    ∂/∂input = −t. 'batchmean' (sum / batch size) gives the true KL divergence per sample; 'mean'
    averages over every element, as PyTorch.

    Args:
        input: log-probabilities log q.
        target: probabilities t of the input's shape (log-probabilities with ``log_target``).
        reduction: 'mean', 'batchmean', 'sum' or 'none'. Defaults to 'mean'.
        log_target: the target is given as log t. Defaults to False.

    Example:
        >>> kl_div(tensor([[0.0, 0.0]]).log_softmax(1), tensor([[1.0, 0.0]]), reduction='batchmean')
        tensor(0.6931)
    """
    reduction = resolve_reduction("kl_div", size_average, reduce, reduction, accepted=KL_REDUCTIONS)
    if not isinstance(log_target, bool):
        raise TypeError(f"kl_div: log_target must be True or False. Received: log_target={log_target!r}")
    input, target = _pair("kl_div", input, target)
    return KLDiv(reduction, log_target)(input, target)


# ----- distributions: entropy, cross-entropy, KL divergence --------------------------------------------------------


class PLogQ(Function):
    """Σ p·log q along the last dim, with 0·log q = 0 (entropy's convention); ∂/∂p = log q, ∂/∂q = p/q."""

    def forward(self, p, q):
        with xp.errstate(divide="ignore", invalid="ignore"):
            self.log_q = xp.log(q)
            return xp.asarray(xp.where(p == 0, 0, p * self.log_q).sum(axis=-1))

    def backward(self, gy):
        p, q = self.input_values()
        g = xp.expand_dims(gy, -1)
        need_p, need_q = self.needs_input_grad
        with xp.errstate(divide="ignore", invalid="ignore"):
            gp = g * self.log_q if need_p else None
            gq = g * xp.where(p == 0, 0, p / q) if need_q else None
        return gp, gq


def _distributions(function, *arrays):
    """Probability vectors (along the last dim) as float tensors of one dtype and shape."""
    tensors = [_float_tensor(a) for a in arrays]
    for name, t in zip("pq", tensors):
        if t.ndim == 0:
            raise ValueError(f"{function}: {name} must be a probability vector (at least one dimension); got a scalar")
        if t._array.size and t._array.min() < 0:
            raise ValueError(f"{function}: {name} must hold probabilities (≥ 0); got a minimum of {t._array.min()}")
    if len(tensors) == 2:
        p, q = tensors
        if p.shape != q.shape:
            raise ValueError(
                f"{function}: p and q must have the same shape; got p of shape {tuple(p.shape)} and q of shape {tuple(q.shape)}"
            )
        if q.dtype != p.dtype:
            tensors[1] = q.to(p.dtype)
    return tensors


def _in_base(nats, base):
    if base is None:
        return nats
    base = check_real("entropy", "base", base, low=0, low_open=True)
    if base == 1:
        raise ValueError("entropy: base must be positive and not 1. Received: base=1.0")
    return nats * (1 / math.log(base))


def entropy(p, base=None):
    """Shannon entropy H(p) = −Σ p·log p along the last dim (0·log 0 = 0); ∂H/∂p = −(log p + 1)/log(base).

    Args:
        p: probabilities, (..., K).
        base: the logarithm's base; 2 gives bits, None (e) nats. Defaults to None.

    Example:
        >>> entropy([0.1, 0.9], base=2)   # the seed's worked example: 0.4690 bits
        tensor(0.469)
    """
    (p,) = _distributions("entropy", p)
    return _in_base(-PLogQ()(p, p), base)


def cross_entropy_between(p, q, base=None):
    """Cross-entropy H(p, q) = −Σ p·log q along the last dim = H(p) + KL(p‖q); ∂/∂q = −p/q.

    Args:
        p: the true probabilities, (..., K).
        q: the predicted probabilities, same shape.
        base: the logarithm's base; 2 gives bits, None (e) nats. Defaults to None.

    Example:
        >>> cross_entropy_between([0.5, 0.5], [0.25, 0.75], base=2)
        tensor(1.2075)
    """
    p, q = _distributions("cross_entropy_between", p, q)
    return _in_base(-PLogQ()(p, q), base)


def kl_divergence(p, q, base=None):
    """Kullback–Leibler divergence KL(p‖q) = Σ p·log(p/q) = H(p, q) − H(p) along the last dim, ≥ 0, 0 iff p = q.

    ∂/∂p = log(p/q) + 1, ∂/∂q = −p/q. Arguments as :func:`cross_entropy_between` (q approximates p).

    Example:
        >>> kl_divergence([0.5, 0.5], [0.25, 0.75], base=2)
        tensor(0.2075)
    """
    p, q = _distributions("kl_divergence", p, q)
    return _in_base(PLogQ()(p, p) - PLogQ()(p, q), base)
