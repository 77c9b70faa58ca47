"""Loss modules: each holds its options and calls its function from :mod:`shendu.ops.loss`.

PyTorch's names, arguments and defaults (the deprecated ``size_average``/``reduce`` too); options are
checked when the module is built, with messages naming the argument and the value received. Class
weights and ``pos_weight`` are buffers, so they move with ``to(dtype)`` and appear in ``state_dict``.
"""

from collections.abc import Callable
from typing import Any

from ..ops import loss as F
from ..ops import loss_margin as M
from ..tensor import Tensor
from .module import Module

__all__ = [
    "L1Loss", "MSELoss", "HuberLoss", "SmoothL1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
    "BCEWithLogitsLoss", "KLDivLoss", "MarginRankingLoss", "CosineEmbeddingLoss", "HingeEmbeddingLoss",
    "TripletMarginLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss", "PoissonNLLLoss", "GaussianNLLLoss",
    "MultiMarginLoss", "MultiLabelMarginLoss", "TripletMarginWithDistanceLoss",
]  # fmt: skip


def _buffer(value):
    return value if value is None or isinstance(value, Tensor) else Tensor(value)


class _Loss(Module):
    """Base of the loss modules: ``reduction`` (after the legacy pair) plus the options in ``options``.

    ``forward(input, target)`` calls ``function`` with the reduction, the options (attributes of the same
    name) and the buffers named in ``buffer_names``; ``extra_repr`` lists what differs from the defaults.
    """

    function: Callable[..., Any]  # set by each subclass
    accepted: tuple[str, ...] = F.REDUCTIONS
    options: dict[str, Any] = {}  # name -> default
    buffer_names: tuple[str, ...] = ()

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = F.resolve_reduction(type(self).__name__, size_average, reduce, reduction, self.accepted)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        options = {name: getattr(self, name) for name in (*self.options, *self.buffer_names)}
        return type(self).function(input, target, reduction=self.reduction, **options)

    def extra_repr(self):
        parts = [f"reduction={self.reduction!r}"] if self.reduction != "mean" else []
        parts += [
            f"{name}={getattr(self, name)!r}"
            for name, default in self.options.items()
            if getattr(self, name) != default
        ]
        return ", ".join(parts)


class L1Loss(_Loss):
    """Mean absolute error: ℓ = reduce(|input − target|); ∂ℓ/∂input = sign(input − target).

    Args:
        reduction: 'mean', 'sum' or 'none'. Defaults to 'mean'.

    Shape:
        input and target of one shape; the output is a scalar, or the input's shape for 'none'.

    Example:
        >>> L1Loss()(shendu.tensor([1.0, 2.0]), shendu.tensor([0.0, 4.0]))
        tensor(1.5)
    """

    function = staticmethod(F.l1_loss)


class MSELoss(_Loss):
    """Mean squared error: ℓ = reduce((input − target)²); ∂ℓ/∂input = 2·(input − target).

    Arguments and shapes as :class:`L1Loss`.

    Example:
        >>> MSELoss()(shendu.tensor([1.0, 2.0]), shendu.tensor([0.0, 4.0]))
        tensor(2.5)
    """

    function = staticmethod(F.mse_loss)


class HuberLoss(_Loss):
    """Huber loss: ½d² for |d| < δ, else δ·(|d| − ½δ), d = input − target; ∂ℓ/∂input = clip(d, −δ, δ).

    Quadratic for small errors, linear for outliers.

    Args:
        reduction: 'mean', 'sum' or 'none'. Defaults to 'mean'.
        delta: δ > 0. Defaults to 1.0.

    Example:
        >>> HuberLoss(delta=1.0)(shendu.tensor([0.5, 3.0]), shendu.tensor([0.0, 0.0]))
        tensor(1.3125)
    """

    function = staticmethod(F.huber_loss)
    options = {"delta": 1.0}

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = F.check_real("HuberLoss", "delta", delta, low=0, low_open=True)


class SmoothL1Loss(_Loss):
    """Smooth L1: ½d²/β for |d| < β, else |d| − ½β, d = input − target; ∂ℓ/∂input = clip(d/β, −1, 1).

    Args:
        reduction: 'mean', 'sum' or 'none'. Defaults to 'mean'.
        beta: β ≥ 0; β = 0 is the L1 loss. Defaults to 1.0.

    Example:
        >>> SmoothL1Loss()(shendu.tensor([0.5, 3.0]), shendu.tensor([0.0, 0.0]))
        tensor(1.3125)
    """

    function = staticmethod(F.smooth_l1_loss)
    options = {"beta": 1.0}

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = F.check_real("SmoothL1Loss", "beta", beta, low=0)


