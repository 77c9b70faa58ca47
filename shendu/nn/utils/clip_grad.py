"""Gradient clipping (against exploding gradients) and parameters as one flat vector.

``clip_grad_norm_`` rescales all gradients together so that their total norm — the norm of
every gradient entry viewed as one long vector — is at most ``max_norm``; ``clip_grad_value_``
clamps each entry. Both change ``.grad`` in place, between ``backward()`` and ``step()``::

    loss.backward()
    clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
"""

import math

from ..._backend import xp
from ...tensor import Tensor

__all__ = [
    "clip_grad_norm_",
    "clip_grad_norm",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
    "parameters_to_vector",
    "vector_to_parameters",
]


def _tensor_list(tensors, what="parameters"):
    if isinstance(tensors, Tensor):
        return [tensors]
    try:
        tensors = list(tensors)
    except TypeError:
        raise TypeError(f"{what} must be a Tensor or an iterable of Tensors; got {type(tensors).__name__}") from None
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{what} must be Tensors; got {type(t).__name__}")
    return tensors


def _vector_norm(array, p):
    """The p-norm of all entries of ``array`` (a NumPy scalar of its dtype)."""
    if array.size == 0:
        return array.dtype.type(0)
    if p == 2.0:
        flat = array.reshape(-1)
        return xp.sqrt(xp.dot(flat, flat))
    if p == math.inf:
        return xp.maximum(array.max(), -array.min())
    if p == -math.inf:
        return xp.abs(array).min()
    if p == 0.0:
        return array.dtype.type(xp.count_nonzero(array))
    if p == 1.0:
        return xp.abs(array).sum()
    return (xp.abs(array) ** p).sum() ** (1.0 / p)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all the entries of ``tensors`` together, as a 0-d Tensor.

    Args:
        tensors: a Tensor or an iterable of Tensors (typically gradients).
        norm_type: p of the p-norm; ``float("inf")`` for the largest absolute value. Defaults to 2.
        error_if_nonfinite: raise RuntimeError if the norm is nan or ±inf. Defaults to False.
        foreach: accepted for PyTorch compatibility.
    """
    arrays = [t._array for t in _tensor_list(tensors, "tensors")]
    norm_type = float(norm_type)
    if not arrays:
        return Tensor(xp.asarray(0.0, dtype=xp.float32))
    dtype = xp.result_type(*arrays)
    if dtype.kind != "f":
        raise TypeError(f"get_total_norm needs floating-point tensors; got dtype {dtype}")
    norms = xp.asarray([_vector_norm(a, norm_type) for a in arrays], dtype=dtype)
    total = xp.asarray(_vector_norm(norms, norm_type), dtype=dtype)
    if error_if_nonfinite and not xp.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return Tensor(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients by ``min(max_norm / (total_norm + 1e-6), 1)``, in place."""
    grads = [p._grad._array for p in _tensor_list(parameters) if p._grad is not None]
    if not grads:
        return
    total = total_norm._array if isinstance(total_norm, Tensor) else xp.asarray(total_norm)
    coef = xp.asarray(float(max_norm), dtype=total.dtype) / (total + total.dtype.type(1e-6))
    if coef >= 1.0:  # NOTE: a nan coefficient falls through and makes the gradients nan, as torch does
        return
    with xp.errstate(invalid="ignore"):  # an infinite norm gives coef 0, and inf·0 = nan, as in torch
        for g in grads:
            xp.multiply(g, coef.astype(g.dtype), out=g)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescale the gradients so that their total norm is at most ``max_norm``; return the norm before.

    The gradients are multiplied by ``min(max_norm / (total_norm + 1e-6), 1)``: left alone when
    already small enough, scaled down together (keeping their direction) when too large.

    Args:
        parameters: a Tensor or an iterable of Tensors whose ``.grad`` is clipped.
        max_norm: the largest allowed total norm.
        norm_type: p of the p-norm; ``float("inf")`` for the largest absolute entry. Defaults to 2.
        error_if_nonfinite: raise RuntimeError when the total norm is nan or ±inf (the gradients
            exploded) instead of scaling by it. Defaults to False.
        foreach: accepted for PyTorch compatibility.

    Returns:
        The total norm of the gradients before clipping, a 0-d Tensor.

    Example:
        >>> loss.backward()
        >>> norm = clip_grad_norm_(model.parameters(), max_norm=1.0)
        >>> optimizer.step()
    """
    parameters = _tensor_list(parameters)
    max_norm = float(max_norm)
    if max_norm != max_norm:
        raise ValueError(f"clip_grad_norm_: max_norm must be a number; got {max_norm}")
    grads = [p._grad for p in parameters if p._grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated spelling of :func:`clip_grad_norm_` (kept for old PyTorch code)."""
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient entry into ``[-clip_value, clip_value]``, in place.

    Example:
        >>> clip_grad_value_(model.parameters(), clip_value=0.5)
    """
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0; got {clip_value}")
    for p in _tensor_list(parameters):
        if p._grad is not None:
            g = p._grad._array
            xp.clip(g, -clip_value, clip_value, out=g)


def parameters_to_vector(parameters):
    """All parameters flattened and joined into one 1-d Tensor (differentiable, like torch's).

    Example:
        >>> vec = parameters_to_vector(model.parameters())   # shape (n_parameters,)
    """
    from ...ops.shape import cat, reshape

    parameters = _tensor_list(parameters)
    if not parameters:
        raise ValueError("parameters_to_vector got no parameters")
    return cat([reshape(p, -1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-d Tensor ``vec`` into the parameters, in place (no gradient)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected a shendu Tensor, but got: {type(vec).__name__}")
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters expects a 1-d vector; got shape {tuple(vec.shape)}")
    parameters = _tensor_list(parameters)
    needed = sum(p._array.size for p in parameters)
    if vec._array.size != needed:
        raise ValueError(f"vector_to_parameters: the vector has {vec._array.size} values; the parameters need {needed}")
    offset = 0
    for p in parameters:
        n = p._array.size
        p._array[...] = vec._array[offset : offset + n].reshape(p._array.shape)
        offset += n
