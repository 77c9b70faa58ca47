"""Margin, embedding and likelihood losses (PyTorch's functional forms), compositions of differentiable ops:
``margin_ranking_loss``, ``hinge_embedding_loss``, ``cosine_embedding_loss``, ``triplet_margin_loss``,
``soft_margin_loss``, ``multilabel_soft_margin_loss``, ``poisson_nll_loss``, ``gaussian_nll_loss``,
``multi_margin_loss``, ``multilabel_margin_loss``, ``triplet_margin_with_distance_loss``."""

import math

from ..tensor import Tensor, as_array
from .arithmetic import where
from .loss import resolve_reduction

__all__ = ["margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss", "triplet_margin_loss", "soft_margin_loss",
           "multilabel_soft_margin_loss", "poisson_nll_loss", "gaussian_nll_loss", "multi_margin_loss",
           "multilabel_margin_loss", "triplet_margin_with_distance_loss"]  # fmt: skip


def _t(value):
    return value if isinstance(value, Tensor) else Tensor(as_array(value))


def _reduce(loss, reduction):
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """max(0, −y·(x₁ − x₂) + margin)."""
    reduction = resolve_reduction("margin_ranking_loss", size_average, reduce, reduction)
    return _reduce((-_t(target) * (_t(input1) - _t(input2)) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """x where y = 1, max(0, margin − x) where y = −1."""
    reduction = resolve_reduction("hinge_embedding_loss", size_average, reduce, reduction)
    x, y = _t(input), _t(target)
    zero = x * 0
    loss = where(y == 1, x, zero) + where(y == -1, (margin - x).clamp(min=0), zero)
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 − cos(x₁, x₂) where y = 1, max(0, cos(x₁, x₂) − margin) where y = −1 (cos with ε = 1e-12, as PyTorch)."""
    reduction = resolve_reduction("cosine_embedding_loss", size_average, reduce, reduction)
    a, b, y = _t(input1), _t(input2), _t(target)
    eps = 1e-12
    cos = (a * b).sum(dim=-1) / (((a * a).sum(dim=-1) + eps) * ((b * b).sum(dim=-1) + eps)).sqrt()
    zero = cos * 0
    loss = where(y == 1, 1 - cos, zero) + where(y == -1, (cos - margin).clamp(min=0), zero)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None, reduce=None,
                        reduction="mean"):  # fmt: skip
    """max(d(a, p) − d(a, n) + margin, 0), d the ``p``-norm distance (with ``swap``, d(a, n) ← min(d(a, n), d(p, n)))."""
    from .similarity import pairwise_distance
    from .arithmetic import minimum

    reduction = resolve_reduction("triplet_margin_loss", size_average, reduce, reduction)
    a, pos, neg = _t(anchor), _t(positive), _t(negative)
    d_pos = pairwise_distance(a, pos, p, eps)
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(pos, neg, p, eps))
    return _reduce((d_pos - d_neg + margin).clamp(min=0), reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + e^(−y·x))."""
    from .activation import softplus

    reduction = resolve_reduction("soft_margin_loss", size_average, reduce, reduction)
    return _reduce(softplus(-_t(target) * _t(input)), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """−mean over classes of y·log σ(x) + (1 − y)·log σ(−x), per sample."""
    from .activation import logsigmoid

    reduction = resolve_reduction("multilabel_soft_margin_loss", size_average, reduce, reduction)
    x, y = _t(input), _t(target)
    loss = -(y * logsigmoid(x) + (1 - y) * logsigmoid(-x))
    if weight is not None:
        loss = loss * _t(weight)
    return _reduce(loss.mean(dim=-1), reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
    """e^x − y·x (``log_input``) or x − y·log(x + eps); with ``full`` the Stirling term for y > 1."""
    reduction = resolve_reduction("poisson_nll_loss", size_average, reduce, reduction)
    x, y = _t(input), _t(target)
    loss = x.exp() - y * x if log_input else x - y * (x + eps).log()
    if full:
        safe = where(y > 1, y, y * 0 + 1)
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + where(y > 1, stirling, stirling * 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """½·(log(max(var, eps)) + (x − y)²/max(var, eps)) (+ ½·log 2π with ``full``)."""
    reduction = resolve_reduction("gaussian_nll_loss", None, None, reduction)
    x, y, v = _t(input), _t(target), _t(var)
    if v.ndim == x.ndim - 1 or (v.ndim == x.ndim and v.shape[-1] == 1 and x.shape[-1] != 1):
        v = v.unsqueeze(-1) if v.ndim == x.ndim - 1 else v
    v = v + (v.clamp(min=eps) - v).detach()  # clamped as PyTorch does, in place under no_grad: the gradient passes as is
    loss = 0.5 * (v.log() + (x - y) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Per sample, Σ_{i ≠ y} w_y·max(0, margin − x_y + x_i)^p / C (the multi-class hinge, p = 1 or 2)."""
    import numpy as np

    reduction = resolve_reduction("multi_margin_loss", size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x = _t(input)
    x2 = x if x.ndim == 2 else x.reshape(1, -1)
    labels = as_array(target._array if isinstance(target, Tensor) else target).reshape(-1).astype(np.int64)
    n, classes = x2.shape
    if labels.shape[0] != n or (labels.size and (labels.min() < 0 or labels.max() >= classes)):
        raise ValueError(f"multi_margin_loss: target must hold {n} class indices in [0, {classes})")
    true = x2.gather(1, Tensor(labels[:, None]))  # (N, 1)
    hinge = (margin - true + x2).clamp(min=0)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * _t(weight)[Tensor(labels)].reshape(-1, 1)
    others = Tensor((np.arange(classes)[None, :] != labels[:, None]).astype(x2._array.dtype))
    loss = (hinge * others).sum(dim=1) / classes
    return _reduce(loss if x.ndim == 2 else loss.reshape(()), reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Per sample, Σ_{j in targets} Σ_{i not in targets} max(0, 1 − (x_j − x_i)) / C; ``target`` lists the
    sample's classes, ended by the first −1 (PyTorch's layout)."""
    import numpy as np

    reduction = resolve_reduction("multilabel_margin_loss", size_average, reduce, reduction)
    x = _t(input)
    x2 = x if x.ndim == 2 else x.reshape(1, -1)
    labels = as_array(target._array if isinstance(target, Tensor) else target).reshape(x2.shape).astype(np.int64)
    n, classes = x2.shape
    is_target = np.zeros((n, classes), bool)
    for row in range(n):
        for label in labels[row]:
            if label < 0:
                break
            is_target[row, label] = True
    pairs = (1 - x2.unsqueeze(2) + x2.unsqueeze(1)).clamp(min=0)  # [n, j, i] = max(0, 1 − (x_j − x_i))
    mask = Tensor((is_target[:, :, None] & ~is_target[:, None, :]).astype(x2._array.dtype))
    loss = (pairs * mask).sum(dim=(1, 2)) / classes
    return _reduce(loss if x.ndim == 2 else loss.reshape(()), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):  # fmt: skip
    """max(d(a, p) − d(a, n) + margin, 0) with any distance function (pairwise L2 by default)."""
    from .arithmetic import minimum
    from .similarity import pairwise_distance

    reduction = resolve_reduction("triplet_margin_with_distance_loss", None, None, reduction)
    distance = distance_function if distance_function is not None else pairwise_distance
    a, pos, neg = _t(anchor), _t(positive), _t(negative)
    d_pos, d_neg = distance(a, pos), distance(a, neg)
    if swap:
        d_neg = minimum(d_neg, distance(pos, neg))
    return _reduce((d_pos - d_neg + margin).clamp(min=0), reduction)