class _ClassWeighted(_Loss):
    buffer_names = ("weight",)

    def __init__(self, weight, size_average, reduce, reduction) -> None:
        super().__init__(size_average, reduce, reduction)
        weight = _buffer(weight)
        if weight is not None and weight.ndim != 1:
            raise ValueError(
                f"{type(self).__name__}: weight must be a 1-D tensor, one entry per class; got shape {tuple(weight.shape)}"
            )
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_ClassWeighted):
    """Cross-entropy from logits: ℓ = −log softmax(x)_y; ∂ℓ/∂x = softmax(x) − onehot(y).

    Log-softmax and the negative log-likelihood are one fused, stable op: feed raw scores (no softmax layer).

    Args:
        weight: a weight per class, shape (C,); 'mean' divides by the sum of the targets' weights.
            Defaults to None.
        ignore_index: a class-index target that contributes neither loss nor gradient. Defaults to -100.
        reduction: 'mean', 'sum' or 'none'. Defaults to 'mean'.
        label_smoothing: ε in [0, 1]; the target becomes (1 − ε)·target + ε/C. Defaults to 0.0.

    Shape:
        input (N, C), (C,) or (N, C, d1, ...); target class indices (N,), () or (N, d1, ...), or
        probabilities of the input's shape; output a scalar, or (N, d1, ...) for 'none'.

    Example:
        >>> CrossEntropyLoss()(shendu.tensor([[0.0, 0.0]]), shendu.tensor([1]))
        tensor(0.6931)
    """

    function = staticmethod(F.cross_entropy)
    options = {"ignore_index": -100, "label_smoothing": 0.0}

    def __init__(
        self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction: str = "mean", label_smoothing: float = 0.0
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = F.check_ignore_index("CrossEntropyLoss", ignore_index)
        self.label_smoothing = F.check_real("CrossEntropyLoss", "label_smoothing", label_smoothing, low=0, high=1)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        # NOTE: the options passed by name rather than gathered as the other losses do: every training
        # step of a classifier runs this, and the generic gathering costs several µs a call.
        return F.cross_entropy(
            input, target, weight=self._buffers["weight"], ignore_index=self.ignore_index,
            reduction=self.reduction, label_smoothing=self.label_smoothing,
        )  # fmt: skip


class NLLLoss(_ClassWeighted):
    """Negative log-likelihood: ℓ = −w_y·input_y on log-probabilities; ∂ℓ/∂input = −w_y at the target, 0 elsewhere.

    ``NLLLoss()(log_softmax(x, 1), y)`` equals ``CrossEntropyLoss()(x, y)``.

    Args:
        weight: a weight per class, shape (C,). Defaults to None.
        ignore_index: a target that contributes neither loss nor gradient. Defaults to -100.
        reduction: 'mean', 'sum' or 'none'. Defaults to 'mean'.

    Example:
        >>> NLLLoss()(shendu.tensor([[-1.0, -2.0]]), shendu.tensor([1]))
        tensor(2.)
    """

    function = staticmethod(F.nll_loss)
    options = {"ignore_index": -100}

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = F.check_ignore_index("NLLLoss", ignore_index)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities: ℓ = −w·(t·log x + (1 − t)·log(1 − x)), logs clamped at −100.

    ∂ℓ/∂x = w·(x − t) / (x·(1 − x)). On raw scores use :class:`BCEWithLogitsLoss` (stable).

    Args:
        weight: rescales each element; broadcasts to the input's shape. Defaults to None.
        reduction: 'mean', 'sum' or 'none'. Defaults to 'mean'.

    Example:
        >>> BCELoss()(shendu.tensor([0.5]), shendu.tensor([1.0]))
        tensor(0.6931)
    """

    function = staticmethod(F.binary_cross_entropy)
    buffer_names = ("weight",)

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _buffer(weight))


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits, σ fused in: ℓ = −w·[p·t·log σ(x) + (1 − t)·log(1 − σ(x))].

    ∂ℓ/∂x = w·(σ(x) − t) without pos_weight p. Finite for any logits.

    Args:
        weight: rescales each element; broadcasts to the input's shape. Defaults to None.
        reduction: 'mean', 'sum' or 'none'. Defaults to 'mean'.
        pos_weight: p, the weight of positive examples per class (last dim). Defaults to None.

    Example:
        >>> BCEWithLogitsLoss()(shendu.tensor([0.0]), shendu.tensor([1.0]))
        tensor(0.6931)
    """

    function = staticmethod(F.binary_cross_entropy_with_logits)
    buffer_names = ("weight", "pos_weight")

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean", pos_weight=None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _buffer(weight))
        self.register_buffer("pos_weight", _buffer(pos_weight))


class KLDivLoss(_Loss):
    """Kullback–Leibler divergence: pointwise ℓ = t·(log t − input), input = log q; ∂ℓ/∂input = −t.

    Use reduction='batchmean' for the true KL divergence per sample ('mean' averages over every element).

    Args:
        reduction: 'mean', 'batchmean', 'sum' or 'none'. Defaults to 'mean'.
        log_target: the target is given as log t. Defaults to False.

    Example:
        >>> p = shendu.tensor([[0.0, 0.0]]).log_softmax(1)
        >>> KLDivLoss(reduction='batchmean')(p, shendu.tensor([[1.0, 0.0]]))
        tensor(0.6931)
    """

    function = staticmethod(F.kl_div)
    accepted = F.KL_REDUCTIONS
    options = {"log_target": False}

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        if not isinstance(log_target, bool):
            raise TypeError(f"KLDivLoss: log_target must be True or False. Received: log_target={log_target!r}")
        self.log_target = log_target


class _PairLoss(_Loss):
    """A loss of ``(input1, input2, target)``."""

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:  # type: ignore[override]
        options = {name: getattr(self, name) for name in self.options}
        return type(self).function(input1, input2, target, reduction=self.reduction, **options)


class MarginRankingLoss(_PairLoss):
    """max(0, −y·(x₁ − x₂) + margin)."""

    function = staticmethod(M.margin_ranking_loss)
    options = {"margin": 0.0}

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin


class CosineEmbeddingLoss(_PairLoss):
    """1 − cos(x₁, x₂) for y = 1, max(0, cos − margin) for y = −1."""

    function = staticmethod(M.cosine_embedding_loss)
    options = {"margin": 0.0}

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin


class HingeEmbeddingLoss(_Loss):
    """x for y = 1, max(0, margin − x) for y = −1."""

    function = staticmethod(M.hinge_embedding_loss)
    options = {"margin": 1.0}

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin


class TripletMarginLoss(_Loss):
    """max(d(a, p) − d(a, n) + margin, 0)."""

    options = {"margin": 1.0, "p": 2.0, "eps": 1e-6, "swap": False}

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:  # type: ignore[override]
        return M.triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps, self.swap, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """log(1 + e^(−y·x))."""

    function = staticmethod(M.soft_margin_loss)


class MultiLabelSoftMarginLoss(_Loss):
    """−mean over classes of y·log σ(x) + (1 − y)·log σ(−x)."""

    function = staticmethod(M.multilabel_soft_margin_loss)
    buffer_names = ("weight",)

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _buffer(weight))


