"""Turning a list of samples into a batch, as ``torch.utils.data.default_collate`` does."""

import collections.abc
import copy
import numbers

from ..._backend import xp
from ...tensor import Tensor

__all__ = ["default_collate", "default_convert"]

_COLLATE_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _stack(arrays, what):
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        first = arrays[0].shape
        other = next(i for i, a in enumerate(arrays) if a.shape != first)
        raise RuntimeError(
            f"default_collate: stack expects each {what} to be equal size, but got {list(first)} at entry 0 and "
            f"{list(arrays[other].shape)} at entry {other}; pad the samples (shendu.text.pad_sequences) "
            "or pass a collate_fn"
        )
    return Tensor._from_op(xp.stack(arrays), False)


def default_collate(batch):
    """Stack a list of samples into a batch, keeping the samples' structure.

    Tensors and NumPy arrays are stacked along a new first dimension; Python ints become an int64
    tensor, floats a float64 tensor (as PyTorch), bools a bool tensor; strings stay a list; tuples
    and lists are collated element by element (a tuple sample gives a list, as PyTorch); dicts key
    by key; namedtuples keep their type.

    Example:
        >>> default_collate([(shendu.zeros(3), 1), (shendu.ones(3), 0)])
        [tensor([[0., 0., 0.],
                [1., 1., 1.]]), tensor([1, 0])]
    """
    if not isinstance(batch, collections.abc.Sequence) or not batch:
        raise TypeError(f"default_collate expects a non-empty list of samples; got {type(batch).__name__}")
    elem = batch[0]
    if isinstance(elem, Tensor):
        if any(isinstance(t, Tensor) and t.requires_grad for t in batch):
            from ...ops import stack

            return stack(list(batch))
        return _stack([t._array for t in batch], "tensor")
    if isinstance(elem, xp.ndarray):
        if elem.dtype.kind in "USOV":
            raise TypeError(_COLLATE_ERROR.format(f"numpy array of dtype {elem.dtype}"))
        return _stack([xp.asarray(a) for a in batch], "array")
    if isinstance(elem, xp.generic):
        if elem.dtype.kind in "USOV":
            raise TypeError(_COLLATE_ERROR.format(f"numpy scalar of dtype {elem.dtype}"))
        return Tensor._from_op(xp.asarray(batch), False)
    if isinstance(elem, bool):
        return Tensor._from_op(xp.asarray(batch, dtype=xp.bool_), False)
    if isinstance(elem, numbers.Integral):
        return Tensor._from_op(xp.asarray(batch, dtype=xp.int64), False)
    if isinstance(elem, numbers.Real):
        return Tensor._from_op(xp.asarray(batch, dtype=xp.float64), False)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        try:
            out = copy.copy(elem)
            out.update({key: default_collate([d[key] for d in batch]) for key in elem})
            return out
        except (AttributeError, TypeError):
            return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(samples)) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(list(samples)) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return columns
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                out = copy.copy(elem)
                out[:] = columns
                return out
            return type(elem)(columns)
        except TypeError:
            return columns
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def default_convert(data):
    """Turn NumPy arrays inside ``data`` into tensors, leaving everything else (used when ``batch_size=None``)."""
    if isinstance(data, xp.ndarray):
        return data if data.dtype.kind in "USOV" else Tensor(data)
    if isinstance(data, xp.generic) and data.dtype.kind not in "USOV":
        return Tensor(xp.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
