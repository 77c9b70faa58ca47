"""More of PyTorch's in-place and construction methods on tensors: ``scatter_``, ``index_fill_``,
``fill_diagonal_``, ``unsqueeze_``/``squeeze_``, elementwise ``exp_``/``log_``/``sqrt_``/``abs_``/``neg_``/
``sigmoid_``/``tanh_``/``relu_``, ``index_add_``/``scatter_add_``, ``new_zeros``/``new_ones``/``new_full``/``new_empty``/
``new_tensor``, ``apply_``.

In-place changes are not recorded in the graph: as everywhere in shendu, they are refused on a leaf that
requires grad (outside ``no_grad``) and on a tensor that is part of a graph (use the out-of-place form).
"""

import numpy as np

from ..tensor import Tensor, as_array
from .accumulate import index_add, scatter_add

__all__ = ["INPLACE_METHODS"]


def _array(value):
    return value._array if isinstance(value, Tensor) else np.asarray(value)


def scatter_(self, dim, index, src=None, value=None, reduce=None):
    """self[index[i][j]][j] = src[i][j] (for dim 0; likewise for other dims), or ``value`` at those places."""
    if (src is None) == (value is None):
        raise TypeError("scatter_() expects either src or value")
    self._check_inplace()
    idx = np.atleast_1d(_array(index)).astype(np.int64)
    values = _array(src) if src is not None else np.asarray(value, dtype=self._array.dtype)
    if src is not None:
        values = values[tuple(slice(0, n) for n in idx.shape)] if values.ndim == idx.ndim else values
    if reduce is None:
        np.put_along_axis(self._array, idx, values, axis=dim)
    elif reduce in ("add", "multiply"):  # repeated indices accumulate, as in PyTorch
        dim = dim % idx.ndim
        where = tuple(idx if axis == dim else np.arange(n).reshape([-1 if a == axis else 1 for a in range(idx.ndim)])
                      for axis, n in enumerate(idx.shape))  # fmt: skip
        (np.add if reduce == "add" else np.multiply).at(self._array, where, np.broadcast_to(values, idx.shape))
    else:
        raise ValueError(f"reduce argument must be either add or multiply. Got {reduce}")
    return self


def index_fill_(self, dim, index, value):
    """Fill the slices of ``dim`` at ``index`` with ``value``."""
    self._check_inplace()
    where = [slice(None)] * self._array.ndim
    where[dim] = np.atleast_1d(_array(index)).astype(np.int64)
    self._array[tuple(where)] = _array(value)
    return self


def fill_diagonal_(self, fill_value, wrap=False):
    """Fill the main diagonal (of a 2-D tensor, or of all equal dimensions)."""
    self._check_inplace()
    np.fill_diagonal(self._array, fill_value, wrap=wrap)
    return self


def unsqueeze_(self, dim):
    """Add a dimension of size 1, in place."""
    self._check_inplace()
    self._array = np.expand_dims(self._array, dim if dim >= 0 else dim + self._array.ndim + 1)
    return self


def squeeze_(self, dim=None):
    """Drop dimensions of size 1 (all, or ``dim`` if it has size 1), in place."""
    self._check_inplace()
    if dim is None:
        self._array = np.squeeze(self._array)
    elif self._array.shape[dim] == 1:
        self._array = np.squeeze(self._array, axis=dim)
    return self


def _unary(name, function):
    def method(self):
        self._check_inplace()
        function(self._array, out=self._array)
        return self

    method.__name__ = name
    method.__doc__ = f"``{name[:-1]}``, in place."
    return method


def _relu(array, out):
    from .activation import relu_into

    if not relu_into(array, out):  # the C kernel where it runs (see activation.relu_into)
        np.maximum(array, 0, out=out)


def _sigmoid(array, out):
    from .activation import stable_sigmoid

    out[...] = stable_sigmoid(array)


def _new(name, make):
    def method(self, *args, dtype=None, device=None, requires_grad=False, **kwargs):
        from .. import _dtype

        numpy_dtype = self._array.dtype if dtype is None else _dtype.to_numpy_dtype(dtype)
        return Tensor(make(args, numpy_dtype, kwargs), requires_grad=requires_grad)

    method.__name__ = name
    return method


def _size(args):
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)


def _written_over(name, out_of_place):
    """``out_of_place``'s result written over the tensor (inputs detached: in-place changes are not recorded)."""

    def method(self, *args, **kwargs):
        self._check_inplace()
        args = [value.detach() if isinstance(value, Tensor) else value for value in args]
        self._array[...] = out_of_place(self.detach(), *args, **kwargs)._array
        return self

    method.__name__ = name
    method.__doc__ = f"``{name[:-1]}``, in place."
    return method


def apply_(self, callable):
    """Apply a Python function to each element, in place (slow, as in PyTorch)."""
    self._check_inplace()
    flat = self._array.reshape(-1)
    for i, v in enumerate(flat.tolist()):
        flat[i] = callable(v)
    return self


INPLACE_METHODS = {
    "scatter_": scatter_, "index_fill_": index_fill_, "fill_diagonal_": fill_diagonal_, "unsqueeze_": unsqueeze_,
    "squeeze_": squeeze_, "exp_": _unary("exp_", np.exp), "log_": _unary("log_", np.log), "sqrt_": _unary("sqrt_", np.sqrt),
    "abs_": _unary("abs_", np.abs), "neg_": _unary("neg_", np.negative), "floor_": _unary("floor_", np.floor),
    "ceil_": _unary("ceil_", np.ceil), "round_": _unary("round_", np.round), "tanh_": _unary("tanh_", np.tanh),
    "sigmoid_": _unary("sigmoid_", _sigmoid), "relu_": _unary("relu_", _relu), "apply_": apply_,
    "index_add_": _written_over("index_add_", index_add), "scatter_add_": _written_over("scatter_add_", scatter_add),
    "new_zeros": _new("new_zeros", lambda a, d, k: np.zeros(_size(a), d)),
    "new_ones": _new("new_ones", lambda a, d, k: np.ones(_size(a), d)),
    "new_empty": _new("new_empty", lambda a, d, k: np.empty(_size(a), d)),
    "new_full": _new("new_full", lambda a, d, k: np.full(_size(a[:1]), a[1] if len(a) > 1 else k["fill_value"], d)),
    "new_tensor": _new("new_tensor", lambda a, d, k: as_array(a[0]).astype(d)),
    "data_ptr": lambda self: int(self._array.__array_interface__["data"][0]),
    "ndimension": lambda self: self._array.ndim,
}  # fmt: skip