class PoissonNLLLoss(_Loss):
    """e^x − y·x (log input) or x − y·log(x + eps), with the Stirling term when ``full``."""

    function = staticmethod(M.poisson_nll_loss)
    options = {"log_input": True, "full": False, "eps": 1e-8}

    def __init__(self, log_input: bool = True, full: bool = False, size_average=None, eps: float = 1e-8, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps


class GaussianNLLLoss(_Loss):
    """½·(log var + (x − y)²/var), var clamped to ``eps``."""

    options = {"full": False, "eps": 1e-6}

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(None, None, reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Tensor, var: Tensor) -> Tensor:  # type: ignore[override]
        return M.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


class MultiMarginLoss(_Loss):
    """The multi-class hinge: Σ_{i ≠ y} w_y·max(0, margin − x_y + x_i)^p / C per sample."""

    function = staticmethod(M.multi_margin_loss)
    options = {"p": 1, "margin": 1.0}
    buffer_names = ("weight",)

    def __init__(self, p: int = 1, margin: float = 1.0, weight=None, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        self.p, self.margin = p, margin
        self.register_buffer("weight", _buffer(weight))


class MultiLabelMarginLoss(_Loss):
    """Σ over (target j, non-target i) of max(0, 1 − (x_j − x_i)) / C per sample; targets end at the first −1."""

    function = staticmethod(M.multilabel_margin_loss)


class TripletMarginWithDistanceLoss(_Loss):
    """max(d(a, p) − d(a, n) + margin, 0) with ``distance_function`` (pairwise L2 by default)."""

    def __init__(self, *, distance_function=None, margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> None:
        super().__init__(None, None, reduction)
        self.distance_function, self.margin, self.swap = distance_function, margin, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:  # type: ignore[override]
        return M.triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=self.distance_function,
                                                   margin=self.margin, swap=self.swap, reduction=self.reduction)  # fmt: skip
